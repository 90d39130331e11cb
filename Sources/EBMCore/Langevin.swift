/// The settings of a Langevin run (Bishop, *Deep Learning*, Algorithm 14.4, with the
/// practical options of IGEBM/JEM-style samplers).
public struct LangevinParameters: Sendable {
    /// Number of steps `T`.
    public var steps: Int
    /// Step size `η`.
    public var stepSize: Float
    /// Standard deviation of the added noise; `sqrt(2η)` samples `exp(−E)` exactly in the limit
    /// `η → 0`; a smaller value samples a colder distribution.
    public var noiseScale: Float
    /// Elementwise bound on the gradient, if any.
    public var gradientClip: Float?
    /// Box the states are clamped to after each step, if any.
    public var clamp: (low: Float, high: Float)?

    /// Validated settings; `noiseScale: nil` means `sqrt(2·stepSize)`.
    /// - Throws: `EBMError.invalidArgument` naming the offending setting.
    public init(steps: Int, stepSize: Float, noiseScale: Float? = nil,
                gradientClip: Float? = nil, clamp: (low: Float, high: Float)? = nil) throws {
        try require(steps > 0 && steps < Int(UInt32.max), "n_steps must be in [1, 2^32 − 1), got \(steps)")
        try require(stepSize > 0 && stepSize.isFinite, "step_size must be positive and finite, got \(stepSize)")
        let sigma = noiseScale ?? (2 * stepSize).squareRoot()
        try require(sigma >= 0 && sigma.isFinite, "noise_scale must be non-negative and finite, got \(sigma)")
        if let c = gradientClip {
            try require(c > 0 && !c.isNaN, "grad_clip must be positive, got \(c)")
        }
        if let box = clamp {
            try require(box.low.isFinite && box.high.isFinite && box.low < box.high,
                        "clamp must be finite (low, high) with low < high, got (\(box.low), \(box.high))")
        }
        self.steps = steps
        self.stepSize = stepSize
        self.noiseScale = sigma
        self.gradientClip = gradientClip
        self.clamp = clamp
    }
}

/// Scratch memory for one thread's block of up to `capacity` chains: the energy's own
/// workspace, energies, gradients, a proposal (MALA) and the noise of one step.
public final class SamplerWorkspace<E: EnergyFunction> {
    /// The largest number of chains served.
    public let capacity: Int
    let energyWorkspace: E.Workspace
    let energies: FloatBuffer
    let gradient: FloatBuffer
    let proposal: FloatBuffer
    let proposalEnergies: FloatBuffer
    let proposalGradient: FloatBuffer
    let noise: FloatBuffer

    /// Workspace for `energy` and up to `capacity` chains.
    public init(_ energy: E, capacity: Int) {
        let d = energy.dimension
        self.capacity = capacity
        energyWorkspace = energy.makeWorkspace(capacity: capacity)
        energies = FloatBuffer(count: capacity)
        gradient = FloatBuffer(count: capacity * d)
        proposal = FloatBuffer(count: capacity * d)
        proposalEnergies = FloatBuffer(count: capacity)
        proposalGradient = FloatBuffer(count: capacity * d)
        noise = FloatBuffer(count: capacity * d)
    }

    /// One workspace per thread for `blocks` run on `threads` threads.
    public static func perThread(_ energy: E, blocks: ChainBlocks, threads: Int) -> [SamplerWorkspace] {
        (0..<max(1, min(threads, blocks.count))).map { _ in SamplerWorkspace(energy, capacity: blocks.blockRows) }
    }
}

/// Unadjusted Langevin dynamics (ULA; Bishop, Algorithm 14.4): per step and chain
/// `x ← x − η ∇x E(x) + σ ε`, `ε ~ N(0, I)`, with `σ = sqrt(2η)` by default.
public enum Langevin {
    /// Runs `parameters.steps` steps on the `blocks.rows` chains stored row-major in `x`, in place,
    /// spreading the blocks over `workspaces.count` threads.
    ///
    /// Chain `i`'s noise at step `t` is row `i` of `noise.fillNormal(…, step: t)`: it depends only on the
    /// key and the chain's index, and the block partition depends only on the number of chains,
    /// so the result is the same for any number of threads. Nothing is allocated per step.
    ///
    /// - Parameters:
    ///   - poll: called on the calling thread about once per step with the fraction done;
    ///     `true` stops with `.interrupted`.
    /// - Throws: `.diverged` when a gradient or state becomes NaN or infinite (the step is named),
    ///   `.interrupted` when `poll` says so. `x` then holds partial results.
    public static func run<E: EnergyFunction>(
        _ energy: E, x: UnsafeMutableBufferPointer<Float>, blocks: ChainBlocks,
        parameters p: LangevinParameters, noise: Philox4x32,
        workspaces: [SamplerWorkspace<E>], recording: SamplerRecording = .none,
        poll: (Double) -> Bool = { _ in false }
    ) throws {
        precondition(x.count == blocks.rows * energy.dimension && !workspaces.isEmpty)
        try ChainParallel.run(blocks, threads: workspaces.count, steps: p.steps, poll: poll) { b, worker, shouldStop in
            let rows = blocks.range(b)
            try runBlock(energy, x: x.baseAddress! + rows.lowerBound * energy.dimension,
                         rows: rows, totalRows: blocks.rows, block: b, parameters: p, noise: noise,
                         workspace: workspaces[worker], recording: recording, shouldStop: shouldStop)
        }
    }

    /// The steps of one block of chains (global rows `rows`).
    static func runBlock<E: EnergyFunction>(
        _ energy: E, x: UnsafeMutablePointer<Float>, rows: Range<Int>, totalRows: Int, block: Int,
        parameters p: LangevinParameters, noise: Philox4x32, workspace ws: SamplerWorkspace<E>,
        recording: SamplerRecording, shouldStop: () -> Bool
    ) throws {
        let d = energy.dimension, n = rows.count
        precondition(n <= ws.capacity, "workspace too small")
        let g = ws.gradient.base
        let eps = ws.noise.base
        let energies = recording.wantsStatistics ? ws.energies.slice(0, n) : nil
        let eta = p.stepSize, sigma = p.noiseScale
        let clip = p.gradientClip ?? .infinity
        let low = p.clamp?.low ?? -.infinity, high = p.clamp?.high ?? .infinity
        for t in 0..<p.steps {
            if shouldStop() { throw EBMError.interrupted }
            energy.gradients(UnsafeBufferPointer(start: x, count: n * d), rows: n, energies: energies,
                             into: ws.gradient.slice(0, n * d), workspace: ws.energyWorkspace)
            if sigma > 0 {
                noise.fillNormal(eps, rows: n, dimension: d, firstRow: UInt64(rows.lowerBound), step: UInt32(t))
            } else {
                eps.update(repeating: 0, count: n * d)
            }
            let finite = update(x, gradient: g, noise: eps, count: n * d, stepSize: eta, noiseScale: sigma,
                                clip: clip, low: low, high: high)
            if !finite {
                throw EBMError.diverged(Divergence(.langevin, .samples, step: t + 1,
                    "Langevin sampling diverged at step \(t + 1) of \(p.steps): a gradient or state became NaN or infinite (try a smaller step_size, grad_clip or clamp)"))
            }
            if let e = energies {
                var gradientNorms = 0.0
                for i in 0..<n {
                    var squared: Float = 0
                    for j in 0..<d { squared += g[i * d + j] * g[i * d + j] }
                    gradientNorms += Double(squared.squareRoot())
                }
                recording.recordStatistics(block: block, steps: p.steps, step: t,
                                           energy: e.reduce(0.0) { $0 + Double($1) },
                                           gradientNorm: gradientNorms, accepted: Double(n))
            }
            recording.recordStates(x, rows: n, firstRow: rows.lowerBound, totalRows: totalRows, dimension: d, step: t)
        }
    }
}
