/// `nn.Flatten()`: a sample of any shape as one vector. Samples are stored flattened already,
/// so both passes copy.
public final class Flatten: NetworkLayer {
    public let inputShape: [Int], outputShape: [Int]

    public init(shape: [Int]) {
        inputShape = shape
        outputShape = [shape.reduce(1, *)]
    }

    public func forward(_ b: LayerBuffers, saving: Bool) {
        b.output.update(from: b.input, count: b.rows * inputCount)
    }

    public func backward(
        _ b: LayerBuffers, outputCotangent dy: UnsafePointer<Float>,
        inputCotangent: UnsafeMutablePointer<Float>?, parameterGradient: UnsafeMutablePointer<Float>?
    ) {
        inputCotangent?.update(from: dy, count: b.rows * inputCount)
    }

    /// Linear: every block goes through the plain pass.
    public func forwardJet(_ b: LayerBuffers, order: Int) {
        forward(b.stacked(order + 1), saving: false)
    }

    public func backwardJet(
        _ b: LayerBuffers, order: Int, outputCotangent dy: UnsafePointer<Float>,
        inputCotangent: UnsafeMutablePointer<Float>?, parameterGradient: UnsafeMutablePointer<Float>?
    ) {
        backward(b.stacked(order + 1), outputCotangent: dy, inputCotangent: inputCotangent, parameterGradient: parameterGradient)
    }
}
