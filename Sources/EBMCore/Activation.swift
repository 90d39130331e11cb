#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The elementwise nonlinearities of the networks (their ABI codes, `EBM_ACT_*`, are the C
/// header's: see `Codes.swift` in the ABI target).
public enum Activation: CaseIterable, Sendable {
    /// `z·σ(z)` (SiLU).
    case swish
    /// `tanh z`.
    case tanh
    /// `ln(1 + e^z)`.
    case softplus
    /// `z` for `z > 0`, else `e^z − 1`.
    case elu
    /// `z` for `z > 0`, else `0.2·z`.
    case leakyReLU
    /// `½ z (1 + tanh(√(2/π)(z + 0.044715 z³)))`, the tanh form of GELU.
    case gelu
    /// `z Φ(z)`, the exact GELU (`Φ` the standard normal distribution function).
    case geluErf

    /// The activation's name in layer records (`activation` layers).
    public var name: String {
        switch self {
        case .swish: "swish"
        case .tanh: "tanh"
        case .softplus: "softplus"
        case .elu: "elu"
        case .leakyReLU: "leaky_relu"
        case .gelu: "gelu"
        case .geluErf: "gelu_erf"
        }
    }

    /// The activation's value at `z`.
    @inlinable
    public func value(_ z: Float) -> Float { valueAndDerivative(z).0 }

    /// The activation's value and derivative at `z`, computed together.
    @inlinable
    public func valueAndDerivative(_ z: Float) -> (Float, Float) {
        switch self {
        case .swish:
            // f = z σ, f' = σ + z σ (1 − σ) = σ (1 + z (1 − σ)).
            let s = 1 / (1 + expf(-z))
            return (z * s, s * (1 + z * (1 - s)))
        case .tanh:
            let (t, plus, minus) = Self.tanhParts(z)
            return (t, plus * minus)
        case .softplus:
            // Stable: max(z, 0) + log1p(e^−|z|); the derivative is σ(z).
            let v = max(z, 0) + log1pf(expf(-abs(z)))
            return (v, 1 / (1 + expf(-z)))
        case .elu:
            if z > 0 { return (z, 1) }
            let e = expf(z)
            return (expm1f(z), e)
        case .leakyReLU:
            return z > 0 ? (z, 1) : (0.2 * z, 0.2)
        case .gelu:
            // u = c (z + a z³), f = ½ z (1 + tanh u),
            // f' = ½ (1 + tanh u) + ½ z (1 − tanh² u) c (1 + 3 a z²)   (Hendrycks & Gimpel 2016).
            let c: Float = 0.797_884_560_802_865_4  // √(2/π)
            let a: Float = 0.044715
            let (_, plus, minus) = Self.tanhParts(c * (z + a * z * z * z))
            return (0.5 * z * plus, 0.5 * plus + 0.5 * z * plus * minus * c * (1 + 3 * a * z * z))
        case .geluErf:
            // Φ(z) = ½ erfc(−z/√2) (accurate in the left tail), f' = Φ(z) + z φ(z).
            let phi = 0.5 * erfcf(-z * 0.707_106_781_186_547_5)
            let density = expf(-0.5 * z * z) * 0.398_942_280_401_432_7  // 1/√(2π)
            return (z * phi, phi + z * density)
        }
    }

    /// `(tanh x, 1 + tanh x, 1 − tanh x)` from `e = e^{−2|x|}`: `1 ∓ tanh|x| = 2e/(1+e)` or
    /// `2/(1+e)`, accurate where `tanh x` rounds to ±1 (the scalar twin of `VectorMath.tanhParts`).
    @inlinable
    static func tanhParts(_ x: Float) -> (Float, Float, Float) {
        let e = expf(-2 * abs(x))
        let small = 2 * e / (1 + e), large = 2 / (1 + e)
        return x < 0 ? (small - 1, small, large) : (large - 1, large, small)
    }

    /// `out[i] ← f(out[i] + bias[i mod width])` in place over a `rows × width` block, and
    /// `derivative[i] ← f'(…)` when given: the fused bias-activation pass of a forward step.
    func apply(
        _ out: UnsafeMutablePointer<Float>, rows: Int, width: Int, bias: UnsafePointer<Float>,
        derivative: UnsafeMutablePointer<Float>?
    ) {
        if applyVectorised(out, rows: rows, width: width, bias: bias, derivative: derivative) { return }
        if let d = derivative {
            for r in 0..<rows {
                let o = out + r * width, dr = d + r * width
                for j in 0..<width {
                    let (v, g) = valueAndDerivative(o[j] + bias[j])
                    o[j] = v
                    dr[j] = g
                }
            }
        } else {
            for r in 0..<rows {
                let o = out + r * width
                for j in 0..<width { o[j] = value(o[j] + bias[j]) }
            }
        }
    }
}
