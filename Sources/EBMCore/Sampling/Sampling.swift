/// Scratch memory for one thread's block of up to `capacity` chains: the energy's own workspace,
/// the state's cached energies and gradients, a proposal with its energies and gradients, the
/// noise (or momenta) of one step, and each chain's step outcome.
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
    /// HMC's initial kinetic energies.
    let kinetic: FloatBuffer
    /// The logs of the acceptance uniforms of one step (Metropolis kernels).
    let logUniforms: FloatBuffer
    /// Per chain: the last step's `StepOutcome` and the log of its Metropolis acceptance
    /// probability (kept as a log: only adaptation needs the probability, and an `exp` per chain
    /// and step costs 6 % of MALA's time on 2-D chains).
    let outcome: UnsafeMutablePointer<UInt8>
    let logAcceptance: UnsafeMutablePointer<Double>
    /// The kernel's per-chain statistics of the last step (`capacity × width`), made by the driver
    /// for a kernel that reports some (`SamplerKernel.statistics`).
    public internal(set) var statistics: FloatBuffer?
    /// A kernel's own state across the steps of a block (momenta, replicas), made by its `prepare`.
    public var kernelState: AnyObject?

    /// Workspace for `energy` and up to `capacity` chains.
    public init(_ energy: E, capacity: Int) throws {
        let d = energy.dimension
        self.capacity = capacity
        energyWorkspace = try energy.makeWorkspace(capacity: capacity)
        energies = try FloatBuffer(count: capacity)
        gradient = try FloatBuffer(count: capacity * d)
        proposal = try FloatBuffer(count: capacity * d)
        proposalEnergies = try FloatBuffer(count: capacity)
        proposalGradient = try FloatBuffer(count: capacity * d)
        noise = try FloatBuffer(count: capacity * d)
        kinetic = try FloatBuffer(count: capacity)
        logUniforms = try FloatBuffer(count: capacity)
        outcome = .allocate(capacity: max(1, capacity))
        outcome.initialize(repeating: 0, count: max(1, capacity))
        logAcceptance = .allocate(capacity: max(1, capacity))
        logAcceptance.initialize(repeating: 0, count: max(1, capacity))
    }

    deinit {
        outcome.deallocate()
        logAcceptance.deallocate()
    }

    /// One workspace per thread for `blocks` run on `threads` threads.
    public static func perThread(_ energy: E, blocks: ChainBlocks, threads: Int) throws -> [SamplerWorkspace] {
        try (0..<max(1, min(threads, blocks.count))).map { _ in try SamplerWorkspace(energy, capacity: blocks.blockRows) }
    }
}

/// Per-chain counts a run adds to, in caller-owned memory (`rows` doubles each, may be `nil`).
public struct ChainCounts {
    /// Accepted moves (every move for ULA).
    public var accepted: UnsafeMutablePointer<Double>?
    /// Divergent trajectories (HMC).
    public var divergent: UnsafeMutablePointer<Double>?
    /// The kernel's statistics (`rows × width` of its `statistics` layout): after the run, a
    /// `.meanAfterWarmup` statistic holds its sum over the steps after warm-up (the caller divides),
    /// a `.last` one its value after the last step.
    public var statistics: UnsafeMutablePointer<Double>?

    public static let none = ChainCounts(accepted: nil, divergent: nil)

    public init(accepted: UnsafeMutablePointer<Double>?, divergent: UnsafeMutablePointer<Double>?,
                statistics: UnsafeMutablePointer<Double>? = nil) {
        self.accepted = accepted
        self.divergent = divergent
        self.statistics = statistics
    }
}

/// A caller's store of a kernel's carried values (`SamplerKernel.carriedWidth` floats per chain of
/// the run, row-major): with `resume`, each block takes them over after `prepare` (a run that
/// continues an earlier one); every block writes its values back after its last step.
public struct CarriedValues {
    public var values: UnsafeMutablePointer<Float>
    public var resume: Bool

    public init(_ values: UnsafeMutablePointer<Float>, resume: Bool) {
        self.values = values
        self.resume = resume
    }
}

/// The one sampling loop of the library: any `SamplerKernel` over a block partition of chains,
/// with noise keyed by `(seed, global chain index, step)`, optional warm-up adaptation, per-chain
/// counts, recording and interruption. Nothing is allocated per step, and the result is the same
/// for any number of threads.
public enum Sampling {
    /// Runs `steps` steps of `kernel` on the `blocks.rows` chains stored row-major in `x`, in place.
    ///
    /// - Parameters:
    ///   - chainOffset: the global index of row 0: a run over chains `[k, k + n)` of a larger run
    ///     gives exactly those rows of it.
    ///   - counterOffset: the noise counter of step 0 (AIS continues one stream across temperatures).
    ///   - adaptation: per-chain step sizes (and masses), tuned during its warm-up steps, which
    ///     are then not counted in `counts`.
    ///   - poll: called on the calling thread about once per step with the fraction done; `true`
    ///     stops with `.interrupted`.
    ///   - carried: where the kernel's carried values are kept between runs, if anywhere.
    /// - Throws: `.diverged` naming the kernel, quantity and step, `.interrupted`. `x` then holds
    ///   partial results.
    public static func run<E: EnergyFunction, K: SamplerKernel>(
        _ energy: E, kernel: K, x: UnsafeMutableBufferPointer<Float>, blocks: ChainBlocks, steps: Int,
        noise: Philox4x32, chainOffset: Int = 0, counterOffset: Int = 0, adaptation: ChainAdaptation? = nil,
        counts: ChainCounts = .none, workspaces: [SamplerWorkspace<E>], recording: SamplerRecording = .none,
        carried: CarriedValues? = nil, poll: (Double) -> Bool = { _ in false }
    ) throws {
        precondition(x.count == blocks.rows * energy.dimension && !workspaces.isEmpty && steps > 0)
        precondition(adaptation.map { $0.rows == blocks.rows } ?? true)
        try ChainParallel.run(blocks, threads: workspaces.count, steps: steps, poll: poll) { b, worker, shouldStop in
            try runBlock(energy, kernel: kernel, x: x.baseAddress!, rows: blocks.range(b), totalRows: blocks.rows,
                         block: b, steps: steps, noise: noise, chainOffset: chainOffset, counterOffset: counterOffset,
                         adaptation: adaptation, counts: counts, workspace: workspaces[worker],
                         recording: recording, carried: carried, shouldStop: { shouldStop(true) },
                         interrupted: { shouldStop(false) })
        }
    }

    /// Adds (or, for `.last`, copies) one step's statistics of `rows` chains into `out`.
    @inline(__always)
    static func record(_ statistics: [ChainStatistic], _ values: UnsafePointer<Float>, rows n: Int, width: Int,
                       into out: UnsafeMutablePointer<Double>, afterWarmup: Bool) {
        var column = 0
        for statistic in statistics {
            for i in 0..<n {
                for c in column..<(column + statistic.width) {
                    let k = i * width + c
                    switch statistic.reduction {
                    case .meanAfterWarmup: if afterWarmup { out[k] += Double(values[k]) }
                    case .last: out[k] = Double(values[k])
                    }
                }
            }
            column += statistic.width
        }
    }

    /// The steps of one block of chains (rows `rows` of the run's `x`, whose base is `x`).
    static func runBlock<E: EnergyFunction, K: SamplerKernel>(
        _ energy: E, kernel: K, x base: UnsafeMutablePointer<Float>, rows: Range<Int>, totalRows: Int,
        block: Int, steps: Int, noise: Philox4x32, chainOffset: Int, counterOffset: Int,
        adaptation: ChainAdaptation?, counts: ChainCounts, workspace ws: SamplerWorkspace<E>,
        recording: SamplerRecording, carried: CarriedValues? = nil, shouldStop: () -> Bool, interrupted: () -> Bool
    ) throws {
        let d = energy.dimension, n = rows.count
        precondition(n <= ws.capacity, "workspace too small")
        let state = ChainBlockState(x: base + rows.lowerBound * d, energies: ws.energies.base,
                                    gradient: ws.gradient.base, rows: n,
                                    firstChain: chainOffset + rows.lowerBound, dimension: d)
        let x = UnsafeBufferPointer(start: state.x, count: n * d)
        let gradient = ws.gradient.slice(0, n * d), energies = ws.energies.slice(0, n)
        if kernel.keepsCache {
            energy.gradients(x, rows: n, energies: energies, into: gradient, workspace: ws.energyWorkspace)
            try checkInitialState(state, site: kernel.site)
        }
        let warmup = adaptation?.settings.warmupSteps ?? 0
        let tuning = adaptation?.tuning(first: rows.lowerBound) ?? .none
        let (accepted, divergent) = (counts.accepted.map { $0 + rows.lowerBound }, counts.divergent.map { $0 + rows.lowerBound })
        let statistics = kernel.statistics, width = statistics.reduce(0) { $0 + $1.width }
        let chainStatistics = counts.statistics.map { $0 + rows.lowerBound * width }
        if width > 0 && (ws.statistics?.count ?? 0) < ws.capacity * width {  // once per thread
            ws.statistics = try FloatBuffer(count: ws.capacity * width)
        }
        var context = StepContext(tuning: tuning, noise: noise, counter: UInt32(truncatingIfNeeded: counterOffset),
                                  step: 0, steps: steps, warmup: warmup)
        try kernel.prepare(energy, state, context, workspace: ws)
        let carriedWidth = kernel.carriedWidth(dimension: d)
        let kept = carried.flatMap { c in kernel.carried(in: ws).map { (c, $0) } }
        if let (c, values) = kept, c.resume, carriedWidth > 0 {
            values.update(from: c.values + rows.lowerBound * carriedWidth, count: n * carriedWidth)
        }
        for t in 0..<steps {
            if shouldStop() { throw EBMError.interrupted }
            if !kernel.keepsCache {
                energy.gradients(x, rows: n, energies: recording.wantsStatistics ? energies : nil,
                                 into: gradient, workspace: ws.energyWorkspace)
            }
            var energySum = 0.0, normSum = 0.0
            if recording.wantsStatistics {  // at the state the step starts from
                for i in 0..<n {
                    energySum += Double(state.energies[i])
                    var s: Float = 0
                    for j in 0..<d { s += state.gradient[i * d + j] * state.gradient[i * d + j] }
                    normSum += Double(s.squareRoot())
                }
            }
            context.counter = UInt32(truncatingIfNeeded: counterOffset + t)
            context.step = t
            try kernel.step(energy, state, context, workspace: ws, interrupted: interrupted)
            var acceptedNow = 0.0
            for i in 0..<n {
                let outcome = ws.outcome[i]
                if outcome == StepOutcome.accepted.rawValue { acceptedNow += 1 }
                if t >= warmup {
                    if outcome == StepOutcome.accepted.rawValue { accepted?[i] += 1 }
                    if outcome == StepOutcome.divergent.rawValue { divergent?[i] += 1 }
                }
            }
            if let out = chainStatistics, let values = ws.statistics?.base {
                record(statistics, values, rows: n, width: width, into: out, afterWarmup: t >= warmup)
            }
            if let bad = adaptation?.update(first: rows.lowerBound, count: n, step: t, logAcceptance: ws.logAcceptance,
                                            positions: state.x) {
                throw EBMError.diverged(Divergence(
                    kernel.site, .samples, step: t + 1, chain: chainOffset + bad,
                    "warm-up adaptation of chain \(chainOffset + bad) gave a step size or inverse mass that is not a "
                        + "finite positive float at step \(t + 1): the chains ran off (an improper target, flat in some "
                        + "direction?); check the energy, or pass step_size and inverse_mass without adapting them"))
            }
            recording.recordStatistics(block: block, steps: steps, step: t, energy: energySum,
                                       gradientNorm: normSum, accepted: acceptedNow)
            recording.recordStates(state.x, rows: n, firstRow: rows.lowerBound, totalRows: totalRows, dimension: d, step: t)
        }
        if let (c, values) = kept, carriedWidth > 0 {
            (c.values + rows.lowerBound * carriedWidth).update(from: values, count: n * carriedWidth)
        }
    }

    /// A Metropolis kernel cannot start from a state whose energy or gradient is not finite.
    static func checkInitialState(_ s: ChainBlockState, site: Divergence.Site) throws {
        let name = site.rawValue.uppercased()
        for i in 0..<s.rows where !s.energies[i].isFinite {
            throw EBMError.diverged(Divergence(site, .energy, step: 0, chain: s.firstChain + i,
                "\(name): the energy at the initial state of chain \(s.firstChain + i) is \(s.energies[i])"))
        }
        for k in 0..<(s.rows * s.dimension) where !s.gradient[k].isFinite {
            throw EBMError.diverged(Divergence(site, .gradient, step: 0, chain: s.firstChain + k / s.dimension,
                "\(name): the gradient at the initial state of chain \(s.firstChain + k / s.dimension) is NaN or infinite"))
        }
    }
}
