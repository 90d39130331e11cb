import CEBMSwift
import EBMCore

// C exports for an MLP's parameters and their gradient. See ebm_swift.h for ownership.

@_cdecl("ebm_mlp_num_parameters")
public func ebmMLPNumParameters(_ mlp: OpaquePointer?, _ out: UnsafeMutablePointer<Int64>?) -> ebm_status {
    withStatus {
        let model = try object(mlp, as: EnergyHandle.self).energy.mlp("ebm_mlp_num_parameters")
        try nonNull(out, "out").pointee = Int64(model.parameterCount)
    }
}

@_cdecl("ebm_mlp_get_parameters")
public func ebmMLPGetParameters(
    _ mlp: OpaquePointer?, _ params: UnsafeMutablePointer<Float>?, _ count: Int64
) -> ebm_status {
    withStatus {
        let model = try object(mlp, as: EnergyHandle.self).energy.mlp("ebm_mlp_get_parameters")
        try model.copyParameters(into: UnsafeMutableBufferPointer(
            start: try nonNull(params, "params"), count: try checkedCount(count, "count")))
    }
}

@_cdecl("ebm_mlp_set_parameters")
public func ebmMLPSetParameters(
    _ mlp: OpaquePointer?, _ params: UnsafePointer<Float>?, _ count: Int64
) -> ebm_status {
    withStatus {
        let model = try object(mlp, as: EnergyHandle.self).energy.mlp("ebm_mlp_set_parameters")
        try model.setParameters(UnsafeBufferPointer(
            start: try nonNull(params, "params"), count: try checkedCount(count, "count")))
    }
}

@_cdecl("ebm_mlp_grad_params")
public func ebmMLPGradParams(
    _ mlp: OpaquePointer?, _ x: UnsafePointer<Float>?, _ n: Int64,
    _ grad: UnsafeMutablePointer<Float>?, _ count: Int64
) -> ebm_status {
    withStatus {
        let model = try object(mlp, as: EnergyHandle.self).energy.mlp("ebm_mlp_grad_params")
        let rows = try checkedCount(n, "n")
        let p = try checkedCount(count, "count")
        guard p == model.parameterCount else {
            throw EBMError.invalidArgument("count must be \(model.parameterCount), got \(p)")
        }
        let input = UnsafeBufferPointer(start: try nonNull(x, "x"), count: rows * model.dimension)
        let output = UnsafeMutableBufferPointer(start: try nonNull(grad, "grad"), count: p)
        let ws = model.makeWorkspace(capacity: rows)
        model.lock.read { model.parameterGradientOfMean(input, rows: rows, into: output, workspace: ws) }
    }
}
