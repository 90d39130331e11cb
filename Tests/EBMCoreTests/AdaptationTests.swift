import Foundation
import XCTest
@testable import EBMCore

/// Dual averaging against a closed form, and adapted runs: deterministic for any thread count,
/// and per chain (a chain's result does not depend on the other chains of the run).
final class AdaptationTests: XCTestCase {
    /// With a deterministic acceptance `α(ε) = exp(−ε)`, the averaged step converges to the root of
    /// `α(ε) = δ`, `ε* = −ln δ`, from starts 100× too small and 100× too large.
    func testDualAveragingFindsTheTargetStep() {
        for target in [0.574, 0.65, 0.8] {
            let root = -log(target)
            for start in [root / 100, root * 100] {
                var averaging = DualAveraging(initialStep: start, target: target)
                for _ in 0..<5000 { averaging.update(acceptance: exp(-averaging.step)) }
                XCTAssertEqual(averaging.averagedStep, root, accuracy: 0.02 * root, "target \(target), start \(start)")
            }
        }
    }

    /// The refinement lands on the root of `E[α(ε)] = δ` under noisy acceptances: with
    /// `α = exp(−ε) + U(−0.1, 0.1)` (noise sd σ = 0.058, slope k = |dα/dlog ε| = 0.28 at the root),
    /// the Polyak average over the last 1500 of 3000 steps has sd ≈ σ / (k √1500) = 0.5 % in log ε;
    /// from starts 2× off on either side, within 2 %.
    func testRefinementFindsTheRootUnderNoise() {
        var stream = UniformStream(Philox4x32(seed: 3, purpose: 99))
        for start in [0.2, 0.9] {
            var refinement = StepSizeRefinement(initialStep: start, target: 0.65, length: 3000)
            for _ in 0..<3000 {
                refinement.update(acceptance: exp(-refinement.step) + 0.2 * (Double(stream.nextUnit()) - 0.5))
            }
            XCTAssertEqual(refinement.finalStep, -log(0.65), accuracy: 0.02 * -log(0.65), "start \(start)")
        }
    }

    func adaptedHMC(steps: Int = 60, warmup: Int = 40, mass: Bool = true) throws -> SamplerSpec {
        var s = SamplerSpec.hmc(steps: steps, stepSize: 0.05, leapfrogSteps: 4)
        s.adaptation = try AdaptationSettings(warmupSteps: warmup, targetAcceptance: 0.65, adaptMass: mass)
        return s
    }

    func testAdaptedRunsAreIdenticalForOneAndTwoThreads() throws {
        let energy = try GaussianEnergy(mean: [0, 1, 2], covariance: [1, 0.3, 0, 0.3, 2, 0, 0, 0, 0.1])
        var mala = SamplerSpec.mala(steps: 50, stepSize: 2)
        mala.adaptation = try AdaptationSettings(warmupSteps: 30, targetAcceptance: 0.574)
        for settings in [try adaptedHMC(), try adaptedHMC(mass: false), mala] {
            var one = (0..<(3 * 300)).map { Float($0 % 7) / 3 }, two = one
            let a = try runSampler(energy, settings, &one, threads: 1)
            let b = try runSampler(energy, settings, &two, threads: 2)
            XCTAssertEqual(one, two, "\(settings.kind)")
            XCTAssertEqual(a.accepted, b.accepted)
            XCTAssertEqual(a.adaptation!.stepSizes.array, b.adaptation!.stepSizes.array)
            XCTAssertEqual(a.adaptation!.inverseMass?.array, b.adaptation!.inverseMass?.array)
            XCTAssertNotEqual(a.adaptation!.stepSizes.array[0], settings.stepSize)
        }
    }

    /// Chains [k, k + m) of a run, run on their own with `chainOffset = k`, give exactly those rows —
    /// adaptation included (it is per chain).
    func testChainOffsetReproducesRowsOfALargerRun() throws {
        let energy = try BananaEnergy(dimension: 2, curvature: 1, scale: 1)
        for settings in [try adaptedHMC(), SamplerSpec.langevin(steps: 30, stepSize: 0.05)] {
            let x0 = (0..<(2 * 200)).map { Float($0 % 11) / 5 - 1 }
            var whole = x0
            let all = try runSampler(energy, settings, &whole, threads: 2)
            let (k, m) = (70, 45)
            var part = Array(x0[(2 * k)..<(2 * (k + m))])
            let some = try runSampler(energy, settings, &part, threads: 2, chainOffset: k)
            XCTAssertEqual(part, Array(whole[(2 * k)..<(2 * (k + m))]), "\(settings.kind)")
            XCTAssertEqual(some.accepted, Array(all.accepted[k..<(k + m)]))
        }
    }

    /// The adapted inverse mass estimates the target's variances (a diagonal Gaussian with variances
    /// spread over four orders of magnitude): the chains' mean estimate within 25 % of each variance
    /// (each chain's last window is ~500 correlated draws; Stan's regularisation shrinks by 5/(n+5)).
    func testMassAdaptationEstimatesTheVariances() throws {
        let variances: [Double] = [0.01, 0.1, 1, 10, 100]
        let d = variances.count
        var cov = [Double](repeating: 0, count: d * d)
        for j in 0..<d { cov[j * d + j] = variances[j] }
        let energy = try GaussianEnergy(mean: [Double](repeating: 0, count: d), covariance: cov)
        var x = [Float](repeating: 0, count: d * 64)
        let run = try runSampler(energy, try adaptedHMC(steps: 1100, warmup: 1000), &x, threads: 2)
        let mass = run.adaptation!.inverseMass!.array
        for j in 0..<d {
            let mean = (0..<64).reduce(0.0) { $0 + Double(mass[$1 * d + j]) } / 64
            XCTAssertEqual(mean, variances[j], accuracy: 0.25 * variances[j], "coordinate \(j)")
        }
        XCTAssertGreaterThan(run.rate(steps: 100), 0.5)
    }

    func testInvalidSettingsThrow() throws {
        XCTAssertThrowsError(try AdaptationSettings(warmupSteps: 0, targetAcceptance: 0.6))
        XCTAssertThrowsError(try AdaptationSettings(warmupSteps: 10, targetAcceptance: 1))
        var s = SamplerSpec.langevin(steps: 10, stepSize: 0.1)
        s.adaptation = try AdaptationSettings(warmupSteps: 5, targetAcceptance: 0.6)
        XCTAssertThrowsError(try s.kernel(dimension: 2))  // ULA has no acceptance to adapt to
        var h = try adaptedHMC(steps: 10, warmup: 10)
        XCTAssertThrowsError(try h.kernel(dimension: 2))  // warm-up must leave steps
        h = try adaptedHMC()
        h.kind = "barker"
        XCTAssertThrowsError(try h.kernel(dimension: 2))  // Barker has no mass to adapt
    }
}

extension AdaptationTests {
    /// Stan's window schedule: 75-step buffer, windows 25, 50, 100, …, the last stretched, 50-step end.
    func testMassWindowsFollowStan() throws {
        // 1250 warm-up steps: 1000 of dual averaging and mass windows, then 250 of refinement.
        let settings = try AdaptationSettings(warmupSteps: 1250, targetAcceptance: 0.65, adaptMass: true)
        XCTAssertEqual(settings.dualAveragingSteps, 1000)
        XCTAssertEqual(settings.massWindows, [75..<100, 100..<150, 150..<250, 250..<450, 450..<950])
        let short = try AdaptationSettings(warmupSteps: 125, targetAcceptance: 0.65, adaptMass: true).massWindows
        XCTAssertEqual(short, [15..<90])
        XCTAssertEqual(try AdaptationSettings(warmupSteps: 40, targetAcceptance: 0.65).refinementSteps, 0)
    }
}
