#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Nesterov's dual averaging of the log step size (Hoffman & Gelman 2014, §3.2, Algorithm 5; the
/// scheme of Stan and BlackJAX): after the `m`-th acceptance probability `α_m`,
///
///     H̄_m = (1 − 1/(m + t₀)) H̄_{m−1} + (δ − α_m)/(m + t₀)
///     log ε_m = μ − √m/γ · H̄_m,    log ε̄_m = m^−κ log ε_m + (1 − m^−κ) log ε̄_{m−1}
///
/// with `μ = log(10 ε₀)`, `γ = 0.05`, `t₀ = 10`, `κ = 0.75`. The iterates `ε_m` explore; the
/// averaged `ε̄` is the step size kept when adaptation ends.
public struct DualAveraging: Sendable {
    public static let gamma = 0.05, t0 = 10.0, kappa = 0.75

    /// The target acceptance probability `δ`.
    public let target: Double
    private var mu: Double
    private var hBar = 0.0
    private var logStepBar = 0.0
    private var count = 0.0
    /// The current iterate `log ε_m`.
    public private(set) var logStep: Double

    /// Starts at `initialStep`, pulling towards `10 · initialStep` (`μ`).
    public init(initialStep: Double, target: Double) {
        self.target = target
        logStep = log(initialStep)
        mu = log(10 * initialStep)
    }

    /// The step size to use next.
    public var step: Double { exp(logStep) }
    /// The averaged step size (the one kept after warm-up).
    public var averagedStep: Double { count > 0 ? exp(logStepBar) : exp(logStep) }

    /// Takes the acceptance probability of the last step.
    public mutating func update(acceptance alpha: Double) {
        count += 1
        let w = 1 / (count + Self.t0)
        hBar = (1 - w) * hBar + w * (target - alpha)
        logStep = mu - count.squareRoot() / Self.gamma * hBar
        let eta = pow(count, -Self.kappa)
        logStepBar = eta * logStep + (1 - eta) * logStepBar
    }

    /// Restarts from `step` (after the mass matrix changed, as Stan does at the end of a window).
    public mutating func restart(at step: Double) {
        self = DualAveraging(initialStep: step, target: target)
    }
}
