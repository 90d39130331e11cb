/// PyTorch's `nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding)` on `NCHW`
/// samples with zero padding: weight `out × in × kh × kw`, bias `out`.
///
/// Lowered to matrix products (im2col): each sample's receptive fields become the columns of a
/// `K × P` matrix (`K = in·kh·kw`, `P = oh·ow`), so that `y_s = W · cols_s + b` is one `sgemm`;
/// backward, `∂x_s = col2im(Wᵀ ∂y_s)`, `∂W = Σ_s ∂y_s · cols_sᵀ`, `∂b = Σ_s ∂y_s 1`.
///
/// One sample's columns at a time, in scratch memory that stays in cache, rebuilt in the backward
/// pass when the weight gradient needs them (Langevin needs only `∂x`, which does not): keeping
/// every sample's columns from forward to backward (megabytes per block) made im2col and col2im
/// memory-bound, 43 % of a Langevin step of the UvA CNN.
public final class Conv2d: NetworkLayer {
    public let inChannels: Int, outChannels: Int
    public let kernel: (h: Int, w: Int), stride: (h: Int, w: Int), padding: (h: Int, w: Int)
    public let inputHeight: Int, inputWidth: Int
    public let outputHeight: Int, outputWidth: Int
    public let inputShape: [Int], outputShape: [Int]

    /// - Throws: `EBMError.invalidArgument` for non-positive sizes, negative padding, or an input
    ///   too small for the kernel (an empty output).
    public init(inChannels: Int, outChannels: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: (Int, Int) = (0, 0), inputHeight: Int, inputWidth: Int) throws {
        try require(inChannels > 0 && outChannels > 0, "Conv2d needs positive channel counts, got (\(inChannels), \(outChannels))")
        try require(kernel.0 > 0 && kernel.1 > 0, "Conv2d kernel_size must be positive, got \(kernel)")
        try require(stride.0 > 0 && stride.1 > 0, "Conv2d stride must be positive, got \(stride)")
        try require(padding.0 >= 0 && padding.1 >= 0, "Conv2d padding must be non-negative, got \(padding)")
        try require(inputHeight > 0 && inputWidth > 0, "Conv2d input must be non-empty, got \(inputHeight)×\(inputWidth)")
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
    }
    public var parameters: [ParameterShape] {
        [ParameterShape("weight", [outChannels, inChannels, kernel.h, kernel.w]), ParameterShape("bias", [outChannels])]
    }

    /// Rows of the column matrix (`in·kh·kw`) and its columns (`oh·ow`).
    var fieldSize: Int { inChannels * kernel.h * kernel.w }
    var positions: Int { outputHeight * outputWidth }

    /// One sample's columns and their cotangent.
    public func scratchCount(rows: Int) -> Int { 2 * fieldSize * positions }

    public func initialise(_ p: UnsafeMutablePointer<Float>, _ stream: inout UniformStream) {
        initialiseUniform(p, count: outChannels * fieldSize + outChannels, fanIn: fieldSize, &stream)
    }

    public func forward(_ b: LayerBuffers, saving: Bool) {
        let k = fieldSize, p = positions, weight = b.parameters, bias = b.parameters + outChannels * k
        let cols = b.scratch
        for s in 0..<b.rows {
            im2col(b.input + s * inputCount, into: cols)
            let y = b.output + s * outputCount
            BLAS.gemm(transA: false, transB: false, m: outChannels, n: p, k: k,
                      alpha: 1, a: weight, lda: k, b: cols, ldb: p, beta: 0, c: y, ldc: p)
            for c in 0..<outChannels {
                let yc = y + c * p, bc = bias[c]
                for i in 0..<p { yc[i] += bc }
            }
        }
    }

    public func backward(
        _ b: LayerBuffers, outputCotangent dy: UnsafePointer<Float>,
        inputCotangent: UnsafeMutablePointer<Float>?, parameterGradient: UnsafeMutablePointer<Float>?
    ) {
        let k = fieldSize, p = positions, cols = b.scratch, dcols = b.scratch + k * p
        if let g = parameterGradient {
            let db = g + outChannels * k
            db.update(repeating: 0, count: outChannels)
            for s in 0..<b.rows {
                let d = dy + s * outputCount
                im2col(b.input + s * inputCount, into: cols)
                BLAS.gemm(transA: false, transB: true, m: outChannels, n: k, k: p,
                          alpha: 1, a: d, lda: p, b: cols, ldb: p,
                          beta: s == 0 ? 0 : 1, c: g, ldc: k)
                for c in 0..<outChannels {
                    var sum: Float = 0
                    for i in 0..<p { sum += d[c * p + i] }
                    db[c] += sum
                }
            }
        }
        guard let dx = inputCotangent else { return }
        for s in 0..<b.rows {
            BLAS.gemm(transA: true, transB: false, m: k, n: p, k: outChannels,
                      alpha: 1, a: b.parameters, lda: k, b: dy + s * outputCount, ldb: p,
                      beta: 0, c: dcols, ldc: p)
            col2im(dcols, into: dx + s * inputCount)
        }
    }

    /// Calls `body(row, c, i, j)` for each row of the column matrix: input channel `c`, kernel
    /// offset `(i, j)`, in the order of the weight's `in × kh × kw` axes.
    @inline(__always)
    private func forEachFieldRow(_ body: (Int, Int, Int, Int) -> Void) {
        var row = 0
        for c in 0..<inChannels {
            for i in 0..<kernel.h {
                for j in 0..<kernel.w {
                    body(row, c, i, j)
                    row += 1
                }
            }
        }
    }

    /// The output columns `ox` whose input column `ox·sw − pw + j` lies inside the image.
    @inline(__always)
    private func validColumns(_ j: Int) -> Range<Int> {
        // ox·sw − pw + j ≥ 0  ⇔  ox ≥ ⌈(pw − j)/sw⌉;  ox·sw − pw + j ≤ W − 1  ⇔  ox ≤ ⌊(W − 1 + pw − j)/sw⌋.
        let low = max(0, (padding.w - j + stride.w - 1) / stride.w)
        let top = inputWidth - 1 + padding.w - j
        let high = top < 0 ? 0 : min(outputWidth, top / stride.w + 1)
        return low..<max(low, high)
    }

    /// `cols[(c·kh + i)·kw + j, oy·ow + ox] = x[c, oy·sh − ph + i, ox·sw − pw + j]` (0 outside):
    /// per output row, zeros outside the valid columns and a strided copy inside.
    private func im2col(_ x: UnsafePointer<Float>, into cols: UnsafeMutablePointer<Float>) {
        forEachFieldRow { row, c, i, j in
            let valid = validColumns(j), sw = stride.w
            for oy in 0..<outputHeight {
                let y = oy * stride.h - padding.h + i
                let o = cols + row * positions + oy * outputWidth
                guard y >= 0 && y < inputHeight, !valid.isEmpty else {
                    o.update(repeating: 0, count: outputWidth)
                    continue
                }
                o.update(repeating: 0, count: valid.lowerBound)
                (o + valid.upperBound).update(repeating: 0, count: outputWidth - valid.upperBound)
                let src = x + (c * inputHeight + y) * inputWidth + valid.lowerBound * sw - padding.w + j
                if sw == 1 {
                    (o + valid.lowerBound).update(from: src, count: valid.count)
                } else {
                    for (k, ox) in valid.enumerated() { o[ox] = src[k &* sw] }
                }
            }
        }
    }

    /// The adjoint of `im2col`: `dx ← Σ` of each column entry at the input position it came from.
    private func col2im(_ cols: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>) {
        dx.update(repeating: 0, count: inputCount)
        forEachFieldRow { row, c, i, j in
            let valid = validColumns(j), sw = stride.w
            guard !valid.isEmpty else { return }
            for oy in 0..<outputHeight {
                let y = oy * stride.h - padding.h + i
                guard y >= 0 && y < inputHeight else { continue }
                let dst = dx + (c * inputHeight + y) * inputWidth + valid.lowerBound * sw - padding.w + j
                let s = cols + row * positions + oy * outputWidth + valid.lowerBound
                for k in 0..<valid.count { dst[k &* sw] += s[k] }
            }
        }
    }
}
