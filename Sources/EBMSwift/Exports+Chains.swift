import CEBMSwift
import EBMCore

// C exports of persistent chains (ebm_chains). See ebm_swift.h for ownership.

@_cdecl("ebm_chains_create")
public func ebmChainsCreate(
    _ energy: OpaquePointer?, _ sampler: UnsafePointer<ebm_record>?, _ n: Int64, _ out: UnsafeMutablePointer<OpaquePointer?>?,
    _ carriedWidth: UnsafeMutablePointer<Int64>?
) -> ebm_status {
    withStatus {
        let target = try nonNull(out, "out"), width = try nonNull(carriedWidth, "carried_width")
        let h = try object(energy, as: EnergyHandle.self)
        let rows = try checkedCount(n, "n")
        let kernel = try KernelRegistry.kernel(try SettingsRecord(sampler, role: "sampler"), dimension: h.dimension)
        let chains = try ChainsHandle(energy: h, kernel: kernel, rows: rows)
        width.pointee = Int64(chains.carriedWidth)
        target.pointee = retainedHandle(chains)
    }
}

@_cdecl("ebm_chains_destroy")
public func ebmChainsDestroy(_ chains: OpaquePointer?) { releaseHandle(chains, as: ChainsHandle.self) }

@_cdecl("ebm_chains_run")
public func ebmChainsRun(
    _ chains: OpaquePointer?, _ x: UnsafeMutablePointer<Float>?, _ n: Int64, _ nSteps: Int64, _ seed: UInt64,
    _ chainOffset: Int64, _ stepOffset: Int64, _ accepted: UnsafeMutablePointer<Double>?,
    _ divergent: UnsafeMutablePointer<Double>?, _ carried: UnsafeMutablePointer<Float>?,
    _ carriedCount: Int64, _ poll: ebm_poll_fn?, _ pollContext: UnsafeMutableRawPointer?
) -> ebm_status {
    withStatus {
        let h = try object(chains, as: ChainsHandle.self)
        try require(n == Int64(h.rows), "n must be the \(h.rows) chains these were made for, got \(n)")
        try require(nSteps > 0 && chainOffset >= 0 && stepOffset >= 0,
                    "n_steps must be positive and chain_offset, step_offset non-negative")
        try require(nSteps < Int64(UInt32.max) - stepOffset,
                    "step_offset + n_steps must be below 2^32 − 1, got \(stepOffset) + \(nSteps)")
        try require(carried == nil || carriedCount == Int64(h.rows * h.carriedWidth),
                    "carried must hold n × \(h.carriedWidth) = \(h.rows * h.carriedWidth) floats, got \(carriedCount)")
        try h.run(x: UnsafeMutableBufferPointer(start: try nonNull(x, "x"), count: h.rows * h.energy.dimension),
                  steps: Int(nSteps), seed: seed, chainOffset: Int(chainOffset), stepOffset: Int(stepOffset),
                  counts: ChainCounts(accepted: accepted, divergent: divergent), carried: carried,
                  poll: pollFunction(poll, pollContext))
    }
}
