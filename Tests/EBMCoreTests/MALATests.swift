import Foundation
import XCTest
@testable import EBMCore

final class MALATests: XCTestCase {
    func runMALA<E: EnergyFunction>(_ energy: E, _ x: inout [Float], steps: Int, stepSize: Float, threads: Int,
                                    seed: UInt64 = 1) throws -> [Double] {
        try runSampler(energy, .mala(steps: steps, stepSize: stepSize), &x, seed: seed, purpose: MALA.noisePurpose,
                       threads: threads).accepted
    }

    /// MALA is exact for any step: on N(0, σ²) with a large step (ULA's variance would be off by
    /// σ²/(1 − η/2σ²) = 2σ² here) the sample variance matches σ². 20 000 chains after 300 steps:
    /// SE of the variance ≈ σ² sqrt(2/n) = 0.01; tolerance 5 SE.
    func testExactVarianceAtLargeStep() throws {
        let g = try GaussianEnergy(mean: [0], covariance: [1])
        var x = [Float](repeating: 0, count: 20_000)
        let accepted = try runMALA(g, &x, steps: 300, stepSize: 1.0, threads: 2)
        let mean = x.reduce(0.0) { $0 + Double($1) } / Double(x.count)
        let variance = x.reduce(0.0) { $0 + pow(Double($1) - mean, 2) } / Double(x.count - 1)
        XCTAssertEqual(mean, 0, accuracy: 0.04)
        XCTAssertEqual(variance, 1, accuracy: 0.05)
        let rate = accepted.reduce(0, +) / Double(accepted.count * 300)
        XCTAssertTrue(rate > 0.3 && rate < 0.99, "acceptance \(rate)")
    }

    func testThreadCountDoesNotChangeResults() throws {
        let banana = try BananaEnergy(dimension: 2, curvature: 1, scale: 1)
        var one = (0..<(2 * 700)).map { Float($0 % 13) / 6 - 1 }, two = one
        let a1 = try runMALA(banana, &one, steps: 50, stepSize: 0.1, threads: 1)
        let a2 = try runMALA(banana, &two, steps: 50, stepSize: 0.1, threads: 2)
        XCTAssertEqual(one, two)
        XCTAssertEqual(a1, a2)
    }
}

final class AnalyticEnergyTests: XCTestCase {
    /// Gradients of the closed-form energies against central differences of their own energies
    /// in float32 (h = 1e-2: truncation ~1e-4 · |E'''|, rounding ~1e-5).
    func checkGradient<E: EnergyFunction>(_ energy: E, points: [[Float]], tolerance: Float = 2e-3) throws {
        let d = energy.dimension
        let ws = try energy.makeWorkspace(capacity: 1)
        for p in points {
            var g = [Float](repeating: 0, count: d), e: [Float] = [0]
            p.withUnsafeBufferPointer { xb in
                g.withUnsafeMutableBufferPointer { gb in
                    e.withUnsafeMutableBufferPointer { eb in energy.gradients(xb, rows: 1, energies: eb, into: gb, workspace: ws) }
                }
            }
            for j in 0..<d {
                var plus = p, minus = p
                plus[j] += 1e-2
                minus[j] -= 1e-2
                var ep: [Float] = [0], em: [Float] = [0]
                plus.withUnsafeBufferPointer { xb in ep.withUnsafeMutableBufferPointer { energy.energies(xb, rows: 1, into: $0, workspace: ws) } }
                minus.withUnsafeBufferPointer { xb in em.withUnsafeMutableBufferPointer { energy.energies(xb, rows: 1, into: $0, workspace: ws) } }
                let fd = (ep[0] - em[0]) / 2e-2
                XCTAssertEqual(g[j], fd, accuracy: tolerance * max(1, abs(fd)), "\(E.self) at \(p), coordinate \(j)")
            }
        }
    }

    let points: [[Float]] = [[0.3, -0.7, 1.1], [-1.2, 0.4, 0.0], [2.0, 1.5, -0.5]]

    func testGradients() throws {
        try checkGradient(try DoubleWellEnergy(dimension: 3, barrier: 2), points: points)
        try checkGradient(try BananaEnergy(dimension: 3, curvature: 0.8, scale: 1.5), points: points)
        try checkGradient(try GaussianMixtureEnergy(
            means: [0, 0, 0, 1, 1, -1], covariances: [1, 0.3, 0, 0.3, 1, 0, 0, 0, 2, 0.5, 0, 0, 0, 0.5, 0, 0, 0, 0.5],
            weights: [0.3, 0.7]), points: points)
    }

    /// A one-component mixture is its Gaussian, normalised: E_mix = E_gauss + ln Z.
    func testMixtureOfOneIsNormalisedGaussian() throws {
        let g = try GaussianEnergy(mean: [1, 2], covariance: [2, 0.5, 0.5, 1])
        let m = try GaussianMixtureEnergy(means: [1, 2], covariances: [2, 0.5, 0.5, 1], weights: [1])
        let x: [Float] = [0.5, -1]
        var eg: [Float] = [0], em: [Float] = [0]
        try x.withUnsafeBufferPointer { xb in
            try eg.withUnsafeMutableBufferPointer { g.energies(xb, rows: 1, into: $0, workspace: try g.makeWorkspace(capacity: 1)) }
            try em.withUnsafeMutableBufferPointer { m.energies(xb, rows: 1, into: $0, workspace: try m.makeWorkspace(capacity: 1)) }
        }
        XCTAssertEqual(Double(em[0]), Double(eg[0]) + g.logPartition, accuracy: 1e-5)
    }

    func testInvalidMixturesThrow() {
        XCTAssertThrowsError(try GaussianMixtureEnergy(means: [0, 0], covariances: [1, 1], weights: [0.5, 0.4]))
        XCTAssertThrowsError(try GaussianMixtureEnergy(means: [0, 0], covariances: [1], weights: [0.5, 0.5]))
        XCTAssertThrowsError(try GaussianMixtureEnergy(means: [0, 0], covariances: [1, -1], weights: [0.5, 0.5]))
    }

    /// AIS recovers the closed-form ln Z of a 3-d Gaussian (within 4 standard errors) with MALA and
    /// with HMC transitions, and with 1 and 2 threads gives bit-identical weights.
    func testAISOnGaussian() throws {
        let g = try GaussianEnergy(mean: [1, -1, 0.5], covariance: [2, 0.3, 0, 0.3, 1, 0, 0, 0, 0.5])
        for transition in [SamplerSpec.mala(steps: 2, stepSize: 0.2), .hmc(steps: 1, stepSize: 0.3, leapfrogSteps: 3)] {
            let settings = try AnnealedImportanceSampling.Settings(temperatures: 100, transition: try transition.settings(dimension: 3), baseStd: 2, seed: 9)
            var results: [[Double]] = []
            for threads in [1, 2] {
                var w = [Double](repeating: 0, count: 512), a = w
                let r = try w.withUnsafeMutableBufferPointer { wb in
                    try a.withUnsafeMutableBufferPointer { ab in
                        try AnnealedImportanceSampling.estimate(g, baseMean: [0, 0, 0], settings: settings, chains: 512,
                                                                threads: threads, logWeights: wb,
                                                                counts: ChainCounts(accepted: ab.baseAddress, divergent: nil))
                    }
                }
                XCTAssertEqual(r.logZ, g.logPartition, accuracy: 4 * r.standardError + 1e-3, "\(transition.kind)")
                XCTAssertLessThan(r.standardError, 0.05)
                XCTAssertGreaterThan(a.reduce(0, +) / Double(512 * 100 * transition.steps), 0.5, "\(transition.kind)")
                results.append(w)
            }
            XCTAssertEqual(results[0], results[1])
        }
    }
}
