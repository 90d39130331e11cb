import Foundation
@testable import EBMCore

/// An independent double-precision re-implementation of the MLP forward pass, read from the
/// model's flat parameters, for finite-difference checks.
struct ReferenceMLP {
    let dims: [Int]  // [dim, hidden..., 1]
    let activation: Activation
    var params: [Double]

    /// From a `NetworkEnergy.multilayerPerceptron`: its `Linear` widths and its activation.
    init(_ model: NetworkEnergy) {
        let linears = model.network.layers.compactMap { $0 as? Linear }
        dims = [model.dimension] + linears.map(\.outFeatures)
        activation = model.network.layers.compactMap { ($0 as? ActivationLayer)?.activation }.first!
        params = model.parameters.array.map(Double.init)
    }

    static func f(_ a: Activation, _ z: Double) -> Double {
        switch a {
        case .swish: return z / (1 + exp(-z))
        case .tanh: return tanh(z)
        case .softplus: return log1p(exp(z))
        case .elu: return z > 0 ? z : exp(z) - 1
        case .leakyReLU: return z > 0 ? z : 0.2 * z
        case .gelu: return 0.5 * z * (1 + tanh((2 / Double.pi).squareRoot() * (z + 0.044715 * z * z * z)))
        case .geluErf: return 0.5 * z * (1 + erf(z / 2.0.squareRoot()))
        }
    }

    func energy(_ x: [Double], params p: [Double]? = nil) -> Double {
        let w = p ?? params
        var a = x
        var offset = 0
        for l in 0..<(dims.count - 1) {
            let nIn = dims[l], nOut = dims[l + 1]
            var z = [Double](repeating: 0, count: nOut)
            for o in 0..<nOut {
                var s = w[offset + nIn * nOut + o]  // bias follows the weight block
                for i in 0..<nIn { s += w[offset + o * nIn + i] * a[i] }
                z[o] = s
            }
            offset += nIn * nOut + nOut
            a = l == dims.count - 2 ? z : z.map { Self.f(activation, $0) }
        }
        return a[0]
    }
}

/// Central finite difference of `f` along coordinate `i` of `x`.
func centralDifference(_ f: ([Double]) -> Double, at x: [Double], coordinate i: Int, h: Double = 1e-5) -> Double {
    var plus = x, minus = x
    plus[i] += h
    minus[i] -= h
    return (f(plus) - f(minus)) / (2 * h)
}

/// Deterministic pseudo-random doubles for test inputs (not the library's generator).
struct TestRNG {
    var state: UInt64
    mutating func next() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / Double(1 << 53)
    }
    mutating func normal() -> Double {
        let u = max(next(), 1e-300), v = next()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
}

/// Relative-or-absolute closeness: |a − b| ≤ tol · max(1, |a|, |b|).
func close(_ a: Double, _ b: Double, _ tol: Double) -> Bool {
    abs(a - b) <= tol * max(1, abs(a), abs(b))
}
