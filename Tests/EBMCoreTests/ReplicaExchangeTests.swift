import XCTest
@testable import EBMCore

/// Replica exchange against a closed form: the weights of a two-mode mixture whose modes are 8σ
/// apart, which MALA alone never crosses; bit-identity for thread counts and chain splits.
final class ReplicaExchangeTests: XCTestCase {
    static func spec(steps: Int, stepSize: Float, temperatures: [Double], adapt: Bool = false) -> SamplerSpec {
        SamplerSpec(kind: "replica_exchange", steps: steps, stepSize: stepSize,
                    extra: ["kernel": .text("mala"), "temperatures": .array(temperatures),
                            "adapt_temperatures": .integer(adapt ? 1 : 0),
                            "inner.step_size": .number(Double(stepSize)), "inner.inverse_mass": SettingValue.none])
    }

    static let ladder = (0..<8).map { pow(40, Double($0) / 7) }

    /// Weights 0.2 at −4 and 0.8 at +4 (unit variances): every chain starts in the small mode.
    /// After 1500 steps the share of 2000 independent chains right of 0 is 0.8 within 5 SE
    /// (√(0.16/2000) ≈ 0.009); MALA alone, same steps, leaves under 10 % there (the barrier is e^8 high: a few
    /// chains cross once, none comes back).
    func testRecoversModeWeightsWhereMALAStaysStuck() throws {
        let mixture = try GaussianMixtureEnergy(means: [-4, 4], covariances: [1, 1], weights: [0.2, 0.8])
        let n = 2000
        var x = [Float](repeating: -4, count: n)
        let run = try runSampler(mixture, Self.spec(steps: 1500, stepSize: 0.8, temperatures: Self.ladder), &x,
                                 purpose: ReplicaExchange.noisePurpose, threads: 2)
        let right = Double(x.filter { $0 > 0 }.count) / Double(n)
        XCTAssertEqual(right, 0.8, accuracy: 5 * (0.16 / Double(n)).squareRoot())
        // Statistics: 7 swap rates in (0, 1), then the round trips, then the ladder (unchanged).
        let width = 7 + 1 + 8
        for i in 0..<n {
            for k in 0..<7 { XCTAssertTrue(run.statistics[i * width + k] > 0 && run.statistics[i * width + k] < 1) }
            XCTAssertEqual(run.statistics[i * width + 8], 1)
            XCTAssertEqual(run.statistics[i * width + 15], 40, accuracy: 1e-4)
        }
        XCTAssertGreaterThan((0..<n).reduce(0.0) { $0 + run.statistics[$1 * width + 7] }, Double(n))
        var stuck = [Float](repeating: -4, count: n)
        try runSampler(mixture, .mala(steps: 1500, stepSize: 0.8), &stuck, purpose: MALA.noisePurpose, threads: 2)
        XCTAssertLessThan(Double(stuck.filter { $0 > 0 }.count) / Double(n), 0.1)
    }

    func testIdenticalForThreadCountsAndChainSplits() throws {
        let energy = try BananaEnergy(dimension: 2, curvature: 1, scale: 1)
        var adapted = Self.spec(steps: 80, stepSize: 0.3, temperatures: [1, 2, 4, 8], adapt: true)
        adapted.adaptation = try AdaptationSettings(warmupSteps: 40, targetAcceptance: 0.574)
        for spec in [Self.spec(steps: 40, stepSize: 0.3, temperatures: [1, 2, 4, 8]), adapted] {
            let x0 = (0..<(2 * 150)).map { Float($0 % 11) / 5 - 1 }
            var one = x0, two = x0
            let a = try runSampler(energy, spec, &one, purpose: ReplicaExchange.noisePurpose, threads: 1)
            let b = try runSampler(energy, spec, &two, purpose: ReplicaExchange.noisePurpose, threads: 2)
            XCTAssertEqual(one, two)
            XCTAssertEqual(a.statistics, b.statistics)
            let (k, m) = (16, 90)
            var part = Array(x0[(2 * k)..<(2 * (k + m))])
            _ = try runSampler(energy, spec, &part, purpose: ReplicaExchange.noisePurpose, threads: 2, chainOffset: k)
            XCTAssertEqual(part, Array(two[(2 * k)..<(2 * (k + m))]))
        }
    }

    func testRejectsBadLadders() {
        for ladder in [[1.0], [1, 0.5], [2, 4], [1, 1, 2], [1, -2]] {
            XCTAssertThrowsError(try Self.spec(steps: 1, stepSize: 0.1, temperatures: ladder).settings(dimension: 1),
                                 "\(ladder)")
        }
    }
}
