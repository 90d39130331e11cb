import CEBMSwift
import EBMCore

// The C exports of network energies: building one from its layer records (each read by its kind
// in `LayerRegistry`), its classes and logits, and the names and shapes of its tensors.

@_cdecl("ebm_network_create")
public func ebmNetworkCreate(
    _ inputShape: UnsafePointer<Int64>?, _ rank: Int64, _ descriptors: UnsafePointer<ebm_record>?,
    _ count: Int64, _ nClasses: Int64, _ seed: UInt64, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> ebm_status {
    withStatus {
        let out = try nonNull(out, "out")
        let shape = UnsafeBufferPointer(start: try nonNull(inputShape, "input_shape"), count: try checkedCount(rank, "rank"))
            .map { Int($0) }
        try require(shape.allSatisfy { $0 > 0 }, "input_shape must hold positive sizes, got \(shape)")
        try requireCount(shape, "input_shape \(shape)")
        let n = try checkedCount(count, "n_layers")
        try require(n <= 100_000, "n_layers must be at most 100000, got \(n)")
        let records = try (0..<n).map { try SettingsRecord(try nonNull(descriptors, "layers") + $0, role: "layer") }
        let built = try LayerRegistry.network(records, inputShape: shape)
        try require(nClasses == 0 || (nClasses >= 2 && nClasses <= Int64(maximumCount)),
                    "n_classes must be 0 or at least 2, got \(nClasses)")
        let energy = try NetworkEnergy(network: try Sequential(built.layers), seed: seed,
                                       classes: nClasses == 0 ? nil : Int(nClasses),
                                       shouldStop: { (try? ThreadPoll.check(done: 0)) == nil })
        out.pointee = retainedHandle(EnergyHandle(energy))
    }
}

/// The classifier energy behind `energy`, or an error.
private func classifierEnergy(_ energy: OpaquePointer?) throws -> NetworkEnergy {
    guard let model = try object(energy, as: EnergyHandle.self).energy as? NetworkEnergy, model.classes != nil else {
        throw EBMError.invalidArgument("the energy is not a classifier (a network energy with n_classes)")
    }
    return model
}

@_cdecl("ebm_energy_num_classes")
public func ebmEnergyNumClasses(_ energy: OpaquePointer?, _ out: UnsafeMutablePointer<Int64>?) -> ebm_status {
    withStatus {
        let model = try object(energy, as: EnergyHandle.self).energy as? NetworkEnergy
        try nonNull(out, "out").pointee = Int64(model?.classes ?? 0)
    }
}

@_cdecl("ebm_energy_logits")
public func ebmEnergyLogits(
    _ energy: OpaquePointer?, _ x: UnsafePointer<Float>?, _ n: Int64, _ logits: UnsafeMutablePointer<Float>?, _ count: Int64
) -> ebm_status {
    withStatus {
        let model = try classifierEnergy(energy)
        let rows = try checkedCount(n, "n"), k = model.classes!, d = model.dimension
        try require(count == Int64(rows) * Int64(k), "count must be n * classes = \(rows * k), got \(count)")
        let input = try nonNull(x, "x"), out = try nonNull(logits, "logits")
        let chunks = RowChunks(rows: rows, limit: model.evaluationChunkRows)
        let ws = try model.makeWorkspace(capacity: chunks.size)
        try model.lock.read {
            for c in chunks {
                try ThreadPoll.check(done: Double(c.start) / Double(rows))
                model.forwardLogits(input + c.start * d, rows: c.count, logits: out + c.start * k, saving: false, workspace: ws)
            }
        }
    }
}

@_cdecl("ebm_energy_class_create")
public func ebmEnergyClassCreate(
    _ energy: OpaquePointer?, _ label: Int64, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> ebm_status {
    withStatus {
        let view = try ClassEnergy(try classifierEnergy(energy), label: Int(clamping: label))
        try nonNull(out, "out").pointee = retainedHandle(EnergyHandle(view))
    }
}

@_cdecl("ebm_energy_tensors")
public func ebmEnergyTensors(
    _ energy: OpaquePointer?, _ which: Int32, _ entries: UnsafeMutablePointer<ebm_tensor_entry>?, _ capacity: Int64,
    _ count: UnsafeMutablePointer<Int64>?
) -> ebm_status {
    withStatus {
        let h = try object(energy, as: EnergyHandle.self)
        let out = try nonNull(count, "count")
        try require(which == 0 || which == 1, "which must be 0 (parameters) or 1 (buffers), got \(which)")
        try require(capacity >= 0 && (capacity == 0 || entries != nil),
                    "capacity must be non-negative and entries not NULL when it is positive, got \(capacity)")
        let tensors = which == 0 ? h.parameterTensors : h.bufferTensors
        for (i, t) in tensors.prefix(Int(capacity)).enumerated() {
            let s = t.shape.map(Int64.init) + [0, 0, 0, 0]
            entries![i] = ebm_tensor_entry(name: UnsafePointer(t.name), ndim: Int32(t.shape.count),
                                           shape: (s[0], s[1], s[2], s[3]))
        }
        out.pointee = Int64(tensors.count)
    }
}
