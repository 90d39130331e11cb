/// PyTorch's `nn.AvgPool2d(kernel_size, stride)` on `NCHW` samples (no padding; windows that
/// would cross the border are dropped, as `ceil_mode=False`).
public final class AvgPool2d: LinearMapLayer {
    public let channels: Int, inputHeight: Int, inputWidth: Int
    public let kernel: (h: Int, w: Int), stride: (h: Int, w: Int)
    public let outputHeight: Int, outputWidth: Int
    public let inputShape: [Int], outputShape: [Int]

    /// - Throws: `EBMError.invalidArgument` for non-positive sizes or a kernel larger than the input.
    public init(channels: Int, inputHeight: Int, inputWidth: Int, kernel: (Int, Int), stride: (Int, Int)) throws {
        try require(kernel.0 > 0 && kernel.1 > 0 && stride.0 > 0 && stride.1 > 0,
                    "AvgPool2d kernel_size and stride must be positive, got \(kernel), \(stride)")
        try require(kernel.0 <= inputHeight && kernel.1 <= inputWidth,
                    "AvgPool2d kernel \(kernel) does not fit an input of \(inputHeight)×\(inputWidth)")
        self.channels = channels
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.kernel = (kernel.0, kernel.1)
        self.stride = (stride.0, stride.1)
        self.outputHeight = (inputHeight - kernel.0) / stride.0 + 1
        self.outputWidth = (inputWidth - kernel.1) / stride.1 + 1
        self.inputShape = [channels, inputHeight, inputWidth]
        self.outputShape = [channels, outputHeight, outputWidth]
    }

    public func forward(_ b: LayerBuffers, saving: Bool) {
        let scale = 1 / Float(kernel.h * kernel.w)
        for plane in 0..<(b.rows * channels) {
            let x = b.input + plane * inputHeight * inputWidth
            let y = b.output + plane * outputHeight * outputWidth
            for oy in 0..<outputHeight {
                for ox in 0..<outputWidth {
                    var sum: Float = 0
                    for i in 0..<kernel.h {
                        let line = x + (oy * stride.h + i) * inputWidth + ox * stride.w
                        for j in 0..<kernel.w { sum += line[j] }
                    }
                    y[oy * outputWidth + ox] = sum * scale
                }
            }
        }
    }

    public func backward(
        _ b: LayerBuffers, outputCotangent dy: UnsafePointer<Float>,
        inputCotangent: UnsafeMutablePointer<Float>?, parameterGradient: UnsafeMutablePointer<Float>?
    ) {
        guard let dx = inputCotangent else { return }
        let scale = 1 / Float(kernel.h * kernel.w)
        dx.update(repeating: 0, count: b.rows * inputCount)
        for plane in 0..<(b.rows * channels) {
            let d = dx + plane * inputHeight * inputWidth
            let g = dy + plane * outputHeight * outputWidth
            for oy in 0..<outputHeight {
                for ox in 0..<outputWidth {
                    let v = g[oy * outputWidth + ox] * scale
                    for i in 0..<kernel.h {
                        let line = d + (oy * stride.h + i) * inputWidth + ox * stride.w
                        for j in 0..<kernel.w { line[j] += v }
                    }
                }
            }
        }
    }
}

extension AvgPool2d: LayerKind {
    /// `avgpool2d`: `kernel_size`, `stride` (pairs).
    public static let kind = "avgpool2d"
    public static func make(_ r: inout SettingsRecord, input: [Int], reader: inout LayerReader, name: String) throws
        -> NetworkLayer {
        let kernel = try r.pair("kernel_size"), stride = try r.pair("stride")
        try require(input.count == 3, "layer \(name) (AvgPool2d) expects input of shape [channels, height, width] but receives \(input)")
        return try AvgPool2d(channels: input[0], inputHeight: input[1], inputWidth: input[2], kernel: kernel, stride: stride)
    }
}
