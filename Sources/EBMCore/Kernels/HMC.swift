#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Hamiltonian Monte Carlo (Duane et al. 1987; Neal 2011) with a diagonal mass matrix `M`: per
/// step and chain, a momentum `p ~ N(0, M)`, `leapfrogSteps` leapfrog steps of size `η` on
/// `H(x, p) = E(x) + ½ pᵀ M⁻¹ p`,
///
///     p ← p − (η/2) ∇E(x);  then L times: x ← x + η M⁻¹ p, p ← p − η ∇E(x) (the last one η/2),
///
/// and a Metropolis test on the energy error `ΔH`. A trajectory whose `ΔH` is not finite or
/// exceeds `divergenceThreshold` is divergent: rejected and counted. The chain's stationary law
/// is exactly `exp(−E) / Z`. The energy and gradient of the current state are cached across steps,
/// so a step costs `leapfrogSteps` gradient evaluations.
///
/// With `stepJitter` `j > 0`, each chain's step size at each step is drawn uniformly from
/// `η (1 ± j)` (Stan's `stepsize_jitter`; Neal 2011 §5.4.2): a fixed `η L` near a multiple of a
/// period of the target makes trajectories return where they started, and jitter breaks it.
public struct HMC: SamplerKernel {
    public let stepSize: Float
    public let leapfrogSteps: Int
    /// `M⁻¹`'s diagonal (`dimension` positive values), or `nil` for the identity.
    public let inverseMass: FloatBuffer?
    public let divergenceThreshold: Float
    /// The relative half-width of the step size's uniform jitter, in `[0, 1)`.
    public let stepJitter: Float

    public static let kind = "hmc"
    /// Its momenta (and, through a derived key, its acceptance uniforms).
    public static let noisePurpose: UInt64 = 9
    public static let adaptsMass = true
    public var gradientsPerStep: Int { leapfrogSteps }

    /// The divergence threshold of Stan and BlackJAX: an energy error above 1000 is a divergence.
    public static let defaultDivergenceThreshold: Float = 1000
    /// The tag of the key of the step-size jitter's uniforms.
    private static let jitterTag: UInt64 = 0x484D_4A54

    /// - Throws: `EBMError.invalidArgument` for non-positive counts or sizes, or a mass that is not
    ///   `dimension` positive finite values.
    public init(stepSize: Float, leapfrogSteps: Int, inverseMass: [Float]? = nil, dimension: Int,
                divergenceThreshold: Float = HMC.defaultDivergenceThreshold, stepJitter: Float = 0) throws {
        try require(stepSize > 0 && stepSize.isFinite, "step_size must be positive and finite, got \(stepSize)")
        try require(leapfrogSteps > 0, "n_leapfrog must be positive, got \(leapfrogSteps)")
        try require(divergenceThreshold > 0, "the divergence threshold must be positive, got \(divergenceThreshold)")
        try require(stepJitter >= 0 && stepJitter < 1, "step_jitter must be in [0, 1), got \(stepJitter)")
        if let m = inverseMass {
            try require(m.count == dimension && m.allSatisfy { $0 > 0 && $0.isFinite },
                        "inverse_mass must hold \(dimension) positive finite values")
        }
        self.stepSize = stepSize
        self.leapfrogSteps = leapfrogSteps
        self.inverseMass = try inverseMass.map(FloatBuffer.init)
        self.divergenceThreshold = divergenceThreshold
        self.stepJitter = stepJitter
    }

    /// Settings `step_size`, `n_leapfrog`, `inverse_mass` (`dimension` values, or none: the identity)
    /// `divergence_threshold` and `step_jitter`.
    public init(settings r: inout SettingsRecord, dimension: Int) throws {
        try self.init(stepSize: Float(try r.number("step_size")), leapfrogSteps: try r.integer("n_leapfrog"),
                      inverseMass: try r.optionalArray("inverse_mass", count: dimension).map { $0.map(Float.init) },
                      dimension: dimension, divergenceThreshold: Float(try r.number("divergence_threshold")),
                      stepJitter: Float(try r.number("step_jitter")))
    }

    public func step<E: EnergyFunction>(
        _ energy: E, _ s: ChainBlockState, _ c: StepContext, workspace ws: SamplerWorkspace<E>,
        interrupted: () -> Bool
    ) throws {
        let tuning = c.tuning, noise = c.noise, counter = c.counter
        let n = s.rows, d = s.dimension
        let x = s.x, e = s.energies, g = s.gradient
        let y = ws.proposal.base, ey = ws.proposalEnergies.base, gy = ws.proposalGradient.base
        let momentum = ws.noise.base, kinetic = ws.kinetic.base
        let shared = inverseMass?.base
        let perChain = tuning.inverseMass
        @inline(__always) func invMass(_ i: Int, _ j: Int) -> Float { perChain?[i * d + j] ?? shared?[j] ?? 1 }
        let jitterKey = Self.derivedKey(noise, tag: Self.jitterTag), jitter = stepJitter
        @inline(__always) func eta(_ i: Int) -> Float {
            let h = tuning.stepSizes?[i] ?? stepSize
            guard jitter > 0 else { return h }
            return h * (1 + jitter * (2 * Self.uniform(jitterKey, index: 0, counter: counter, chain: s.firstChain + i) - 1))
        }

        // p ~ N(0, M): ε_j / √(M⁻¹)_j; K₀ = ½ Σ (M⁻¹)_j p_j².
        noise.fillNormal(momentum, rows: n, dimension: d, firstRow: UInt64(s.firstChain), step: counter)
        for i in 0..<n {
            var k0: Float = 0
            for j in 0..<d {
                let q = momentum[i * d + j] / invMass(i, j).squareRoot()
                momentum[i * d + j] = q
                k0 += invMass(i, j) * q * q
            }
            kinetic[i] = 0.5 * k0
        }
        // Leapfrog from the cached gradient at x.
        y.update(from: x, count: n * d)
        gy.update(from: g, count: n * d)
        for l in 0..<leapfrogSteps {
            for i in 0..<n {
                let h = eta(i), kick = l == 0 ? 0.5 * h : h
                for j in 0..<d {
                    let k = i * d + j
                    momentum[k] -= kick * gy[k]
                    y[k] += h * invMass(i, j) * momentum[k]
                }
            }
            if interrupted() { throw EBMError.interrupted }
            ws.evaluateProposals(energy, rows: n)
        }
        Self.drawLogUniforms(noise, tag: 0x484D_4341, s, counter: counter, into: ws)
        for i in 0..<n {
            let half = 0.5 * eta(i)
            var k1: Float = 0
            for j in 0..<d {
                let k = i * d + j
                momentum[k] -= half * gy[k]
                k1 += invMass(i, j) * momentum[k] * momentum[k]
            }
            let deltaH = Double(ey[i]) + 0.5 * Double(k1) - Double(e[i]) - Double(kinetic[i])
            if !deltaH.isFinite || deltaH > Double(divergenceThreshold) {
                ws.outcome[i] = StepOutcome.divergent.rawValue
                ws.logAcceptance[i] = -.infinity
                continue
            }
            ws.metropolis(s, chain: i, logAlpha: -deltaH)
        }
    }
}
