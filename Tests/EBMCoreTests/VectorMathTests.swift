import Foundation
import XCTest
@testable import EBMCore

/// The 16-lane elementary functions against double-precision libm, in units of the float
/// rounding error (`Float.ulpOfOne` = 2⁻²³ relative).
final class VectorMathTests: XCTestCase {
    typealias V = VectorMath.V

    /// Largest relative error of `fast` against `exact` over `inputs`, taken 16 at a time.
    private func worstRelativeError(
        _ inputs: [Float], _ fast: (V) -> V, _ exact: (Double) -> Double
    ) -> Double {
        var worst = 0.0
        for start in stride(from: 0, to: inputs.count - 15, by: 16) {
            let lanes = V(inputs[start..<(start + 16)])
            let result = fast(lanes)
            for i in 0..<16 {
                let reference = exact(Double(lanes[i]))
                worst = max(worst, abs(Double(result[i]) - reference) / abs(reference))
            }
        }
        return worst / Double(Float.ulpOfOne)
    }

    /// exp over [−87, 87]: below 4 ulp.
    func testExp() {
        let inputs = (0..<16_000).map { -87 + Float($0) * 0.010_87 }
        XCTAssertLessThan(worstRelativeError(inputs, VectorMath.exp, Foundation.exp), 4)
    }

    /// log over the Box–Muller uniforms, (0, 1) from 2⁻²⁵ up, and across several binades: below
    /// 3 ulp (the result is never near 0 there except at u → 1, checked in absolute terms).
    func testLog() {
        var inputs = (0..<20_000).map { Float($0) / 20_000 + 0x1p-25 }
        inputs += (0..<4_000).map { powf(2, -25 + Float($0) * 0.006) }
        XCTAssertLessThan(worstRelativeError(inputs.filter { $0 < 0.9 }, VectorMath.log, Foundation.log), 3)
        // Near 1 the logarithm is small: its absolute error stays within an ulp of 1.
        for start in stride(from: 0, to: 16 * 200, by: 16) {
            let lanes = V((0..<16).map { 1 - Float(start + $0 + 1) * 0x1p-24 })
            let result = VectorMath.log(lanes)
            for i in 0..<16 {
                XCTAssertEqual(Double(result[i]), Foundation.log(Double(lanes[i])), accuracy: 0x1p-24)
            }
        }
    }

    /// √x over many binades: below 2 ulp.
    func testSquareRoot() {
        let inputs = (0..<20_000).map { powf(2, -30 + Float($0) * 0.003) * (1 + Float($0 % 7) * 0.1) }
        XCTAssertLessThan(worstRelativeError(inputs, VectorMath.squareRoot, Foundation.sqrt), 2)
        // Adam takes it of second moments, which can be 0 or subnormal.
        let special = VectorMath.squareRoot(V((0..<16).map { $0 == 0 ? 0 : Float.leastNonzeroMagnitude * Float($0 * 1000) }))
        XCTAssertEqual(special[0], 0)
        for i in 1..<16 {
            let exact = Foundation.sqrt(Double(Float.leastNonzeroMagnitude) * Double(i * 1000))
            XCTAssertEqual(Double(special[i]), exact, accuracy: 2 * Double(Float.ulpOfOne) * exact)
        }
    }

    /// sin 2πu and cos 2πu over [0, 1], in absolute terms (they cross zero): within 3·2⁻²⁴ of the
    /// double-precision values of the same float `u`.
    func testSinCosTwoPi() {
        for start in stride(from: 0, to: 40_000, by: 16) {
            let lanes = V((0..<16).map { Float(start + $0) / 40_000 })
            let (s, c) = VectorMath.sinCosTwoPi(lanes)
            for i in 0..<16 {
                let angle = 2 * Double.pi * Double(lanes[i])
                XCTAssertEqual(Double(s[i]), Foundation.sin(angle), accuracy: 3 * 0x1p-24, "sin at u = \(lanes[i])")
                XCTAssertEqual(Double(c[i]), Foundation.cos(angle), accuracy: 3 * 0x1p-24, "cos at u = \(lanes[i])")
            }
        }
    }

    /// Every activation's vectorised pass equals its scalar definition (to a few ulp), on widths
    /// with a tail only, whole vectors and a tail, and whole vectors only.
    func testVectorisedActivationsMatchScalar() {
        for width in [5, 21, 64] {
            let rows = 3
            let bias = (0..<width).map { Float($0) * 0.1 - 1 }
            for activation in Activation.allCases {
                var out = (0..<(rows * width)).map { Float($0 % 13) * 0.7 - 4 }
                let input = out
                var derivative = [Float](repeating: 0, count: rows * width)
                out.withUnsafeMutableBufferPointer { o in
                    derivative.withUnsafeMutableBufferPointer { d in
                        activation.apply(o.baseAddress!, rows: rows, width: width, bias: bias, derivative: d.baseAddress!)
                    }
                }
                for i in 0..<(rows * width) {
                    let (v, g) = activation.valueAndDerivative(input[i] + bias[i % width])
                    XCTAssertEqual(out[i], v, accuracy: 1e-6 * max(1, abs(v)), "\(activation) value at \(i), width \(width)")
                    XCTAssertEqual(derivative[i], g, accuracy: 1e-6 * max(1, abs(g)), "\(activation) derivative at \(i), width \(width)")
                }
            }
        }
    }
}
