/// An elementwise nonlinearity as a layer of any shape (`nn.SiLU()`, `nn.Tanh()`, …). The forward
/// pass keeps `f'(x)` for the backward pass: `∂x = ∂y ⊙ f'(x)`.
public final class ActivationLayer: NetworkLayer {
    public let activation: Activation
    public let inputShape: [Int]
    /// `count` zeros: the bias of the fused bias-activation pass, which this layer does not have.
    private let zeros: FloatBuffer

    public init(_ activation: Activation, shape: [Int]) throws {
        self.activation = activation
        self.inputShape = shape
        self.zeros = try FloatBuffer(count: shape.reduce(1, *))
    }

    public var outputShape: [Int] { inputShape }
    public func savedCount(rows: Int) -> Int { rows * inputCount }

    public func forward(_ b: LayerBuffers, saving: Bool) {
        b.output.update(from: b.input, count: b.rows * inputCount)
        activation.apply(b.output, rows: b.rows, width: inputCount, bias: zeros.base,
                         derivative: saving ? b.saved : nil)
    }

    public func backward(
        _ b: LayerBuffers, outputCotangent dy: UnsafePointer<Float>,
        inputCotangent: UnsafeMutablePointer<Float>?, parameterGradient: UnsafeMutablePointer<Float>?
    ) {
        guard let dx = inputCotangent else { return }
        for i in 0..<(b.rows * inputCount) { dx[i] = dy[i] * b.saved[i] }
    }

    public func forwardJet(_ b: LayerBuffers, order: Int) {
        guard !activation.jetForwardVectorised(b.input, b.output, n: b.rows * inputCount, order: order) else { return }
        elementwiseJetForward(b, order: order, count: inputCount, activation.derivatives)
    }

    public func backwardJet(
        _ b: LayerBuffers, order: Int, outputCotangent dy: UnsafePointer<Float>,
        inputCotangent: UnsafeMutablePointer<Float>?, parameterGradient: UnsafeMutablePointer<Float>?
    ) {
        guard let dx = inputCotangent,
              !activation.jetBackwardVectorised(b.input, dy, dx, n: b.rows * inputCount, order: order) else { return }
        elementwiseJetBackward(b, order: order, count: inputCount, outputCotangent: dy, inputCotangent: dx,
                               activation.derivatives)
    }
}

extension ActivationLayer: LayerKind {
    /// `activation`: `function` (`swish`, `tanh`, `softplus`, `elu`, `gelu`, `gelu_erf`).
    public static let kind = "activation"
    public static func make(_ r: inout SettingsRecord, input: [Int], reader: inout LayerReader, name: String) throws
        -> NetworkLayer {
        let function = try r.text("function")
        guard let activation = Activation.allCases.first(where: { $0.name == function }) else {
            throw EBMError.invalidArgument("layer \(name): unknown activation '\(function)'; the activations are "
                                           + Activation.allCases.map(\.name).joined(separator: ", "))
        }
        return try ActivationLayer(activation, shape: input)
    }
}
