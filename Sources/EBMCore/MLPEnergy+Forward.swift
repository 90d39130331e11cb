/// The forward pass and the `EnergyFunction` conformance.
extension MLPEnergy: EnergyFunction {
    /// Scratch memory for batches of at most `capacity` rows.
    public func makeWorkspace(capacity: Int) -> MLPWorkspace {
        MLPWorkspace(hidden: hidden, dimension: dimension, capacity: capacity)
    }

    /// Writes `E(x_i)` for each row of `x` into `energies`.
    public func energies(
        _ x: UnsafeBufferPointer<Float>, rows: Int,
        into energies: UnsafeMutableBufferPointer<Float>, workspace: MLPWorkspace
    ) {
        assert(x.count == rows * dimension && energies.count == rows)
        forward(x.baseAddress!, rows: rows, derivatives: false, energies: energies.baseAddress!,
                workspace: workspace)
    }

    /// Writes `∇x E(x_i)` per row into `gradient`, and the energies when asked.
    public func gradients(
        _ x: UnsafeBufferPointer<Float>, rows: Int,
        energies: UnsafeMutableBufferPointer<Float>?,
        into gradient: UnsafeMutableBufferPointer<Float>, workspace: MLPWorkspace
    ) {
        assert(x.count == rows * dimension && gradient.count == rows * dimension)
        forward(x.baseAddress!, rows: rows, derivatives: true,
                energies: energies?.baseAddress ?? workspace.energies, workspace: workspace)
        backward(x.baseAddress!, rows: rows, cotangent: nil, inputGradient: gradient.baseAddress,
                 parameterGradient: nil, workspace: workspace)
    }

    /// Evaluates the network on `rows` rows of `x`, keeping every layer's activations (and,
    /// with `derivatives`, the activation derivatives `f'(z)`) in the workspace for `backward`.
    ///
    /// Layer `l`: `A_l = f(A_{l−1} W_lᵀ + b_l)` — one `sgemm` (`rows × in` by `in × out`; by the
    /// transposed copy of `W_l` for small networks),
    /// then a fused bias-activation pass. Output: `E = A_L w_outᵀ + b_out`, one `sgemv`.
    func forward(
        _ x: UnsafePointer<Float>, rows: Int, derivatives: Bool,
        energies: UnsafeMutablePointer<Float>, workspace ws: MLPWorkspace
    ) {
        precondition(rows <= ws.capacity, "workspace too small")
        var input = x
        var inWidth = dimension
        for l in 0..<hidden.count {
            let width = hidden[l]
            let out = ws.activations[l]
            if let transposed = transposedWeights {  // A·(Wᵀ), see MLPEnergy+Blocking.swift
                BLAS.gemm(transA: false, transB: false, m: rows, n: width, k: inWidth,
                          alpha: 1, a: input, lda: inWidth, b: transposed.base + weightOffsets[l], ldb: width,
                          beta: 0, c: out, ldc: width)
            } else {
                BLAS.gemm(transA: false, transB: true, m: rows, n: width, k: inWidth,
                          alpha: 1, a: input, lda: inWidth, b: weight(l), ldb: inWidth,
                          beta: 0, c: out, ldc: width)
            }
            activation.apply(out, rows: rows, width: width, bias: bias(l),
                             derivative: derivatives ? ws.derivatives[l] : nil)
            input = UnsafePointer(out)
            inWidth = width
        }
        let last = hidden.count
        BLAS.gemv(trans: false, rows: rows, cols: inWidth, alpha: 1, a: input, lda: inWidth,
                  x: weight(last), beta: 0, y: energies)
        let b = bias(last).pointee
        for i in 0..<rows { energies[i] += b }
    }
}
