@testable import EBMCore

/// A sampler as the tests write it: a kernel's name and settings, made into `SamplerSettings`
/// through the registry and a settings record (the path the ABI takes).
struct SamplerSpec {
    var kind: String
    var steps: Int
    var stepSize: Float
    var noiseScale: Float? = nil
    var gradientClip: Float? = nil
    var clamp: (low: Float, high: Float)? = nil
    var leapfrogSteps = 1
    var inverseMass: [Float]? = nil
    var adaptation: AdaptationSettings? = nil
    /// The settings of kernels the fields above do not cover, by their record names.
    var extra: [String: SettingValue] = [:]

    static func langevin(steps: Int, stepSize: Float, noiseScale: Float? = nil, gradientClip: Float? = nil,
                         clamp: (low: Float, high: Float)? = nil) -> SamplerSpec {
        SamplerSpec(kind: "langevin", steps: steps, stepSize: stepSize, noiseScale: noiseScale, gradientClip: gradientClip,
                    clamp: clamp)
    }
    static func mala(steps: Int, stepSize: Float) -> SamplerSpec { SamplerSpec(kind: "mala", steps: steps, stepSize: stepSize) }
    static func barker(steps: Int, stepSize: Float) -> SamplerSpec { SamplerSpec(kind: "barker", steps: steps, stepSize: stepSize) }
    static func hmc(steps: Int, stepSize: Float, leapfrogSteps: Int, inverseMass: [Float]? = nil) -> SamplerSpec {
        SamplerSpec(kind: "hmc", steps: steps, stepSize: stepSize, leapfrogSteps: leapfrogSteps, inverseMass: inverseMass)
    }

    /// The kernel's record: only the fields its kind reads.
    var record: SettingsRecord {
        // Replica exchange's step size is its inner kernel's (`inner.step_size`).
        var f: [String: SettingValue] = kind == "replica_exchange" ? [:] : ["step_size": .number(Double(stepSize))]
        switch kind {
        case "langevin":
            f["noise_scale"] = noiseScale.map { .number(Double($0)) } ?? SettingValue.none
            f["grad_clip"] = gradientClip.map { .number(Double($0)) } ?? SettingValue.none
            f["clamp"] = clamp.map { .array([Double($0.low), Double($0.high)]) } ?? SettingValue.none
        case "hmc":
            f["n_leapfrog"] = .integer(Int64(leapfrogSteps))
            f["inverse_mass"] = inverseMass.map { .array($0.map(Double.init)) } ?? SettingValue.none
            f["divergence_threshold"] = .number(Double(HMC.defaultDivergenceThreshold))
            f["step_jitter"] = .number(0)
        case "mala":
            f["inverse_mass"] = inverseMass.map { .array($0.map(Double.init)) } ?? SettingValue.none
        default: break
        }
        f.merge(extra) { _, new in new }
        return SettingsRecord(role: "sampler", kind: kind, fields: f)
    }

    func settings(dimension: Int) throws -> SamplerSettings {
        try SamplerSettings(kernel: try KernelRegistry.kernel(record, dimension: dimension), steps: steps,
                            adaptation: adaptation)
    }

    func kernel(dimension: Int) throws -> SamplerSettings { try settings(dimension: dimension) }
}

/// What a test run of a sampler returns besides the states: per-chain counts and, when adapted,
/// the adaptation's final state.
struct SamplerRun {
    var accepted: [Double]
    var divergent: [Double]
    var adaptation: ChainAdaptation?
    /// The kernel's statistics, `rows × width` (sums after warm-up for `.meanAfterWarmup` ones).
    var statistics: [Double]

    /// The mean acceptance rate over `steps` counted steps.
    func rate(steps: Int) -> Double { accepted.reduce(0, +) / Double(accepted.count * steps) }
}

/// Runs `settings` on the chains in `x` (in place) through the library's one sampling path, with
/// noise keyed by `(seed, purpose)`.
@discardableResult
func runSampler<E: EnergyFunction>(
    _ energy: E, _ spec: SamplerSpec, _ x: inout [Float], seed: UInt64 = 1, purpose: UInt64 = Purpose.langevinNoise,
    threads: Int = 1, chainOffset: Int = 0, counterOffset: Int = 0, carried: CarriedValues? = nil,
    poll: (Double) -> Bool = { _ in false }
) throws -> SamplerRun {
    let settings = try spec.settings(dimension: energy.dimension)
    return try runKernel(energy, settings.kernel, settings, &x, seed: seed, purpose: purpose, threads: threads,
                         chainOffset: chainOffset, counterOffset: counterOffset, carried: carried, poll: poll)
}

private func runKernel<E: EnergyFunction, K: SamplerKernel>(
    _ energy: E, _ kernel: K, _ settings: SamplerSettings, _ x: inout [Float], seed: UInt64, purpose: UInt64,
    threads: Int, chainOffset: Int, counterOffset: Int, carried: CarriedValues?, poll: (Double) -> Bool
) throws -> SamplerRun {
    let rows = x.count / energy.dimension
    let blocks = energy.blocks(rows: rows)
    let adaptation = try settings.makeAdaptation(rows: rows, dimension: energy.dimension)
    let width = kernel.statistics.reduce(0) { $0 + $1.width }
    var run = SamplerRun(accepted: [Double](repeating: 0, count: rows), divergent: [Double](repeating: 0, count: rows),
                         adaptation: adaptation, statistics: [Double](repeating: 0, count: rows * width))
    try x.withUnsafeMutableBufferPointer { xb in
        try run.accepted.withUnsafeMutableBufferPointer { a in
            try run.divergent.withUnsafeMutableBufferPointer { v in
                try run.statistics.withUnsafeMutableBufferPointer { s in
                    try Sampling.run(energy, kernel: kernel, x: xb, blocks: blocks, steps: settings.steps,
                                     noise: Philox4x32(seed: seed, purpose: purpose), chainOffset: chainOffset,
                                     counterOffset: counterOffset, adaptation: adaptation,
                                     counts: ChainCounts(accepted: a.baseAddress, divergent: v.baseAddress,
                                                         statistics: width > 0 ? s.baseAddress : nil),
                                     workspaces: SamplerWorkspace.perThread(energy, blocks: blocks, threads: threads),
                                     carried: carried, poll: poll)
                }
            }
        }
    }
    return run
}
