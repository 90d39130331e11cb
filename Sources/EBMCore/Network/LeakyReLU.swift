/// `y = x` for `x > 0`, else `slope·x`: PyTorch's `nn.LeakyReLU(negative_slope)`, and `nn.ReLU()`
/// with `slope = 0`. The backward pass reads the sign of the input; nothing is saved.
public final class LeakyReLU: NetworkLayer {
    public let slope: Float
    public let inputShape: [Int]

    /// - Throws: `EBMError.invalidArgument` for a non-finite slope.
    public init(slope: Float, shape: [Int]) throws {
        try require(slope.isFinite, "LeakyReLU negative_slope must be finite, got \(slope)")
        self.slope = slope
        self.inputShape = shape
    }

    public var outputShape: [Int] { inputShape }

    public func forward(_ b: LayerBuffers, saving: Bool) {
        for i in 0..<(b.rows * inputCount) {
            let x = b.input[i]
            b.output[i] = x > 0 ? x : slope * x
        }
    }

    public func backward(
        _ b: LayerBuffers, outputCotangent dy: UnsafePointer<Float>,
        inputCotangent: UnsafeMutablePointer<Float>?, parameterGradient: UnsafeMutablePointer<Float>?
    ) {
        guard let dx = inputCotangent else { return }
        for i in 0..<(b.rows * inputCount) { dx[i] = b.input[i] > 0 ? dy[i] : slope * dy[i] }
    }

    /// Piecewise linear: `f'' = f''' = 0` (almost everywhere, as autograd takes it).
    private func derivatives(_ z: Float) -> (Float, Float, Float, Float) {
        z > 0 ? (z, 1, 0, 0) : (slope * z, slope, 0, 0)
    }

    public func forwardJet(_ b: LayerBuffers, order: Int) {
        elementwiseJetForward(b, order: order, count: inputCount, derivatives)
    }

    public func backwardJet(
        _ b: LayerBuffers, order: Int, outputCotangent dy: UnsafePointer<Float>,
        inputCotangent: UnsafeMutablePointer<Float>?, parameterGradient: UnsafeMutablePointer<Float>?
    ) {
        elementwiseJetBackward(b, order: order, count: inputCount, outputCotangent: dy, inputCotangent: inputCotangent,
                               derivatives)
    }
}

extension LeakyReLU: LayerKind {
    /// `leaky_relu`: `negative_slope` (0: ReLU).
    public static let kind = "leaky_relu"
    public static func make(_ r: inout SettingsRecord, input: [Int], reader: inout LayerReader, name: String) throws
        -> NetworkLayer {
        try LeakyReLU(slope: Float(try r.number("negative_slope")), shape: input)
    }
}
