import CEBMSwift
import EBMCore

// C exports of sampling, AIS and the thread setting. See ebm_swift.h for ownership.

extension SamplerSettings {
    /// The core's settings from the C config (checked when the kernel is made); `dimension` sizes
    /// the inverse mass.
    init(_ c: ebm_sampler_config, dimension: Int) throws {
        self.init(kind: try Kind(abiCode: c.kernel, "sampler kernel"), steps: Int(clamping: c.n_steps),
                  stepSize: Float(c.step_size))
        noiseScale = c.noise_scale < 0 ? nil : Float(c.noise_scale)
        gradientClip = c.grad_clip > 0 ? Float(c.grad_clip) : nil
        clamp = c.has_clamp != 0 ? (Float(c.clamp_low), Float(c.clamp_high)) : nil
        leapfrogSteps = Int(clamping: c.n_leapfrog)
        inverseMass = c.inverse_mass.map { Array(UnsafeBufferPointer(start: $0, count: dimension)) }
        if c.divergence_threshold > 0 { divergenceThreshold = Float(c.divergence_threshold) }
        if c.adapt_step_size != 0 || c.adapt_mass != 0 {
            adaptation = try AdaptationSettings(warmupSteps: Int(clamping: c.n_warmup), targetAcceptance: c.target_accept,
                                                adaptMass: c.adapt_mass != 0)
        }
    }
}

/// Runs `body` with a `SamplerRecording` into the caller's output buffers, then reduces the
/// per-block step sums into the caller's `(steps, 3)` means.
private func withRecording(
    _ output: ebm_sampler_output?, blocks: ChainBlocks, steps: Int, _ body: (SamplerRecording) throws -> Void
) throws {
    guard let o = output else { return try body(.none) }
    try require(o.thin >= 1, "thin must be at least 1, got \(o.thin)")
    guard let means = o.step_stats else {
        return try body(SamplerRecording(trajectory: o.trajectory, thin: Int(o.thin), statistics: nil))
    }
    var sums = [Double](repeating: 0, count: blocks.count * steps * 3)
    try sums.withUnsafeMutableBufferPointer { s in
        try body(SamplerRecording(trajectory: o.trajectory, thin: Int(o.thin), statistics: s.baseAddress))
        SamplerRecording.reduce(s.baseAddress!, blocks: blocks.count, steps: steps, rows: blocks.rows, into: means)
    }
}

/// Threads for sampling `energy`: one for energies that need the whole batch.
private func threads<E: EnergyFunction>(for energy: E) -> Int {
    energy.wholeBatch ? 1 : ChainParallel.defaultThreads
}

/// Runs any kernel on whichever energy the handle holds, and fills the caller's per-chain outputs.
private struct RunSampler: EnergyVisitor {
    let x: UnsafeMutableBufferPointer<Float>
    let settings: SamplerSettings
    let seed: UInt64
    let chainOffset: Int
    let output: ebm_sampler_output?
    let poll: (Double) -> Bool

    /// The random stream of each kernel (the same keys as before kernels shared one path).
    var purpose: UInt64 {
        switch settings.kind {
        case .langevin: Purpose.langevinNoise
        case .mala: Purpose.malaNoise
        case .hmc: Purpose.hmcNoise
        }
    }

    func visit<E: EnergyFunction>(_ energy: E) throws {
        let kernel = try settings.kernel(dimension: energy.dimension)
        try run(energy, kernel)
    }

    private func run<E: EnergyFunction, K: SamplerKernel>(_ energy: E, _ kernel: K) throws {
        let d = energy.dimension, rows = x.count / d
        let blocks = energy.blocks(rows: rows)
        let workspaces = SamplerWorkspace.perThread(energy, blocks: blocks, threads: threads(for: energy))
        let adaptation = settings.makeAdaptation(rows: rows, dimension: d)
        var accepted = [Double](repeating: 0, count: rows), divergent = accepted
        try withRecording(output, blocks: blocks, steps: settings.steps) { recording in
            try accepted.withUnsafeMutableBufferPointer { a in
                try divergent.withUnsafeMutableBufferPointer { v in
                    try Sampling.run(energy, kernel: kernel, x: x, blocks: blocks, steps: settings.steps,
                                     noise: Philox4x32(seed: seed, purpose: purpose), chainOffset: chainOffset,
                                     adaptation: adaptation,
                                     counts: ChainCounts(accepted: a.baseAddress, divergent: v.baseAddress),
                                     workspaces: workspaces, recording: recording, poll: poll)
                }
            }
        }
        guard let o = output else { return }
        let counted = Double(settings.steps - (settings.adaptation?.warmupSteps ?? 0))
        if let rates = o.acceptance { for i in 0..<rows { rates[i] = accepted[i] / counted } }
        o.n_divergent?.update(from: divergent, count: rows)
        if let sizes = o.step_size {
            if let a = adaptation {
                sizes.update(from: a.stepSizes.base, count: rows)
            } else {
                sizes.update(repeating: settings.stepSize, count: rows)
            }
        }
        if let masses = o.inverse_mass {
            if let m = adaptation?.inverseMass {
                masses.update(from: m.base, count: rows * d)
            } else {
                for i in 0..<rows {
                    for j in 0..<d { masses[i * d + j] = settings.inverseMass?[j] ?? 1 }
                }
            }
        }
    }
}

/// Runs AIS on whichever energy the handle holds.
private struct RunAIS: EnergyVisitor {
    let baseMean: [Float]
    let settings: AnnealedImportanceSampling.Settings
    let chainOffset: Int
    let logWeights: UnsafeMutableBufferPointer<Double>
    let counts: ChainCounts
    let poll: (Double) -> Bool

    func visit<E: EnergyFunction>(_ energy: E) throws -> (logZ: Double, standardError: Double) {
        try AnnealedImportanceSampling.estimate(
            energy, baseMean: baseMean, settings: settings, chains: logWeights.count,
            threads: threads(for: energy), chainOffset: chainOffset, logWeights: logWeights, counts: counts, poll: poll)
    }
}

@_cdecl("ebm_set_num_threads")
public func ebmSetNumThreads(_ n: Int64) { ChainParallel.setDefaultThreads(Int(clamping: n)) }

@_cdecl("ebm_get_num_threads")
public func ebmGetNumThreads() -> Int64 { Int64(ChainParallel.defaultThreads) }

@_cdecl("ebm_sample")
public func ebmSample(
    _ energy: OpaquePointer?, _ x: UnsafeMutablePointer<Float>?, _ n: Int64,
    _ config: UnsafePointer<ebm_sampler_config>?, _ output: UnsafePointer<ebm_sampler_output>?,
    _ poll: ebm_poll_fn?, _ pollContext: UnsafeMutableRawPointer?
) -> ebm_status {
    withStatus {
        let h = try object(energy, as: EnergyHandle.self)
        let c = try nonNull(config, "config").pointee
        let rows = try checkedCount(n, "n")
        try require(c.chain_offset >= 0, "chain_offset must be non-negative, got \(c.chain_offset)")
        try h.read(RunSampler(
            x: UnsafeMutableBufferPointer(start: try nonNull(x, "x"), count: rows * h.dimension),
            settings: try SamplerSettings(c, dimension: h.dimension), seed: c.seed,
            chainOffset: Int(c.chain_offset), output: output?.pointee, poll: pollFunction(poll, pollContext)))
    }
}

@_cdecl("ebm_ais_log_z")
public func ebmAISLogZ(
    _ energy: OpaquePointer?, _ config: UnsafePointer<ebm_ais_config>?, _ baseMean: UnsafePointer<Double>?,
    _ output: UnsafeMutablePointer<ebm_ais_output>?, _ poll: ebm_poll_fn?, _ pollContext: UnsafeMutableRawPointer?
) -> ebm_status {
    withStatus {
        let h = try object(energy, as: EnergyHandle.self)
        let c = try nonNull(config, "config").pointee
        let out = try nonNull(output, "out")
        let chains = try checkedCount(c.n_chains, "n_chains")
        let settings = try AnnealedImportanceSampling.Settings(
            temperatures: Int(clamping: c.n_temps), transition: try SamplerSettings(c.transition, dimension: h.dimension),
            baseStd: Float(c.base_std), seed: c.transition.seed)
        let mean = UnsafeBufferPointer(start: try nonNull(baseMean, "base_mean"), count: h.dimension).map(Float.init)
        var weights = [Double](repeating: 0, count: chains), accepted = weights, divergent = weights
        let result = try weights.withUnsafeMutableBufferPointer { w in
            try accepted.withUnsafeMutableBufferPointer { a in
                try divergent.withUnsafeMutableBufferPointer { v in
                    try h.read(RunAIS(baseMean: mean, settings: settings, chainOffset: Int(clamping: c.transition.chain_offset),
                                      logWeights: w,
                                      counts: ChainCounts(accepted: a.baseAddress, divergent: v.baseAddress),
                                      poll: pollFunction(poll, pollContext)))
                }
            }
        }
        out.pointee.log_z = result.logZ
        out.pointee.std_err = result.standardError
        out.pointee.log_weights?.update(from: weights, count: chains)
        out.pointee.n_divergent?.update(from: divergent, count: chains)
        if let rates = out.pointee.acceptance {
            let moves = Double(settings.temperatures * settings.transition.steps)
            for i in 0..<chains { rates[i] = accepted[i] / moves }
        }
    }
}

@_cdecl("ebm_ais_summarise")
public func ebmAISSummarise(
    _ logWeights: UnsafePointer<Double>?, _ n: Int64, _ dim: Int64, _ baseStd: Double,
    _ logZ: UnsafeMutablePointer<Double>?, _ stdErr: UnsafeMutablePointer<Double>?
) -> ebm_status {
    withStatus {
        let count = try checkedCount(n, "n")
        let d = try checkedCount(dim, "dim")
        try require(baseStd > 0 && baseStd.isFinite, "base_std must be positive, got \(baseStd)")
        let weights = UnsafeBufferPointer(start: try nonNull(logWeights, "log_weights"), count: count)
        try require(weights.allSatisfy(\.isFinite), "log_weights must be finite")
        let result = AnnealedImportanceSampling.summarise(weights, dimension: d, baseStd: Double(Float(baseStd)))
        try nonNull(logZ, "log_z").pointee = result.logZ
        try nonNull(stdErr, "std_err").pointee = result.standardError
    }
}
