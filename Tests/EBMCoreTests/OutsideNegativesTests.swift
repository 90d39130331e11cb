import XCTest
@testable import EBMCore

/// A step whose negatives a replica moves in pieces of whole blocks (what `distributed.fit` does
/// across machines) equals the local step bit for bit; a failing or non-finite outside sampler
/// fails the step and changes nothing.
final class OutsideNegativesTests: XCTestCase {
    func makeTrainer(steps: Int = 4) throws -> Trainer {
        let model = try NetworkEnergy.multilayerPerceptron(dimension: 2, hidden: [16, 16], activation: .swish, seed: 0)
        return try TrainerSpec.maximumLikelihood(seed: 7, steps: steps, bufferSize: 512).trainer(for: model)
    }

    func data(_ rows: Int) -> [Float] {
        var rng = TestRNG(state: 5)
        return (0..<(2 * rows)).map { _ in Float(0.5 * rng.normal() - 0.3) }
    }

    /// A sampler that copies the request's parameters into `replica` and moves each segment in
    /// pieces of `piecesBlocks` blocks, the pieces in reverse order (order must not matter).
    func replicaSampler(_ replica: Trainer, pieceBlocks: Int, requests: UnsafeMutablePointer<Int>) -> NegativeSampler {
        { request in
            requests.pointee += 1
            replica.model.parameters.base.update(from: request.parameters.baseAddress!, count: request.parameters.count)
            replica.model.parametersDidChange()
            let d = request.dimension, rows = pieceBlocks * request.blockRows
            for segment in request.segments {
                for first in stride(from: 0, to: segment.count, by: rows).reversed() {
                    let n = min(rows, segment.count - first), start = segment.start + first
                    try replica.sampleNegatives(UnsafeMutableBufferPointer(rebasing: request.x[(start * d)..<((start + n) * d)]),
                                                chainOffset: start, classIndex: segment.classIndex, step: request.step)
                }
            }
        }
    }

    func testPiecesMovedByAReplicaEqualTheLocalStep() throws {
        let rows = 300  // blocks of the MLP's size: several, the last one short
        let x = data(rows)
        for pieceBlocks in [1, 2, 5] {
            let local = try makeTrainer(), remote = try makeTrainer(), replica = try makeTrainer()
            var requests = 0
            let sampler = replicaSampler(replica, pieceBlocks: pieceBlocks, requests: &requests)
            for _ in 0..<3 {
                let a = try x.withUnsafeBufferPointer { try local.step($0, rows: rows) }
                let b = try x.withUnsafeBufferPointer { try remote.step($0, rows: rows, negativeSampler: sampler) }
                XCTAssertEqual(a, b)
            }
            XCTAssertEqual(requests, 3)
            XCTAssertEqual(local.model.parameters.array, remote.model.parameters.array)
            XCTAssertEqual(local.replayBuffer.states.array, remote.replayBuffer.states.array)
            XCTAssertNotEqual(replica.replayBuffer.states.array, remote.replayBuffer.states.array)  // the replica's buffer is not used
        }
    }

    func testAFailingOrNonFiniteOutsideSamplerChangesNothing() throws {
        let t = try makeTrainer(), reference = try makeTrainer()
        let x = data(64)
        let params = t.model.parameters.array, buffer = t.replayBuffer.states.array
        let failing: NegativeSampler = { _ in throw EBMError.interrupted }
        let nonFinite: NegativeSampler = { request in request.x[5] = .nan }
        XCTAssertThrowsError(try x.withUnsafeBufferPointer { try t.step($0, rows: 64, negativeSampler: failing) }) {
            XCTAssertEqual($0 as? EBMError, .interrupted)
        }
        XCTAssertThrowsError(try x.withUnsafeBufferPointer { try t.step($0, rows: 64, negativeSampler: nonFinite) }) {
            guard case .diverged(let d)? = $0 as? EBMError else { return XCTFail("expected a divergence, got \($0)") }
            XCTAssertEqual(d.quantity, .samples)
            XCTAssertEqual(d.chain, 2)
        }
        XCTAssertEqual(t.model.parameters.array, params)
        XCTAssertEqual(t.replayBuffer.states.array, buffer)
        XCTAssertEqual(t.stepCount, 0)
        XCTAssertEqual(try x.withUnsafeBufferPointer { try t.step($0, rows: 64) },
                       try x.withUnsafeBufferPointer { try reference.step($0, rows: 64) })
    }

    func testAReplicaRefusesBadPieces() throws {
        let t = try makeTrainer()
        var x = [Float](repeating: 0, count: 7)
        XCTAssertThrowsError(try x.withUnsafeMutableBufferPointer { try t.sampleNegatives($0, chainOffset: 0, classIndex: nil, step: 0) })
        x = [Float](repeating: 0, count: 8)
        XCTAssertThrowsError(try x.withUnsafeMutableBufferPointer { try t.sampleNegatives($0, chainOffset: -1, classIndex: nil, step: 0) })
        XCTAssertThrowsError(try x.withUnsafeMutableBufferPointer { try t.sampleNegatives($0, chainOffset: 0, classIndex: 0, step: 0) })
        let dsm = try TrainerSpec.dataObjective("dsm", ["sigmas": .array([0.1])]).trainer(for: try NetworkEnergy.multilayerPerceptron(dimension: 2, hidden: [4], activation: .swish, seed: 0))
        XCTAssertThrowsError(try x.withUnsafeMutableBufferPointer { try dsm.sampleNegatives($0, chainOffset: 0, classIndex: nil, step: 0) })
    }
}
