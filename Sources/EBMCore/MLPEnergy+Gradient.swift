/// Reverse-mode differentiation of `MLPEnergy`: input gradients for Langevin and parameter
/// gradients for training, from one backward pass.
extension MLPEnergy {
    /// `grad ← ∇w (1/rows) Σ_i E(x_i, w)`, in the flat parameter layout.
    public func parameterGradientOfMean(
        _ x: UnsafeBufferPointer<Float>, rows: Int,
        into grad: UnsafeMutableBufferPointer<Float>, workspace ws: MLPWorkspace
    ) {
        assert(x.count == rows * dimension && grad.count == parameterCount && rows > 0)
        forward(x.baseAddress!, rows: rows, derivatives: true, energies: ws.energies, workspace: ws)
        // The cotangent of the mean is 1/rows per row. It goes in the energies slot, which
        // `backward` never writes.
        let c = ws.energies
        c.update(repeating: 1 / Float(rows), count: rows)
        backward(x.baseAddress!, rows: rows, cotangent: c, inputGradient: nil,
                 parameterGradient: grad.baseAddress, workspace: ws)
    }

    /// Back-propagates per-row output cotangents `c_i` (all ones when `nil`) through the
    /// activations that the last `forward(…, derivatives: true)` left in `ws`:
    ///
    /// - `inputGradient[i, :] ← c_i ∇x E(x_i)` when given (`rows × dimension`);
    /// - `parameterGradient ← Σ_i c_i ∇w E(x_i)` when given (flat layout).
    ///
    /// With `δ_L = (c ⊗ w_out) ⊙ f'(Z_L)` and `δ_{l−1} = (δ_l W_l) ⊙ f'(Z_{l−1})`:
    /// `∂W_l = δ_lᵀ A_{l−1}`, `∂b_l = δ_lᵀ 1`, `∂w_out = cᵀ A_L`, `∂b_out = Σ c_i`, `∂x = δ_1 W_1`.
    func backward(
        _ x: UnsafePointer<Float>, rows: Int, cotangent: UnsafePointer<Float>?,
        inputGradient: UnsafeMutablePointer<Float>?,
        parameterGradient: UnsafeMutablePointer<Float>?, workspace ws: MLPWorkspace
    ) {
        precondition(rows <= ws.capacity, "workspace too small")
        let top = hidden.count - 1
        let widthTop = hidden[top]
        let c = cotangent ?? UnsafePointer(ws.ones)

        // Output layer.
        if let g = parameterGradient {
            BLAS.gemv(trans: true, rows: rows, cols: widthTop, alpha: 1,
                      a: ws.activations[top], lda: widthTop, x: c, beta: 0,
                      y: g + weightOffsets[top + 1])
            var sum: Float = 0
            for i in 0..<rows { sum += c[i] }
            g[biasOffsets[top + 1]] = sum
        }
        var delta = ws.deltaA
        var spare = ws.deltaB
        let wOut = weight(top + 1)
        let dTop = ws.derivatives[top]
        for i in 0..<rows {
            let ci = c[i]
            let d = delta + i * widthTop, f = dTop + i * widthTop
            for j in 0..<widthTop { d[j] = ci * wOut[j] * f[j] }
        }

        // Hidden layers, top down.
        for l in stride(from: top, through: 0, by: -1) {
            let width = hidden[l]
            let input = l == 0 ? x : UnsafePointer(ws.activations[l - 1])
            let inWidth = l == 0 ? dimension : hidden[l - 1]
            if let g = parameterGradient {
                BLAS.gemm(transA: true, transB: false, m: width, n: inWidth, k: rows,
                          alpha: 1, a: delta, lda: width, b: input, ldb: inWidth,
                          beta: 0, c: g + weightOffsets[l], ldc: inWidth)
                BLAS.gemv(trans: true, rows: rows, cols: width, alpha: 1, a: delta, lda: width,
                          x: ws.ones, beta: 0, y: g + biasOffsets[l])
            }
            if l > 0 {
                BLAS.gemm(transA: false, transB: false, m: rows, n: inWidth, k: width,
                          alpha: 1, a: delta, lda: width, b: weight(l), ldb: inWidth,
                          beta: 0, c: spare, ldc: inWidth)
                let f = ws.derivatives[l - 1]
                for i in 0..<(rows * inWidth) { spare[i] *= f[i] }
                swap(&delta, &spare)
            } else if let gx = inputGradient {
                BLAS.gemm(transA: false, transB: false, m: rows, n: dimension, k: width,
                          alpha: 1, a: delta, lda: width, b: weight(0), ldb: dimension,
                          beta: 0, c: gx, ldc: dimension)
            }
        }
    }

    public func forwardForGradient(
        _ x: UnsafePointer<Float>, rows: Int, energies: UnsafeMutablePointer<Float>, workspace ws: MLPWorkspace
    ) {
        forward(x, rows: rows, derivatives: true, energies: energies, workspace: ws)
    }

    public func parameterGradient(
        _ x: UnsafePointer<Float>, rows: Int, cotangent: UnsafePointer<Float>,
        into grad: UnsafeMutablePointer<Float>, workspace ws: MLPWorkspace
    ) {
        backward(x, rows: rows, cotangent: cotangent, inputGradient: nil, parameterGradient: grad, workspace: ws)
    }
}
