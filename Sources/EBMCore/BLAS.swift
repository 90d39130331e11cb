#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import COpenBLAS

/// The one internal interface to the BLAS: row-major single-precision matrix products.
/// Every matrix product in the core goes through here (OpenBLAS `cblas_sgemm` / `cblas_sgemv`,
/// from the `scipy-openblas32` wheel, whose symbols carry the prefix `scipy_`).
public enum BLAS {
    /// Makes OpenBLAS single-threaded, once, unless the user set `OPENBLAS_NUM_THREADS`: the
    /// library parallelises over blocks of chains itself (`ChainParallel`), and BLAS threads on
    /// top of that would oversubscribe the cores.
    static let threadingConfigured: Void = {
        if getenv("OPENBLAS_NUM_THREADS") == nil { scipy_openblas_set_num_threads(1) }
    }()

    /// OpenBLAS's build description: its version and options (`openblas_get_config`). Static
    /// storage owned by OpenBLAS.
    public static var configuration: UnsafePointer<CChar> { UnsafePointer(scipy_openblas_get_config()!) }

    /// The kernels OpenBLAS chose for this CPU, e.g. `"SkylakeX"` or `"Haswell"`
    /// (`openblas_get_corename`; `OPENBLAS_CORETYPE` overrides its choice). Static storage.
    public static var coreName: UnsafePointer<CChar> { UnsafePointer(scipy_openblas_get_corename()!) }

    /// The threads OpenBLAS uses for one product (1 unless `OPENBLAS_NUM_THREADS` is set).
    public static var threadCount: Int {
        threadingConfigured
        return Int(scipy_openblas_get_num_threads())
    }

    /// `C ← alpha · op(A) · op(B) + beta · C`, all row-major; `op(A)` is `m × k`, `op(B)` is
    /// `k × n`, `C` is `m × n`. `lda`, `ldb`, `ldc` are the row strides of the stored matrices.
    ///
    /// One row (`m = 1`, one chain) is a matrix-vector product: `sgemm` would pack all of `B`
    /// for it (a one-chain Langevin step of the toy2d MLP spent a quarter of its time there).
    @inline(__always)
    static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if m == 1 && !transA {
            if beta == 0 { c.update(repeating: 0, count: n) }  // sgemv scales C by β: 0·NaN would stay NaN
            // cᵀ = op(B)ᵀ aᵀ: B is k × n (row-major) untransposed, n × k transposed.
            gemv(trans: !transB, rows: transB ? n : k, cols: transB ? k : n, alpha: alpha, a: b, lda: ldb,
                 x: a, beta: beta == 0 ? 1 : beta, y: c)
            return
        }
        scipy_cblas_sgemm(
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
        scipy_cblas_sgemv(
            CblasRowMajor, trans ? CblasTrans : CblasNoTrans, blasint(rows), blasint(cols),
            alpha, a, blasint(lda), x, 1, beta, y, 1)
    }
}
