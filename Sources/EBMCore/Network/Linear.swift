/// `y = x Wᵀ + b`, PyTorch's `nn.Linear(in_features, out_features)`: weight `out × in`,
/// bias `out`.
///
/// Three forms of the forward product, all through the BLAS:
/// - one output (an energy's last layer): `y = X w + b`, one `sgemv`;
/// - by a transposed copy `Wᵀ` (`in × out`), when the network asked for one
///   (`useTransposedWeights()`, see `NetworkEnergy+Blocking.swift`): `X · Wᵀ` with neither operand
///   transposed, which OpenBLAS multiplies directly for small products;
/// - otherwise `X · Wᵀ` by `W` in place (`sgemm` with `transB`).
///
/// `Sequential` fuses it with its neighbouring activation layers: the activation after it is
/// applied in the same pass as the bias (`forward(_:saving:activation:_:)`), and the derivative of
/// the activation before it is applied to the input cotangent it writes (`backward(…, times:)`).
public final class Linear: NetworkLayer {
    public let inFeatures: Int
    public let outFeatures: Int
    public let inputShape: [Int]
    public let outputShape: [Int]
    /// `Wᵀ` (`in × out`, row-major), kept equal to the weight by `parametersDidChange`, or `nil`.
    private(set) var transposedWeight: FloatBuffer?

    /// - Throws: `EBMError.invalidArgument` for a non-positive size.
    public init(inFeatures: Int, outFeatures: Int) throws {
        try require(inFeatures > 0 && outFeatures > 0,
                    "Linear needs positive in_features and out_features, got (\(inFeatures), \(outFeatures))")
        let (weights, overflow) = inFeatures.multipliedReportingOverflow(by: outFeatures)
        try require(!overflow && weights < Int(Int32.max),
                    "Linear(\(inFeatures), \(outFeatures)) has more than 2^31 − 1 weights")
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.inputShape = [inFeatures]
        self.outputShape = [outFeatures]
    }
    public var parameters: [ParameterShape] {
        [ParameterShape("weight", [outFeatures, inFeatures]), ParameterShape("bias", [outFeatures])]
    }

    public func initialise(_ p: UnsafeMutablePointer<Float>, _ stream: inout UniformStream) {
        initialiseUniform(p, count: outFeatures * inFeatures + outFeatures, fanIn: inFeatures, &stream)
    }

    /// Multiplies by a transposed copy of the weight from now on (before any evaluation; the
    /// network calls `parametersDidChange` next). Has no effect on a one-output layer.
    func useTransposedWeights() throws {
        if outFeatures > 1 && transposedWeight == nil {
            transposedWeight = try FloatBuffer(count: outFeatures * inFeatures)
        }
    }

    public func parametersDidChange(_ p: UnsafePointer<Float>, buffers: UnsafePointer<Float>) {
        guard let t = transposedWeight?.base else { return }
        for r in 0..<outFeatures {
            for c in 0..<inFeatures { t[c * outFeatures + r] = p[r * inFeatures + c] }
        }
    }

    /// `output ← input · Wᵀ` (no bias).
    @inline(__always)
    private func product(_ b: LayerBuffers, into output: UnsafeMutablePointer<Float>) {
        if outFeatures == 1 {
            BLAS.gemv(trans: false, rows: b.rows, cols: inFeatures, alpha: 1, a: b.input, lda: inFeatures,
                      x: b.parameters, beta: 0, y: output)
        } else if let t = transposedWeight {
            BLAS.gemm(transA: false, transB: false, m: b.rows, n: outFeatures, k: inFeatures,
                      alpha: 1, a: b.input, lda: inFeatures, b: t.base, ldb: outFeatures,
                      beta: 0, c: output, ldc: outFeatures)
        } else {
            BLAS.gemm(transA: false, transB: true, m: b.rows, n: outFeatures, k: inFeatures,
                      alpha: 1, a: b.input, lda: inFeatures, b: b.parameters, ldb: inFeatures,
                      beta: 0, c: output, ldc: outFeatures)
        }
    }

    public func forward(_ b: LayerBuffers, saving: Bool) {
        affine(b, biasRows: b.rows)
    }

    /// `output ← input · Wᵀ`, plus the bias on the first `biasRows` rows (a jet's value block).
    private func affine(_ b: LayerBuffers, biasRows: Int) {
        product(b, into: b.output)
        let bias = b.parameters + outFeatures * inFeatures
        for r in 0..<biasRows {
            let y = b.output + r * outFeatures
            for j in 0..<outFeatures { y[j] += bias[j] }
        }
    }

    /// This layer and the activation layer after it in one pass: `next.output ← f(x Wᵀ + b)`, and
    /// with `saving` `next.saved ← f'(x Wᵀ + b)` — what `activation.forward(next, saving:)` would
    /// have written after `forward(b, saving:)`, without the intermediate output. Neither layer's
    /// backward pass reads that output, so both run unchanged after it.
    func forward(_ b: LayerBuffers, saving: Bool, activation: ActivationLayer, _ next: LayerBuffers) {
        product(b, into: next.output)
        activation.activation.apply(next.output, rows: b.rows, width: outFeatures,
                                    bias: b.parameters + outFeatures * inFeatures,
                                    derivative: saving ? next.saved : nil)
    }

    /// `∂x = δ W`, `∂W = δᵀ x`, `∂b = δᵀ 1`.
    public func backward(
        _ b: LayerBuffers, outputCotangent dy: UnsafePointer<Float>,
        inputCotangent: UnsafeMutablePointer<Float>?, parameterGradient: UnsafeMutablePointer<Float>?
    ) {
        backward(b, outputCotangent: dy, inputCotangent: inputCotangent, parameterGradient: parameterGradient,
                 times: nil)
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
                 parameterGradient: parameterGradient, times: nil, biasRows: b.rows)
    }

    /// The backward pass, with the input cotangent multiplied elementwise by `derivative` when
    /// given: `∂x = (δ W) ⊙ f'` — this layer and the activation layer before it, whose saved
    /// `f'` that is (used by `Sequential`).
    func backward(
        _ b: LayerBuffers, outputCotangent dy: UnsafePointer<Float>,
        inputCotangent: UnsafeMutablePointer<Float>?, parameterGradient: UnsafeMutablePointer<Float>?,
        times derivative: UnsafePointer<Float>?, biasRows: Int? = nil
    ) {
        if let dx = inputCotangent {
            if outFeatures == 1 {  // an outer product: row r of ∂x is δ_r w (⊙ f'_r)
                let w = b.parameters
                for r in 0..<b.rows {
                    let d = dy[r], row = dx + r * inFeatures
                    if let f = derivative.map({ $0 + r * inFeatures }) {
                        for j in 0..<inFeatures { row[j] = d * w[j] * f[j] }
                    } else {
                        for j in 0..<inFeatures { row[j] = d * w[j] }
                    }
                }
            } else {
                BLAS.gemm(transA: false, transB: false, m: b.rows, n: inFeatures, k: outFeatures,
                          alpha: 1, a: dy, lda: outFeatures, b: b.parameters, ldb: inFeatures,
                          beta: 0, c: dx, ldc: inFeatures)
                if let f = derivative {
                    for i in 0..<(b.rows * inFeatures) { dx[i] *= f[i] }
                }
            }
        }
        if let g = parameterGradient {
            if outFeatures == 1 {
                BLAS.gemv(trans: true, rows: b.rows, cols: inFeatures, alpha: 1, a: b.input, lda: inFeatures,
                          x: dy, beta: 0, y: g)
            } else {
                BLAS.gemm(transA: true, transB: false, m: outFeatures, n: inFeatures, k: b.rows,
                          alpha: 1, a: dy, lda: outFeatures, b: b.input, ldb: inFeatures,
                          beta: 0, c: g, ldc: inFeatures)
            }
            let db = g + outFeatures * inFeatures
            db.update(repeating: 0, count: outFeatures)
            for r in 0..<(biasRows ?? b.rows) {
                let d = dy + r * outFeatures
                for j in 0..<outFeatures { db[j] += d[j] }
            }
        }
    }
}

extension Linear: LayerKind {
    /// `linear`: `in_features`, `out_features`.
    public static let kind = "linear"
    public static func make(_ r: inout SettingsRecord, input: [Int], reader: inout LayerReader, name: String) throws
        -> NetworkLayer {
        let inFeatures = try r.integer("in_features"), outFeatures = try r.integer("out_features")
        try require(input == [inFeatures], "layer \(name) (Linear) expects input of shape [\(inFeatures)] but receives \(input)")
        return try Linear(inFeatures: inFeatures, outFeatures: outFeatures)
    }
}
