#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The geometric path between an isotropic Gaussian base `E₀(x) = ‖x − m‖² / (2s²)` and a target
/// `E`: `E_β = (1 − β) E₀ + β E`, so that `exp(−E_β) ∝ p₀^{1−β} p^β`.
public struct AnnealedEnergy<Target: EnergyFunction>: EnergyFunction {
    /// The target energy.
    public let target: Target
    /// The base mean `m` (`dimension` floats) and standard deviation `s`.
    public let baseMean: FloatBuffer
    public let baseStd: Float
    /// The inverse temperature `β ∈ [0, 1]`.
    public let beta: Float

    /// The input dimension.
    public var dimension: Int { target.dimension }

    /// The target's workspace serves the path too.
    public func makeWorkspace(capacity: Int) throws -> Target.Workspace { try target.makeWorkspace(capacity: capacity) }

    /// `E₀(x)` of one row.
    @inline(__always)
    func baseEnergy(_ x: UnsafePointer<Float>) -> Float {
        var s: Float = 0
        for j in 0..<dimension {
            let v = x[j] - baseMean.base[j]
            s += v * v
        }
        return s / (2 * baseStd * baseStd)
    }

    /// `E_β(x_i)` per row.
    public func energies(_ x: UnsafeBufferPointer<Float>, rows: Int,
                         into energies: UnsafeMutableBufferPointer<Float>, workspace: Target.Workspace) {
        target.energies(x, rows: rows, into: energies, workspace: workspace)
        for i in 0..<rows {
            energies[i] = beta * energies[i] + (1 - beta) * baseEnergy(x.baseAddress! + i * dimension)
        }
    }

    /// `∇E_β(x_i) = β ∇E(x_i) + (1 − β)(x_i − m)/s²` per row, and the energies when asked.
    public func gradients(_ x: UnsafeBufferPointer<Float>, rows: Int, energies: UnsafeMutableBufferPointer<Float>?,
                          into gradient: UnsafeMutableBufferPointer<Float>, workspace: Target.Workspace) {
        target.gradients(x, rows: rows, energies: energies, into: gradient, workspace: workspace)
        let d = dimension, inv = 1 / (baseStd * baseStd)
        for i in 0..<rows {
            for j in 0..<d {
                gradient[i * d + j] = beta * gradient[i * d + j] + (1 - beta) * (x[i * d + j] - baseMean.base[j]) * inv
            }
            if let e = energies { e[i] = beta * e[i] + (1 - beta) * baseEnergy(x.baseAddress! + i * d) }
        }
    }
}

/// Annealed importance sampling (Neal 2001) of `ln Z = ln ∫ exp(−E(x)) dx`.
///
/// Each chain starts from the base `N(m, s² I)` (exact samples) and moves through inverse
/// temperatures `β_t = t / T`; before each temperature's transitions its log weight gains
/// `−(β_t − β_{t−1}) (E(x) − E₀(x))`, and the transitions — any `SamplerKernel` — leave
/// `exp(−E_{β_t})` invariant (MALA, HMC) or nearly so (ULA). Then `Z / Z₀ = E[w]` with
/// `ln Z₀ = d ln s + (d/2) ln 2π`.
public enum AnnealedImportanceSampling {
    /// The settings of one estimate.
    public struct Settings: Sendable {
        public var temperatures: Int
        /// The transition at each temperature; its `steps` are the steps per temperature.
        public var transition: SamplerSettings
        public var baseStd: Float
        public var seed: UInt64

        /// - Throws: `EBMError.invalidArgument` naming the offending setting.
        public init(temperatures: Int, transition: SamplerSettings, baseStd: Float, seed: UInt64) throws {
            try require(temperatures > 0, "n_temps must be positive, got \(temperatures)")
            try require(transition.steps > 0, "n_steps must be positive, got \(transition.steps)")
            let (total, overflow) = temperatures.multipliedReportingOverflow(by: transition.steps)
            try require(!overflow && total < Int(UInt32.max), "n_temps · n_steps must be below 2^32")
            try require(baseStd > 0 && baseStd.isFinite, "base_std must be positive, got \(baseStd)")
            try require(transition.adaptation == nil, "AIS transitions are not adapted (the path changes at every temperature)")
            self.temperatures = temperatures
            self.transition = transition
            self.baseStd = baseStd
            self.seed = seed
        }
    }

    /// Fills `logWeights` (one per chain) and adds each chain's accepted moves and divergent
    /// trajectories to `counts`, running the chains in blocks over `threads` threads. Chain `i`'s
    /// random numbers are those of global chain `chainOffset + i`: the chains `[k, k + n)` of an
    /// estimate, run alone with `chainOffset = k`, give exactly its log weights `[k, k + n)`.
    /// - Returns: `(ln Z, standard error)`, the latter by the delta method on the mean weight.
    public static func estimate<E: EnergyFunction>(
        _ energy: E, baseMean: [Float], settings: Settings, chains: Int, threads: Int, chainOffset: Int = 0,
        logWeights: UnsafeMutableBufferPointer<Double>, counts: ChainCounts = .none,
        poll: (Double) -> Bool = { _ in false }
    ) throws -> (logZ: Double, standardError: Double) {
        let d = energy.dimension
        try require(baseMean.count == d, "base_mean must have \(d) values, got \(baseMean.count)")
        try require(chains > 0 && logWeights.count == chains, "n_chains must be positive")
        let kernel = settings.transition.kernel
        try require(chainOffset >= 0, "chain_offset must be non-negative, got \(chainOffset)")
        return try run(energy, kernel: kernel, baseMean: baseMean, settings: settings, chains: chains, threads: threads,
                       chainOffset: chainOffset, logWeights: logWeights, counts: counts, poll: poll)
    }

    private static func run<E: EnergyFunction, K: SamplerKernel>(
        _ energy: E, kernel: K, baseMean: [Float], settings: Settings, chains: Int, threads: Int, chainOffset: Int,
        logWeights: UnsafeMutableBufferPointer<Double>, counts: ChainCounts, poll: (Double) -> Bool
    ) throws -> (logZ: Double, standardError: Double) {
        let d = energy.dimension
        let mean = try FloatBuffer(baseMean)
        let path = { (beta: Float) in AnnealedEnergy(target: energy, baseMean: mean, baseStd: settings.baseStd, beta: beta) }
        let blocks = energy.blocks(rows: chains)
        let workspaces = try SamplerWorkspace.perThread(path(0), blocks: blocks, threads: threads)
        let states = try FloatBuffer(count: chains * d)
        let initial = Philox4x32(seed: settings.seed, purpose: Purpose.aisInitial)
        let noise = Philox4x32(seed: settings.seed, purpose: Purpose.aisNoise)
        let k = settings.transition.steps, temps = settings.temperatures
        try ChainParallel.run(blocks, threads: workspaces.count, steps: temps * k, poll: poll) { b, worker, shouldStop in
            let rows = blocks.range(b), n = rows.count
            let ws = workspaces[worker]
            let x = states.base + rows.lowerBound * d
            let e = ws.proposalEnergies.base
            initial.fillNormal(x, rows: n, dimension: d, firstRow: UInt64(chainOffset + rows.lowerBound), step: 0)
            for i in 0..<n {
                for j in 0..<d { x[i * d + j] = mean.base[j] + settings.baseStd * x[i * d + j] }
                logWeights[rows.lowerBound + i] = 0
            }
            for t in 1...temps {
                let previous = Float(t - 1) / Float(temps), beta = Float(t) / Float(temps)
                energy.energies(UnsafeBufferPointer(start: x, count: n * d), rows: n,
                                into: ws.proposalEnergies.slice(0, n), workspace: ws.energyWorkspace)
                let annealed = path(beta)
                for i in 0..<n {
                    let difference = Double(e[i]) - Double(annealed.baseEnergy(x + i * d))
                    logWeights[rows.lowerBound + i] -= Double(beta - previous) * difference
                }
                try Sampling.runBlock(annealed, kernel: kernel, x: states.base, rows: rows, totalRows: chains, block: b,
                                      steps: k, noise: noise, chainOffset: chainOffset, counterOffset: (t - 1) * k,
                                      adaptation: nil, counts: counts, workspace: ws, recording: .none,
                                      shouldStop: { shouldStop(true) }, interrupted: { shouldStop(false) })
            }
        }
        for i in 0..<chains where !logWeights[i].isFinite {
            throw EBMError.diverged(Divergence(.ais, .logWeight, step: 0, chain: chainOffset + i,
                "AIS: the log weight of chain \(chainOffset + i) is \(logWeights[i]) (energy NaN or infinite along the path)"))
        }
        return summarise(UnsafeBufferPointer(logWeights), dimension: d, baseStd: Double(settings.baseStd))
    }

    /// `ln Z = ln Z₀ + ln mean(w)`, with standard error `sd(w) / (sqrt(n) mean(w))` (delta method),
    /// computed on weights shifted by their maximum.
    public static func summarise(_ logWeights: UnsafeBufferPointer<Double>, dimension: Int, baseStd: Double)
        -> (logZ: Double, standardError: Double)
    {
        let n = Double(logWeights.count)
        let top = logWeights.max()!
        var sum = 0.0, squares = 0.0
        for lw in logWeights {
            let w = exp(lw - top)
            sum += w
            squares += w * w
        }
        let mean = sum / n
        let variance = max(0, squares / n - mean * mean) * n / max(1, n - 1)
        let logZ0 = Double(dimension) * (log(baseStd) + 0.5 * log(2 * Double.pi))
        return (logZ0 + top + log(mean), variance.squareRoot() / (n.squareRoot() * mean))
    }
}
