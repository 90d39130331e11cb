import COpenBLAS

/// The one internal interface to the BLAS: row-major single-precision matrix products.
/// Every matrix product in the core goes through here (OpenBLAS `cblas_sgemm` / `cblas_sgemv`).
enum BLAS {
    /// `C ← alpha · op(A) · op(B) + beta · C`, all row-major; `op(A)` is `m × k`, `op(B)` is
    /// `k × n`, `C` is `m × n`. `lda`, `ldb`, `ldc` are the row strides of the stored matrices.
    @inline(__always)
    static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb),
            beta, c, blasint(ldc))
    }

    /// `y ← alpha · op(A) · x + beta · y` for a row-major `rows × cols` matrix `A`.
    @inline(__always)
    static func gemv(
        trans: Bool, rows: Int, cols: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
        x: UnsafePointer<Float>, beta: Float, y: UnsafeMutablePointer<Float>
    ) {
        cblas_sgemv(
            CblasRowMajor, trans ? CblasTrans : CblasNoTrans, blasint(rows), blasint(cols),
            alpha, a, blasint(lda), x, 1, beta, y, 1)
    }
}
