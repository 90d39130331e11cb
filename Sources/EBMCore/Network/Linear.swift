/// `y = x Wᵀ + b`, PyTorch's `nn.Linear(in_features, out_features)`: weight `out × in`,
/// bias `out`.
public final class Linear: NetworkLayer {
    public let inFeatures: Int
    public let outFeatures: Int
    public let inputShape: [Int]
    public let outputShape: [Int]

    /// - Throws: `EBMError.invalidArgument` for a non-positive size.
    public init(inFeatures: Int, outFeatures: Int) throws {
        try require(inFeatures > 0 && outFeatures > 0,
                    "Linear needs positive in_features and out_features, got (\(inFeatures), \(outFeatures))")
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

    public func forward(_ b: LayerBuffers, saving: Bool) {
        let weight = b.parameters, bias = b.parameters + outFeatures * inFeatures
        BLAS.gemm(transA: false, transB: true, m: b.rows, n: outFeatures, k: inFeatures,
                  alpha: 1, a: b.input, lda: inFeatures, b: weight, ldb: inFeatures,
                  beta: 0, c: b.output, ldc: outFeatures)
        for r in 0..<b.rows {
            let y = b.output + r * outFeatures
            for j in 0..<outFeatures { y[j] += bias[j] }
        }
    }

    /// `∂x = δ W`, `∂W = δᵀ x`, `∂b = δᵀ 1`.
    public func backward(
        _ b: LayerBuffers, outputCotangent dy: UnsafePointer<Float>,
        inputCotangent: UnsafeMutablePointer<Float>?, parameterGradient: UnsafeMutablePointer<Float>?
    ) {
        if let dx = inputCotangent {
            BLAS.gemm(transA: false, transB: false, m: b.rows, n: inFeatures, k: outFeatures,
                      alpha: 1, a: dy, lda: outFeatures, b: b.parameters, ldb: inFeatures,
                      beta: 0, c: dx, ldc: inFeatures)
        }
        if let g = parameterGradient {
            BLAS.gemm(transA: true, transB: false, m: outFeatures, n: inFeatures, k: b.rows,
                      alpha: 1, a: dy, lda: outFeatures, b: b.input, ldb: inFeatures,
                      beta: 0, c: g, ldc: inFeatures)
            let db = g + outFeatures * inFeatures
            db.update(repeating: 0, count: outFeatures)
            for r in 0..<b.rows {
                let d = dy + r * outFeatures
                for j in 0..<outFeatures { db[j] += d[j] }
            }
        }
    }
}
