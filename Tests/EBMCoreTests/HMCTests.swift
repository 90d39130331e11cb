import XCTest
@testable import EBMCore

/// HMC against closed forms: the moments of a correlated 10-D Gaussian with condition number 100,
/// bit-identical results for 1 and 2 threads, the diagonal mass matrix, and divergence counting.
final class HMCTests: XCTestCase {
    func correlatedGaussian(dimension d: Int = 10) throws -> (GaussianEnergy, [Double]) {
        try EBMCoreTests.correlatedGaussian(dimension: d)
    }

    func sample(_ energy: GaussianEnergy, chains: Int, parameters: SamplerSpec, inverseMass: [Float]? = nil,
                threads: Int = 2, seed: UInt64 = 7) throws -> (x: [Float], accepted: [Double], divergent: [Double]) {
        var x = [Float](repeating: 0, count: chains * energy.dimension)
        var settings = parameters
        settings.inverseMass = inverseMass
        let run = try runSampler(energy, settings, &x, seed: seed, purpose: HMC.noisePurpose, threads: threads)
        return (x, run.accepted, run.divergent)
    }

    /// 4000 independent chains after 40 HMC steps from the origin: each coordinate's mean and
    /// variance within 5 standard errors of the truth (SE of a mean √(σ²/n), of a variance
    /// σ²√(2/n); the chains are independent, so n = 4000), and the covariance's off-diagonal
    /// entries within 5 SE (√((σ_ii σ_jj + σ_ij²)/n)).
    ///
    /// Two settings: a small step (acceptance near 1) and one where the narrowest direction's
    /// leapfrog error is of order 1 (η/σ_min ≈ 1.26, stable below 2), where a wrong Metropolis test
    /// or kinetic energy biases the moments far beyond these bounds. The trajectory lengths avoid
    /// resonance: |sin(L θ_k)| ≥ 0.3 for every eigendirection's leapfrog rotation θ_k (a trajectory
    /// of a whole number of half-periods brings a chain back to where it started; jittering the
    /// step, as Stan does, would avoid it).
    func testMomentsOfACorrelatedGaussian() throws {
        for (stepSize, leapfrogSteps, minimumRate) in [(Float(0.15), 12, 0.6), (Float(0.4), 10, 0.2)] {
            try checkMoments(stepSize: stepSize, leapfrogSteps: leapfrogSteps, minimumRate: minimumRate)
        }
    }

    func checkMoments(stepSize: Float, leapfrogSteps: Int, minimumRate: Double) throws {
        let (energy, sigma) = try correlatedGaussian()
        let d = 10, n = 4000
        let run = try sample(energy, chains: n,
                             parameters: .hmc(steps: 40, stepSize: stepSize, leapfrogSteps: leapfrogSteps))
        let rate = run.accepted.reduce(0, +) / Double(n * 40)
        XCTAssertGreaterThan(rate, minimumRate, "step \(stepSize)")
        XCTAssertLessThan(rate, 1, "step \(stepSize)")
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { mean[j] += Double(run.x[i * d + j]) / Double(n) } }
        for j in 0..<d {
            XCTAssertEqual(mean[j], 0.1 * Double(j), accuracy: 5 * (sigma[j * d + j] / Double(n)).squareRoot(),
                           "mean[\(j)], step \(stepSize)")
        }
        for a in 0..<d {
            for b in a..<d {
                var c = 0.0
                for i in 0..<n { c += (Double(run.x[i * d + a]) - mean[a]) * (Double(run.x[i * d + b]) - mean[b]) }
                c /= Double(n - 1)
                let se = ((sigma[a * d + a] * sigma[b * d + b] + sigma[a * d + b] * sigma[a * d + b]) / Double(n)).squareRoot()
                XCTAssertEqual(c, sigma[a * d + b], accuracy: 5 * se, "cov[\(a), \(b)], step \(stepSize)")
            }
        }
    }

    func testIdenticalForOneAndTwoThreads() throws {
        let (energy, _) = try correlatedGaussian()
        let p = SamplerSpec.hmc(steps: 5, stepSize: 0.2, leapfrogSteps: 5)
        let one = try sample(energy, chains: 300, parameters: p, threads: 1)
        let two = try sample(energy, chains: 300, parameters: p, threads: 2)
        XCTAssertEqual(one.x, two.x)
        XCTAssertEqual(one.accepted, two.accepted)
    }

    /// A diagonal Gaussian with variances 0.01 and 100: with M⁻¹ = Σ the scaled problem is the
    /// standard normal and a step of 0.8 is accepted most of the time (3 leapfrog steps: |sin 3θ| =
    /// 0.62, no resonance); with the identity mass the same step is far too large for the narrow
    /// direction (all but rejected, most trajectories divergent).
    func testDiagonalMassMatrix() throws {
        let energy = try GaussianEnergy(mean: [0, 0], covariance: [0.01, 0, 0, 100])
        let p = SamplerSpec.hmc(steps: 20, stepSize: 0.8, leapfrogSteps: 3)
        let scaled = try sample(energy, chains: 500, parameters: p, inverseMass: [0.01, 100])
        let plain = try sample(energy, chains: 500, parameters: p)
        XCTAssertGreaterThan(scaled.accepted.reduce(0, +) / 10_000, 0.8)
        // …and samples the target: variances 0.01 and 100 within 5 SE (σ²√(2/500)).
        for (j, variance) in [(0, 0.01), (1, 100.0)] {
            let v = (0..<500).reduce(0.0) { $0 + Double(scaled.x[2 * $1 + j]) * Double(scaled.x[2 * $1 + j]) } / 500
            XCTAssertEqual(v, variance, accuracy: 5 * variance * (2.0 / 500).squareRoot(), "variance[\(j)]")
        }
        XCTAssertLessThan(plain.accepted.reduce(0, +) / 10_000, 0.05)
        XCTAssertGreaterThan(plain.divergent.reduce(0, +) / 10_000, 0.5)
        XCTAssertThrowsError(try sample(energy, chains: 10, parameters: p, inverseMass: [1, 0]))
        XCTAssertThrowsError(try SamplerSpec.hmc(steps: 1, stepSize: 0.1, leapfrogSteps: 0).kernel(dimension: 2))
    }
}
