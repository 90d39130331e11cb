import XCTest
@testable import EBMCore

final class GaussianEnergyTests: XCTestCase {
    let mean = [0.5, -1.0, 2.0]
    let cov = [2.0, 0.6, 0.2,
               0.6, 1.0, -0.3,
               0.2, -0.3, 0.5]

    /// P Σ = I to float precision.
    func testPrecisionInvertsCovariance() throws {
        let g = try GaussianEnergy(mean: mean, covariance: cov)
        for i in 0..<3 {
            for j in 0..<3 {
                let s = (0..<3).reduce(0.0) { $0 + Double(g.precision.base[i * 3 + $1]) * cov[$1 * 3 + j] }
                XCTAssertEqual(s, i == j ? 1 : 0, accuracy: 1e-5)
            }
        }
    }

    /// Energies against ½ dᵀ Σ⁻¹ d computed by solving Σ y = d (Gaussian elimination in double),
    /// gradients against central differences of that.
    func testEnergyAndGradient() throws {
        let g = try GaussianEnergy(mean: mean, covariance: cov)
        let reference: ([Double]) -> Double = { x in
            var a = self.cov, d = zip(x, self.mean).map { $0 - $1 }
            let dOriginal = d
            for p in 0..<3 {  // forward elimination, no pivoting needed for SPD
                for r in (p + 1)..<3 {
                    let f = a[r * 3 + p] / a[p * 3 + p]
                    for c in p..<3 { a[r * 3 + c] -= f * a[p * 3 + c] }
                    d[r] -= f * d[p]
                }
            }
            var y = [0.0, 0.0, 0.0]
            for r in stride(from: 2, through: 0, by: -1) {
                var s = d[r]
                for c in (r + 1)..<3 { s -= a[r * 3 + c] * y[c] }
                y[r] = s / a[r * 3 + r]
            }
            return 0.5 * zip(dOriginal, y).reduce(0) { $0 + $1.0 * $1.1 }
        }
        var rng = TestRNG(state: 5)
        let rows = 4
        let x = (0..<(rows * 3)).map { _ in Double(Float(2 * rng.normal())) }
        var e = [Float](repeating: 0, count: rows), grad = [Float](repeating: 0, count: rows * 3)
        let ws = try g.makeWorkspace(capacity: rows)
        x.map(Float.init).withUnsafeBufferPointer { xb in
            e.withUnsafeMutableBufferPointer { eb in
                grad.withUnsafeMutableBufferPointer { gb in
                    g.gradients(xb, rows: rows, energies: eb, into: gb, workspace: ws)
                }
            }
        }
        for i in 0..<rows {
            let row = Array(x[(i * 3)..<(i * 3 + 3)])
            XCTAssertTrue(close(Double(e[i]), reference(row), 1e-5))
            for j in 0..<3 {
                XCTAssertTrue(close(Double(grad[i * 3 + j]), centralDifference(reference, at: row, coordinate: j), 1e-4))
            }
        }
    }

    func testRejectsInvalidCovariance() {
        XCTAssertThrowsError(try GaussianEnergy(mean: [0, 0], covariance: [1, 0.5, 0.4, 1]))  // not symmetric
        XCTAssertThrowsError(try GaussianEnergy(mean: [0, 0], covariance: [1, 2, 2, 1]))  // indefinite
        XCTAssertThrowsError(try GaussianEnergy(mean: [0, 0], covariance: [1, 0, 0]))  // wrong size
    }
}
