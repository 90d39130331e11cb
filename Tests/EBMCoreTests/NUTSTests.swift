import XCTest
@testable import EBMCore

/// NUTS against closed forms: the moments of the correlated 10-D Gaussian (condition number 100),
/// its statistics' ranges, bit-identity for thread counts and chain splits (with adaptation), and
/// tree depth bounded by `max_tree_depth`.
final class NUTSTests: XCTestCase {
    static func spec(steps: Int, stepSize: Float, depth: Int = 10) -> SamplerSpec {
        SamplerSpec(kind: "nuts", steps: steps, stepSize: stepSize,
                    extra: ["max_tree_depth": .integer(Int64(depth)), "inverse_mass": SettingValue.none,
                            "divergence_threshold": .number(1000)])
    }

    /// 4000 independent chains after 30 NUTS transitions from the origin: moments within 5 SE
    /// (`assertGaussianMoments`). The step (0.25, against σ_min ≈ 0.32) leaves a leapfrog error
    /// of order 1 in the narrowest direction: a wrong multinomial weight, U-turn test or
    /// biased-progressive merge shows up far beyond these bounds. Statistics: the mean acceptance
    /// statistic in (0.5, 1], the tree depth in [1, 10] and 2^depth − 1 ≥ leapfrog steps ≥ depth.
    func testMomentsOfACorrelatedGaussian() throws {
        let (energy, sigma) = try correlatedGaussian()
        let d = 10, n = 4000, steps = 30
        var x = [Float](repeating: 0, count: n * d)
        let run = try runSampler(energy, Self.spec(steps: steps, stepSize: 0.25), &x, seed: 3,
                                 purpose: NUTS.noisePurpose, threads: 2)
        assertGaussianMoments(x, mean: (0..<d).map { 0.1 * Double($0) }, covariance: sigma, label: "nuts")
        for i in 0..<n {
            let (depth, leapfrog, acceptance) = (run.statistics[3 * i] / Double(steps),
                                                 run.statistics[3 * i + 1] / Double(steps),
                                                 run.statistics[3 * i + 2] / Double(steps))
            XCTAssertTrue(depth >= 1 && depth <= 10, "tree depth \(depth)")
            XCTAssertTrue(leapfrog >= depth && leapfrog <= pow(2, 10) - 1, "leapfrog \(leapfrog)")
            XCTAssertTrue(acceptance > 0.5 && acceptance <= 1, "acceptance statistic \(acceptance)")
        }
    }

    /// A tree depth of 1 is one leapfrog step per transition: every chain's statistics say so.
    func testTreeDepthIsBounded() throws {
        let (energy, _) = try correlatedGaussian()
        var x = [Float](repeating: 0, count: 64 * 10)
        let run = try runSampler(energy, Self.spec(steps: 20, stepSize: 0.05, depth: 1), &x,
                                 purpose: NUTS.noisePurpose, threads: 2)
        for i in 0..<64 {
            XCTAssertEqual(run.statistics[3 * i], 20)
            XCTAssertEqual(run.statistics[3 * i + 1], 20)
        }
    }

    /// Chains in a block build trees of different depths; the block structure keeps every chain's
    /// numbers independent of the thread count and of which other chains share the call.
    func testIdenticalForThreadCountsAndChainSplits() throws {
        let energy = try BananaEnergy(dimension: 2, curvature: 1, scale: 1)
        var adapted = Self.spec(steps: 60, stepSize: 0.3)
        adapted.adaptation = try AdaptationSettings(warmupSteps: 30, targetAcceptance: 0.8, adaptMass: true)
        for spec in [Self.spec(steps: 40, stepSize: 0.3), adapted] {
            let x0 = (0..<(2 * 150)).map { Float($0 % 11) / 5 - 1 }
            var one = x0, two = x0
            let a = try runSampler(energy, spec, &one, purpose: NUTS.noisePurpose, threads: 1)
            let b = try runSampler(energy, spec, &two, purpose: NUTS.noisePurpose, threads: 2)
            XCTAssertEqual(one, two)
            XCTAssertEqual(a.statistics, b.statistics)
            let (k, m) = (32, 70)
            var part = Array(x0[(2 * k)..<(2 * (k + m))])
            let p = try runSampler(energy, spec, &part, purpose: NUTS.noisePurpose, threads: 2, chainOffset: k)
            XCTAssertEqual(part, Array(two[(2 * k)..<(2 * (k + m))]))
            XCTAssertEqual(p.statistics, Array(b.statistics[(3 * k)..<(3 * (k + m))]))
        }
    }

    func testRejectsBadSettings() {
        XCTAssertThrowsError(try Self.spec(steps: 1, stepSize: 0.1, depth: 0).settings(dimension: 2))
        XCTAssertThrowsError(try Self.spec(steps: 1, stepSize: 0.1, depth: 16).settings(dimension: 2))
        XCTAssertThrowsError(try Self.spec(steps: 1, stepSize: -0.1).settings(dimension: 2))
    }
}
