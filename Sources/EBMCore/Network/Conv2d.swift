/// PyTorch's `nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding)` on `NCHW`
/// samples with zero padding: weight `out × in × kh × kw`, bias `out`.
///
/// Lowered to matrix products (im2col): each sample's receptive fields become the columns of a
/// `K × P` matrix (`K = in·kh·kw`, `P = oh·ow`), so that `y_s = W · cols_s + b`;
/// backward, `∂x_s = col2im(Wᵀ ∂y_s)`, `∂W = Σ_s ∂y_s · cols_sᵀ`, `∂b = Σ_s ∂y_s 1`.
///
/// A few samples at a time (`group`, `Conv2d+Lowering.swift`): their columns side by side make
/// one `sgemm` of `G·P` columns, in scratch memory that stays in cache, rebuilt in the backward
/// pass when the weight gradient needs them (Langevin needs only `∂x`, which does not). One
/// sample per product left the small late layers (4 and 16 positions) to OpenBLAS's per-call
/// packing; every sample's columns at once (megabytes per block) made im2col and col2im
/// memory-bound. im2col and col2im are gathers through index tables built once per layer.
public final class Conv2d: NetworkLayer {
    public let inChannels: Int, outChannels: Int
    public let kernel: (h: Int, w: Int), stride: (h: Int, w: Int), padding: (h: Int, w: Int)
    public let inputHeight: Int, inputWidth: Int
    public let outputHeight: Int, outputWidth: Int
    public let inputShape: [Int], outputShape: [Int]
    /// Samples per matrix product (`groupSize`); the scratch holds their columns side by side.
    let group: Int
    /// The lowering's index tables (`indexTables`).
    var gather = IndexTable()
    var contributions = IndexTable()
    var contributionsPerInput = 1

    /// - Throws: `EBMError.invalidArgument` for non-positive sizes, negative padding, or an input
    ///   too small for the kernel (an empty output).
    public init(inChannels: Int, outChannels: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: (Int, Int) = (0, 0), inputHeight: Int, inputWidth: Int) throws {
        try require(inChannels > 0 && outChannels > 0, "Conv2d needs positive channel counts, got (\(inChannels), \(outChannels))")
        try require(kernel.0 > 0 && kernel.1 > 0, "Conv2d kernel_size must be positive, got \(kernel)")
        try require(stride.0 > 0 && stride.1 > 0, "Conv2d stride must be positive, got \(stride)")
        try require(padding.0 >= 0 && padding.1 >= 0, "Conv2d padding must be non-negative, got \(padding)")
        try require(inputHeight > 0 && inputWidth > 0, "Conv2d input must be non-empty, got \(inputHeight)×\(inputWidth)")
        let inputs = try requireCount([inChannels, inputHeight, inputWidth], "Conv2d's input")
        try require(inputs <= maximumSampleScratch,
                    "Conv2d's input for one sample (\(inChannels)·\(inputHeight)·\(inputWidth) = \(inputs)) exceeds the \(maximumSampleScratch) floats (1 GiB) supported per sample")
        try requireCount([outChannels, inChannels, kernel.0, kernel.1], "Conv2d's weight")
        try require(padding.0 <= maximumCount && padding.1 <= maximumCount && kernel.0 <= maximumCount
                    && kernel.1 <= maximumCount, "Conv2d kernel and padding must be below 2^31")
        let oh = (inputHeight + 2 * padding.0 - kernel.0) / stride.0 + 1
        let ow = (inputWidth + 2 * padding.1 - kernel.1) / stride.1 + 1
        try require(inputHeight + 2 * padding.0 >= kernel.0 && inputWidth + 2 * padding.1 >= kernel.1 && oh > 0 && ow > 0,
                    "Conv2d kernel \(kernel) with padding \(padding) does not fit an input of \(inputHeight)×\(inputWidth)")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = (kernel.0, kernel.1)
        self.stride = (stride.0, stride.1)
        self.padding = (padding.0, padding.1)
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.outputHeight = oh
        self.outputWidth = ow
        self.inputShape = [inChannels, inputHeight, inputWidth]
        self.outputShape = [outChannels, oh, ow]
        try requireCount([outChannels, oh, ow], "Conv2d's output")
        let columns = try requireCount([inChannels, kernel.0, kernel.1, oh, ow], "Conv2d's column matrix")
        try require(columns <= maximumSampleScratch,
                    "Conv2d's column matrix for one sample (in_channels·kernel·output = \(inChannels)·\(kernel.0)·\(kernel.1)·\(oh)·\(ow) = \(columns)) exceeds the \(maximumSampleScratch) floats (1 GiB) supported per sample")
        group = Self.groupSize(fieldSize: inChannels * kernel.0 * kernel.1, positions: oh * ow)
        (gather, contributions, contributionsPerInput) = try Self.indexTables(self)
    }
    public var parameters: [ParameterShape] {
        [ParameterShape("weight", [outChannels, inChannels, kernel.h, kernel.w]), ParameterShape("bias", [outChannels])]
    }

    /// Rows of the column matrix (`in·kh·kw`) and its columns (`oh·ow`).
    var fieldSize: Int { inChannels * kernel.h * kernel.w }
    /// The column matrix product per sample (`outChannels × fieldSize × positions`, each factor
    /// bounded when the layer is built, so no overflow).
    public var multiplyAdds: Int { outChannels * fieldSize * positions + outputCount }
    var positions: Int { outputHeight * outputWidth }

    /// A group's columns, their cotangent (followed by a row of zeros, where the scatter table
    /// sends padding) and its outputs side by side; one sample's input followed by a zero.
    public func scratchCount(rows: Int) -> Int { (2 * fieldSize + 1 + outChannels) * group * positions + inputCount + 1 }

    /// The scratch's parts (`scratchCount`); `ld = group·positions` is the row stride of the first three.
    func scratchParts(_ b: LayerBuffers) -> (cols: UnsafeMutablePointer<Float>, dcols: UnsafeMutablePointer<Float>,
                                             outputs: UnsafeMutablePointer<Float>, padded: UnsafeMutablePointer<Float>) {
        let ld = group * positions, cols = b.scratch
        let dcols = cols + fieldSize * ld, outputs = dcols + (fieldSize + 1) * ld
        return (cols, dcols, outputs, outputs + outChannels * ld)
    }

    public func initialise(_ p: UnsafeMutablePointer<Float>, _ stream: inout UniformStream) {
        initialiseUniform(p, count: outChannels * fieldSize + outChannels, fanIn: fieldSize, &stream)
    }

    public func forward(_ b: LayerBuffers, saving: Bool) {
        affine(b, biasRows: b.rows)
    }

    /// The convolution of every sample, plus the bias on the first `biasRows` (a jet's value block).
    private func affine(_ b: LayerBuffers, biasRows: Int) {
        let k = fieldSize, p = positions, ld = group * p, weight = b.parameters, bias = b.parameters + outChannels * k
        let (cols, _, outputs, padded) = scratchParts(b)
        for first in Swift.stride(from: 0, to: b.rows, by: group) {
            let g = min(group, b.rows - first)
            for s in 0..<g { im2col(b.input + (first + s) * inputCount, into: cols + s * p, ld: ld, padded: padded) }
            BLAS.gemm(transA: false, transB: false, m: outChannels, n: g * p, k: k,
                      alpha: 1, a: weight, lda: k, b: cols, ldb: ld, beta: 0, c: outputs, ldc: ld)
            for s in 0..<g {
                let y = b.output + (first + s) * outputCount, withBias = first + s < biasRows
                for c in 0..<outChannels {
                    let yc = y + c * p, from = outputs + c * ld + s * p, bc = bias[c]
                    if withBias {
                        for i in 0..<p { yc[i] = from[i] + bc }
                    } else {
                        yc.update(from: from, count: p)
                    }
                }
            }
        }
    }

    public func backward(
        _ b: LayerBuffers, outputCotangent dy: UnsafePointer<Float>,
        inputCotangent: UnsafeMutablePointer<Float>?, parameterGradient: UnsafeMutablePointer<Float>?
    ) {
        backward(b, outputCotangent: dy, inputCotangent: inputCotangent, parameterGradient: parameterGradient,
                 biasRows: b.rows)
    }

    /// Affine: the weight acts on every block, the bias on the value block only.
    public func forwardJet(_ b: LayerBuffers, order: Int) {
        affine(b.stacked(order + 1), biasRows: b.rows)
    }

    public func backwardJet(
        _ b: LayerBuffers, order: Int, outputCotangent dy: UnsafePointer<Float>,
        inputCotangent: UnsafeMutablePointer<Float>?, parameterGradient: UnsafeMutablePointer<Float>?
    ) {
        backward(b.stacked(order + 1), outputCotangent: dy, inputCotangent: inputCotangent,
                 parameterGradient: parameterGradient, biasRows: b.rows)
    }

    /// The backward pass, the bias gradient summed over the first `biasRows` samples.
    private func backward(
        _ b: LayerBuffers, outputCotangent dy: UnsafePointer<Float>,
        inputCotangent: UnsafeMutablePointer<Float>?, parameterGradient: UnsafeMutablePointer<Float>?,
        biasRows: Int
    ) {
        let k = fieldSize, p = positions, ld = group * p
        let (cols, dcols, outputs, padded) = scratchParts(b)
        if let g = parameterGradient { (g + outChannels * k).update(repeating: 0, count: outChannels) }
        for first in Swift.stride(from: 0, to: b.rows, by: group) {
            let n = min(group, b.rows - first), dyFirst = dy + first * outputCount
            // The group's output cotangents side by side, as the forward pass left its outputs.
            for s in 0..<n {
                for c in 0..<outChannels { (outputs + c * ld + s * p).update(from: dyFirst + s * outputCount + c * p, count: p) }
            }
            if let g = parameterGradient {
                for s in 0..<n { im2col(b.input + (first + s) * inputCount, into: cols + s * p, ld: ld, padded: padded) }
                BLAS.gemm(transA: false, transB: true, m: outChannels, n: k, k: n * p,
                          alpha: 1, a: outputs, lda: ld, b: cols, ldb: ld,
                          beta: first == 0 ? 0 : 1, c: g, ldc: k)
                let db = g + outChannels * k
                for s in 0..<n where first + s < biasRows {
                    let d = dyFirst + s * outputCount
                    for c in 0..<outChannels {
                        var sum: Float = 0
                        for i in 0..<p { sum += d[c * p + i] }
                        db[c] += sum
                    }
                }
            }
            guard let dx = inputCotangent else { continue }
            BLAS.gemm(transA: true, transB: false, m: k, n: n * p, k: outChannels,
                      alpha: 1, a: b.parameters, lda: k, b: outputs, ldb: ld,
                      beta: 0, c: dcols, ldc: ld)
            (dcols + k * ld).update(repeating: 0, count: ld)
            for s in 0..<n { col2im(dcols + s * p, into: dx + (first + s) * inputCount) }
        }
    }
}

extension Conv2d: LayerKind {
    /// `conv2d`: `in_channels`, `out_channels`, `kernel_size`, `stride`, `padding` (pairs).
    public static let kind = "conv2d"
    public static func make(_ r: inout SettingsRecord, input: [Int], reader: inout LayerReader, name: String) throws
        -> NetworkLayer {
        let inChannels = try r.integer("in_channels"), outChannels = try r.integer("out_channels")
        let kernel = try r.pair("kernel_size"), stride = try r.pair("stride"), padding = try r.pair("padding")
        try require(input.count == 3 && input[0] == inChannels,
                    "layer \(name) (Conv2d) expects input of shape [\(inChannels), height, width] but receives \(input)")
        return try Conv2d(inChannels: inChannels, outChannels: outChannels, kernel: kernel, stride: stride,
                          padding: padding, inputHeight: input[1], inputWidth: input[2])
    }
}
