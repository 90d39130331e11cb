#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The Barker proposal (Livingstone & Zanella 2022, "The Barker proposal: combining robustness and
/// efficiency in gradient-based MCMC"), Metropolis-adjusted. Per coordinate `j` of a chain at `x`
/// with gradient `g = ∇E(x)`: an increment `z_j ~ N(0, σ²)` whose sign is kept with probability
/// `1 / (1 + exp(z_j g_j))` — a skew towards lower energy — and flipped otherwise, giving
/// `y_j = x_j + w_j`, `w_j = ±z_j`. The proposal density is
/// `q(y | x) = Π_j 2 φ_σ(w_j) / (1 + exp(w_j g_j(x)))`, so the Metropolis–Hastings log ratio is
///
///     ln α = E(x) − E(y) + Σ_j [softplus(w_j g_j(x)) − softplus(−w_j g_j(y))].
///
/// The chain's stationary law is exactly `exp(−E) / Z`. Unlike MALA's, the proposal's size does not
/// grow with the gradient, which makes it robust to a badly chosen step size and to heavy tails.
/// `stepSize` is `σ`, the scale of the increments (BlackJAX's `barker_proposal` convention). One
/// gradient evaluation per step (the current state's is cached).
public struct Barker: SamplerKernel {
    public static let kind = "barker"
    /// Its increments (and, through derived keys, its sign flips and acceptance uniforms).
    public static let noisePurpose: UInt64 = 13
    /// The scale `σ` of the increments (per chain when adapted).
    public let stepSize: Float

    /// - Throws: `EBMError.invalidArgument` for a step size that is not positive and finite.
    public init(stepSize: Float) throws {
        try require(stepSize > 0 && stepSize.isFinite, "step_size must be positive and finite, got \(stepSize)")
        self.stepSize = stepSize
    }

    /// Settings: `step_size`.
    public init(settings r: inout SettingsRecord, dimension: Int) throws {
        try self.init(stepSize: Float(try r.number("step_size")))
    }

    /// Tags of the keys derived from the noise key: the sign flips' uniforms and the acceptance uniforms.
    private static let flipTag: UInt64 = 0x4241_524B, acceptTag: UInt64 = 0x4241_5241

    /// `ln(1 + eᵃ)` without overflow.
    @inline(__always)
    static func softplus(_ a: Float) -> Float { max(a, 0) + log1pf(expf(-abs(a))) }

    public func step<E: EnergyFunction>(
        _ energy: E, _ s: ChainBlockState, _ c: StepContext, workspace ws: SamplerWorkspace<E>,
        interrupted: () -> Bool
    ) throws {
        let tuning = c.tuning, noise = c.noise, counter = c.counter
        let n = s.rows, d = s.dimension
        let x = s.x, e = s.energies, g = s.gradient
        let y = ws.proposal.base, ey = ws.proposalEnergies.base, gy = ws.proposalGradient.base
        let z = ws.noise.base
        noise.fillNormal(z, rows: n, dimension: d, firstRow: UInt64(s.firstChain), step: counter)
        // Each coordinate's flip uniform: word j mod 4 of block (j / 4, counter, chain) of a key of
        // its own, so a chain's numbers depend only on (seed, chain, step).
        let flips = Philox4x32(key: SplitMix64.mix(UInt64(noise.key.0) | UInt64(noise.key.1) << 32 ^ Self.flipTag))
        for i in 0..<n {
            let sigma = tuning.stepSizes?[i] ?? stepSize
            let chain = UInt64(s.firstChain + i)
            var j = 0
            while j < d {
                let w = flips.block(UInt32(j / 4), counter, UInt32(truncatingIfNeeded: chain), UInt32(truncatingIfNeeded: chain >> 32))
                for l in 0..<min(4, d - j) {
                    let word = l == 0 ? w.0 : l == 1 ? w.1 : l == 2 ? w.2 : w.3
                    let k = i * d + j + l
                    let step = sigma * z[k]
                    let keep = 1 / (1 + expf(step * g[k]))
                    y[k] = x[k] + (Philox4x32.openUnit(word) < keep ? step : -step)
                }
                j += 4
            }
        }
        ws.evaluateProposals(energy, rows: n)
        Self.drawLogUniforms(noise, tag: Self.acceptTag, s, counter: counter, into: ws)
        for i in 0..<n {
            var correction: Float = 0, finite = ey[i].isFinite
            for j in 0..<d {
                let k = i * d + j, w = y[k] - x[k]
                correction += Self.softplus(w * g[k]) - Self.softplus(-w * gy[k])
                finite = finite && gy[k].isFinite
            }
            let logAlpha = Double(e[i] - ey[i]) + Double(correction)
            ws.metropolis(s, chain: i, logAlpha: finite ? logAlpha : -.infinity)
        }
    }
}
