#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Kinetic (underdamped) Langevin dynamics: position `x` and momentum `p` under
/// `dx = M⁻¹p dt`, `dp = −∇E(x) dt − γ p dt + sqrt(2γ) M^{½} dW`, whose stationary law is
/// `exp(−E(x) − ½ pᵀ M⁻¹ p)`, discretised by the OBABO splitting (Bussi & Parrinello 2007):
///
///     O: p ← a p + sqrt(1 − a²) M^{½} ξ,  a = exp(−γ h / 2)
///     B: p ← p − (h/2) ∇E(x);   A: x ← x + h M⁻¹ p;   B: p ← p − (h/2) ∇E(x)
///     O: as above, with fresh noise.
///
/// Why OBABO and not BAOAB: its middle BAB is a leapfrog step, volume-preserving and reversible,
/// so the same integrator gives the exact, Metropolis-adjusted form (generalised HMC, Horowitz
/// 1991; the "MALT" of Riou-Durand & Vogrinc 2023): the BAB move is accepted with probability
/// `min(1, exp(−ΔH))` and on rejection the momentum is negated. Unadjusted, its bias is the
/// leapfrog's, second order in `h`: on a Gaussian of variance `σ²` the positions' variance is
/// `σ² / (1 − h²/4σ²)` exactly, which the tests measure. (BAOAB is exact in the positions on any
/// Gaussian, so there it would show no order at all, and it has no natural Metropolis form.)
///
/// The momentum persists across steps within a call — that is what makes the chain move
/// ballistically for `~1/γ` time and mix faster than overdamped Langevin — and starts from
/// `N(0, M)` at the call's first step, unless the call continues another (`carried(in:)`). One gradient evaluation per step (the state's is cached).
public struct KineticLangevin: SamplerKernel {
    public let stepSize: Float
    /// The friction `γ > 0` (per unit time `h`): `a = exp(−γh/2)` of the momentum is kept per O step.
    public let friction: Float
    /// Whether each BAB move passes a Metropolis test (exact) or is always taken (bias `O(h²)`).
    public let metropolis: Bool
    public let inverseMass: FloatBuffer?
    public let divergenceThreshold: Float

    public static let kind = "kinetic_langevin"
    /// Its first O step's noise (and, through derived keys, the second's, the initial momenta and
    /// the acceptance uniforms).
    public static let noisePurpose: UInt64 = 14
    public static let adaptsMass = true
    public var adaptable: Bool { metropolis }
    private static let secondTag: UInt64 = 0x4B4C_4F32, initialTag: UInt64 = 0x4B4C_4D30, acceptTag: UInt64 = 0x4B4C_4143

    /// - Throws: `EBMError.invalidArgument` naming the offending setting.
    public init(stepSize: Float, friction: Float, metropolis: Bool, inverseMass: [Float]? = nil, dimension: Int,
                divergenceThreshold: Float = HMC.defaultDivergenceThreshold) throws {
        try require(stepSize > 0 && stepSize.isFinite, "step_size must be positive and finite, got \(stepSize)")
        try require(friction > 0 && friction.isFinite, "friction must be positive and finite, got \(friction)")
        try require(divergenceThreshold > 0, "divergence_threshold must be positive, got \(divergenceThreshold)")
        if let m = inverseMass {
            try require(m.count == dimension && m.allSatisfy { $0 > 0 && $0.isFinite },
                        "inverse_mass must hold \(dimension) positive finite values")
        }
        self.stepSize = stepSize
        self.friction = friction
        self.metropolis = metropolis
        self.inverseMass = try inverseMass.map(FloatBuffer.init)
        self.divergenceThreshold = divergenceThreshold
    }

    /// Settings `step_size`, `friction`, `metropolis`, `inverse_mass` (or none) and `divergence_threshold`.
    public init(settings r: inout SettingsRecord, dimension: Int) throws {
        try self.init(stepSize: Float(try r.number("step_size")), friction: Float(try r.number("friction")),
                      metropolis: try r.flag("metropolis"),
                      inverseMass: try r.optionalArray("inverse_mass", count: dimension).map { $0.map(Float.init) },
                      dimension: dimension, divergenceThreshold: Float(try r.number("divergence_threshold")))
    }

    /// The momenta of a block (`capacity × dimension`) and the momenta of the proposals.
    final class State {
        let momentum: FloatBuffer, proposed: FloatBuffer, capacity: Int
        init(capacity: Int, dimension: Int) throws {
            self.capacity = capacity
            momentum = try FloatBuffer(count: capacity * dimension)
            proposed = try FloatBuffer(count: capacity * dimension)
        }
    }

    public func prepare<E: EnergyFunction>(_ energy: E, _ s: ChainBlockState, _ c: StepContext,
                                           workspace ws: SamplerWorkspace<E>) throws {
        if (ws.kernelState as? State)?.capacity != ws.capacity {
            ws.kernelState = try State(capacity: ws.capacity, dimension: s.dimension)
        }
        let p = (ws.kernelState as! State).momentum.base
        Self.derivedKey(c.noise, tag: Self.initialTag).fillNormal(p, rows: s.rows, dimension: s.dimension,
                                                                   firstRow: UInt64(s.firstChain), step: c.counter)
        forEach(s, c) { k, m, _ in p[k] /= m.squareRoot() }
    }

    /// The momenta: a run that continues another takes them over (`ebm_chains`).
    public func carriedWidth(dimension: Int) -> Int { dimension }

    public func carried<E: EnergyFunction>(in ws: SamplerWorkspace<E>) -> UnsafeMutablePointer<Float>? {
        (ws.kernelState as? State)?.momentum.base
    }

    /// Calls `body(k, M⁻¹_k, h)` for every element `k` of the block, with the chain's step size.
    @inline(__always)
    private func forEach(_ s: ChainBlockState, _ c: StepContext, _ body: (Int, Float, Float) -> Void) {
        let d = s.dimension, shared = inverseMass?.base, perChain = c.tuning.inverseMass
        for i in 0..<s.rows {
            let h = c.tuning.stepSizes?[i] ?? stepSize
            for j in 0..<d { body(i * d + j, perChain?[i * d + j] ?? shared?[j] ?? 1, h) }
        }
    }

    /// The O step: `p ← a p + sqrt(1 − a²) M^{½} ξ` with `ξ` from `key` (at the step's counter) in `xi`.
    @inline(__always)
    private func refresh(_ p: UnsafeMutablePointer<Float>, _ s: ChainBlockState, _ c: StepContext, key: Philox4x32,
                         xi: UnsafeMutablePointer<Float>) {
        key.fillNormal(xi, rows: s.rows, dimension: s.dimension, firstRow: UInt64(s.firstChain), step: c.counter)
        forEach(s, c) { k, m, h in
            let a = expf(-friction * h / 2)
            p[k] = a * p[k] + (1 - a * a).squareRoot() * xi[k] / m.squareRoot()
        }
    }

    public func step<E: EnergyFunction>(
        _ energy: E, _ s: ChainBlockState, _ c: StepContext, workspace ws: SamplerWorkspace<E>,
        interrupted: () -> Bool
    ) throws {
        let n = s.rows, d = s.dimension
        let state = ws.kernelState as! State
        let p = state.momentum.base, q = state.proposed.base
        let x = s.x, g = s.gradient, e = s.energies
        let y = ws.proposal.base, gy = ws.proposalGradient.base, ey = ws.proposalEnergies.base
        refresh(p, s, c, key: c.noise, xi: ws.noise.base)
        // B A: half kick, drift; then B at the new point.
        forEach(s, c) { k, m, h in
            q[k] = p[k] - 0.5 * h * g[k]
            y[k] = x[k] + h * m * q[k]
        }
        ws.evaluateProposals(energy, rows: n)
        forEach(s, c) { k, _, h in q[k] -= 0.5 * h * gy[k] }
        if metropolis {
            Self.drawLogUniforms(c.noise, tag: Self.acceptTag, s, counter: c.counter, into: ws)
            let perChain = c.tuning.inverseMass, shared = inverseMass?.base
            for i in 0..<n {
                var k0: Float = 0, k1: Float = 0
                for j in 0..<d {
                    let k = i * d + j, m = perChain?[k] ?? shared?[j] ?? 1
                    k0 += m * p[k] * p[k]
                    k1 += m * q[k] * q[k]
                }
                let deltaH = Double(ey[i]) - Double(e[i]) + 0.5 * Double(k1 - k0)
                if !deltaH.isFinite || deltaH > Double(divergenceThreshold) {
                    ws.outcome[i] = StepOutcome.divergent.rawValue
                    ws.logAcceptance[i] = -.infinity
                } else {
                    ws.metropolis(s, chain: i, logAlpha: -deltaH)
                }
                if ws.outcome[i] == StepOutcome.accepted.rawValue {
                    (p + i * d).update(from: q + i * d, count: d)
                } else {
                    for j in 0..<d { p[i * d + j] = -p[i * d + j] }  // the momentum flip of a rejection
                }
            }
        } else {
            for i in 0..<n where !ey[i].isFinite {
                throw EBMError.diverged(Divergence(site, .energy, step: c.step + 1, chain: s.firstChain + i,
                    "kinetic Langevin diverged at step \(c.step + 1) of \(c.steps): the energy of chain \(s.firstChain + i) became \(ey[i]) (try a smaller step_size or metropolis=True)"))
            }
            for k in 0..<(n * d) where !(y[k].isFinite && gy[k].isFinite && q[k].isFinite) {
                throw EBMError.diverged(Divergence(site, .samples, step: c.step + 1, chain: s.firstChain + k / d,
                    "kinetic Langevin diverged at step \(c.step + 1) of \(c.steps): a state or gradient became NaN or infinite (try a smaller step_size or metropolis=True)"))
            }
            x.update(from: y, count: n * d)
            g.update(from: gy, count: n * d)
            e.update(from: ey, count: n)
            p.update(from: q, count: n * d)
            ws.outcome.update(repeating: StepOutcome.accepted.rawValue, count: n)
            ws.logAcceptance.update(repeating: 0, count: n)
        }
        refresh(p, s, c, key: Self.derivedKey(c.noise, tag: Self.secondTag), xi: ws.noise.base)
    }
}
