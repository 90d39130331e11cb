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
/// memory-bound, 43 % of a Langevin step of the UvA CNN. im2col and col2im are gathers through
/// index tables built once per layer (`indexTables`).
public final class Conv2d: NetworkLayer {
    public let inChannels: Int, outChannels: Int
    public let kernel: (h: Int, w: Int), stride: (h: Int, w: Int), padding: (h: Int, w: Int)
    public let inputHeight: Int, inputWidth: Int
    public let outputHeight: Int, outputWidth: Int
    public let inputShape: [Int], outputShape: [Int]
    /// The lowering's index tables (`indexTables`).
    private var gather = IndexTable()
    private var contributions = IndexTable()
    private var contributionsPerInput = 1

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

    /// One sample's columns and their cotangent, and one sample's input; each followed by one zero, where the index tables send padding.
    public func scratchCount(rows: Int) -> Int { 2 * (fieldSize * positions + 1) + inputCount + 1 }

    public func initialise(_ p: UnsafeMutablePointer<Float>, _ stream: inout UniformStream) {
        initialiseUniform(p, count: outChannels * fieldSize + outChannels, fanIn: fieldSize, &stream)
    }

    public func forward(_ b: LayerBuffers, saving: Bool) {
        affine(b, biasRows: b.rows)
    }

    /// The convolution of every sample, plus the bias on the first `biasRows` (a jet's value block).
    private func affine(_ b: LayerBuffers, biasRows: Int) {
        let k = fieldSize, p = positions, weight = b.parameters, bias = b.parameters + outChannels * k
        let cols = b.scratch
        for s in 0..<b.rows {
            im2col(b.input + s * inputCount, into: cols, b)
            let y = b.output + s * outputCount
            BLAS.gemm(transA: false, transB: false, m: outChannels, n: p, k: k,
                      alpha: 1, a: weight, lda: k, b: cols, ldb: p, beta: 0, c: y, ldc: p)
            guard s < biasRows else { continue }
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
        let k = fieldSize, p = positions, cols = b.scratch, dcols = b.scratch + k * p + 1
        if let g = parameterGradient {
            let db = g + outChannels * k
            db.update(repeating: 0, count: outChannels)
            for s in 0..<b.rows {
                let d = dy + s * outputCount
                im2col(b.input + s * inputCount, into: cols, b)
                BLAS.gemm(transA: false, transB: true, m: outChannels, n: k, k: p,
                          alpha: 1, a: d, lda: p, b: cols, ldb: p,
                          beta: s == 0 ? 0 : 1, c: g, ldc: k)
                guard s < biasRows else { continue }
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
            dcols[k * p] = 0
            col2im(dcols, into: dx + s * inputCount)
        }
    }

    /// Calls `body(row, c, i, j)` for each row of the column matrix: input channel `c`, kernel
    /// offset `(i, j)`, in the order of the weight's `in × kh × kw` axes.
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

    /// The two index tables of the lowering, built once from the shapes:
    /// - `gather[row · P + pos]`: the input element that column entry comes from, or `inputCount`
    ///   (a zero after the input's copy) in the padding: `im2col` is one gather;
    /// - `contributions[m · inputCount + e]`: the `m`-th column entry input element `e` went to,
    ///   or `K · P` (a zero after the columns) past its last, for `m < M` (the largest count):
    ///   `col2im` is `M` passes of gather-and-add over the input, no two writes to one place.
    /// Both loops are unconditional, so the AVX2 and AVX-512 builds compile them to vector gathers.
    /// Measured on the UvA CNN (Langevin, batch 128, 2 threads): strided copies per output row
    /// (2 to 8 floats each on these small stride-2 images) took half of a step; the tables took
    /// it from 17.3 to 23 k chain-steps/s as scalar loops with a branch for the padding, and
    /// unconditional (vector-gathered) to 29 k.
    static func indexTables(_ conv: Conv2d) throws -> (gather: IndexTable, contributions: IndexTable, perInput: Int) {
        let p = conv.positions, entries = conv.fieldSize * p, n = conv.inputCount
        let gather = try IndexTable(count: entries, repeating: Int32(n), for: "Conv2d's gather table")
        let counts = try IndexTable(count: n, repeating: 0, for: "Conv2d's scatter counts")
        conv.forEachEntry { entry, element in
            gather.base[entry] = Int32(element)
            counts.base[element] += 1
        }
        var perInput = 1
        for e in 0..<n { perInput = max(perInput, Int(counts.base[e])) }
        let total = try requireCount([n, perInput], "Conv2d's scatter table")
        let contributions = try IndexTable(count: total, repeating: Int32(entries), for: "Conv2d's scatter table")
        counts.base.update(repeating: 0, count: n)
        // Entries in increasing order, so each element's contributions are listed as before.
        conv.forEachEntry { entry, element in
            contributions.base[Int(counts.base[element]) * n + element] = Int32(entry)
            counts.base[element] += 1
        }
        return (gather, contributions, perInput)
    }

    /// Calls `body(entry, element)` for every column-matrix entry that reads an input element
    /// (not padding), in increasing entry order.
    private func forEachEntry(_ body: (Int, Int) -> Void) {
        let p = positions
        forEachFieldRow { row, c, i, j in
            for oy in 0..<outputHeight {
                let y = oy * stride.h - padding.h + i
                guard y >= 0 && y < inputHeight else { continue }
                for ox in 0..<outputWidth {
                    let x = ox * stride.w - padding.w + j
                    guard x >= 0 && x < inputWidth else { continue }
                    body(row * p + oy * outputWidth + ox, (c * inputHeight + y) * inputWidth + x)
                }
            }
        }
    }

    /// `cols[(c·kh + i)·kw + j, oy·ow + ox] = x[c, oy·sh − ph + i, ox·sw − pw + j]` (0 outside),
    /// through a copy of `x` followed by a zero, after the two column buffers in `b.scratch`.
    private func im2col(_ x: UnsafePointer<Float>, into cols: UnsafeMutablePointer<Float>, _ b: LayerBuffers) {
        let padded = b.scratch + 2 * (fieldSize * positions + 1)
        padded.update(from: x, count: inputCount)
        padded[inputCount] = 0
        let n = gather.count, idx = gather.base
        for t in 0..<n { cols[t] = padded[Int(idx[t])] }
    }

    /// The adjoint of `im2col`: `dx[e] ← Σ` of the column entries that came from element `e`
    /// (`cols` followed by a zero).
    private func col2im(_ cols: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>) {
        let n = inputCount
        let first = contributions.base
        for e in 0..<n { dx[e] = cols[Int(first[e])] }
        for m in 1..<max(1, contributionsPerInput) {
            let row = first + m * n
            for e in 0..<n { dx[e] += cols[Int(row[e])] }
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
