import XCTest
@testable import EBMCore

/// `SpectralNorm` against a double-precision reference: the power iteration step by step, the
/// normalised forward pass `inner(x; W/σ, b)` with `σ = uᵀ W v`, and the input and parameter
/// gradients (with `u`, `v` held fixed, as PyTorch differentiates) against central differences.
/// Tolerances as in NetworkLayerTests (float32 layer, float64 reference, h = 1e-4).
final class SpectralNormTests: XCTestCase {
    func check(_ inner: NetworkLayer, rows: Int, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) throws {
        let layer = try SpectralNorm(inner)
        var rng = TestRNG(state: seed)
        let nIn = layer.inputCount, nOut = layer.outputCount, nP = layer.parameterCount
        let m = layer.rows, n = layer.columns
        XCTAssertEqual(layer.parameters.map(\.name), ["weight_orig", "bias"], file: file, line: line)
        XCTAssertEqual(layer.buffers.map(\.name), ["weight_u", "weight_v"], file: file, line: line)
        XCTAssertEqual(layer.buffers.map(\.shape), [[m], [n]], file: file, line: line)
        let pf = (0..<nP).map { _ in Float(0.5 * rng.normal()) }
        let buffers = try FloatBuffer(count: m + n)
        var stream = UniformStream(Philox4x32(seed: seed, purpose: Purpose.initialisation))
        layer.initialiseBuffers(buffers.base, &stream)
        let u0 = (0..<m).map { Double(buffers.base[$0]) }
        XCTAssertEqual(u0.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-6, file: file, line: line)

        // One power iteration: v = normalise(Wᵀ u0), u = normalise(W v).
        try pf.withUnsafeBufferPointer { try layer.trainingStepWillBegin($0.baseAddress!, buffers: buffers.base, shouldStop: { false }) }
        let w = pf[0..<(m * n)].map(Double.init)
        func normalised(_ x: [Double]) -> [Double] {
            let s = x.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return x.map { $0 / s }
        }
        let v = normalised((0..<n).map { c in (0..<m).reduce(0) { $0 + w[$1 * n + c] * u0[$1] } })
        let u = normalised((0..<m).map { r in (0..<n).reduce(0) { $0 + w[r * n + $1] * v[$1] } })
        for i in 0..<m { XCTAssertEqual(Double(buffers.base[i]), u[i], accuracy: 1e-5, "u[\(i)]", file: file, line: line) }
        for j in 0..<n { XCTAssertEqual(Double(buffers.base[m + j]), v[j], accuracy: 1e-5, "v[\(j)]", file: file, line: line) }
        let uf = (0..<m).map { Double(buffers.base[$0]) }, vf = (0..<n).map { Double(buffers.base[m + $0]) }

        // The reference: inner(x; W/σ(W), b) with σ(W) = uᵀ W v for the stored u, v.
        func output(_ x: [Double], _ p: [Double]) -> [Double] {
            var sigma = 0.0
            for r in 0..<m { for c in 0..<n { sigma += uf[r] * p[r * n + c] * vf[c] } }
            let q = p.enumerated().map { $0.offset < m * n ? $0.element / sigma : $0.element }
            return (0..<rows).flatMap { i in ReferenceNetwork.forward(inner, Array(x[(i * nIn)..<((i + 1) * nIn)]), q[...]) }
        }
        let x = (0..<(rows * nIn)).map { _ in Double(Float(rng.normal())) }
        let r = (0..<(rows * nOut)).map { _ in Double(Float(rng.normal())) }
        let params = pf.map(Double.init)

        let (y, dx, dp) = try runLayer(layer, rows: rows, x: x.map(Float.init), parameters: pf, cotangent: r.map(Float.init))
        let reference = output(x, params)
        let yScale = max(1, reference.map(abs).max()!)
        for i in 0..<reference.count {
            XCTAssertEqual(Double(y[i]), reference[i], accuracy: 1e-5 * yScale, "forward[\(i)]", file: file, line: line)
        }
        func objective(_ x: [Double], _ p: [Double]) -> Double { zip(output(x, p), r).reduce(0) { $0 + $1.0 * $1.1 } }
        let fdX = (0..<x.count).map { j in centralDifference({ objective($0, params) }, at: x, coordinate: j, h: 1e-4) }
        let fdP = (0..<nP).map { j in centralDifference({ objective(x, $0) }, at: params, coordinate: j, h: 1e-4) }
        let gScale = max(1, (fdX + fdP).map(abs).max()!)
        for j in 0..<fdX.count {
            XCTAssertEqual(Double(dx[j]), fdX[j], accuracy: 1e-4 * gScale, "∂x[\(j)]", file: file, line: line)
        }
        for j in 0..<nP {
            XCTAssertEqual(Double(dp[j]), fdP[j], accuracy: 1e-4 * gScale, "∂p[\(j)]", file: file, line: line)
        }
    }

    func testLinear() throws {
        try check(try Linear(inFeatures: 5, outFeatures: 3), rows: 1, seed: 1)
        try check(try Linear(inFeatures: 4, outFeatures: 6), rows: 5, seed: 2)
    }

    func testConv2d() throws {
        try check(try Conv2d(inChannels: 2, outChannels: 3, kernel: (3, 2), stride: (2, 1), padding: (1, 1),
                             inputHeight: 5, inputWidth: 6), rows: 3, seed: 3)
    }

    /// The power iterations ask `shouldStop` before each one, and stop with `.interrupted`.
    func testPowerIterationsPollAndStop() throws {
        let layer = try SpectralNorm(try Linear(inFeatures: 5, outFeatures: 3), powerIterations: 7)
        let p = [Float](repeating: 0.25, count: layer.parameterCount), b = try FloatBuffer(count: 8)
        var stream = UniformStream(Philox4x32(seed: 1, purpose: Purpose.initialisation))
        layer.initialiseBuffers(b.base, &stream)
        var asked = 0
        try p.withUnsafeBufferPointer { p in
            try layer.trainingStepWillBegin(p.baseAddress!, buffers: b.base, shouldStop: { asked += 1; return false })
            XCTAssertEqual(asked, 7)
            asked = 0
            XCTAssertThrowsError(try layer.trainingStepWillBegin(p.baseAddress!, buffers: b.base,
                                                                shouldStop: { asked += 1; return asked == 3 })) {
                guard case EBMError.interrupted = $0 else { return XCTFail("expected .interrupted, got \($0)") }
            }
            XCTAssertEqual(asked, 3)
        }
    }

    func testOnlyWeightedLayersAreWrapped() throws {
        XCTAssertThrowsError(try SpectralNorm(ActivationLayer(.tanh, shape: [3])))
        XCTAssertThrowsError(try SpectralNorm(try Linear(inFeatures: 2, outFeatures: 2), powerIterations: 0))
    }
}
