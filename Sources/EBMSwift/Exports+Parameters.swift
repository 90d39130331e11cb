import CEBMSwift
import EBMCore

// C exports for the parameters of a trainable energy (an MLP or a network) and their gradient.
// See ebm_swift.h for ownership.

// The parameter and buffer vectors share one body per operation.

private func vectorCount(_ vector: StateVector, _ energy: OpaquePointer?, _ out: UnsafeMutablePointer<Int64>?,
                   _ function: String) -> ebm_status {
    withStatus {
        let model = try object(energy, as: EnergyHandle.self).trainable(function)
        try nonNull(out, "out").pointee = Int64(model.storage(vector).count)
    }
}

private func copyOut(_ vector: StateVector, _ energy: OpaquePointer?, _ values: UnsafeMutablePointer<Float>?,
                     _ count: Int64, _ function: String) -> ebm_status {
    withStatus {
        let model = try object(energy, as: EnergyHandle.self).trainable(function)
        try model.copy(vector, into: UnsafeMutableBufferPointer(start: try nonNull(values, "values"),
                                                                count: try checkedCount(count, "count")))
    }
}

private func copyIn(_ vector: StateVector, _ energy: OpaquePointer?, _ values: UnsafePointer<Float>?,
                    _ count: Int64, _ function: String) -> ebm_status {
    withStatus {
        let model = try object(energy, as: EnergyHandle.self).trainable(function)
        try model.set(vector, from: UnsafeBufferPointer(start: try nonNull(values, "values"),
                                                        count: try checkedCount(count, "count")))
    }
}

@_cdecl("ebm_energy_num_parameters")
public func ebmEnergyNumParameters(_ energy: OpaquePointer?, _ out: UnsafeMutablePointer<Int64>?) -> ebm_status {
    vectorCount(.parameters, energy, out, "ebm_energy_num_parameters")
}

@_cdecl("ebm_energy_get_parameters")
public func ebmEnergyGetParameters(_ energy: OpaquePointer?, _ params: UnsafeMutablePointer<Float>?, _ n: Int64) -> ebm_status {
    copyOut(.parameters, energy, params, n, "ebm_energy_get_parameters")
}

@_cdecl("ebm_energy_set_parameters")
public func ebmEnergySetParameters(_ energy: OpaquePointer?, _ params: UnsafePointer<Float>?, _ n: Int64) -> ebm_status {
    copyIn(.parameters, energy, params, n, "ebm_energy_set_parameters")
}

@_cdecl("ebm_energy_num_buffers")
public func ebmEnergyNumBuffers(_ energy: OpaquePointer?, _ out: UnsafeMutablePointer<Int64>?) -> ebm_status {
    vectorCount(.buffers, energy, out, "ebm_energy_num_buffers")
}

@_cdecl("ebm_energy_get_buffers")
public func ebmEnergyGetBuffers(_ energy: OpaquePointer?, _ values: UnsafeMutablePointer<Float>?, _ n: Int64) -> ebm_status {
    copyOut(.buffers, energy, values, n, "ebm_energy_get_buffers")
}

@_cdecl("ebm_energy_set_buffers")
public func ebmEnergySetBuffers(_ energy: OpaquePointer?, _ values: UnsafePointer<Float>?, _ n: Int64) -> ebm_status {
    copyIn(.buffers, energy, values, n, "ebm_energy_set_buffers")
}

/// The gradient of the mean energy over a batch, in `RowChunks` (memory bounded whatever the
/// batch size): `Σ_chunks (n_chunk / rows) · mean gradient of the chunk`.
private struct MeanParameterGradient: EnergyVisitor {
    let x: UnsafePointer<Float>
    let rows: Int
    let grad: UnsafeMutableBufferPointer<Float>

    func visit<E: EnergyFunction>(_ energy: E) throws {
        guard let model = energy as? any TrainableEnergy else { return }
        try open(model)
    }

    private func open<M: TrainableEnergy>(_ model: M) throws {
        guard grad.count == model.parameterCount else {
            throw EBMError.invalidArgument("count must be \(model.parameterCount), got \(grad.count)")
        }
        let d = model.dimension, chunks = RowChunks(rows: rows, limit: model.evaluationChunkRows)
        let ws = try model.makeWorkspace(capacity: chunks.size)
        if chunks.isSingle {
            model.parameterGradientOfMean(UnsafeBufferPointer(start: x, count: rows * d), rows: rows, into: grad, workspace: ws)
            return
        }
        let part = try FloatBuffer(count: grad.count)
        grad.update(repeating: 0)
        for c in chunks {
            try ThreadPoll.check(done: Double(c.start) / Double(rows))
            model.parameterGradientOfMean(UnsafeBufferPointer(start: x + c.start * d, count: c.count * d), rows: c.count,
                                          into: part.all, workspace: ws)
            let weight = Float(c.count) / Float(rows)
            for i in 0..<grad.count { grad[i] += weight * part.base[i] }
        }
    }
}

@_cdecl("ebm_energy_grad_params")
public func ebmEnergyGradParams(
    _ energy: OpaquePointer?, _ x: UnsafePointer<Float>?, _ n: Int64,
    _ grad: UnsafeMutablePointer<Float>?, _ count: Int64
) -> ebm_status {
    withStatus {
        let h = try object(energy, as: EnergyHandle.self)
        _ = try h.trainable("ebm_energy_grad_params")
        try h.read(MeanParameterGradient(
            x: try nonNull(x, "x"), rows: try checkedCount(n, "n"),
            grad: UnsafeMutableBufferPointer(start: try nonNull(grad, "grad"), count: try checkedCount(count, "count"))))
    }
}
