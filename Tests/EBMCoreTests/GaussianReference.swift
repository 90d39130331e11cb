import Foundation
import XCTest
@testable import EBMCore

/// Σ = Q diag(λ) Qᵀ with λ log-spaced over [0.1, 10] (condition number 100) and Q a product of
/// Givens rotations: a fixed, fully correlated covariance.
func correlatedGaussian(dimension d: Int = 10) throws -> (GaussianEnergy, [Double]) {
    var q = [Double](repeating: 0, count: d * d)
    for i in 0..<d { q[i * d + i] = 1 }
    for (a, b, angle) in [(0, 1, 0.7), (2, 5, -0.4), (3, 9, 1.1), (1, 7, 0.3), (4, 6, -0.9), (8, 2, 0.5)] {
        let c = cos(angle), s = sin(angle)
        for r in 0..<d {
            let qa = q[r * d + a], qb = q[r * d + b]
            q[r * d + a] = c * qa - s * qb
            q[r * d + b] = s * qa + c * qb
        }
    }
    let lambda = (0..<d).map { pow(10, -1 + 2 * Double($0) / Double(d - 1)) }
    var sigma = [Double](repeating: 0, count: d * d)
    for i in 0..<d {
        for j in 0..<d {
            sigma[i * d + j] = (0..<d).reduce(0) { $0 + q[i * d + $1] * lambda[$1] * q[j * d + $1] }
        }
    }
    return (try GaussianEnergy(mean: (0..<d).map { 0.1 * Double($0) }, covariance: sigma), sigma)
}

/// Asserts that `n` independent draws `x` (rows of `d`) have the moments of N(mean, Σ): each
/// coordinate's mean within 5 standard errors (√(σ_jj/n)), each covariance entry within 5 SE
/// (√((σ_aa σ_bb + σ_ab²)/n)).
func assertGaussianMoments(_ x: [Float], mean truth: [Double], covariance sigma: [Double], label: String,
                           file: StaticString = #filePath, line: UInt = #line) {
    let d = truth.count, n = x.count / d
    var mean = [Double](repeating: 0, count: d)
    for i in 0..<n { for j in 0..<d { mean[j] += Double(x[i * d + j]) / Double(n) } }
    for j in 0..<d {
        XCTAssertEqual(mean[j], truth[j], accuracy: 5 * (sigma[j * d + j] / Double(n)).squareRoot(),
                       "mean[\(j)], \(label)", file: file, line: line)
    }
    for a in 0..<d {
        for b in a..<d {
            var c = 0.0
            for i in 0..<n { c += (Double(x[i * d + a]) - mean[a]) * (Double(x[i * d + b]) - mean[b]) }
            c /= Double(n - 1)
            let se = ((sigma[a * d + a] * sigma[b * d + b] + sigma[a * d + b] * sigma[a * d + b]) / Double(n)).squareRoot()
            XCTAssertEqual(c, sigma[a * d + b], accuracy: 5 * se, "cov[\(a), \(b)], \(label)", file: file, line: line)
        }
    }
}
