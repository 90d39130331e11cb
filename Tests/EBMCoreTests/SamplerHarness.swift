@testable import EBMCore

/// What a test run of a sampler returns besides the states: per-chain counts and, when adapted,
/// the adaptation's final state.
struct SamplerRun {
    var accepted: [Double]
    var divergent: [Double]
    var adaptation: ChainAdaptation?

    /// The mean acceptance rate over `steps` counted steps.
    func rate(steps: Int) -> Double { accepted.reduce(0, +) / Double(accepted.count * steps) }
}

/// Runs `settings` on the chains in `x` (in place) through the library's one sampling path, with
/// noise keyed by `(seed, purpose)`.
@discardableResult
func runSampler<E: EnergyFunction>(
    _ energy: E, _ settings: SamplerSettings, _ x: inout [Float], seed: UInt64 = 1, purpose: UInt64 = Purpose.langevinNoise,
    threads: Int = 1, chainOffset: Int = 0, poll: (Double) -> Bool = { _ in false }
) throws -> SamplerRun {
    let kernel = try settings.kernel(dimension: energy.dimension)
    return try runKernel(energy, kernel, settings, &x, seed: seed, purpose: purpose, threads: threads,
                         chainOffset: chainOffset, poll: poll)
}

private func runKernel<E: EnergyFunction, K: SamplerKernel>(
    _ energy: E, _ kernel: K, _ settings: SamplerSettings, _ x: inout [Float], seed: UInt64, purpose: UInt64,
    threads: Int, chainOffset: Int, poll: (Double) -> Bool
) throws -> SamplerRun {
    let rows = x.count / energy.dimension
    let blocks = energy.blocks(rows: rows)
    let adaptation = settings.makeAdaptation(rows: rows, dimension: energy.dimension)
    var run = SamplerRun(accepted: [Double](repeating: 0, count: rows), divergent: [Double](repeating: 0, count: rows),
                         adaptation: adaptation)
    try x.withUnsafeMutableBufferPointer { xb in
        try run.accepted.withUnsafeMutableBufferPointer { a in
            try run.divergent.withUnsafeMutableBufferPointer { v in
                try Sampling.run(energy, kernel: kernel, x: xb, blocks: blocks, steps: settings.steps,
                                 noise: Philox4x32(seed: seed, purpose: purpose), chainOffset: chainOffset,
                                 adaptation: adaptation, counts: ChainCounts(accepted: a.baseAddress, divergent: v.baseAddress),
                                 workspaces: SamplerWorkspace.perThread(energy, blocks: blocks, threads: threads), poll: poll)
            }
        }
    }
    return run
}
