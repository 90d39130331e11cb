#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The Metropolis-adjusted Langevin algorithm (Roberts & Tweedie 1996): the Langevin step of
/// Algorithm 14.4 as a proposal, `y = x − η ∇E(x) + sqrt(2η) ε` (`Langevin.update` itself), accepted
/// with probability `min(1, exp(−E(y) + E(x)) q(x | y) / q(y | x))`,
/// `q(b | a) ∝ exp(−‖b − a + η ∇E(a)‖² / 4η)`. The chain's stationary law is exactly
/// `exp(−E) / Z`, at any step size. One gradient evaluation per step (the current state's is cached).
///
/// With a diagonal inverse mass `M⁻¹` (preconditioned MALA; Girolami & Calderhead 2011 with a
/// constant metric) the proposal is `y = x − η M⁻¹ ∇E(x) + sqrt(2η) M^{−½} ε` and `q(b | a)` has
/// covariance `2η M⁻¹`: coordinates of different scales then move at one step size.
public struct MALA: SamplerKernel {
    /// Step size `η` (per chain when adapted).
    public let stepSize: Float
    /// `M⁻¹`'s diagonal (`dimension` positive values), or `nil` for the identity.
    public let inverseMass: FloatBuffer?
    public static let adaptsMass = true

    public static let kind = "mala"
    /// Its proposals (and, through a derived key, its acceptance uniforms).
    public static let noisePurpose: UInt64 = 7

    /// - Throws: `EBMError.invalidArgument` for a step size that is not positive and finite.
    public init(stepSize: Float, inverseMass: [Float]? = nil, dimension: Int = 0) throws {
        try require(stepSize > 0 && stepSize.isFinite, "step_size must be positive and finite, got \(stepSize)")
        if let m = inverseMass {
            try require(m.count == dimension && m.allSatisfy { $0 > 0 && $0.isFinite },
                        "inverse_mass must hold \(dimension) positive finite values")
        }
        self.stepSize = stepSize
        self.inverseMass = try inverseMass.map(FloatBuffer.init)
    }

    /// Settings: `step_size`, `inverse_mass` (`dimension` values, or none: the identity).
    public init(settings r: inout SettingsRecord, dimension: Int) throws {
        try self.init(stepSize: Float(try r.number("step_size")),
                      inverseMass: try r.optionalArray("inverse_mass", count: dimension).map { $0.map(Float.init) },
                      dimension: dimension)
    }

    public func step<E: EnergyFunction>(
        _ energy: E, _ s: ChainBlockState, _ c: StepContext, workspace ws: SamplerWorkspace<E>,
        interrupted: () -> Bool
    ) throws {
        let tuning = c.tuning, noise = c.noise, counter = c.counter
        let n = s.rows, d = s.dimension
        let x = s.x, e = s.energies, g = s.gradient
        let y = ws.proposal.base, ey = ws.proposalEnergies.base, gy = ws.proposalGradient.base
        let eps = ws.noise.base
        noise.fillNormal(eps, rows: n, dimension: d, firstRow: UInt64(s.firstChain), step: counter)
        if inverseMass != nil || tuning.inverseMass != nil {
            return try preconditionedStep(energy, s, c, workspace: ws)
        }
        y.update(from: x, count: n * d)
        if let sizes = tuning.stepSizes {
            for i in 0..<n {
                _ = Langevin.update(y + i * d, gradient: g + i * d, noise: eps + i * d, count: d, stepSize: sizes[i],
                                    noiseScale: (2 * sizes[i]).squareRoot(), clip: .infinity, low: -.infinity, high: .infinity)
            }
        } else {
            _ = Langevin.update(y, gradient: g, noise: eps, count: n * d, stepSize: stepSize,
                                noiseScale: (2 * stepSize).squareRoot(), clip: .infinity, low: -.infinity, high: .infinity)
        }
        ws.evaluateProposals(energy, rows: n)
        Self.drawLogUniforms(noise, tag: 0x4D41_4C41, s, counter: counter, into: ws)
        for i in 0..<n {
            let eta = tuning.stepSizes?[i] ?? stepSize
            // log q(x | y) − log q(y | x) with q(b | a) = N(b; a − η∇E(a), 2η I):
            // forward residual y − x + η g(x) = σ ε; reverse residual x − y + η g(y).
            var forward: Float = 0, reverse: Float = 0, finite = ey[i].isFinite
            for j in 0..<d {
                let k = i * d + j
                let f = y[k] - x[k] + eta * g[k]
                let r = x[k] - y[k] + eta * gy[k]
                forward += f * f
                reverse += r * r
                finite = finite && gy[k].isFinite
            }
            let logAlpha = Double(e[i] - ey[i]) + Double(forward - reverse) / Double(4 * eta)
            ws.metropolis(s, chain: i, logAlpha: finite ? logAlpha : -.infinity)
        }
    }

    /// The step with a diagonal mass: per coordinate `y = x − η m⁻¹ g + sqrt(2η m⁻¹) ε`, and the
    /// Metropolis–Hastings test with `q(b | a) ∝ exp(−Σ_j m_j (b_j − a_j + η m_j⁻¹ g_j(a))² / 4η)`.
    private func preconditionedStep<E: EnergyFunction>(
        _ energy: E, _ s: ChainBlockState, _ c: StepContext, workspace ws: SamplerWorkspace<E>
    ) throws {
        let n = s.rows, d = s.dimension
        let x = s.x, e = s.energies, g = s.gradient
        let y = ws.proposal.base, ey = ws.proposalEnergies.base, gy = ws.proposalGradient.base
        let eps = ws.noise.base, shared = inverseMass?.base, perChain = c.tuning.inverseMass
        @inline(__always) func invMass(_ i: Int, _ j: Int) -> Float { perChain?[i * d + j] ?? shared?[j] ?? 1 }
        for i in 0..<n {
            let eta = c.tuning.stepSizes?[i] ?? stepSize
            for j in 0..<d {
                let k = i * d + j, m = invMass(i, j)
                y[k] = x[k] - eta * m * g[k] + (2 * eta * m).squareRoot() * eps[k]
            }
        }
        ws.evaluateProposals(energy, rows: n)
        Self.drawLogUniforms(c.noise, tag: 0x4D41_4C41, s, counter: c.counter, into: ws)
        for i in 0..<n {
            let eta = c.tuning.stepSizes?[i] ?? stepSize
            var forward: Float = 0, reverse: Float = 0, finite = ey[i].isFinite
            for j in 0..<d {
                let k = i * d + j, m = invMass(i, j)
                let f = y[k] - x[k] + eta * m * g[k]
                let r = x[k] - y[k] + eta * m * gy[k]
                forward += f * f / m
                reverse += r * r / m
                finite = finite && gy[k].isFinite
            }
            let logAlpha = Double(e[i] - ey[i]) + Double(forward - reverse) / Double(4 * eta)
            ws.metropolis(s, chain: i, logAlpha: finite ? logAlpha : -.infinity)
        }
    }
}
