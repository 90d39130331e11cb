#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The No-U-Turn sampler (Hoffman & Gelman 2014) in its multinomial form (Betancourt 2017, "A
/// conceptual introduction to Hamiltonian Monte Carlo", appendix A; the algorithm of Stan and
/// BlackJAX), with a diagonal mass matrix.
///
/// Per step and chain: a momentum `p ~ N(0, M)`; the trajectory doubles, each time in a random
/// direction, by a subtree of `2^j` leapfrog steps of size `η` on `H = E(x) + ½ pᵀ M⁻¹ p`, until the
/// generalised U-turn criterion holds for the whole trajectory or for any balanced sub-trajectory
/// of the new subtree (checked iteratively against checkpoints), or `maxTreeDepth` doublings.
/// Within a subtree the proposal is drawn progressively with each leaf's weight `exp(H₀ − H)`
/// (multinomial sampling); between the old trajectory and a new subtree by *biased* progressive
/// sampling (the subtree's proposal replaces the old with probability `min(1, W_new / W_old)`).
/// A subtree that turns or diverges (energy error non-finite or above `divergenceThreshold`) ends
/// the trajectory and its points are not used. The chain's stationary law is exactly `exp(−E)/Z`.
///
/// Chains of a block build trees of different sizes in lockstep: every round, each chain whose
/// subtree is still growing takes one leapfrog step, and only those chains' rows are evaluated
/// (packed in order, so a chain's arithmetic never depends on the others). Each chain's random
/// numbers are pure functions of `(seed, chain, step, leaf)`: results are bit-identical for any
/// thread count and any split of the chains. The acceptance statistic of a step — the mean over
/// its leaves of `min(1, exp(H₀ − H))` — drives step-size adaptation (Stan's `accept_stat`).
public struct NUTS: SamplerKernel {
    public let stepSize: Float
    /// The largest number of doublings: at most `2^maxTreeDepth − 1` leapfrog steps per step.
    public let maxTreeDepth: Int
    public let inverseMass: FloatBuffer?
    public let divergenceThreshold: Float

    public static let kind = "nuts"
    /// Its momenta (and, through a derived key, its directions and selection uniforms).
    public static let noisePurpose: UInt64 = 15
    public static let adaptsMass = true
    public var gradientsPerStep: Int { 1 << maxTreeDepth - 1 }
    public var statistics: [ChainStatistic] {
        [ChainStatistic("tree_depth"), ChainStatistic("n_leapfrog"), ChainStatistic("acceptance_stat")]
    }
    private static let uniformTag: UInt64 = 0x4E55_5453
    /// The deepest tree allowed (Stan caps at 2³¹ leapfrog steps; 2¹⁵ is already hours on a network).
    public static let deepestTree = 15

    /// - Throws: `EBMError.invalidArgument` naming the offending setting.
    public init(stepSize: Float, maxTreeDepth: Int = 10, inverseMass: [Float]? = nil, dimension: Int,
                divergenceThreshold: Float = HMC.defaultDivergenceThreshold) throws {
        try require(stepSize > 0 && stepSize.isFinite, "step_size must be positive and finite, got \(stepSize)")
        try require(maxTreeDepth >= 1 && maxTreeDepth <= Self.deepestTree,
                    "max_tree_depth must be in [1, \(Self.deepestTree)], got \(maxTreeDepth)")
        try require(divergenceThreshold > 0, "divergence_threshold must be positive, got \(divergenceThreshold)")
        if let m = inverseMass {
            try require(m.count == dimension && m.allSatisfy { $0 > 0 && $0.isFinite },
                        "inverse_mass must hold \(dimension) positive finite values")
        }
        self.stepSize = stepSize
        self.maxTreeDepth = maxTreeDepth
        self.inverseMass = try inverseMass.map(FloatBuffer.init)
        self.divergenceThreshold = divergenceThreshold
    }

    /// Settings `step_size`, `max_tree_depth`, `inverse_mass` (or none) and `divergence_threshold`.
    public init(settings r: inout SettingsRecord, dimension: Int) throws {
        try self.init(stepSize: Float(try r.number("step_size")), maxTreeDepth: try r.integer("max_tree_depth"),
                      inverseMass: try r.optionalArray("inverse_mass", count: dimension).map { $0.map(Float.init) },
                      dimension: dimension, divergenceThreshold: Float(try r.number("divergence_threshold")))
    }

    public func prepare<E: EnergyFunction>(_ energy: E, _ s: ChainBlockState, _ c: StepContext,
                                           workspace ws: SamplerWorkspace<E>) throws {
        let trees = ws.kernelState as? Trees
        if trees?.capacity != ws.capacity || trees?.dimension != s.dimension || trees?.depth != maxTreeDepth {
            ws.kernelState = try Trees(capacity: ws.capacity, dimension: s.dimension, depth: maxTreeDepth)
        }
    }

    public func step<E: EnergyFunction>(
        _ energy: E, _ s: ChainBlockState, _ c: StepContext, workspace ws: SamplerWorkspace<E>,
        interrupted: () -> Bool
    ) throws {
        let n = s.rows, d = s.dimension, T = ws.kernelState as! Trees
        let shared = inverseMass?.base, perChain = c.tuning.inverseMass
        let key = Self.derivedKey(c.noise, tag: Self.uniformTag), depthCount = maxTreeDepth
        let y = ws.proposal.base, gy = ws.proposalGradient.base, ey = ws.proposalEnergies.base
        @inline(__always) func uniform(_ i: Int, _ index: Int) -> Float {
            Self.uniform(key, index: index, counter: c.counter, chain: s.firstChain + i)
        }
        @inline(__always) func kinetic(_ i: Int, _ p: UnsafePointer<Float>) -> Double {
            var k: Float = 0
            for j in 0..<d { k += (perChain?[i * d + j] ?? shared?[j] ?? 1) * p[j] * p[j] }
            return 0.5 * Double(k)
        }

        // The momenta and the one-leaf trees at the current states.
        let p0 = ws.noise.base
        c.noise.fillNormal(p0, rows: n, dimension: d, firstRow: UInt64(s.firstChain), step: c.counter)
        for i in 0..<n {
            let p = p0 + i * d
            for j in 0..<d { p[j] /= (perChain?[i * d + j] ?? shared?[j] ?? 1).squareRoot() }
            let (x, g) = (s.x + i * d, s.gradient + i * d)
            for (edgeX, edgeP, edgeG) in [(T.leftX, T.leftP, T.leftG), (T.rightX, T.rightP, T.rightG)] {
                T.row(edgeX, i).update(from: x, count: d)
                T.row(edgeP, i).update(from: p, count: d)
                T.row(edgeG, i).update(from: g, count: d)
            }
            T.row(T.proposalX, i).update(from: x, count: d)
            T.row(T.proposalG, i).update(from: g, count: d)
            T.row(T.rho, i).update(from: p, count: d)
            T.proposalE[i] = s.energies[i]
            T.h0[i] = Double(s.energies[i]) + kinetic(i, p)
            T.logWeight[i] = 0
            T.acceptSum[i] = 0
            T.leapfrogs[i] = 0
            T.treeDepth[i] = 0
            T.growing[i] = true
            T.divergent[i] = false
            T.moved[i] = false
        }

        for depth in 0..<depthCount {
            // Each growing chain starts a subtree of 2^depth leaves from one of its edges.
            for i in 0..<n where T.growing[i] {
                let left = uniform(i, depth) < 0.5
                T.direction[i] = left ? -1 : 1
                T.row(T.leafX, i).update(from: T.row(left ? T.leftX : T.rightX, i), count: d)
                T.row(T.leafP, i).update(from: T.row(left ? T.leftP : T.rightP, i), count: d)
                T.row(T.leafG, i).update(from: T.row(left ? T.leftG : T.rightG, i), count: d)
                T.row(T.subRho, i).update(repeating: 0, count: d)
                T.subLogWeight[i] = -.infinity
                T.building[i] = true
                T.treeDepth[i] = depth + 1
            }
            let leaves = 1 << depth
            for leaf in 0..<leaves {
                T.active.removeAll(keepingCapacity: true)
                for i in 0..<n where T.growing[i] && T.building[i] { T.active.append(i) }
                if T.active.isEmpty { break }
                if interrupted() { throw EBMError.interrupted }
                // One leapfrog step of every active chain in its own proposal row. The whole block is
                // evaluated, finished chains masked (their current states, results unused): a chain's
                // numbers never depend on which other chains are still building, so they stay the
                // same for any thread count and any split of the chains.
                for i in 0..<n where !(T.growing[i] && T.building[i]) {
                    (y + i * d).update(from: s.x + i * d, count: d)
                }
                for i in T.active {
                    let h = T.direction[i] * (c.tuning.stepSizes?[i] ?? stepSize)
                    let x = T.row(T.leafX, i), p = T.row(T.leafP, i), g = T.row(T.leafG, i)
                    for j in 0..<d {
                        p[j] -= 0.5 * h * g[j]
                        y[i * d + j] = x[j] + h * (perChain?[i * d + j] ?? shared?[j] ?? 1) * p[j]
                    }
                }
                ws.evaluateProposals(energy, rows: n)
                for i in T.active {
                    addLeaf(i, row: i, leaf: leaf, T, d: d, stepSize: c.tuning.stepSizes?[i] ?? stepSize,
                            y: y, gy: gy, ey: ey, kinetic: kinetic,
                            uniform: { uniform(i, 2 * depthCount + leaves - 1 + leaf) },
                            inverseMass: { j in perChain?[i * d + j] ?? shared?[j] ?? 1 })
                }
            }
            // Merge each valid subtree into its trajectory.
            for i in 0..<n where T.growing[i] {
                guard T.building[i] else {  // turned or diverged: the trajectory ends without it
                    T.growing[i] = false
                    continue
                }
                if Double(logf(uniform(i, depthCount + depth))) < T.subLogWeight[i] - T.logWeight[i] {
                    T.row(T.proposalX, i).update(from: T.row(T.subX, i), count: d)
                    T.row(T.proposalG, i).update(from: T.row(T.subG, i), count: d)
                    T.proposalE[i] = T.subE[i]
                    T.moved[i] = true
                }
                T.logWeight[i] = Self.logAddExp(T.logWeight[i], T.subLogWeight[i])
                let rho = T.row(T.rho, i), subRho = T.row(T.subRho, i)
                for j in 0..<d { rho[j] += subRho[j] }
                let left = T.direction[i] < 0
                T.row(left ? T.leftX : T.rightX, i).update(from: T.row(T.leafX, i), count: d)
                T.row(left ? T.leftP : T.rightP, i).update(from: T.row(T.leafP, i), count: d)
                T.row(left ? T.leftG : T.rightG, i).update(from: T.row(T.leafG, i), count: d)
                if Self.turning(T.row(T.leftP, i), T.row(T.rightP, i), sum: rho, count: d,
                                inverseMass: { j in perChain?[i * d + j] ?? shared?[j] ?? 1 }) {
                    T.growing[i] = false
                }
            }
        }

        let statistics = ws.statistics!.base
        for i in 0..<n {
            if T.moved[i] {
                (s.x + i * d).update(from: T.row(T.proposalX, i), count: d)
                (s.gradient + i * d).update(from: T.row(T.proposalG, i), count: d)
                s.energies[i] = T.proposalE[i]
            }
            let acceptance = T.leapfrogs[i] > 0 ? T.acceptSum[i] / Double(T.leapfrogs[i]) : 0
            ws.outcome[i] = (T.divergent[i] ? StepOutcome.divergent : T.moved[i] ? .accepted : .rejected).rawValue
            ws.logAcceptance[i] = log(acceptance)
            statistics[i * 3] = Float(T.treeDepth[i])
            statistics[i * 3 + 1] = Float(T.leapfrogs[i])
            statistics[i * 3 + 2] = Float(acceptance)
        }
    }

    /// Completes chain `i`'s leapfrog step evaluated in proposal row `r` as leaf `leaf` of its
    /// subtree: the final half kick, the leaf's weight and acceptance statistic, the subtree's
    /// progressive (multinomial) proposal, its momentum sum, and the divergence and iterative U-turn
    /// checks, which stop the subtree.
    @inline(__always)
    private func addLeaf(_ i: Int, row r: Int, leaf: Int, _ T: Trees, d: Int, stepSize: Float,
                         y: UnsafePointer<Float>, gy: UnsafePointer<Float>, ey: UnsafePointer<Float>,
                         kinetic: (Int, UnsafePointer<Float>) -> Double, uniform: () -> Float,
                         inverseMass: (Int) -> Float) {
        let x = T.row(T.leafX, i), p = T.row(T.leafP, i), g = T.row(T.leafG, i)
        x.update(from: y + r * d, count: d)
        g.update(from: gy + r * d, count: d)
        T.leafE[i] = ey[r]
        let half = 0.5 * T.direction[i] * stepSize
        for j in 0..<d { p[j] -= half * g[j] }
        let error = Double(ey[r]) + kinetic(i, p) - T.h0[i]
        T.leapfrogs[i] += 1
        if !error.isFinite || error > Double(divergenceThreshold) {
            T.divergent[i] = true
            T.building[i] = false
            return
        }
        T.acceptSum[i] += error < 0 ? 1 : exp(-error)
        let total = Self.logAddExp(T.subLogWeight[i], -error)
        if Double(logf(uniform())) < -error - total {
            T.row(T.subX, i).update(from: x, count: d)
            T.row(T.subG, i).update(from: g, count: d)
            T.subE[i] = ey[r]
        }
        T.subLogWeight[i] = total
        let subRho = T.row(T.subRho, i)
        for j in 0..<d { subRho[j] += p[j] }
        // The balanced sub-subtrees this leaf closes (none for an even leaf, which is a checkpoint).
        let (lowest, highest) = Self.checkpoints(leaf: leaf)
        if leaf % 2 == 0 {
            T.checkpoint(T.checkpointP, i, highest).update(from: p, count: d)
            T.checkpoint(T.checkpointRho, i, highest).update(from: subRho, count: d)
        }
        var c = highest
        while c >= lowest {
            let first = T.checkpoint(T.checkpointP, i, c), before = T.checkpoint(T.checkpointRho, i, c)
            let sum = T.scratch.base
            for j in 0..<d { sum[j] = subRho[j] - before[j] + first[j] }
            if Self.turning(first, p, sum: sum, count: d, inverseMass: inverseMass) {
                T.building[i] = false
                return
            }
            c -= 1
        }
    }
}
