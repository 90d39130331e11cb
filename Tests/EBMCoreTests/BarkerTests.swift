import Foundation
import XCTest
@testable import EBMCore

final class BarkerTests: XCTestCase {
    func runBarker<E: EnergyFunction>(_ energy: E, _ x: inout [Float], steps: Int, stepSize: Float, threads: Int = 2,
                                      seed: UInt64 = 3) throws -> [Double] {
        try runSampler(energy, .barker(steps: steps, stepSize: stepSize), &x, seed: seed, purpose: Barker.noisePurpose,
                       threads: threads).accepted
    }

    /// Barker is exact at any step size: on a correlated 3-d Gaussian, 8000 chains after 400 steps
    /// from the origin with a large step (acceptance well below 1) have each coordinate's mean and
    /// variance within 5 standard errors (SE of a mean √(σ²/n), of a variance σ²√(2/n)).
    func testGaussianMomentsAtLargeStep() throws {
        let cov: [Double] = [1, 0.5, 0, 0.5, 2, 0, 0, 0, 0.25]
        let mean: [Double] = [1, -1, 0.5]
        let g = try GaussianEnergy(mean: mean, covariance: cov)
        let n = 8000
        var x = [Float](repeating: 0, count: n * 3)
        let accepted = try runBarker(g, &x, steps: 400, stepSize: 1.2)
        for j in 0..<3 {
            let v = (0..<n).map { Double(x[$0 * 3 + j]) }
            let m = v.reduce(0, +) / Double(n)
            let s2 = v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(n - 1)
            let sigma2 = cov[j * 3 + j]
            XCTAssertEqual(m, mean[j], accuracy: 5 * (sigma2 / Double(n)).squareRoot(), "mean \(j)")
            XCTAssertEqual(s2, sigma2, accuracy: 5 * sigma2 * (2 / Double(n)).squareRoot(), "variance \(j)")
        }
        let rate = accepted.reduce(0, +) / Double(n * 400)
        XCTAssertTrue(rate > 0.2 && rate < 0.9, "acceptance \(rate)")
    }

    /// Invariance on a bimodal mixture: chains started from exact draws of
    /// 0.3 N(−2, 0.5²) + 0.7 N(1.5, 1) stay distributed so after 50 steps — the fraction right of 0
    /// (0.7·Φ(1.5) + 0.3·(1 − Φ(4)) = 0.6533) and the mean (0.45) within 5 standard errors. A wrong
    /// Hastings correction (e.g. without the skew's ratio) moves mass between the modes' shapes.
    func testMixtureStaysInvariant() throws {
        let mixture = try GaussianMixtureEnergy(means: [-2, 1.5], covariances: [0.25, 1], weights: [0.3, 0.7])
        let n = 20_000
        var rng = UniformStream(Philox4x32(seed: 11, purpose: 99))
        var x = (0..<n).map { _ -> Float in
            let u1 = Double(rng.nextUnit()), u2 = Double(rng.nextUnit()), pick = rng.nextUnit()
            let z = Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
            return pick < 0.3 ? -2 + 0.5 * z : 1.5 + z
        }
        _ = try runBarker(mixture, &x, steps: 50, stepSize: 0.8)
        let right = Double(x.filter { $0 > 0 }.count) / Double(n)
        XCTAssertEqual(right, 0.6533, accuracy: 5 * (0.6533 * 0.3467 / Double(n)).squareRoot())
        let mean = x.reduce(0.0) { $0 + Double($1) } / Double(n)
        let variance = 0.3 * (0.25 + 4) + 0.7 * (1 + 2.25) - 0.45 * 0.45
        XCTAssertEqual(mean, 0.45, accuracy: 5 * (variance / Double(n)).squareRoot())
    }

    func testThreadCountAndChainOffsetDoNotChangeResults() throws {
        let banana = try BananaEnergy(dimension: 2, curvature: 1, scale: 1)
        var one = (0..<(2 * 700)).map { Float($0 % 13) / 6 - 1 }, two = one
        let a1 = try runBarker(banana, &one, steps: 40, stepSize: 0.5, threads: 1)
        let a2 = try runBarker(banana, &two, steps: 40, stepSize: 0.5, threads: 2)
        XCTAssertEqual(one, two)
        XCTAssertEqual(a1, a2)
        // Chains [512, 700) run alone with chain_offset 512 are those rows of the whole run.
        let start: [Float] = (0..<(2 * 700)).map { (k: Int) -> Float in Float(k % 13) / 6 - 1 }
        var tail = Array(start[(2 * 512)...])
        _ = try runSampler(banana, .barker(steps: 40, stepSize: 0.5), &tail, seed: 3, purpose: Barker.noisePurpose,
                           chainOffset: 512)
        XCTAssertEqual(tail, Array(one.suffix(2 * 188)))
    }

    /// The record is read strictly: an unknown or missing field, a bad step size, an unknown kind.
    func testRecordsAreReadStrictly() {
        func kernel(_ kind: String, _ fields: [String: SettingValue]) throws -> any SamplerKernel {
            try KernelRegistry.kernel(SettingsRecord(role: "sampler", kind: kind, fields: fields), dimension: 2)
        }
        XCTAssertNoThrow(try kernel("barker", ["step_size": .number(0.5)]))
        XCTAssertThrowsError(try kernel("barker", ["step_size": .number(0.5), "n_leapfrog": .integer(3)]))
        XCTAssertThrowsError(try kernel("barker", [:]))
        XCTAssertThrowsError(try kernel("barker", ["step_size": .number(-1)]))
        XCTAssertThrowsError(try kernel("barker", ["step_size": .text("big")]))
        XCTAssertThrowsError(try kernel("nuts", ["step_size": .number(0.5)]))
    }
}
