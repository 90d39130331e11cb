import XCTest
@testable import EBMCore

/// A convolutional energy end to end: energies, input gradients and the mean's parameter
/// gradient against the double-precision reference, and Langevin sampling through the generic
/// samplers, bit-identical for one and two threads.
final class NetworkEnergyTests: XCTestCase {
    func makeEnergy() throws -> NetworkEnergy {
        let net = try Sequential([
            try Conv2d(inChannels: 1, outChannels: 4, kernel: (3, 3), stride: (2, 2), padding: (1, 1), inputHeight: 7, inputWidth: 7),
            ActivationLayer(.swish, shape: [4, 4, 4]),
            Flatten(shape: [4, 4, 4]),
            try Linear(inFeatures: 64, outFeatures: 8),
            ActivationLayer(.swish, shape: [8]),
            try Linear(inFeatures: 8, outFeatures: 1),
        ])
        return try NetworkEnergy(network: net, seed: 3)
    }

    func testEnergyGradientsAgainstReference() throws {
        let energy = try makeEnergy()
        let rows = 5, d = energy.dimension
        var rng = TestRNG(state: 9)
        let x = (0..<(rows * d)).map { _ in Float(rng.normal()) }
        let params = energy.parameters.array.map(Double.init)
        func reference(_ row: [Double], _ p: [Double]) -> Double { ReferenceNetwork.forward(energy.network, row, p[...])[0] }

        var e = [Float](repeating: 0, count: rows), g = [Float](repeating: 0, count: rows * d)
        var gp = [Float](repeating: 0, count: energy.parameterCount)
        let ws = try energy.makeWorkspace(capacity: rows)
        x.withUnsafeBufferPointer { xb in
            e.withUnsafeMutableBufferPointer { eb in
                g.withUnsafeMutableBufferPointer { energy.gradients(xb, rows: rows, energies: eb, into: $0, workspace: ws) }
            }
            gp.withUnsafeMutableBufferPointer { energy.parameterGradientOfMean(xb, rows: rows, into: $0, workspace: ws) }
        }
        let rowsD = (0..<rows).map { i in x[(i * d)..<((i + 1) * d)].map(Double.init) }
        for i in 0..<rows {
            XCTAssertEqual(Double(e[i]), reference(rowsD[i], params), accuracy: 1e-5)
            for j in 0..<d {
                let fd = centralDifference({ reference($0, params) }, at: rowsD[i], coordinate: j, h: 1e-4)
                XCTAssertEqual(Double(g[i * d + j]), fd, accuracy: 1e-4, "∂x[\(i), \(j)]")
            }
        }
        for j in stride(from: 0, to: params.count, by: 7) {  // every 7th parameter: ~90 of 628
            let fd = centralDifference({ p in rowsD.reduce(0) { $0 + reference($1, p) } / Double(rows) },
                                       at: params, coordinate: j, h: 1e-4)
            XCTAssertEqual(Double(gp[j]), fd, accuracy: 1e-4, "∂w[\(j)]")
        }
    }

    func testLangevinIsIdenticalForOneAndTwoThreads() throws {
        let energy = try makeEnergy()
        let rows = 150
        var rng = TestRNG(state: 4)
        let x0 = (0..<(rows * energy.dimension)).map { _ in Float(rng.normal()) }
        let p = SamplerSpec.langevin(steps: 10, stepSize: 0.01)
        func run(threads: Int) throws -> [Float] {
            var x = x0
            try runSampler(energy, p, &x, threads: threads)
            return x
        }
        let one = try run(threads: 1), two = try run(threads: 2)
        XCTAssertEqual(one, two)
        XCTAssertNotEqual(one, x0)
        XCTAssertTrue(one.allSatisfy(\.isFinite))
    }
}
