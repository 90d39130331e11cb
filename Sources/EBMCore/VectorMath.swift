/// Vectorised elementary functions for the activation passes (8 lanes; AVX2 registers).
enum VectorMath {
    typealias V = SIMD8<Float>

    /// `e^x` for each lane, accurate to about 2 ulp: Cephes' `expf` — `x = n ln 2 + r` with
    /// `|r| ≤ ln 2 / 2` (ln 2 split in two parts so `r` is exact), a degree-6 minimax polynomial
    /// for `e^r`, and `2^n` built in the exponent bits. Inputs are clamped to ±87 so that `2^n`
    /// stays a normal float (the result saturates near 6e37 and 2e-38).
    ///
    /// `n = round(x / ln 2)` comes from the float addition of 1.5·2²³ (which rounds to an integer
    /// and leaves it in the low mantissa bits): no float-to-int conversion, which Swift's generic
    /// SIMD code does lane by lane.
    @inline(__always)
    static func exp(_ x: V) -> V {
        // Clamp with selects (the generic pointwiseMin/Max are not inlined).
        var v = x.replacing(with: 87, where: x .> 87)
        v = v.replacing(with: -87, where: v .< -87)
        let shifted = v * 1.442_695_04 + 12_582_912  // 1.5·2²³
        let n = shifted - 12_582_912
        v = v - n * 0.693_359_375 + n * 2.121_944_4e-4
        let v2 = v * v
        var p = V(repeating: 1.987_569_15e-4)
        p = p * v + 1.398_199_95e-3
        p = p * v + 8.333_451_9e-3
        p = p * v + 4.166_579_59e-2
        p = p * v + 1.666_666_55e-1
        p = p * v + 5.000_000_12e-1
        let y = p * v2 + v + 1
        let integer = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000  // n as an integer
        return y * unsafeBitCast((integer &+ 127) &<< 23, to: V.self)
    }

    /// The logistic function `1 / (1 + e^−x)`.
    @inline(__always)
    static func sigmoid(_ x: V) -> V { 1 / (1 + exp(-x)) }

    /// `(tanh x, 1 + tanh x, 1 − tanh x)`, the last two computed from `e = e^{−2|x|}` as `2e/(1+e)`
    /// or `2/(1+e)`, so they keep full relative accuracy where `tanh x` is within rounding of ±1
    /// (the activation derivatives need them there).
    @inline(__always)
    static func tanhParts(_ x: V) -> (t: V, onePlus: V, oneMinus: V) {
        let negative = x .< 0
        let e = exp(-2 * x.replacing(with: -x, where: negative))
        let small = 2 * e / (1 + e), large = 2 / (1 + e)
        let onePlus = large.replacing(with: small, where: negative)
        let oneMinus = small.replacing(with: large, where: negative)
        return (onePlus - 1, onePlus, oneMinus)
    }
}

extension Activation {
    /// The fused bias-activation(-derivative) pass for activations with a vectorised form; `false`
    /// if this activation has none (the caller then takes the scalar path).
    @inline(__always)
    func applyVectorised(
        _ out: UnsafeMutablePointer<Float>, rows: Int, width: Int, bias: UnsafePointer<Float>,
        derivative: UnsafeMutablePointer<Float>?
    ) -> Bool {
        switch self {
        case .swish:
            forEachVector(out, rows: rows, width: width, bias: bias, derivative: derivative) { z in
                let s = VectorMath.sigmoid(z)
                return (z * s, s * (1 + z * (1 - s)))
            }
        case .tanh:
            forEachVector(out, rows: rows, width: width, bias: bias, derivative: derivative) { z in
                let (t, plus, minus) = VectorMath.tanhParts(z)
                return (t, plus * minus)
            }
        case .gelu:
            forEachVector(out, rows: rows, width: width, bias: bias, derivative: derivative) { z in
                let c: Float = 0.797_884_560_802_865_4, a: Float = 0.044715
                let z2: SIMD8<Float> = z * z
                let u: SIMD8<Float> = c * (z + a * z2 * z)
                let (_, plus, minus) = VectorMath.tanhParts(u)
                let half: SIMD8<Float> = 0.5 * plus
                let slope: SIMD8<Float> = c * (1 + 3 * a * z2)
                let dt: SIMD8<Float> = 0.5 * z * plus * minus * slope
                return (z * half, half + dt)
            }
        case .leakyReLU:
            forEachVector(out, rows: rows, width: width, bias: bias, derivative: derivative) { z in
                let positive = z .> 0
                return (z.replacing(with: 0.2 * z, where: .!positive),
                        SIMD8<Float>(repeating: 0.2).replacing(with: 1, where: positive))
            }
        case .softplus, .elu:
            return false
        }
        return true
    }

    /// Applies `f` (value, derivative) to 8 lanes at a time of every row, the tail lane by lane.
    @inline(__always)
    private func forEachVector(
        _ out: UnsafeMutablePointer<Float>, rows: Int, width: Int, bias: UnsafePointer<Float>,
        derivative: UnsafeMutablePointer<Float>?, _ f: (SIMD8<Float>) -> (SIMD8<Float>, SIMD8<Float>)
    ) {
        let vectorWidth = width & ~7
        for r in 0..<rows {
            let o = out + r * width
            var j = 0
            while j < vectorWidth {
                let z = UnsafeRawPointer(o + j).loadUnaligned(as: SIMD8<Float>.self)
                    + UnsafeRawPointer(bias + j).loadUnaligned(as: SIMD8<Float>.self)
                let (v, g) = f(z)
                UnsafeMutableRawPointer(o + j).storeBytes(of: v, as: SIMD8<Float>.self)
                if let d = derivative {
                    UnsafeMutableRawPointer(d + r * width + j).storeBytes(of: g, as: SIMD8<Float>.self)
                }
                j += 8
            }
            while j < width {
                let (v, g) = valueAndDerivative(o[j] + bias[j])
                o[j] = v
                derivative?[r * width + j] = g
                j += 1
            }
        }
    }
}
