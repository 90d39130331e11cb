/// `nn.Flatten()`: a sample of any shape as one vector. Samples are stored flattened already,
/// so both passes copy.
public final class Flatten: LinearMapLayer {
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
}

extension Flatten: LayerKind {
    /// `flatten`: no fields.
    public static let kind = "flatten"
    public static func make(_ r: inout SettingsRecord, input: [Int], reader: inout LayerReader, name: String) throws
        -> NetworkLayer {
        Flatten(shape: input)
    }
}
