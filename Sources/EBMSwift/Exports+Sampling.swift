import CEBMSwift
import EBMCore

// C export of Langevin sampling. See ebm_swift.h for ownership.

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

/// Runs Langevin on whichever energy the handle holds, with a workspace for this call.
private struct RunLangevin: EnergyVisitor {
    let x: UnsafeMutableBufferPointer<Float>
    let rows: Int
    let parameters: LangevinParameters
    let seed: UInt64
    let shouldStop: () -> Bool

    func visit<E: EnergyFunction>(_ energy: E) throws {
        try Langevin.run(
            energy, x: x, rows: rows, parameters: parameters,
            noise: Philox4x32(seed: seed, purpose: 2), workspace: LangevinWorkspace(energy, capacity: rows),
            shouldStop: shouldStop)
    }
}

@_cdecl("ebm_langevin")
public func ebmLangevin(
    _ energy: OpaquePointer?, _ x: UnsafeMutablePointer<Float>?, _ n: Int64,
    _ config: UnsafePointer<ebm_langevin_config>?, _ poll: ebm_poll_fn?,
    _ pollContext: UnsafeMutableRawPointer?
) -> ebm_status {
    withStatus {
        let h = try object(energy, as: EnergyHandle.self)
        let c = try nonNull(config, "config").pointee
        let rows = try checkedCount(n, "n")
        try h.energy.read(RunLangevin(
            x: UnsafeMutableBufferPointer(start: try nonNull(x, "x"), count: rows * h.energy.dimension),
            rows: rows, parameters: try LangevinParameters(c), seed: c.seed,
            shouldStop: pollFunction(poll, pollContext)))
    }
}
