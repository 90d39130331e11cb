import XCTest
@testable import EBMCore

final class OptimizerTests: XCTestCase {
    /// Adam's first step: m̂ = g, v̂ = g², so w moves by lr · g / (|g| + eps) ≈ lr · sign(g);
    /// the second step with the same gradient moves by the same amount.
    func testAdamFirstSteps() throws {
        let opt = try Optimizer(try OptimizerSettings(rule: .adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8), learningRate: 0.01), count: 3)
        var w: [Float] = [1, 2, 3]
        let g: [Float] = [0.5, -2, 1e-3]
        for k in 1...2 {
            w.withUnsafeMutableBufferPointer { wb in g.withUnsafeBufferPointer { opt.update(wb, gradient: $0) } }
            XCTAssertEqual(w[0], 1 - 0.01 * Float(k), accuracy: 1e-5)
            XCTAssertEqual(w[1], 2 + 0.01 * Float(k), accuracy: 1e-5)
            XCTAssertEqual(w[2], 3 - 0.01 * Float(k), accuracy: 1e-4)
        }
    }

    /// SGD with momentum μ and weight decay λ: b₁ = g + λw₀, w₁ = w₀ − lr b₁; b₂ = μ b₁ + g + λ w₁.
    func testSGDMomentumAndWeightDecay() throws {
        let opt = try Optimizer(try OptimizerSettings(rule: .sgd(momentum: 0.9), learningRate: 0.1, weightDecay: 0.5), count: 1)
        var w: [Float] = [2]
        let g: [Float] = [1]
        w.withUnsafeMutableBufferPointer { wb in g.withUnsafeBufferPointer { opt.update(wb, gradient: $0) } }
        let b1: Float = 1 + 0.5 * 2, w1 = 2 - 0.1 * b1
        XCTAssertEqual(w[0], w1, accuracy: 1e-6)
        w.withUnsafeMutableBufferPointer { wb in g.withUnsafeBufferPointer { opt.update(wb, gradient: $0) } }
        let b2 = 0.9 * b1 + 1 + 0.5 * w1
        XCTAssertEqual(w[0], w1 - 0.1 * b2, accuracy: 1e-6)
    }

    func testInvalidSettingsThrow() {
        XCTAssertThrowsError(try OptimizerSettings(rule: .sgd(momentum: 1), learningRate: 0.1))
        XCTAssertThrowsError(try OptimizerSettings(rule: .sgd(momentum: 0), learningRate: 0))
        XCTAssertThrowsError(try OptimizerSettings(rule: .adam(beta1: 0.9, beta2: 1, epsilon: 1e-8), learningRate: 0.1))
    }
}
