/// Layers applied one after another (`nn.Sequential`); itself a layer, so networks nest.
///
/// Parameters follow each other in layer order, named `"{index}.{name}"` as in PyTorch's
/// `state_dict`. Memory for a block of `rows` samples:
/// - saved: per layer, its output (the next layer's input; the last layer writes the caller's
///   output instead) followed by the layer's own saved floats;
/// - scratch: two `rows × widest` cotangent buffers for the backward pass, then the largest
///   scratch any layer needs.
///
/// A `Linear` followed by an activation layer runs as one forward pass (the activation applied
/// with the bias, `Linear.forward(_:saving:activation:_:)`), and an activation layer followed by
/// a `Linear` as one backward pass (`Linear.backward(…, times:)`): one pass over the activations
/// fewer each way, as a hand-written MLP would do.
public final class Sequential: NetworkLayer {
    public let layers: [NetworkLayer]
    /// For layer `i`: the `Linear` it is and the activation layer `i + 1` it fuses, or `nil`.
    private let fusedPairs: [(linear: Linear, activation: ActivationLayer)?]
    /// For layer `i`: the `Linear` that layer `i + 1` is when layer `i` is an activation layer.
    private let linearAfterActivation: [Linear?]
    /// Offset of each layer's parameters in the flat vector, and of its buffers in theirs.
    let parameterOffsets: [Int]
    let bufferOffsets: [Int]
    /// The widest sample between layers (`max` of every input and output count).
    let widest: Int
    /// Per layer: floats per row of its output and of its saved region (computed once: the
    /// buffers are laid out for every block of every call).
    private let outputCounts: [Int]
    private let savedPerRow: [Int]

    /// - Throws: `EBMError.invalidArgument` naming the layer index and both shapes when a layer's
    ///   input shape is not the previous layer's output shape, or for no layer at all.
    public init(_ layers: [NetworkLayer]) throws {
        try require(!layers.isEmpty, "a Sequential needs at least one layer")
        for i in 1..<layers.count {
            try require(layers[i].inputShape == layers[i - 1].outputShape,
                        "layer \(i) expects input of shape \(layers[i].inputShape) but layer \(i - 1) produces \(layers[i - 1].outputShape)")
        }
        var offsets: [Int] = [], offset = 0
        for layer in layers {
            offsets.append(offset)
            offset += layer.parameterCount
        }
        self.layers = layers
        self.parameterOffsets = offsets
        var bufferOffsets: [Int] = [], bufferOffset = 0
        for layer in layers {
            bufferOffsets.append(bufferOffset)
            bufferOffset += layer.bufferCount
        }
        self.bufferOffsets = bufferOffsets
        self.widest = layers.map { max($0.inputCount, $0.outputCount) }.max()!
        self.outputCounts = layers.map(\.outputCount)
        self.savedPerRow = layers.map { $0.savedCount(rows: 1) }
        self.fusedPairs = layers.indices.map { i in
            guard i + 1 < layers.count, let linear = layers[i] as? Linear,
                  let activation = layers[i + 1] as? ActivationLayer else { return nil }
            return (linear, activation)
        }
        self.linearAfterActivation = layers.indices.map { i in
            i + 1 < layers.count && layers[i] is ActivationLayer ? layers[i + 1] as? Linear : nil
        }
    }

    public var inputShape: [Int] { layers[0].inputShape }
    public var multiplyAdds: Int { layers.reduce(0) { saturatingSum($0, $1.multiplyAdds) } }
    public var outputShape: [Int] { layers[layers.count - 1].outputShape }
    public var parameters: [ParameterShape] {
        layers.enumerated().flatMap { i, layer in layer.parameters.map { ParameterShape("\(i).\($0.name)", $0.shape) } }
    }

    public var buffers: [ParameterShape] {
        layers.enumerated().flatMap { i, layer in layer.buffers.map { ParameterShape("\(i).\($0.name)", $0.shape) } }
    }

    public func savedCount(rows: Int) -> Int {
        var total = 0
        for (i, layer) in layers.enumerated() {
            total += layer.savedCount(rows: rows) + (i < layers.count - 1 ? rows * layer.outputCount : 0)
        }
        return total
    }

    public func scratchCount(rows: Int) -> Int {
        var largest = 0
        for layer in layers { largest = max(largest, layer.scratchCount(rows: rows)) }
        return 2 * rows * widest + largest
    }

    public func initialise(_ p: UnsafeMutablePointer<Float>, _ stream: inout UniformStream) {
        for (i, layer) in layers.enumerated() { layer.initialise(p + parameterOffsets[i], &stream) }
    }

    public func initialiseBuffers(_ b: UnsafeMutablePointer<Float>, _ stream: inout UniformStream) {
        for (i, layer) in layers.enumerated() { layer.initialiseBuffers(b + bufferOffsets[i], &stream) }
    }

    public func parametersDidChange(_ p: UnsafePointer<Float>, buffers: UnsafePointer<Float>) {
        for (i, layer) in layers.enumerated() {
            layer.parametersDidChange(p + parameterOffsets[i], buffers: buffers + bufferOffsets[i])
        }
    }

    public func trainingStepWillBegin(
        _ p: UnsafePointer<Float>, buffers: UnsafeMutablePointer<Float>, shouldStop: () -> Bool) throws {
        for (i, layer) in layers.enumerated() {
            try layer.trainingStepWillBegin(p + parameterOffsets[i], buffers: buffers + bufferOffsets[i], shouldStop: shouldStop)
        }
    }

    /// Calls `body` with each layer's buffers in order: its input, output and saved region.
    /// With `blocks > 1` (a jet), every region holds `blocks` stacked blocks of `b.rows` rows.
    @inline(__always)
    private func eachLayer(_ b: LayerBuffers, blocks: Int = 1, _ body: (Int, NetworkLayer, LayerBuffers) -> Void) {
        var input = b.input
        var saved = b.saved
        let rows = blocks * b.rows
        let layerScratch = b.scratch + 2 * rows * widest
        for (i, layer) in layers.enumerated() {
            let last = i == layers.count - 1
            let output = last ? b.output : saved
            if !last { saved += rows * outputCounts[i] }
            body(i, layer, LayerBuffers(rows: b.rows, input: input, output: output,
                                        parameters: b.parameters + parameterOffsets[i], saved: saved,
                                        scratch: layerScratch))
            saved += rows * savedPerRow[i]
            input = UnsafePointer(output)
        }
    }

    public func forward(_ b: LayerBuffers, saving: Bool) {
        withUnsafeTemporaryAllocation(of: LayerBuffers.self, capacity: layers.count) { all in
            eachLayer(b) { i, _, buffers in (all.baseAddress! + i).initialize(to: buffers) }
            var i = 0
            while i < layers.count {
                if let (linear, activation) = fusedPairs[i] {
                    linear.forward(all[i], saving: saving, activation: activation, all[i + 1])
                    i += 2
                } else {
                    layers[i].forward(all[i], saving: saving)
                    i += 1
                }
            }
            _ = all.deinitialize()
        }
    }

    public func backward(
        _ b: LayerBuffers, outputCotangent: UnsafePointer<Float>,
        inputCotangent: UnsafeMutablePointer<Float>?, parameterGradient: UnsafeMutablePointer<Float>?
    ) {
        // Each layer writes its input cotangent into whichever of ping and pong does not hold
        // the cotangent it reads; the first layer writes the caller's (if wanted).
        let ping = b.scratch, pong = b.scratch + b.rows * widest
        withUnsafeTemporaryAllocation(of: LayerBuffers.self, capacity: layers.count) { all in
            eachLayer(b) { i, _, buffers in (all.baseAddress! + i).initialize(to: buffers) }
            var cotangent = outputCotangent
            var i = layers.count - 1
            while i >= 0 {
                let gradient = parameterGradient.map { $0 + parameterOffsets[i] }
                // An activation layer followed by a Linear: the Linear writes the activation's
                // input cotangent itself.
                let fused = i > 0 ? linearAfterActivation[i - 1] : nil
                let first = fused == nil ? i : i - 1
                let target: UnsafeMutablePointer<Float>? =
                    first == 0 ? inputCotangent : (cotangent == UnsafePointer(ping) ? pong : ping)
                if let linear = fused {
                    linear.backward(all[i], outputCotangent: cotangent, inputCotangent: target,
                                    parameterGradient: gradient, times: UnsafePointer(all[i - 1].saved))
                } else {
                    layers[i].backward(all[i], outputCotangent: cotangent, inputCotangent: target,
                                       parameterGradient: gradient)
                }
                if let t = target { cotangent = UnsafePointer(t) }
                i = first - 1
            }
            _ = all.deinitialize()
        }
    }

    public func forwardJet(_ b: LayerBuffers, order: Int) {
        eachLayer(b, blocks: order + 1) { _, layer, buffers in layer.forwardJet(buffers, order: order) }
    }

    /// Layer by layer (no fused pairs), cotangents in the ping and pong buffers as in `backward`.
    public func backwardJet(
        _ b: LayerBuffers, order: Int, outputCotangent: UnsafePointer<Float>,
        inputCotangent: UnsafeMutablePointer<Float>?, parameterGradient: UnsafeMutablePointer<Float>?
    ) {
        let rows = (order + 1) * b.rows
        let ping = b.scratch, pong = b.scratch + rows * widest
        withUnsafeTemporaryAllocation(of: LayerBuffers.self, capacity: layers.count) { all in
            eachLayer(b, blocks: order + 1) { i, _, buffers in (all.baseAddress! + i).initialize(to: buffers) }
            var cotangent = outputCotangent
            for i in stride(from: layers.count - 1, through: 0, by: -1) {
                let target: UnsafeMutablePointer<Float>? =
                    i == 0 ? inputCotangent : (cotangent == UnsafePointer(ping) ? pong : ping)
                layers[i].backwardJet(all[i], order: order, outputCotangent: cotangent, inputCotangent: target,
                                      parameterGradient: parameterGradient.map { $0 + parameterOffsets[i] })
                if let t = target { cotangent = UnsafePointer(t) }
            }
            _ = all.deinitialize()
        }
    }
}
