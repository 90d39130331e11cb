import CEBMSwift
import EBMCore

// C exports of the samplers and the thread setting. See ebm_swift.h for ownership.

extension LangevinParameters {
    /// The core's parameters from the C config, validated.
    init(_ c: ebm_langevin_config) throws {
        try self.init(
            steps: Int(clamping: c.n_steps), stepSize: Float(c.step_size),
            noiseScale: Float(c.noise_scale),
            gradientClip: c.grad_clip > 0 ? Float(c.grad_clip) : nil,
            clamp: c.has_clamp != 0 ? (Float(c.clamp_low), Float(c.clamp_high)) : nil)
    }
}

/// Runs `body` with a `SamplerRecording` into the caller's output buffers, then reduces the
/// per-block step sums into the caller's `(steps, 3)` means.
private func withRecording(
    _ output: UnsafePointer<ebm_sampler_output>?, blocks: ChainBlocks, steps: Int,
    _ body: (SamplerRecording) throws -> Void
) throws {
    guard let o = output?.pointee else { return try body(.none) }
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

/// The block partition of the chains in `x` and one workspace per thread.
private func samplerSetup<E: EnergyFunction>(_ energy: E, _ x: UnsafeMutableBufferPointer<Float>)
    -> (ChainBlocks, [SamplerWorkspace<E>])
{
    let blocks = energy.blocks(rows: x.count / energy.dimension)
    return (blocks, SamplerWorkspace.perThread(energy, blocks: blocks, threads: threads(for: energy)))
}

/// Runs Langevin on whichever energy the handle holds.
private struct RunLangevin: EnergyVisitor {
    let x: UnsafeMutableBufferPointer<Float>
    let parameters: LangevinParameters
    let seed: UInt64
    let output: UnsafePointer<ebm_sampler_output>?
    let poll: (Double) -> Bool

    func visit<E: EnergyFunction>(_ energy: E) throws {
        let (blocks, workspaces) = samplerSetup(energy, x)
        try withRecording(output, blocks: blocks, steps: parameters.steps) { recording in
            try Langevin.run(energy, x: x, blocks: blocks, parameters: parameters,
                             noise: Philox4x32(seed: seed, purpose: Purpose.langevinNoise), workspaces: workspaces,
                             recording: recording, poll: poll)
        }
        output?.pointee.acceptance?.update(repeating: 1, count: blocks.rows)
    }
}

/// Runs MALA on whichever energy the handle holds.
private struct RunMALA: EnergyVisitor {
    let x: UnsafeMutableBufferPointer<Float>
    let steps: Int
    let stepSize: Float
    let seed: UInt64
    let output: UnsafePointer<ebm_sampler_output>?
    let poll: (Double) -> Bool

    func visit<E: EnergyFunction>(_ energy: E) throws {
        let (blocks, workspaces) = samplerSetup(energy, x)
        var accepted = [Double](repeating: 0, count: blocks.rows)
        try withRecording(output, blocks: blocks, steps: steps) { recording in
            try accepted.withUnsafeMutableBufferPointer { a in
                try MALA.run(energy, x: x, blocks: blocks, steps: steps, stepSize: stepSize,
                             noise: Philox4x32(seed: seed, purpose: Purpose.malaNoise), accepted: a,
                             workspaces: workspaces, recording: recording, poll: poll)
            }
        }
        if let rates = output?.pointee.acceptance {
            for i in 0..<blocks.rows { rates[i] = accepted[i] / Double(steps) }
        }
    }
}

/// Runs AIS on whichever energy the handle holds.
private struct RunAIS: EnergyVisitor {
    let baseMean: [Float]
    let settings: AnnealedImportanceSampling.Settings
    let logWeights: UnsafeMutableBufferPointer<Double>
    let accepted: UnsafeMutableBufferPointer<Double>
    let poll: (Double) -> Bool

    func visit<E: EnergyFunction>(_ energy: E) throws -> (logZ: Double, standardError: Double) {
        try AnnealedImportanceSampling.estimate(
            energy, baseMean: baseMean, settings: settings, chains: logWeights.count,
            threads: threads(for: energy), logWeights: logWeights, accepted: accepted, poll: poll)
    }
}

@_cdecl("ebm_set_num_threads")
public func ebmSetNumThreads(_ n: Int64) { ChainParallel.setDefaultThreads(Int(clamping: n)) }

@_cdecl("ebm_get_num_threads")
public func ebmGetNumThreads() -> Int64 { Int64(ChainParallel.defaultThreads) }

@_cdecl("ebm_langevin")
public func ebmLangevin(
    _ energy: OpaquePointer?, _ x: UnsafeMutablePointer<Float>?, _ n: Int64,
    _ config: UnsafePointer<ebm_langevin_config>?, _ output: UnsafePointer<ebm_sampler_output>?,
    _ poll: ebm_poll_fn?, _ pollContext: UnsafeMutableRawPointer?
) -> ebm_status {
    withStatus {
        let h = try object(energy, as: EnergyHandle.self)
        let c = try nonNull(config, "config").pointee
        let rows = try checkedCount(n, "n")
        try h.read(RunLangevin(
            x: UnsafeMutableBufferPointer(start: try nonNull(x, "x"), count: rows * h.dimension),
            parameters: try LangevinParameters(c), seed: c.seed, output: output,
            poll: pollFunction(poll, pollContext)))
    }
}

@_cdecl("ebm_mala")
public func ebmMALA(
    _ energy: OpaquePointer?, _ x: UnsafeMutablePointer<Float>?, _ n: Int64, _ nSteps: Int64,
    _ stepSize: Double, _ seed: UInt64, _ output: UnsafePointer<ebm_sampler_output>?,
    _ poll: ebm_poll_fn?, _ pollContext: UnsafeMutableRawPointer?
) -> ebm_status {
    withStatus {
        let h = try object(energy, as: EnergyHandle.self)
        let rows = try checkedCount(n, "n")
        let steps = try checkedCount(nSteps, "n_steps")
        try require(stepSize > 0 && stepSize.isFinite, "step_size must be positive and finite, got \(stepSize)")
        try h.read(RunMALA(
            x: UnsafeMutableBufferPointer(start: try nonNull(x, "x"), count: rows * h.dimension),
            steps: steps, stepSize: Float(stepSize), seed: seed, output: output,
            poll: pollFunction(poll, pollContext)))
    }
}

@_cdecl("ebm_ais_log_z")
public func ebmAISLogZ(
    _ energy: OpaquePointer?, _ nChains: Int64, _ nTemps: Int64, _ nSteps: Int64, _ stepSize: Double,
    _ baseMean: UnsafePointer<Double>?, _ baseStd: Double, _ transition: Int32, _ seed: UInt64,
    _ logZ: UnsafeMutablePointer<Double>?, _ stdErr: UnsafeMutablePointer<Double>?,
    _ logWeights: UnsafeMutablePointer<Double>?, _ acceptance: UnsafeMutablePointer<Double>?,
    _ poll: ebm_poll_fn?, _ pollContext: UnsafeMutableRawPointer?
) -> ebm_status {
    withStatus {
        let h = try object(energy, as: EnergyHandle.self)
        let chains = try checkedCount(nChains, "n_chains")
        guard let kind = AnnealedImportanceSampling.Transition(rawValue: transition) else {
            throw EBMError.invalidArgument("unknown transition code \(transition)")
        }
        let settings = try AnnealedImportanceSampling.Settings(
            temperatures: Int(clamping: nTemps), stepsPerTemperature: Int(clamping: nSteps),
            stepSize: Float(stepSize), baseStd: Float(baseStd), transition: kind, seed: seed)
        let mean = UnsafeBufferPointer(start: try nonNull(baseMean, "base_mean"), count: h.dimension).map(Float.init)
        let logZOut = try nonNull(logZ, "log_z"), stdErrOut = try nonNull(stdErr, "std_err")
        var weights = [Double](repeating: 0, count: chains), accepted = weights
        let result = try weights.withUnsafeMutableBufferPointer { w in
            try accepted.withUnsafeMutableBufferPointer { a in
                try h.read(RunAIS(baseMean: mean, settings: settings, logWeights: w, accepted: a,
                                         poll: pollFunction(poll, pollContext)))
            }
        }
        logZOut.pointee = result.logZ
        stdErrOut.pointee = result.standardError
        logWeights?.update(from: weights, count: chains)
        if let rates = acceptance {
            for i in 0..<chains { rates[i] = accepted[i] / Double(settings.temperatures * settings.stepsPerTemperature) }
        }
    }
}
