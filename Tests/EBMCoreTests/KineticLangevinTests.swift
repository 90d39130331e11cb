import XCTest
@testable import EBMCore

/// Kinetic Langevin (OBABO) against closed forms: the Metropolis-adjusted form is exact at a large
/// step; the unadjusted form's stationary variance on N(0, 1) is 1/(1 − h²/4) (the leapfrog's
/// shadow Hamiltonian p²/2 + (1 − h²/4) q²/2, which the exact O steps also preserve), so its bias
/// shrinks as h²; bit-identity for thread counts and chain splits.
final class KineticLangevinTests: XCTestCase {
    static func spec(steps: Int, stepSize: Float, friction: Double = 1, metropolis: Bool) -> SamplerSpec {
        SamplerSpec(kind: "kinetic_langevin", steps: steps, stepSize: stepSize,
                    extra: ["friction": .number(friction), "metropolis": .integer(metropolis ? 1 : 0),
                            "inverse_mass": SettingValue.none, "divergence_threshold": .number(1000)])
    }

    func variance(_ spec: SamplerSpec, chains: Int = 20_000, seed: UInt64 = 5) throws -> (Double, Double, SamplerRun) {
        let g = try GaussianEnergy(mean: [0], covariance: [1])
        var x = [Float](repeating: 0, count: chains)
        let run = try runSampler(g, spec, &x, seed: seed, purpose: KineticLangevin.noisePurpose, threads: 2)
        let mean = x.reduce(0.0) { $0 + Double($1) } / Double(chains)
        return (mean, x.reduce(0.0) { $0 + pow(Double($1) - mean, 2) } / Double(chains - 1), run)
    }

    /// 20 000 independent chains after 300 steps (friction 1: the momentum forgets in ~1/(γh)
    /// steps): SE of the variance √(2/n)·v ≈ 0.01; tolerance 5 SE.
    func testMetropolisFormIsExactAtALargeStep() throws {
        let (mean, v, run) = try variance(Self.spec(steps: 300, stepSize: 1.2, metropolis: true))
        XCTAssertEqual(mean, 0, accuracy: 0.04)
        XCTAssertEqual(v, 1, accuracy: 0.05)
        let rate = run.rate(steps: 300)
        XCTAssertTrue(rate > 0.3 && rate < 1, "acceptance \(rate)")
    }

    /// Unadjusted, h = 0.8 and 0.4: variances 1.190 and 1.042 (closed form above), each within
    /// 5 SE; the bias ratio is then ≈ 4.6 (second order in h).
    func testUnadjustedBiasIsSecondOrder() throws {
        var bias: [Double] = []
        for h in [0.8, 0.4] {
            let (_, v, run) = try variance(Self.spec(steps: 400, stepSize: Float(h), metropolis: false))
            let exact = 1 / (1 - h * h / 4)
            XCTAssertEqual(v, exact, accuracy: 5 * exact * (2.0 / 20_000).squareRoot(), "h = \(h)")
            XCTAssertEqual(run.rate(steps: 400), 1)
            bias.append(v - 1)
        }
        XCTAssertGreaterThan(bias[0] / bias[1], 2.5)
    }

    func testIdenticalForThreadCountsAndChainSplits() throws {
        let energy = try BananaEnergy(dimension: 2, curvature: 1, scale: 1)
        for metropolis in [false, true] {
            let spec = Self.spec(steps: 40, stepSize: 0.2, friction: 2, metropolis: metropolis)
            let x0 = (0..<(2 * 150)).map { Float($0 % 11) / 5 - 1 }
            var one = x0, two = x0
            let a = try runSampler(energy, spec, &one, purpose: KineticLangevin.noisePurpose, threads: 1)
            let b = try runSampler(energy, spec, &two, purpose: KineticLangevin.noisePurpose, threads: 2)
            XCTAssertEqual(one, two)
            XCTAssertEqual(a.accepted, b.accepted)
            let (k, m) = (48, 60)
            var part = Array(x0[(2 * k)..<(2 * (k + m))])
            _ = try runSampler(energy, spec, &part, purpose: KineticLangevin.noisePurpose, threads: 2, chainOffset: k)
            XCTAssertEqual(part, Array(two[(2 * k)..<(2 * (k + m))]))
        }
    }

    func testRejectsBadSettings() {
        XCTAssertThrowsError(try Self.spec(steps: 1, stepSize: 0.1, friction: 0, metropolis: false).settings(dimension: 1))
        XCTAssertThrowsError(try Self.spec(steps: 1, stepSize: 0.1, friction: -1, metropolis: true).settings(dimension: 1))
        XCTAssertThrowsError(try Self.spec(steps: 1, stepSize: 0, metropolis: true).settings(dimension: 1))
    }
}
