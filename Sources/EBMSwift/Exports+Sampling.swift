#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEBMSwift
import EBMCore

// C exports of sampling, AIS and the thread setting. See ebm_swift.h for ownership.

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
func threads<E: EnergyFunction>(for energy: E) -> Int {
    energy.wholeBatch ? 1 : ChainParallel.defaultThreads
}

/// Runs any kernel on whichever energy the handle holds, and fills the caller's per-chain outputs.
private struct RunSampler: KernelVisitor {
    let x: UnsafeMutableBufferPointer<Float>
    let settings: SamplerSettings
    let seed: UInt64
    let chainOffset: Int
    let output: ebm_sampler_output?
    let poll: (Double) -> Bool

    var kernel: any SamplerKernel { settings.kernel }

    func run<E: EnergyFunction, K: SamplerKernel>(_ energy: E, _ kernel: K) throws {
        let d = energy.dimension, rows = x.count / d
        let blocks = energy.blocks(rows: rows)
        let workspaces = try SamplerWorkspace.perThread(energy, blocks: blocks, threads: threads(for: energy))
        let adaptation = try settings.makeAdaptation(rows: rows, dimension: d)
        var accepted = [Double](repeating: 0, count: rows), divergent = accepted
        let statistics = kernel.statistics, width = statistics.reduce(0) { $0 + $1.width }
        var sums = [Double](repeating: 0, count: rows * width)
        try withRecording(output, blocks: blocks, steps: settings.steps) { recording in
            try accepted.withUnsafeMutableBufferPointer { a in
                try divergent.withUnsafeMutableBufferPointer { v in
                    try sums.withUnsafeMutableBufferPointer { s in
                        try Sampling.run(energy, kernel: kernel, x: x, blocks: blocks, steps: settings.steps,
                                         noise: Philox4x32(seed: seed, purpose: type(of: kernel).noisePurpose),
                                         chainOffset: chainOffset, adaptation: adaptation,
                                         counts: ChainCounts(accepted: a.baseAddress, divergent: v.baseAddress,
                                                             statistics: width > 0 ? s.baseAddress : nil),
                                         workspaces: workspaces, recording: recording, poll: poll)
                    }
                }
            }
        }
        guard let o = output else { return }
        let counted = Double(settings.steps - (settings.adaptation?.warmupSteps ?? 0))
        if let out = o.statistics {
            var column = 0
            for statistic in statistics {
                let scale = statistic.reduction == .meanAfterWarmup ? 1 / counted : 1
                for i in 0..<rows {
                    for c in column..<(column + statistic.width) { out[i * width + c] = sums[i * width + c] * scale }
                }
                column += statistic.width
            }
        }
        if let rates = o.acceptance { for i in 0..<rows { rates[i] = accepted[i] / counted } }
        o.n_divergent?.update(from: divergent, count: rows)
        if let sizes = o.step_size {
            if let a = adaptation {
                sizes.update(from: a.stepSizes.base, count: rows)
            } else {
                sizes.update(repeating: kernel.stepSize, count: rows)
            }
        }
        if let masses = o.inverse_mass {
            if let m = adaptation?.inverseMass {
                masses.update(from: m.base, count: rows * d)
            } else {
                for i in 0..<rows {
                    for j in 0..<d { masses[i * d + j] = kernel.inverseMass?.base[j] ?? 1 }
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

@_cdecl("ebm_sampler_kinds")
public func ebmSamplerKinds() -> UnsafePointer<CChar> { samplerKinds }

/// The registered kernels' names, made once.
private let samplerKinds = UnsafePointer(strdup(KernelRegistry.kinds.joined(separator: ","))!)

@_cdecl("ebm_sampler_statistics")
public func ebmSamplerStatistics(
    _ sampler: UnsafePointer<ebm_record>?, _ dim: Int64, _ layout: UnsafeMutablePointer<CChar>?, _ capacity: Int64,
    _ width: UnsafeMutablePointer<Int64>?
) -> ebm_status {
    withStatus {
        let kernel = try KernelRegistry.kernel(try SettingsRecord(sampler, role: "sampler"), dimension: try checkedCount(dim, "dim"))
        let text = ChainStatistic.layout(kernel.statistics), out = try nonNull(layout, "layout")
        let bytes = Array(text.utf8CString)
        try require(Int64(bytes.count) <= capacity, "layout: \(bytes.count) bytes needed, \(capacity) given")
        for (k, b) in bytes.enumerated() { out[k] = b }
        try nonNull(width, "width").pointee = Int64(kernel.statistics.reduce(0) { $0 + $1.width })
    }
}

@_cdecl("ebm_sample")
public func ebmSample(
    _ energy: OpaquePointer?, _ x: UnsafeMutablePointer<Float>?, _ n: Int64, _ sampler: UnsafePointer<ebm_record>?,
    _ run: UnsafePointer<ebm_record>?, _ adaptation: UnsafePointer<ebm_record>?,
    _ output: UnsafePointer<ebm_sampler_output>?, _ poll: ebm_poll_fn?, _ pollContext: UnsafeMutableRawPointer?
) -> ebm_status {
    withStatus {
        let h = try object(energy, as: EnergyHandle.self)
        let rows = try checkedCount(n, "n")
        let (steps, seed, chainOffset) = try SettingsRecord.read(try SettingsRecord(run, role: "run")) {
            (try $0.integer("n_steps"), try $0.bits("seed"), try $0.integer("chain_offset"))
        }
        try require(chainOffset >= 0, "chain_offset must be non-negative, got \(chainOffset)")
        let settings = try SamplerSettings(sampler: try SettingsRecord(sampler, role: "sampler"), steps: steps,
                                           adaptation: try SettingsRecord(optional: adaptation, role: "adaptation"),
                                           dimension: h.dimension)
        try h.read(RunSampler(
            x: UnsafeMutableBufferPointer(start: try nonNull(x, "x"), count: rows * h.dimension),
            settings: settings, seed: seed, chainOffset: chainOffset, output: output?.pointee,
            poll: pollFunction(poll, pollContext)))
    }
}

@_cdecl("ebm_ais_log_z")
public func ebmAISLogZ(
    _ energy: OpaquePointer?, _ transition: UnsafePointer<ebm_record>?, _ run: UnsafePointer<ebm_record>?,
    _ baseMean: UnsafePointer<Double>?, _ output: UnsafeMutablePointer<ebm_ais_output>?, _ poll: ebm_poll_fn?,
    _ pollContext: UnsafeMutableRawPointer?
) -> ebm_status {
    withStatus {
        let h = try object(energy, as: EnergyHandle.self)
        let out = try nonNull(output, "out")
        let (chainCount, temperatures, steps, baseStd, seed, chainOffset) = try SettingsRecord.read(try SettingsRecord(run, role: "run")) {
            (try $0.integer("n_chains"), try $0.integer("n_temps"), try $0.integer("n_steps"), try $0.number("base_std"),
             try $0.bits("seed"), try $0.integer("chain_offset"))
        }
        let chains = try checkedCount(Int64(chainCount), "n_chains")
        let settings = try AnnealedImportanceSampling.Settings(
            temperatures: temperatures,
            transition: try SamplerSettings(sampler: try SettingsRecord(transition, role: "transition"), steps: steps,
                                            adaptation: nil, dimension: h.dimension),
            baseStd: Float(baseStd), seed: seed)
        let mean = UnsafeBufferPointer(start: try nonNull(baseMean, "base_mean"), count: h.dimension).map(Float.init)
        var weights = [Double](repeating: 0, count: chains), accepted = weights, divergent = weights
        let result = try weights.withUnsafeMutableBufferPointer { w in
            try accepted.withUnsafeMutableBufferPointer { a in
                try divergent.withUnsafeMutableBufferPointer { v in
                    try h.read(RunAIS(baseMean: mean, settings: settings, chainOffset: chainOffset,
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
