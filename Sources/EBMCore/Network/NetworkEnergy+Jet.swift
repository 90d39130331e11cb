/// Second-order derivatives of a network energy: its jets along `x + ε v` and their parameter
/// gradients (what score matching trains on; see `NetworkLayer+Jet.swift`).
extension NetworkEnergy {
    private func jetBuffers(_ jet: UnsafePointer<Float>, rows: Int, order: Int, outputs: UnsafeMutablePointer<Float>,
                            _ ws: NetworkWorkspace) -> LayerBuffers {
        precondition(order == 1 || order == 2, "jets have order 1 or 2")
        precondition((order + 1) * rows <= ws.capacity, "workspace too small for the jet")
        return LayerBuffers(rows: rows, input: jet, output: outputs, parameters: parameters.base,
                            saved: ws.saved, scratch: ws.scratch)
    }

    public func forwardJet(
        _ jet: UnsafePointer<Float>, rows: Int, order: Int, outputs: UnsafeMutablePointer<Float>,
        workspace ws: NetworkWorkspace
    ) {
        network.forwardJet(jetBuffers(jet, rows: rows, order: order, outputs: outputs, ws), order: order)
    }

    public func parameterGradientOfJet(
        _ jet: UnsafePointer<Float>, rows: Int, order: Int, outputs: UnsafeMutablePointer<Float>,
        cotangents: UnsafePointer<Float>, into grad: UnsafeMutablePointer<Float>, workspace ws: NetworkWorkspace
    ) {
        network.backwardJet(jetBuffers(jet, rows: rows, order: order, outputs: outputs, ws), order: order,
                            outputCotangent: cotangents, inputCotangent: nil, parameterGradient: grad)
    }
}
