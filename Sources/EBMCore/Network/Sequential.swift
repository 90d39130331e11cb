/// Layers applied one after another (`nn.Sequential`); itself a layer, so networks nest.
///
/// Parameters follow each other in layer order, named `"{index}.{name}"` as in PyTorch's
/// `state_dict`. Memory for a block of `rows` samples:
/// - saved: per layer, its output (the next layer's input; the last layer writes the caller's
///   output instead) followed by the layer's own saved floats;
/// - scratch: two `rows × widest` cotangent buffers for the backward pass, then the largest
///   scratch any layer needs.
public final class Sequential: NetworkLayer {
    public let layers: [NetworkLayer]
    /// Offset of each layer's parameters in the flat vector.
    let parameterOffsets: [Int]
    /// The widest sample between layers (`max` of every input and output count).
    let widest: Int

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
        self.widest = layers.map { max($0.inputCount, $0.outputCount) }.max()!
    }

    public var inputShape: [Int] { layers[0].inputShape }
    public var outputShape: [Int] { layers[layers.count - 1].outputShape }
    public var parameters: [ParameterShape] {
        layers.enumerated().flatMap { i, layer in layer.parameters.map { ParameterShape("\(i).\($0.name)", $0.shape) } }
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

    /// Calls `body` with each layer's buffers in order: its input, output and saved region.
    @inline(__always)
    private func eachLayer(_ b: LayerBuffers, _ body: (Int, NetworkLayer, LayerBuffers) -> Void) {
        var input = b.input
        var saved = b.saved
        let layerScratch = b.scratch + 2 * b.rows * widest
        for (i, layer) in layers.enumerated() {
            let last = i == layers.count - 1
            let output = last ? b.output : saved
            if !last { saved += b.rows * layer.outputCount }
            body(i, layer, LayerBuffers(rows: b.rows, input: input, output: output,
                                        parameters: b.parameters + parameterOffsets[i], saved: saved,
                                        scratch: layerScratch))
            saved += layer.savedCount(rows: b.rows)
            input = UnsafePointer(output)
        }
    }

    public func forward(_ b: LayerBuffers, saving: Bool) {
        eachLayer(b) { _, layer, buffers in layer.forward(buffers, saving: saving) }
    }

    public func backward(
        _ b: LayerBuffers, outputCotangent: UnsafePointer<Float>,
        inputCotangent: UnsafeMutablePointer<Float>?, parameterGradient: UnsafeMutablePointer<Float>?
    ) {
        // Each layer writes its input cotangent into the ping or the pong buffer (by parity), the
        // one its successor did not write; the first layer writes the caller's (if wanted).
        let ping = b.scratch, pong = b.scratch + b.rows * widest
        withUnsafeTemporaryAllocation(of: LayerBuffers.self, capacity: layers.count) { all in
            eachLayer(b) { i, _, buffers in (all.baseAddress! + i).initialize(to: buffers) }
            var cotangent = outputCotangent
            for i in stride(from: layers.count - 1, through: 0, by: -1) {
                let target: UnsafeMutablePointer<Float>? = i == 0 ? inputCotangent : (i % 2 == 0 ? ping : pong)
                layers[i].backward(all[i], outputCotangent: cotangent, inputCotangent: target,
                                   parameterGradient: parameterGradient.map { $0 + parameterOffsets[i] })
                if let t = target { cotangent = UnsafePointer(t) }
            }
            _ = all.deinitialize()
        }
    }
}
