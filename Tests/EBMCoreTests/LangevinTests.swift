import XCTest
@testable import EBMCore

final class LangevinTests: XCTestCase {
    func gaussian() throws -> GaussianEnergy {
        try GaussianEnergy(mean: [1, -2], covariance: [1, 0.5, 0.5, 2])
    }

    func run(_ energy: GaussianEnergy, _ x: inout [Float], _ p: SamplerSpec, seed: UInt64,
             threads: Int = 1, shouldStop: () -> Bool = { false }) throws {
        try runSampler(energy, p, &x, seed: seed, threads: threads, poll: { _ in shouldStop() })
    }

    /// Bit-identical results with 1, 2 and 3 threads (blocks depend only on the chain count).
    func testThreadCountDoesNotChangeResults() throws {
        let g = try gaussian()
        let p = SamplerSpec.langevin(steps: 40, stepSize: 0.05)
        var one = (0..<(2 * 1000)).map { Float($0 % 17) / 4 }, two = one, three = one
        try run(g, &one, p, seed: 3, threads: 1)
        try run(g, &two, p, seed: 3, threads: 2)
        try run(g, &three, p, seed: 3, threads: 3)
        XCTAssertEqual(one, two)
        XCTAssertEqual(one, three)
    }

    func testChainBlocksPartition() {
        for rows in [1, 7, 31, 32, 33, 100, 256, 4096, 65536] {
            let blocks = ChainBlocks(rows: rows)
            XCTAssertEqual(blocks.blockRows, min(rows, ChainBlocks.standardRows))
            var covered = 0
            for b in 0..<blocks.count {
                XCTAssertEqual(blocks.range(b).lowerBound, covered)
                covered = blocks.range(b).upperBound
            }
            XCTAssertEqual(covered, rows)
        }
        XCTAssertEqual(ChainBlocks(single: 100).count, 1)
    }

    /// A run split at a multiple of `ChainBlocks.alignment` gives each piece exactly the blocks
    /// (start and size) the whole run gives those chains — what keeps `chain_offset` splits bit-identical.
    func testSplitsAtTheAlignmentKeepTheBlocks() {
        func starts(_ blocks: ChainBlocks, from offset: Int) -> [Range<Int>] {
            (0..<blocks.count).map { blocks.range($0).lowerBound + offset ..< blocks.range($0).upperBound + offset }
        }
        for blockRows in [32, 64, 128] {
            for rows in [300, 1000, 4097] {
                let whole = starts(ChainBlocks(rows: rows, blockRows: blockRows), from: 0)
                var pieces: [Range<Int>] = []
                for k in stride(from: 0, to: rows, by: 2 * ChainBlocks.alignment) {
                    let n = min(2 * ChainBlocks.alignment, rows - k)
                    pieces += starts(ChainBlocks(rows: n, blockRows: blockRows), from: k)
                }
                XCTAssertEqual(pieces, whole)
            }
        }
    }

    /// Same seed → identical chains; another seed → different chains.
    func testDeterministic() throws {
        let g = try gaussian()
        let p = SamplerSpec.langevin(steps: 50, stepSize: 0.05)
        var a = [Float](repeating: 0, count: 64), b = a, c = a
        try run(g, &a, p, seed: 7)
        try run(g, &b, p, seed: 7)
        try run(g, &c, p, seed: 8)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
    }

    /// Without noise the update is gradient descent `x ← x − η P (x − μ)`, which converges to μ;
    /// one step equals the closed form exactly (to float rounding).
    func testNoiselessStepIsGradientDescent() throws {
        let g = try gaussian()
        var x: [Float] = [3, 3]
        try run(g, &x, SamplerSpec.langevin(steps: 1, stepSize: 0.1, noiseScale: 0), seed: 0)
        // P = Σ⁻¹ = [[2, −0.5], [−0.5, 1]] / 1.75; x − μ = (2, 5).
        let expected: [Float] = [3 - 0.1 * (2 * 2 - 0.5 * 5) / 1.75, 3 - 0.1 * (-0.5 * 2 + 5) / 1.75]
        XCTAssertEqual(x[0], expected[0], accuracy: 1e-6)
        XCTAssertEqual(x[1], expected[1], accuracy: 1e-6)
        try run(g, &x, SamplerSpec.langevin(steps: 2000, stepSize: 0.1, noiseScale: 0), seed: 0)
        XCTAssertEqual(x[0], 1, accuracy: 1e-4)
        XCTAssertEqual(x[1], -2, accuracy: 1e-4)
    }

    func testClampAndGradientClip() throws {
        let g = try gaussian()
        var x = [Float](repeating: 10, count: 200)
        try run(g, &x, SamplerSpec.langevin(steps: 30, stepSize: 0.5, clamp: (-0.5, 0.25)), seed: 1)
        XCTAssertTrue(x.allSatisfy { $0 >= -0.5 && $0 <= 0.25 })
        // With grad_clip = c and no noise, one step moves each coordinate by at most η c.
        var y: [Float] = [100, 100]
        try run(g, &y, SamplerSpec.langevin(steps: 1, stepSize: 0.1, noiseScale: 0, gradientClip: 2), seed: 1)
        XCTAssertEqual(y[0], 100 - 0.1 * 2, accuracy: 1e-4)
        XCTAssertEqual(y[1], 100 - 0.1 * 2, accuracy: 1e-4)
    }

    /// A step size beyond the stability limit 2/λ_max makes the chains blow up; that is reported
    /// as divergence (even with a clamp, which could otherwise hide the NaN).
    func testDivergenceIsDetected() throws {
        let g = try GaussianEnergy(mean: [0], covariance: [1e-3])
        var x: [Float] = [1, 2, 3]
        XCTAssertThrowsError(try run(g, &x, SamplerSpec.langevin(steps: 10_000, stepSize: 1), seed: 0)) { error in
            guard case EBMError.diverged(let divergence) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(divergence.site.rawValue, "langevin")
            XCTAssertEqual(divergence.quantity, .samples)
            XCTAssertGreaterThan(divergence.step, 0)
            XCTAssertTrue(divergence.message.contains("step \(divergence.step) of 10000"))
        }
    }

    func testInterruptStopsAtAStep() throws {
        let g = try gaussian()
        var x = [Float](repeating: 0, count: 8)
        var polls = 0
        XCTAssertThrowsError(try run(g, &x, SamplerSpec.langevin(steps: 1000, stepSize: 0.01), seed: 0,
                                     shouldStop: { polls += 1; return polls > 5 })) { error in
            XCTAssertEqual(error as? EBMError, .interrupted)
        }
        XCTAssertEqual(polls, 6)
    }

    func testInvalidParametersThrow() {
        XCTAssertThrowsError(try SamplerSpec.langevin(steps: 0, stepSize: 0.1).kernel(dimension: 1))
        XCTAssertThrowsError(try SamplerSpec.langevin(steps: 1, stepSize: -1).kernel(dimension: 1))
        XCTAssertThrowsError(try SamplerSpec.langevin(steps: 1, stepSize: 0.1, noiseScale: -1).kernel(dimension: 1))
        XCTAssertThrowsError(try SamplerSpec.langevin(steps: 1, stepSize: 0.1, clamp: (1, 0)).kernel(dimension: 1))
        XCTAssertThrowsError(try SamplerSpec.langevin(steps: 1, stepSize: 0.1, gradientClip: 0).kernel(dimension: 1))
    }
}
