/// Warm-up adaptation of a Metropolis kernel: the step size by dual averaging towards a target
/// acceptance probability, and optionally HMC's diagonal inverse mass from the warm-up variance.
public struct AdaptationSettings: Sendable, Equatable {
    /// Steps of warm-up (the first ones of the run); everything is frozen after them.
    public var warmupSteps: Int
    /// The acceptance probability dual averaging aims at.
    public var targetAcceptance: Double
    /// Also estimate the diagonal inverse mass (HMC).
    public var adaptMass: Bool

    /// - Throws: `EBMError.invalidArgument` naming the offending setting.
    public init(warmupSteps: Int, targetAcceptance: Double, adaptMass: Bool = false) throws {
        try require(warmupSteps > 0, "n_warmup must be positive, got \(warmupSteps)")
        try require(targetAcceptance > 0 && targetAcceptance < 1,
                    "target_accept must be in (0, 1), got \(targetAcceptance)")
        self.warmupSteps = warmupSteps
        self.targetAcceptance = targetAcceptance
        self.adaptMass = adaptMass
    }

    /// The mass matrix's estimation window `[start, end)`: Stan's windowed adaptation reduced to
    /// one slow window — the first 15 % of warm-up tunes the step size alone (the chains leave
    /// their starting points), the next 75 % also accumulate each coordinate's variance, which
    /// becomes the inverse mass at the window's end (step-size adaptation then restarts), and the
    /// last 10 % tune the step size to the new mass.
    public var massWindow: Range<Int> {
        let start = warmupSteps * 15 / 100, end = warmupSteps - warmupSteps / 10
        return start..<max(start, end)
    }
}

/// The adaptation state of one run, per chain: each chain adapts on its own statistics, so a
/// chain's numbers depend only on the seed and its index — never on the thread count, on how the
/// chains are split into blocks, or on which other chains run alongside it.
public final class ChainAdaptation {
    public let settings: AdaptationSettings
    public let rows: Int, dimension: Int
    /// Each chain's current step size (frozen at the averaged value after warm-up).
    public let stepSizes: FloatBuffer
    /// Each chain's diagonal inverse mass (`rows × dimension`), when the mass is adapted.
    public let inverseMass: FloatBuffer?
    private let averaging: UnsafeMutablePointer<DualAveraging>
    private let mean: UnsafeMutablePointer<Double>?, squares: UnsafeMutablePointer<Double>?

    /// Every chain starts at `initialStep`, and from `initialInverseMass` (`dimension` values, or the
    /// identity) when the mass is adapted.
    public init(_ settings: AdaptationSettings, rows: Int, dimension: Int, initialStep: Float,
                initialInverseMass: UnsafePointer<Float>?) {
        self.settings = settings
        self.rows = rows
        self.dimension = dimension
        stepSizes = FloatBuffer(count: rows)
        stepSizes.base.update(repeating: initialStep, count: rows)
        averaging = .allocate(capacity: rows)
        averaging.initialize(repeating: DualAveraging(initialStep: Double(initialStep), target: settings.targetAcceptance),
                             count: rows)
        if settings.adaptMass {
            let m = FloatBuffer(count: rows * dimension)
            for i in 0..<rows {
                for j in 0..<dimension { m.base[i * dimension + j] = initialInverseMass?[j] ?? 1 }
            }
            inverseMass = m
            mean = .allocate(capacity: rows * dimension)
            squares = .allocate(capacity: rows * dimension)
        } else {
            inverseMass = nil
            mean = nil
            squares = nil
        }
    }

    deinit {
        averaging.deinitialize(count: rows)
        averaging.deallocate()
        mean?.deallocate()
        squares?.deallocate()
    }

    /// The per-chain settings of the chains `first ..< first + count`.
    public func tuning(first: Int) -> BlockTuning {
        BlockTuning(stepSizes: UnsafePointer(stepSizes.base + first),
                    inverseMass: inverseMass.map { UnsafePointer($0.base + first * dimension) })
    }

    /// After step `t` (0-based) of the chains `first ..< first + count`: their acceptance
    /// probabilities and new positions.
    public func update(first: Int, count: Int, step t: Int, acceptance: UnsafePointer<Double>,
                       positions x: UnsafePointer<Float>) {
        let warmup = settings.warmupSteps
        guard t < warmup else { return }
        let d = dimension, window = settings.massWindow
        for i in 0..<count {
            let r = first + i
            averaging[r].update(acceptance: acceptance[i])
            stepSizes.base[r] = Float(averaging[r].step)
            if let mean, let squares, let mass = inverseMass, window.contains(t) {
                // Welford's running mean and sum of squared deviations over the window.
                let n = Double(t - window.lowerBound + 1)
                for j in 0..<d {
                    let k = r * d + j, v = Double(x[i * d + j])
                    if n == 1 {
                        mean[k] = v
                        squares[k] = 0
                    } else {
                        let delta = v - mean[k]
                        mean[k] += delta / n
                        squares[k] += delta * (v - mean[k])
                    }
                }
                if t == window.upperBound - 1 {
                    // Stan's regularised variance: shrunk towards 10⁻³ with weight 5 / (n + 5).
                    for j in 0..<d {
                        let k = r * d + j
                        let variance = n > 1 ? squares[k] / (n - 1) : 1
                        mass.base[k] = Float((n / (n + 5)) * variance + 1e-3 * (5 / (n + 5)))
                    }
                    averaging[r].restart(at: averaging[r].step)
                }
            }
            if t == warmup - 1 { stepSizes.base[r] = Float(averaging[r].averagedStep) }
        }
    }
}
