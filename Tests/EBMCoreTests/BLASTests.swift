import XCTest
@testable import EBMCore

/// `BLAS.gemm` against a double-precision triple loop, for every transposition and for one row
/// (a matrix-vector product inside) as for several.
final class BLASTests: XCTestCase {
    /// `alpha · op(A) · op(B) + beta · C` in Double, row-major with the given strides.
    private func reference(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: [Float], lda: Int,
                           b: [Float], ldb: Int, beta: Float, c: [Float], ldc: Int) -> [Double] {
        var out = c.map(Double.init)
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for l in 0..<k {
                    let x = transA ? a[l * lda + i] : a[i * lda + l], y = transB ? b[j * ldb + l] : b[l * ldb + j]
                    sum += Double(x) * Double(y)
                }
                out[i * ldc + j] = Double(alpha) * sum + (beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j]))
            }
        }
        return out
    }

    func testProductsMatchTheReferenceForOneRowAndMany() {
        var stream = UniformStream(Philox4x32(seed: 7, purpose: 99))
        let (n, k) = (37, 29)
        var cases: [(m: Int, transA: Bool, transB: Bool, beta: Float)] = []
        for m in [1, 5] {
            for transA in [false, true] {
                for transB in [false, true] {
                    for beta: Float in [0, 0.5] { cases.append((m, transA, transB, beta)) }
                }
            }
        }
        for (m, transA, transB, beta) in cases {
            let lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 2, ldc = n + 1
            let a = (0..<((transA ? k : m) * lda)).map { _ in stream.nextUniform(-1, 1) }
            let b = (0..<((transB ? n : k) * ldb)).map { _ in stream.nextUniform(-1, 1) }
            // β = 0 must ignore C entirely, NaN included (sgemv would keep 0·NaN = NaN).
            var c = (0..<(m * ldc)).map { _ in beta == 0 ? Float.nan : stream.nextUnit() }
            let expected = reference(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1.5, a: a, lda: lda,
                                     b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        BLAS.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1.5, a: pa.baseAddress!,
                                  lda: lda, b: pb.baseAddress!, ldb: ldb, beta: beta, c: pc.baseAddress!, ldc: ldc)
                    }
                }
            }
            for i in 0..<m {
                for j in 0..<n {
                    // float32 products of k = 29 terms of magnitude ≤ 1.5: error ≤ k·ε·Σ|terms| ≈ 1e-4.
                    let got = Double(c[i * ldc + j]), want = expected[i * ldc + j]
                    XCTAssertEqual(got, want, accuracy: 1e-4, "m=\(m) transA=\(transA) transB=\(transB) beta=\(beta) at (\(i), \(j))")
                }
            }
        }
    }
}
