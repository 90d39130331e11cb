#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import COpenBLAS

/// The one internal interface to the BLAS: row-major single-precision matrix products.
/// Every matrix product in the core goes through here (OpenBLAS `cblas_sgemm` / `cblas_sgemv`).
enum BLAS {
    /// Makes OpenBLAS single-threaded, once, unless the user set `OPENBLAS_NUM_THREADS`: the
    /// library parallelises over blocks of chains itself (`ChainParallel`), and BLAS threads on
    /// top of that would oversubscribe the cores (and, in Debian's OpenBLAS 0.3.21, allocate a job
    /// array in every multi-threaded call).
    static let threadingConfigured: Void = {
        if getenv("OPENBLAS_NUM_THREADS") == nil { openblas_set_num_threads(1) }
    }()

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
