import XCTest
@testable import EBMCore

/// The chain blocks a network chooses, and its transposed weight copies (NetworkEnergy+Blocking.swift).
final class NetworkBlockingTests: XCTestCase {
    func testBlockRowsFollowTheWidths() throws {
        func rows(_ dim: Int, _ hidden: [Int], chains: Int) throws -> Int {
            try NetworkEnergy.multilayerPerceptron(dimension: dim, hidden: hidden, activation: .swish, seed: 0).blocks(rows: chains).blockRows
        }
        XCTAssertEqual(try rows(2, [64, 64], chains: 4096), 128)  // 128·64·64 = 2^19
        XCTAssertEqual(try rows(2, [128, 128], chains: 256), 32)  // 32·128·128 = 2^19
        XCTAssertEqual(try rows(2, [128, 128], chains: 5), 5)
        // Too wide for blocks of 32 direct rows: the default partition.
        XCTAssertEqual(try rows(64, [256, 256], chains: 128), ChainBlocks(rows: 128).blockRows)
        XCTAssertEqual(try rows(784, [512, 512], chains: 128), ChainBlocks(rows: 128).blockRows)
    }

    /// Only networks of `Linear` and activation layers sample in their own blocks; a
    /// convolution keeps the default partition and its products.
    func testOnlyFullyConnectedNetworksTakeTheDirectProducts() throws {
        let dense = try NetworkEnergy(network: try Sequential([
            try Linear(inFeatures: 4, outFeatures: 32), ActivationLayer(.tanh, shape: [32]),
            try Linear(inFeatures: 32, outFeatures: 1)]), seed: 0)
        XCTAssertEqual(dense.blocks(rows: 1000).blockRows, 128)
        let conv = try NetworkEnergy(network: try Sequential([
            try Conv2d(inChannels: 1, outChannels: 2, kernel: (3, 3), inputHeight: 5, inputWidth: 5),
            Flatten(shape: [2, 3, 3]), try Linear(inFeatures: 18, outFeatures: 4), ActivationLayer(.tanh, shape: [4]),
            try Linear(inFeatures: 4, outFeatures: 1)]), seed: 0)
        XCTAssertEqual(conv.blocks(rows: 1000), ChainBlocks(rows: 1000))
        XCTAssertTrue(conv.network.layers.compactMap { ($0 as? Linear)?.transposedWeight }.isEmpty)
    }

    /// After training steps (which change the parameters under the trainer's lock) the energy
    /// computes exactly what a new energy with the same parameters computes: the transposed copies
    /// follow every update.
    func testTransposedWeightsFollowTheParameters() throws {
        let model = try NetworkEnergy.multilayerPerceptron(dimension: 2, hidden: [32, 32], activation: .swish, seed: 0)
        XCTAssertEqual(model.network.layers.compactMap { ($0 as? Linear)?.transposedWeight }.count, 2)
        let trainer = try TrainerSpec.maximumLikelihood(lr: 1e-2).trainer(for: model)
        let x: [Float] = (0..<64).map { Float($0 % 13) / 6 - 1 }
        for _ in 0..<3 { _ = try x.withUnsafeBufferPointer { try trainer.step($0, rows: 32, shouldStop: { false }) } }

        let fresh = try NetworkEnergy.multilayerPerceptron(dimension: 2, hidden: [32, 32], activation: .swish, seed: 9)
        try model.parameters.array.withUnsafeBufferPointer { try fresh.setParameters($0) }
        XCTAssertEqual(try energies(model, x), try energies(fresh, x))
        let reference = ReferenceMLP(model)
        for i in 0..<32 {
            XCTAssertEqual(Double(try energies(model, x)[i]), reference.energy([Double(x[2 * i]), Double(x[2 * i + 1])]),
                           accuracy: 1e-5)
        }
    }

    private func energies(_ model: NetworkEnergy, _ x: [Float]) throws -> [Float] {
        var out = [Float](repeating: 0, count: x.count / 2)
        let ws = try model.makeWorkspace(capacity: out.count)
        x.withUnsafeBufferPointer { xs in
            out.withUnsafeMutableBufferPointer { model.energies(xs, rows: x.count / 2, into: $0, workspace: ws) }
        }
        return out
    }
}
