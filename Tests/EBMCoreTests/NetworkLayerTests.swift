import XCTest
@testable import EBMCore

/// Every layer's forward pass against the double-precision reference (ReferenceNetwork.swift),
/// and its input and parameter gradients against central finite differences of that reference.
///
/// The objective is `L = Σ_rows ⟨r_i, layer(x_i)⟩` with random `r`, so one backward pass with
/// cotangent `r` gives `∂L/∂x` and `∂L/∂w`. Tolerances: the layer computes in float32 (relative
/// rounding ~1e-7 per operation, sums of at most a few hundred terms), the difference quotient in
/// double with h = 1e-4 is exact for the linear layers and has truncation ~h²|f'''| ≈ 1e-8 for the
/// activations; 1e-5 (forward) and 1e-4 (gradients) of the largest magnitude are wide margins over
/// float32 rounding yet far below any real mistake (a wrong index or term is O(1e-1) or more).
final class NetworkLayerTests: XCTestCase {
    func check(_ layer: NetworkLayer, rows: Int, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) throws {
        var rng = TestRNG(state: seed)
        let nIn = layer.inputCount, nOut = layer.outputCount, nP = layer.parameterCount
        let x = (0..<(rows * nIn)).map { _ in Double(Float(rng.normal())) }
        let params = (0..<nP).map { _ in Double(Float(0.5 * rng.normal())) }
        let r = (0..<(rows * nOut)).map { _ in Double(Float(rng.normal())) }

        // The layer, in float32.
        let (y, dx, dp) = try runLayer(layer, rows: rows, x: x.map(Float.init), parameters: params.map(Float.init),
                                   cotangent: r.map(Float.init))

        // The reference.
        func output(_ x: [Double], _ p: [Double]) -> [Double] {
            (0..<rows).flatMap { i in ReferenceNetwork.forward(layer, Array(x[(i * nIn)..<((i + 1) * nIn)]), p[...]) }
        }
        let reference = output(x, params)
        let yScale = max(1, reference.map(abs).max()!)
        for i in 0..<reference.count {
            XCTAssertEqual(Double(y[i]), reference[i], accuracy: 1e-5 * yScale, "forward[\(i)]", file: file, line: line)
        }
        func objective(_ x: [Double], _ p: [Double]) -> Double { zip(output(x, p), r).reduce(0) { $0 + $1.0 * $1.1 } }
        let fdX = (0..<x.count).map { j in centralDifference({ objective($0, params) }, at: x, coordinate: j, h: 1e-4) }
        let fdP = (0..<nP).map { j in centralDifference({ objective(x, $0) }, at: params, coordinate: j, h: 1e-4) }
        let gScale = max(1, (fdX + fdP).map(abs).max() ?? 1)
        for j in 0..<fdX.count {
            XCTAssertEqual(Double(dx[j]), fdX[j], accuracy: 1e-4 * gScale, "∂x[\(j)]", file: file, line: line)
        }
        for j in 0..<nP {
            XCTAssertEqual(Double(dp[j]), fdP[j], accuracy: 1e-4 * gScale, "∂\(paramName(layer, j))", file: file, line: line)
        }
    }

    func paramName(_ layer: NetworkLayer, _ index: Int) -> String {
        var offset = 0
        for p in layer.parameters {
            if index < offset + p.count { return "\(p.name)[\(index - offset)]" }
            offset += p.count
        }
        return "?"
    }

    func testLinear() throws {
        try check(try Linear(inFeatures: 5, outFeatures: 3), rows: 1, seed: 1)
        try check(try Linear(inFeatures: 7, outFeatures: 4), rows: 6, seed: 2)
    }

    func testConv2dStridesPaddingsAndShapes() throws {
        // (in, out, kernel, stride, padding, height, width): strides 1 and 2, paddings 0 up to the
        // kernel size, non-square kernels and images, odd sizes, batch 1.
        let cases: [(Int, Int, (Int, Int), (Int, Int), (Int, Int), Int, Int)] = [
            (1, 2, (3, 3), (1, 1), (0, 0), 5, 5),
            (2, 3, (3, 2), (2, 1), (1, 2), 7, 6),
            (3, 2, (2, 3), (2, 2), (2, 3), 5, 7),
            (2, 2, (5, 5), (2, 2), (4, 4), 6, 6),  // the UvA CNN's first layer's geometry
            (1, 1, (1, 1), (1, 1), (0, 0), 3, 4),
            (2, 4, (3, 3), (2, 2), (1, 1), 8, 8),
        ]
        for (n, c) in cases.enumerated() {
            let layer = try Conv2d(inChannels: c.0, outChannels: c.1, kernel: c.2, stride: c.3, padding: c.4,
                                   inputHeight: c.5, inputWidth: c.6)
            try check(layer, rows: n % 2 == 0 ? 1 : 3, seed: UInt64(10 + n))
        }
    }

    func testAvgPool2d() throws {
        try check(try AvgPool2d(channels: 2, inputHeight: 6, inputWidth: 5, kernel: (2, 2), stride: (2, 2)), rows: 2, seed: 3)
        try check(try AvgPool2d(channels: 1, inputHeight: 7, inputWidth: 7, kernel: (3, 2), stride: (2, 1)), rows: 1, seed: 4)
    }

    func testActivationsAndFlatten() throws {
        for (n, activation) in Activation.allCases.enumerated() {
            try check(try ActivationLayer(activation, shape: [2, 3, 3]), rows: 2, seed: UInt64(20 + n))
        }
        try check(try LeakyReLU(slope: 0.01, shape: [3, 4]), rows: 2, seed: 30)
        try check(try LeakyReLU(slope: 0, shape: [7]), rows: 3, seed: 31)
        try check(Flatten(shape: [2, 3, 4]), rows: 3, seed: 5)
    }

    func testSequentialAndResidual() throws {
        let inner = try Sequential([try Conv2d(inChannels: 2, outChannels: 2, kernel: (3, 3), padding: (1, 1), inputHeight: 6, inputWidth: 5),
                                    ActivationLayer(.tanh, shape: [2, 6, 5])])
        let net = try Sequential([
            try Conv2d(inChannels: 1, outChannels: 2, kernel: (3, 3), stride: (1, 1), padding: (1, 1), inputHeight: 6, inputWidth: 5),
            ActivationLayer(.swish, shape: [2, 6, 5]),
            try Residual(inner),
            try AvgPool2d(channels: 2, inputHeight: 6, inputWidth: 5, kernel: (2, 2), stride: (2, 2)),
            Flatten(shape: [2, 3, 2]),
            try Linear(inFeatures: 12, outFeatures: 4),
            ActivationLayer(.gelu, shape: [4]),
            try Linear(inFeatures: 4, outFeatures: 1),
        ])
        XCTAssertEqual(net.parameters.map(\.name), ["0.weight", "0.bias", "2.block.0.weight", "2.block.0.bias",
                                                    "5.weight", "5.bias", "7.weight", "7.bias"])
        try check(net, rows: 3, seed: 6)
        try check(net, rows: 1, seed: 7)
    }

    func testInconsistentShapesAreRejected() throws {
        XCTAssertThrowsError(try Sequential([try Linear(inFeatures: 3, outFeatures: 4), try Linear(inFeatures: 5, outFeatures: 1)])) { error in
            XCTAssertEqual((error as? EBMError)?.message, "layer 1 expects input of shape [5] but layer 0 produces [4]")
        }
        XCTAssertThrowsError(try Conv2d(inChannels: 1, outChannels: 1, kernel: (5, 5), inputHeight: 3, inputWidth: 3))
        XCTAssertThrowsError(try Residual(try Linear(inFeatures: 3, outFeatures: 2)))
        XCTAssertThrowsError(try NetworkEnergy(network: try Sequential([try Linear(inFeatures: 3, outFeatures: 2)]), seed: 0))
    }
}
