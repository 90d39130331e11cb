import XCTest
@testable import EBMCore

/// Second-order derivatives (jets) of network energies against the double-precision reference
/// network, for every layer type and activation:
/// - the jet's outputs `⟨∇E, v⟩` and `vᵀ∇²E v` against central differences of `E(x + εv)` in ε;
/// - the parameter gradient of `Σ_i c0_i E_i + c1_i ⟨∇E_i, v_i⟩ (+ c2_i v_iᵀ∇²E_i v_i)` for random
///   per-row cotangents against central differences in each parameter of that sum.
///
/// Step sizes: ε-differences with h = 1e-3 are accurate to ~1e-7 (truncation h²·E'''/6; rounding
/// 4e-16/h² for the second difference), the parameter differences with h = 1e-3 add ~1e-6; the
/// float32 network is accurate to ~1e-5 relative, so the tolerance is 2e-3 of the largest value.
final class JetTests: XCTestCase {
    func check(_ energy: NetworkEnergy, rows: Int, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) throws {
        var rng = TestRNG(state: seed)
        let d = energy.dimension, nP = energy.parameterCount
        let params = energy.parameters.array.map(Double.init), buffers = energy.buffers.array.map(Double.init)
        let x = (0..<(rows * d)).map { _ in Float(rng.normal()) }
        let v = (0..<(rows * d)).map { _ in Float(rng.normal()) }
        func reference(_ row: [Double], _ p: [Double]) -> Double {
            ReferenceNetwork.forward(energy.network, row, p[...], buffers: buffers[...])[0]
        }
        /// `(E, ⟨∇E, v⟩, vᵀ∇²E v)` of row `i` by differences along `v_i`.
        func jet(_ i: Int, _ p: [Double]) -> (Double, Double, Double) {
            let h = 1e-3
            let xi = x[(i * d)..<((i + 1) * d)].map(Double.init), vi = v[(i * d)..<((i + 1) * d)].map(Double.init)
            let plus = reference(zip(xi, vi).map { $0 + h * $1 }, p), minus = reference(zip(xi, vi).map { $0 - h * $1 }, p)
            let mid = reference(xi, p)
            return (mid, (plus - minus) / (2 * h), (plus - 2 * mid + minus) / (h * h))
        }
        for order in [1, 2] {
            let k = order + 1
            let stacked = x + v + [Float](repeating: 0, count: (order - 1) * rows * d)
            let c = (0..<(k * rows)).map { _ in Float(rng.normal()) }
            var outputs = [Float](repeating: .nan, count: k * rows), grad = [Float](repeating: .nan, count: nP)
            let ws = try energy.makeWorkspace(capacity: k * rows)
            stacked.withUnsafeBufferPointer { s in
                outputs.withUnsafeMutableBufferPointer { o in
                    energy.forwardJet(s.baseAddress!, rows: rows, order: order, outputs: o.baseAddress!, workspace: ws)
                    c.withUnsafeBufferPointer { cb in
                        grad.withUnsafeMutableBufferPointer { g in
                            energy.parameterGradientOfJet(s.baseAddress!, rows: rows, order: order, outputs: o.baseAddress!,
                                                          cotangents: cb.baseAddress!, into: g.baseAddress!, workspace: ws)
                        }
                    }
                }
            }
            for i in 0..<rows {
                let (e, d1, d2) = jet(i, params)
                let scale = max(1, abs(e), abs(d1), abs(d2))
                XCTAssertEqual(Double(outputs[i]), e, accuracy: 2e-3 * scale, "E[\(i)]", file: file, line: line)
                XCTAssertEqual(Double(outputs[rows + i]), d1, accuracy: 2e-3 * scale, "⟨∇E, v⟩[\(i)] order \(order)", file: file, line: line)
                if order == 2 {
                    XCTAssertEqual(Double(outputs[2 * rows + i]), d2, accuracy: 2e-3 * scale, "vᵀ∇²E v[\(i)]", file: file, line: line)
                }
            }
            func objective(_ p: [Double]) -> Double {
                (0..<rows).reduce(0) { sum, i in
                    let (e, d1, d2) = jet(i, p)
                    return sum + Double(c[i]) * e + Double(c[rows + i]) * d1 + (order == 2 ? Double(c[2 * rows + i]) * d2 : 0)
                }
            }
            let fd = (0..<nP).map { centralDifference(objective, at: params, coordinate: $0, h: 1e-3) }
            let scale = max(1, fd.map(abs).max()!)
            for j in 0..<nP {
                XCTAssertEqual(Double(grad[j]), fd[j], accuracy: 2e-3 * scale,
                               "∂w[\(j)] (\(energy.network.parameters.count) tensors) order \(order)", file: file, line: line)
            }
        }
    }

    /// `f'`, `f''`, `f'''` of every activation against differences of the double-precision
    /// reference `f`: second difference with h = 1e-3 (error ~1e-7), third with k = 2e-3
    /// (truncation k²·f⁽⁵⁾/4 ≤ 2e-5, f⁽⁵⁾ ≤ 16 for tanh; rounding ~1e-7); points 0.01 off the grid keep
    /// every difference off the kinks of ELU and leaky ReLU at 0.
    func testActivationDerivatives() {
        for activation in Activation.allCases {
            let f = { (z: Double) in ReferenceMLP.f(activation, z) }
            for step in -24...24 {
                let z = Double(step) / 4 + 0.01
                let (value, d1, d2, d3) = activation.derivatives(Float(z))
                let h = 1e-3, k = 2e-3
                let r1 = (f(z + h) - f(z - h)) / (2 * h)
                let r2 = (f(z + h) - 2 * f(z) + f(z - h)) / (h * h)
                let r3 = (f(z + 2 * k) - 2 * f(z + k) + 2 * f(z - k) - f(z - 2 * k)) / (2 * k * k * k)
                let label = "\(activation) at \(z)"
                XCTAssertEqual(Double(value), f(z), accuracy: 1e-5 * max(1, abs(f(z))), label)
                XCTAssertEqual(Double(d1), r1, accuracy: 1e-5, "f' of " + label)
                XCTAssertEqual(Double(d2), r2, accuracy: 1e-5, "f'' of " + label)
                XCTAssertEqual(Double(d3), r3, accuracy: 1e-4, "f''' of " + label)
            }
        }
    }

    /// The 16-lane jet passes equal the scalar ones (same formulas; vector exp and tanh within a
    /// few float32 ulps), on a length that leaves a padded tail.
    func testVectorisedJetPassesMatchScalar() throws {
        var rng = TestRNG(state: 3)
        let n = 37
        let x = (0..<(3 * n)).map { _ in Float(3 * rng.normal()) }, dy = (0..<(3 * n)).map { _ in Float(rng.normal()) }
        for activation in Activation.allCases {
            for order in [1, 2] {
                let k = order + 1
                var vy = [Float](repeating: 0, count: k * n), sy = vy, vdx = vy, sdx = vy
                let vectorised = x.withUnsafeBufferPointer { xb in
                    activation.jetForwardVectorised(xb.baseAddress!, &vy, n: n, order: order)
                        && dy.withUnsafeBufferPointer { activation.jetBackwardVectorised(xb.baseAddress!, $0.baseAddress!, &vdx, n: n, order: order) }
                }
                guard vectorised else { continue }
                let unused = try FloatBuffer(count: 1), output = try FloatBuffer(count: k * n), cotangent = try FloatBuffer(count: k * n)
                x.withUnsafeBufferPointer { xb in
                    let b = LayerBuffers(rows: 1, input: xb.baseAddress!, output: output.base, parameters: xb.baseAddress!,
                                         saved: unused.base, scratch: unused.base)
                    elementwiseJetForward(b, order: order, count: n, activation.derivatives)
                    dy.withUnsafeBufferPointer {
                        elementwiseJetBackward(b, order: order, count: n, outputCotangent: $0.baseAddress!,
                                               inputCotangent: cotangent.base, activation.derivatives)
                    }
                }
                sy = output.array
                sdx = cotangent.array
                for i in 0..<(k * n) {
                    XCTAssertEqual(vy[i], sy[i], accuracy: 1e-5 * max(1, abs(sy[i])), "\(activation) forward \(i)")
                    XCTAssertEqual(vdx[i], sdx[i], accuracy: 1e-5 * max(1, abs(sdx[i])), "\(activation) backward \(i)")
                }
            }
        }
    }

    func mlp(_ make: (Int) throws -> NetworkLayer) throws -> NetworkEnergy {
        try NetworkEnergy(network: try Sequential([
            try Linear(inFeatures: 3, outFeatures: 5), try make(5),
            try Linear(inFeatures: 5, outFeatures: 4), try make(4),
            try Linear(inFeatures: 4, outFeatures: 1),
        ]), seed: 11)
    }

    func testEveryActivation() throws {
        for (n, activation) in Activation.allCases.enumerated() {
            try check(try mlp { try ActivationLayer(activation, shape: [$0]) }, rows: 3, seed: UInt64(20 + n))
        }
    }

    func testLeakyReLUAndReLU() throws {
        try check(try mlp { try LeakyReLU(slope: 0.1, shape: [$0]) }, rows: 3, seed: 5)
        try check(try mlp { try LeakyReLU(slope: 0, shape: [$0]) }, rows: 3, seed: 6)
    }

    func testConvolutionPoolingAndFlatten() throws {
        let net = try Sequential([
            try Conv2d(inChannels: 2, outChannels: 3, kernel: (3, 2), stride: (2, 1), padding: (1, 1), inputHeight: 5, inputWidth: 4),
            ActivationLayer(.swish, shape: [3, 3, 5]),
            try AvgPool2d(channels: 3, inputHeight: 3, inputWidth: 5, kernel: (2, 2), stride: (1, 2)),
            Flatten(shape: [3, 2, 2]),
            try Linear(inFeatures: 12, outFeatures: 1),
        ])
        try check(try NetworkEnergy(network: net, seed: 3), rows: 2, seed: 7)
    }

    func testResidualAndSpectralNorm() throws {
        let net = try Sequential([
            try SpectralNorm(try Conv2d(inChannels: 1, outChannels: 2, kernel: (2, 2), inputHeight: 3, inputWidth: 3)),
            ActivationLayer(.softplus, shape: [2, 2, 2]),
            Flatten(shape: [2, 2, 2]),
            try Residual(try Sequential([try Linear(inFeatures: 8, outFeatures: 8), ActivationLayer(.tanh, shape: [8])])),
            try SpectralNorm(try Linear(inFeatures: 8, outFeatures: 3)),
            ActivationLayer(.geluErf, shape: [3]),
            try Linear(inFeatures: 3, outFeatures: 1),
        ])
        try check(try NetworkEnergy(network: net, seed: 4), rows: 3, seed: 8)
    }

    /// A joint energy model's −logsumexp head, with every order, and its class-conditional views.
    func testClassifierEnergy() throws {
        let classifier = try Sequential([
            try Linear(inFeatures: 3, outFeatures: 6), ActivationLayer(.swish, shape: [6]),
            try Linear(inFeatures: 6, outFeatures: 4),
        ])
        let energy = try NetworkEnergy(network: classifier, seed: 2, classes: 4)
        XCTAssertEqual(energy.classes, 4)
        XCTAssertEqual(energy.network.parameters, classifier.parameters)
        try check(energy, rows: 3, seed: 12)

        // E(x, y) = −f(x)[y] and its input gradient against the reference classifier.
        var rng = TestRNG(state: 5)
        let rows = 3, d = 3, params = energy.parameters.array.map(Double.init)
        let x = (0..<(rows * d)).map { _ in Float(rng.normal()) }
        for label in 0..<4 {
            let view = try ClassEnergy(energy, label: label)
            var e = [Float](repeating: 0, count: rows), g = [Float](repeating: 0, count: rows * d)
            let ws = try view.makeWorkspace(capacity: rows)
            x.withUnsafeBufferPointer { xb in
                e.withUnsafeMutableBufferPointer { eb in
                    g.withUnsafeMutableBufferPointer { view.gradients(xb, rows: rows, energies: eb, into: $0, workspace: ws) }
                }
            }
            for i in 0..<rows {
                let row = x[(i * d)..<((i + 1) * d)].map(Double.init)
                let f = { (z: [Double]) in -ReferenceNetwork.forward(classifier, z, params[...])[label] }
                XCTAssertEqual(Double(e[i]), f(row), accuracy: 1e-5)
                for j in 0..<d {
                    XCTAssertEqual(Double(g[i * d + j]), centralDifference(f, at: row, coordinate: j, h: 1e-4), accuracy: 1e-4)
                }
            }
        }
        XCTAssertThrowsError(try ClassEnergy(energy, label: 4))
        XCTAssertThrowsError(try NetworkEnergy(network: classifier, seed: 0, classes: 3))
    }

    /// The first block of a jet is the plain pass: its energies and the gradient for cotangents
    /// `(1/n, 0)` equal `energies` and `parameterGradientOfMean` bit for bit up to summation order.
    func testValueBlockIsThePlainPass() throws {
        let energy = try mlp { try ActivationLayer(.swish, shape: [$0]) }
        let rows = 4, d = energy.dimension, nP = energy.parameterCount
        var rng = TestRNG(state: 2)
        let x = (0..<(rows * d)).map { _ in Float(rng.normal()) }
        let stacked = x + (0..<(rows * d)).map { _ in Float(rng.normal()) }
        let c = [Float](repeating: 0.25, count: rows) + [Float](repeating: 0, count: rows)
        var outputs = [Float](repeating: 0, count: 2 * rows), grad = [Float](repeating: 0, count: nP)
        var plain = [Float](repeating: 0, count: rows), mean = [Float](repeating: 0, count: nP)
        let ws = try energy.makeWorkspace(capacity: 2 * rows)
        stacked.withUnsafeBufferPointer { s in
            outputs.withUnsafeMutableBufferPointer { o in
                energy.forwardJet(s.baseAddress!, rows: rows, order: 1, outputs: o.baseAddress!, workspace: ws)
                energy.parameterGradientOfJet(s.baseAddress!, rows: rows, order: 1, outputs: o.baseAddress!,
                                              cotangents: c, into: &grad, workspace: ws)
            }
        }
        x.withUnsafeBufferPointer { xb in
            plain.withUnsafeMutableBufferPointer { energy.energies(xb, rows: rows, into: $0, workspace: ws) }
            mean.withUnsafeMutableBufferPointer { energy.parameterGradientOfMean(xb, rows: rows, into: $0, workspace: ws) }
        }
        for i in 0..<rows { XCTAssertEqual(outputs[i], plain[i], accuracy: 1e-6 * max(1, abs(plain[i]))) }
        for j in 0..<nP { XCTAssertEqual(grad[j], mean[j], accuracy: 1e-6) }
    }
}
