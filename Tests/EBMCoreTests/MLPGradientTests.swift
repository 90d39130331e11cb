import XCTest
@testable import EBMCore

/// The MLP's energies, input gradients and parameter gradients against an independent
/// double-precision forward pass and its central finite differences.
///
/// Tolerance: the Swift side computes in float32 (relative rounding ~1e-7 per operation, a few
/// dozen operations deep), the difference quotient in double with h = 1e-5 has truncation error
/// ~h² · |E'''| ≈ 1e-10 and rounding ~1e-16/h ≈ 1e-11; 2e-4 relative is a wide margin over the
/// float32 side yet far below any real mistake (a wrong term is O(1) relative).
final class MLPGradientTests: XCTestCase {
    let configurations: [(dim: Int, hidden: [Int], rows: Int)] = [
        (3, [5], 1), (2, [8, 6], 4), (4, [7, 5, 3], 3),
    ]

    func makeInputs(_ rows: Int, _ dim: Int, seed: UInt64) -> [Double] {
        var rng = TestRNG(state: seed)
        return (0..<(rows * dim)).map { _ in 1.5 * rng.normal() }
    }

    func testEnergiesAndInputGradients() throws {
        for activation in Activation.allCases {
            for (k, c) in configurations.enumerated() {
                let model = try NetworkEnergy.multilayerPerceptron(dimension: c.dim, hidden: c.hidden, activation: activation, seed: UInt64(k))
                let reference = ReferenceMLP(model)
                let x = makeInputs(c.rows, c.dim, seed: UInt64(10 + k))
                let xf = x.map(Float.init)
                var energies = [Float](repeating: 0, count: c.rows)
                var grad = [Float](repeating: 0, count: c.rows * c.dim)
                let ws = try model.makeWorkspace(capacity: c.rows)
                xf.withUnsafeBufferPointer { xb in
                    energies.withUnsafeMutableBufferPointer { eb in
                        grad.withUnsafeMutableBufferPointer { gb in
                            model.gradients(xb, rows: c.rows, energies: eb, into: gb, workspace: ws)
                        }
                    }
                }
                var energyOnly = [Float](repeating: 0, count: c.rows)
                xf.withUnsafeBufferPointer { xb in
                    energyOnly.withUnsafeMutableBufferPointer { eb in
                        model.energies(xb, rows: c.rows, into: eb, workspace: ws)
                    }
                }
                for i in 0..<c.rows {
                    let row = Array(x[(i * c.dim)..<((i + 1) * c.dim)]).map { Double(Float($0)) }
                    let e = reference.energy(row)
                    XCTAssertTrue(close(Double(energies[i]), e, 1e-5), "\(activation) \(c) E: \(energies[i]) vs \(e)")
                    XCTAssertEqual(energies[i], energyOnly[i], "\(activation): energies() and gradients() disagree")
                    for j in 0..<c.dim {
                        let fd = centralDifference({ reference.energy($0) }, at: row, coordinate: j)
                        XCTAssertTrue(close(Double(grad[i * c.dim + j]), fd, 2e-4),
                                      "\(activation) \(c) ∂E/∂x[\(i),\(j)]: \(grad[i * c.dim + j]) vs \(fd)")
                    }
                }
            }
        }
    }

    func testParameterGradientOfMean() throws {
        for activation in Activation.allCases {
            for (k, c) in configurations.enumerated() {
                let model = try NetworkEnergy.multilayerPerceptron(dimension: c.dim, hidden: c.hidden, activation: activation, seed: UInt64(100 + k))
                let reference = ReferenceMLP(model)
                let x = makeInputs(c.rows, c.dim, seed: UInt64(20 + k)).map { Double(Float($0)) }
                var grad = [Float](repeating: .nan, count: model.parameterCount)
                let ws = try model.makeWorkspace(capacity: c.rows)
                x.map(Float.init).withUnsafeBufferPointer { xb in
                    grad.withUnsafeMutableBufferPointer { gb in
                        model.parameterGradientOfMean(xb, rows: c.rows, into: gb, workspace: ws)
                    }
                }
                let meanEnergy: ([Double]) -> Double = { p in
                    (0..<c.rows).reduce(0.0) { acc, i in
                        acc + reference.energy(Array(x[(i * c.dim)..<((i + 1) * c.dim)]), params: p)
                    } / Double(c.rows)
                }
                for q in 0..<model.parameterCount {
                    let fd = centralDifference(meanEnergy, at: reference.params, coordinate: q)
                    XCTAssertTrue(close(Double(grad[q]), fd, 2e-4),
                                  "\(activation) \(c) ∂E/∂w[\(q)]: \(grad[q]) vs \(fd)")
                }
            }
        }
    }

    /// Initialisation follows nn.Linear: every layer's parameters within ±1/sqrt(fan_in), and
    /// spread over that range (the extreme quarter of it is reached).
    func testInitialisationBounds() throws {
        let model = try NetworkEnergy.multilayerPerceptron(dimension: 16, hidden: [64, 32], activation: .swish, seed: 3)
        var offset = 0
        for case let linear as Linear in model.network.layers {
            let bound = 1 / Float(linear.inFeatures).squareRoot()
            let values = (0..<(linear.outFeatures * linear.inFeatures)).map { model.parameters.base[offset + $0] }
            offset += linear.parameterCount
            XCTAssertLessThanOrEqual(values.map(abs).max()!, bound)
            XCTAssertGreaterThan(values.map(abs).max()!, 0.75 * bound)
        }
    }

    /// The core names an MLP's tensors `layers.{i}.weight` (`out × in`) and `layers.{i}.bias`, in
    /// the flat vector's order, and they cover the vector exactly.
    func testParameterTensorsAreNamedByLayer() throws {
        let model = try NetworkEnergy.multilayerPerceptron(dimension: 5, hidden: [7, 3], activation: .tanh, seed: 0)
        XCTAssertEqual(model.parameterTensors, [
            ParameterShape("layers.0.weight", [7, 5]), ParameterShape("layers.0.bias", [7]),
            ParameterShape("layers.1.weight", [3, 7]), ParameterShape("layers.1.bias", [3]),
            ParameterShape("layers.2.weight", [1, 3]), ParameterShape("layers.2.bias", [1]),
        ])
        XCTAssertEqual(model.parameterTensors.map(\.count).reduce(0, +), model.parameters.count)
        XCTAssertTrue(model.bufferTensors.isEmpty)
    }

    func testInvalidArchitecturesThrow() {
        XCTAssertThrowsError(try NetworkEnergy.multilayerPerceptron(dimension: 0, hidden: [4], activation: .tanh, seed: 0))
        XCTAssertThrowsError(try NetworkEnergy.multilayerPerceptron(dimension: 2, hidden: [], activation: .tanh, seed: 0))
        XCTAssertThrowsError(try NetworkEnergy.multilayerPerceptron(dimension: 2, hidden: [4, 0], activation: .tanh, seed: 0))
        // Parameter counts past 2^31 − 1, and products that overflow Int, throw (no trap).
        XCTAssertThrowsError(try NetworkEnergy.multilayerPerceptron(dimension: 1 << 62, hidden: [8], activation: .tanh, seed: 0))
        XCTAssertThrowsError(try NetworkEnergy.multilayerPerceptron(dimension: 2, hidden: [1 << 40, 1 << 40], activation: .tanh, seed: 0))
        XCTAssertThrowsError(try NetworkEnergy.multilayerPerceptron(dimension: 2, hidden: [Int.max], activation: .tanh, seed: 0))
        XCTAssertThrowsError(try NetworkEnergy.multilayerPerceptron(dimension: 2, hidden: [40_000, 60_000], activation: .tanh, seed: 0))
    }
}
