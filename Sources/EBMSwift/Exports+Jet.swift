import CEBMSwift
import EBMCore

// C export of a trainable energy's second-order derivatives (jets along x + εv). See ebm_swift.h.

/// The jets of a batch and the parameter gradient of their weighted sum, in `RowChunks` (memory
/// bounded whatever the batch size; the chunks' gradients are added).
private struct Jet: EnergyVisitor {
    let x: UnsafePointer<Float>, v: UnsafePointer<Float>
    let rows: Int, order: Int
    let weights: (Float, Float, Float)
    let outputs: UnsafeMutablePointer<Float>
    let grad: UnsafeMutableBufferPointer<Float>?

    func visit<E: EnergyFunction>(_ energy: E) throws {
        guard let model = energy as? any TrainableEnergy else { return }
        try open(model)
    }

    private func open<M: TrainableEnergy>(_ model: M) throws {
        if let g = grad, g.count != model.parameterCount {
            throw EBMError.invalidArgument("count must be \(model.parameterCount), got \(g.count)")
        }
        // A jet stacks `k` blocks of rows: chunks of 1/k of the energy's chunk keep a chunk's work (and
        // Ctrl-C's latency) that of a chunk of energies.
        let d = model.dimension, k = order + 1
        let chunks = RowChunks(rows: rows, limit: max(1, model.evaluationChunkRows / k))
        let chunk = chunks.size
        let ws = try model.makeWorkspace(capacity: k * chunk)
        let stacked = try FloatBuffer(count: k * chunk * d), out = try FloatBuffer(count: k * chunk)
        let cotangents = try FloatBuffer(count: k * chunk), part = try FloatBuffer(count: grad == nil ? 0 : model.parameterCount)
        grad?.update(repeating: 0)
        let w = [weights.0, weights.1, weights.2]
        for c in chunks {
            try ThreadPoll.check(done: Double(c.start) / Double(rows))
            let start = c.start, n = c.count
            stacked.base.update(from: x + start * d, count: n * d)
            (stacked.base + n * d).update(from: v + start * d, count: n * d)
            if order == 2 { (stacked.base + 2 * n * d).update(repeating: 0, count: n * d) }
            model.forwardJet(stacked.base, rows: n, order: order, outputs: out.base, workspace: ws)
            for b in 0..<k { (outputs + b * rows + start).update(from: out.base + b * n, count: n) }
            if let g = grad {
                for b in 0..<k { (cotangents.base + b * n).update(repeating: w[b], count: n) }
                model.parameterGradientOfJet(stacked.base, rows: n, order: order, outputs: out.base,
                                             cotangents: cotangents.base, into: part.base, workspace: ws)
                for i in 0..<g.count { g[i] += part.base[i] }
            }
        }
    }
}

@_cdecl("ebm_energy_jet")
public func ebmEnergyJet(
    _ energy: OpaquePointer?, _ x: UnsafePointer<Float>?, _ v: UnsafePointer<Float>?, _ n: Int64, _ order: Int32,
    _ weights: UnsafePointer<Double>?, _ outputs: UnsafeMutablePointer<Float>?,
    _ grad: UnsafeMutablePointer<Float>?, _ count: Int64
) -> ebm_status {
    withStatus {
        let h = try object(energy, as: EnergyHandle.self)
        _ = try h.trainable("ebm_energy_jet")
        try require(order == 1 || order == 2, "order must be 1 or 2, got \(order)")
        let rows = try checkedCount(n, "n")
        let w = try nonNull(weights, "weights")
        try h.read(Jet(
            x: try nonNull(x, "x"), v: try nonNull(v, "v"), rows: rows, order: Int(order),
            weights: (Float(w[0]), Float(w[1]), order == 2 ? Float(w[2]) : 0),
            outputs: try nonNull(outputs, "outputs"),
            grad: grad.map { UnsafeMutableBufferPointer(start: $0, count: Int(clamping: count)) }))
    }
}
