import XCTest
@testable import EBMCore

final class TrainerTests: XCTestCase {
    func makeTrainer(seed: UInt64 = 1, lr: Float = 1e-3, steps: Int = 5, bufferSize: Int = 64) throws -> Trainer {
        let model = try NetworkEnergy.multilayerPerceptron(dimension: 2, hidden: [16, 16], activation: .swish, seed: 0)
        return try TrainerSpec.maximumLikelihood(seed: seed, lr: lr, steps: steps, bufferSize: bufferSize).trainer(for: model)
    }

    func data(_ rows: Int) -> [Float] {
        var rng = TestRNG(state: 3)
        return (0..<(2 * rows)).map { _ in Float(0.3 * rng.normal() + 1) }
    }

    func step(_ t: Trainer, _ x: [Float], shouldStop: () -> Bool = { false }) throws -> TrainingStepStatistics {
        try x.withUnsafeBufferPointer { try t.step($0, rows: x.count / 2, shouldStop: shouldStop) }
    }

    /// The reported loss and energies agree with an independent evaluation of the model on the data.
    func testStatisticsAreConsistent() throws {
        let t = try makeTrainer()
        let x = data(16)
        let reference = ReferenceMLP(t.model as! NetworkEnergy)
        let stats = try step(t, x)
        let eData = (0..<16).reduce(0.0) { $0 + reference.energy([Double(x[2 * $1]), Double(x[2 * $1 + 1])]) } / 16
        XCTAssertEqual(stats.dataEnergy, eData, accuracy: 1e-5)
        XCTAssertGreaterThan(stats.gradientNorm, 0)
        XCTAssertEqual(t.stepCount, 1)
    }

    /// Same seed → identical parameters and buffer after several steps.
    func testDeterministic() throws {
        let a = try makeTrainer(), b = try makeTrainer(), c = try makeTrainer(seed: 2)
        let x = data(16)
        for _ in 0..<5 { _ = try step(a, x); _ = try step(b, x); _ = try step(c, x) }
        XCTAssertEqual(a.model.parameters.array, b.model.parameters.array)
        XCTAssertEqual(a.replayBuffer.states.array, b.replayBuffer.states.array)
        XCTAssertNotEqual(a.model.parameters.array, c.model.parameters.array)
    }

    /// An interrupted or divergent step changes nothing, and the next step continues as if it had
    /// never been tried.
    func testFailedStepChangesNothing() throws {
        let a = try makeTrainer(), b = try makeTrainer()
        let x = data(16)
        _ = try step(a, x)
        _ = try step(b, x)
        let params = a.model.parameters.array, buffer = a.replayBuffer.states.array
        var polls = 0
        XCTAssertThrowsError(try step(a, x, shouldStop: { polls += 1; return polls > 2 }))
        XCTAssertEqual(a.model.parameters.array, params)
        XCTAssertEqual(a.replayBuffer.states.array, buffer)
        XCTAssertEqual(a.stepCount, 1)
        XCTAssertEqual(try step(a, x), try step(b, x))
        XCTAssertEqual(a.model.parameters.array, b.model.parameters.array)
        XCTAssertEqual(a.replayBuffer.states.array, b.replayBuffer.states.array)
    }

    /// With a spectral norm, a step begins with a power iteration; an interrupted step puts the
    /// buffers back, so the run continues exactly as one that was never interrupted.
    func testFailedStepRestoresTheBuffers() throws {
        func trainer() throws -> Trainer {
            let network = try Sequential([try SpectralNorm(try Linear(inFeatures: 2, outFeatures: 16)),
                                          ActivationLayer(.swish, shape: [16]), try Linear(inFeatures: 16, outFeatures: 1)])
            return try TrainerSpec.maximumLikelihood().trainer(for: try NetworkEnergy(network: network, seed: 0))
        }
        let a = try trainer(), b = try trainer()
        let x = data(16)
        _ = try step(a, x)
        _ = try step(b, x)
        let buffers = a.model.buffers.array
        var polls = 0
        XCTAssertThrowsError(try step(a, x, shouldStop: { polls += 1; return polls > 2 }))
        XCTAssertEqual(a.model.buffers.array, buffers)
        XCTAssertEqual(try step(a, x), try step(b, x))
        XCTAssertEqual(a.model.buffers.array, b.model.buffers.array)
        XCTAssertNotEqual(a.model.buffers.array, buffers)
    }

    /// An absurd learning rate drives parameters to infinity; the trainer reports divergence and
    /// keeps the last finite parameters.
    func testDivergentUpdateIsRolledBack() throws {
        let t = try makeTrainer(lr: 1e30)
        let x = data(16)
        var failed = false
        for _ in 0..<20 {
            let before = t.model.parameters.array
            do {
                _ = try step(t, x)
            } catch EBMError.diverged {
                XCTAssertEqual(t.model.parameters.array, before)
                failed = true
                break
            }
        }
        XCTAssertTrue(failed, "lr = 1e30 should diverge within 20 steps")
        XCTAssertTrue(t.model.parameters.array.allSatisfy(\.isFinite))
    }

    func testBatchLargerThanBufferThrows() throws {
        let t = try makeTrainer(bufferSize: 4)
        XCTAssertThrowsError(try step(t, data(5)))
    }
}
