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
/// The core of the HMC sampler of issue 11 (its kernel interface, ABI and Python API come next).
public enum HMC {
    /// The settings of a run.
    public struct Parameters: Sendable {
        public let steps: Int
        public let stepSize: Float
        public let leapfrogSteps: Int
        public let divergenceThreshold: Float

        /// - Throws: `EBMError.invalidArgument` for non-positive counts or sizes.
        public init(steps: Int, stepSize: Float, leapfrogSteps: Int, divergenceThreshold: Float = 1000) throws {
            try require(steps > 0, "n_steps must be positive, got \(steps)")
            try require(stepSize > 0 && stepSize.isFinite, "step_size must be positive and finite, got \(stepSize)")
            try require(leapfrogSteps > 0, "n_leapfrog must be positive, got \(leapfrogSteps)")
            try require(divergenceThreshold > 0, "the divergence threshold must be positive, got \(divergenceThreshold)")
            self.steps = steps
            self.stepSize = stepSize
            self.leapfrogSteps = leapfrogSteps
            self.divergenceThreshold = divergenceThreshold
        }
    }

    /// Runs HMC on the chains in `x` (in place). `inverseMass` is `M⁻¹`'s diagonal (`dimension`
    /// positive values; `nil` for the identity). Each chain's acceptances and divergent
    /// trajectories are added to `accepted` and `divergent` (`rows` doubles each).
    ///
    /// Momenta and acceptance uniforms of chain `i` at step `t` are keyed by `(i, t)`: results do
    /// not depend on the thread count.
    public static func run<E: EnergyFunction>(
        _ energy: E, x: UnsafeMutableBufferPointer<Float>, blocks: ChainBlocks, parameters: Parameters,
        inverseMass: UnsafeBufferPointer<Float>?, noise: Philox4x32,
        accepted: UnsafeMutableBufferPointer<Double>, divergent: UnsafeMutableBufferPointer<Double>,
        workspaces: [SamplerWorkspace<E>], poll: (Double) -> Bool = { _ in false }
    ) throws {
        let d = energy.dimension
        precondition(x.count == blocks.rows * d && accepted.count == blocks.rows && divergent.count == blocks.rows)
        if let m = inverseMass {
            try require(m.count == d && m.allSatisfy { $0 > 0 && $0.isFinite },
                        "inverse_mass must hold \(d) positive finite values")
        }
        try ChainParallel.run(blocks, threads: workspaces.count, steps: parameters.steps, poll: poll) { b, worker, shouldStop in
            let rows = blocks.range(b)
            try runBlock(energy, x: x.baseAddress! + rows.lowerBound * d, rows: rows, parameters: parameters,
                         inverseMass: inverseMass?.baseAddress, noise: noise,
                         accepted: accepted.baseAddress! + rows.lowerBound,
                         divergent: divergent.baseAddress! + rows.lowerBound,
                         workspace: workspaces[worker], shouldStop: shouldStop)
        }
    }

    static func runBlock<E: EnergyFunction>(
        _ energy: E, x: UnsafeMutablePointer<Float>, rows: Range<Int>, parameters p: Parameters,
        inverseMass: UnsafePointer<Float>?, noise: Philox4x32,
        accepted: UnsafeMutablePointer<Double>, divergent: UnsafeMutablePointer<Double>,
        workspace ws: SamplerWorkspace<E>, shouldStop: () -> Bool
    ) throws {
        let d = energy.dimension, n = rows.count, eta = p.stepSize
        precondition(n <= ws.capacity, "workspace too small")
        let e = ws.energies.base, g = ws.gradient.base
        let y = ws.proposal.base, ey = ws.proposalEnergies.base, gy = ws.proposalGradient.base
        let momentum = ws.noise.base
        let uniforms = Philox4x32(key: SplitMix64.mix(UInt64(noise.key.0) | UInt64(noise.key.1) << 32 ^ 0x484D_4341))
        @inline(__always) func invMass(_ j: Int) -> Float { inverseMass?[j] ?? 1 }

        energy.gradients(UnsafeBufferPointer(start: x, count: n * d), rows: n, energies: ws.energies.slice(0, n),
                         into: ws.gradient.slice(0, n * d), workspace: ws.energyWorkspace)
        for i in 0..<n where !e[i].isFinite {
            throw EBMError.diverged(Divergence(.hmc, .energy, step: 0, chain: rows.lowerBound + i,
                                               "HMC: the energy at the initial state of chain \(rows.lowerBound + i) is \(e[i])"))
        }
        for k in 0..<(n * d) where !g[k].isFinite {
            throw EBMError.diverged(Divergence(.hmc, .gradient, step: 0, "HMC: the gradient at the initial states is NaN or infinite"))
        }
        var stopped = false
        withUnsafeTemporaryAllocation(of: Float.self, capacity: n) { kinetic in
            for t in 0..<p.steps {
                if shouldStop() {
                    stopped = true
                    return
                }
                let counter = UInt32(truncatingIfNeeded: t)
                // p ~ N(0, M): √m_j ε_j, with m_j = 1 / (M⁻¹)_j; K₀ = ½ Σ (M⁻¹)_j p_j².
                noise.fillNormal(momentum, rows: n, dimension: d, firstRow: UInt64(rows.lowerBound), step: counter)
                for i in 0..<n {
                    var k0: Float = 0
                    for j in 0..<d {
                        let q = momentum[i * d + j] / invMass(j).squareRoot()
                        momentum[i * d + j] = q
                        k0 += invMass(j) * q * q
                    }
                    kinetic[i] = 0.5 * k0
                }
                // Leapfrog, from the cached gradient at x.
                y.update(from: x, count: n * d)
                gy.update(from: g, count: n * d)
                for l in 0..<p.leapfrogSteps {
                    let kick: Float = l == 0 ? 0.5 * eta : eta
                    for i in 0..<n {
                        for j in 0..<d {
                            let k = i * d + j
                            momentum[k] -= kick * gy[k]
                            y[k] += eta * invMass(j) * momentum[k]
                        }
                    }
                    energy.gradients(UnsafeBufferPointer(start: y, count: n * d), rows: n,
                                     energies: ws.proposalEnergies.slice(0, n),
                                     into: ws.proposalGradient.slice(0, n * d), workspace: ws.energyWorkspace)
                }
                for k in 0..<(n * d) { momentum[k] -= 0.5 * eta * gy[k] }
                for i in 0..<n {
                    var k1: Float = 0
                    for j in 0..<d { k1 += invMass(j) * momentum[i * d + j] * momentum[i * d + j] }
                    let deltaH = Double(ey[i]) + 0.5 * Double(k1) - Double(e[i]) - Double(kinetic[i])
                    let row = UInt64(rows.lowerBound + i)
                    if !deltaH.isFinite || deltaH > Double(p.divergenceThreshold) {
                        divergent[i] += 1
                        continue
                    }
                    let w = uniforms.block(0, counter, UInt32(truncatingIfNeeded: row), UInt32(truncatingIfNeeded: row >> 32))
                    if log(Double(Philox4x32.openUnit(w.0))) < -deltaH {
                        (x + i * d).update(from: y + i * d, count: d)
                        (g + i * d).update(from: gy + i * d, count: d)
                        e[i] = ey[i]
                        accepted[i] += 1
                    }
                }
            }
        }
        if stopped { throw EBMError.interrupted }
    }
}
