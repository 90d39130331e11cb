/// `y = x + f(x)` for an inner layer `f` (usually a `Sequential`) whose output shape is its input
/// shape. Parameters are named `"block.{name}"`, so a residual at index `i` of a network holding
/// a `Sequential` names them `"{i}.block.{j}.weight"`.
public final class Residual: NetworkLayer {
    public let block: NetworkLayer

    /// - Throws: `EBMError.invalidArgument` when `block` changes the shape.
    public init(_ block: NetworkLayer) throws {
        try require(block.inputShape == block.outputShape,
                    "Residual needs a block that keeps the shape, got \(block.inputShape) -> \(block.outputShape)")
        self.block = block
    }

    public var inputShape: [Int] { block.inputShape }
    public var outputShape: [Int] { block.outputShape }
    public var multiplyAdds: Int { saturatingSum(block.multiplyAdds, outputCount) }
    public var parameters: [ParameterShape] { block.parameters.map { ParameterShape("block.\($0.name)", $0.shape) } }
    public func savedCount(rows: Int) -> Int { block.savedCount(rows: rows) }
    /// The block's scratch, then `rows × count` for the block's input cotangent.
    public func scratchCount(rows: Int) -> Int { block.scratchCount(rows: rows) + rows * inputCount }

    public func initialise(_ p: UnsafeMutablePointer<Float>, _ stream: inout UniformStream) {
        block.initialise(p, &stream)
    }

    public var buffers: [ParameterShape] { block.buffers.map { ParameterShape("block.\($0.name)", $0.shape) } }
    public func initialiseBuffers(_ b: UnsafeMutablePointer<Float>, _ stream: inout UniformStream) {
        block.initialiseBuffers(b, &stream)
    }
    public func parametersDidChange(_ p: UnsafePointer<Float>, buffers: UnsafePointer<Float>) {
        block.parametersDidChange(p, buffers: buffers)
    }
    public func trainingStepWillBegin(
        _ p: UnsafePointer<Float>, buffers: UnsafeMutablePointer<Float>, shouldStop: () -> Bool) throws {
        try block.trainingStepWillBegin(p, buffers: buffers, shouldStop: shouldStop)
    }

    public func forward(_ b: LayerBuffers, saving: Bool) {
        block.forward(b, saving: saving)
        for i in 0..<(b.rows * inputCount) { b.output[i] += b.input[i] }
    }

    /// `∂x = ∂y + J_fᵀ ∂y`.
    public func backward(
        _ b: LayerBuffers, outputCotangent dy: UnsafePointer<Float>,
        inputCotangent: UnsafeMutablePointer<Float>?, parameterGradient: UnsafeMutablePointer<Float>?
    ) {
        let inner = b.scratch + block.scratchCount(rows: b.rows)
        block.backward(b, outputCotangent: dy, inputCotangent: inputCotangent == nil ? nil : inner,
                       parameterGradient: parameterGradient)
        guard let dx = inputCotangent else { return }
        for i in 0..<(b.rows * inputCount) { dx[i] = dy[i] + inner[i] }
    }

    /// `y_k = x_k + f_k` for every block.
    public func forwardJet(_ b: LayerBuffers, order: Int) {
        block.forwardJet(b, order: order)
        for i in 0..<((order + 1) * b.rows * inputCount) { b.output[i] += b.input[i] }
    }

    public func backwardJet(
        _ b: LayerBuffers, order: Int, outputCotangent dy: UnsafePointer<Float>,
        inputCotangent: UnsafeMutablePointer<Float>?, parameterGradient: UnsafeMutablePointer<Float>?
    ) {
        let rows = (order + 1) * b.rows
        let inner = b.scratch + block.scratchCount(rows: rows)
        block.backwardJet(b, order: order, outputCotangent: dy, inputCotangent: inputCotangent == nil ? nil : inner,
                          parameterGradient: parameterGradient)
        guard let dx = inputCotangent else { return }
        for i in 0..<(rows * inputCount) { dx[i] = dy[i] + inner[i] }
    }
}

extension Residual: LayerKind {
    /// `residual`: `layers`, the number of layers of its block, whose records follow.
    public static let kind = "residual"
    public static func make(_ r: inout SettingsRecord, input: [Int], reader: inout LayerReader, name: String) throws
        -> NetworkLayer {
        let count = try r.integer("layers")
        try require(count > 0 && count <= reader.records.count - reader.position,
                    "layer \(name) (Residual) claims \(count) inner layers")
        let block = try reader.layers(count, input: input, path: "\(name).block.")
        try require(block.output == input,
                    "layer \(name) (Residual) needs a block that keeps the shape \(input), but it produces \(block.output)")
        return try Residual(try Sequential(block.layers))
    }
}
