#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The first three derivatives of each activation, for second-order passes (`NetworkLayer`'s jets:
/// score matching differentiates `∇x E` once more, which takes `f''` forward and `f'''` backward).
extension Activation {
    /// `(f(z), f'(z), f''(z), f'''(z))`.
    @inlinable
    public func derivatives(_ z: Float) -> (Float, Float, Float, Float) {
        switch self {
        case .swish:
            // s = σ(z), d = s(1 − s) = σ', m = 1 − 2s (d' = d m, m' = −2d):
            // f = z s, f' = s + z d, f'' = 2d + z d m, f''' = 3 d m + z d (m² − 2d).
            let s = 1 / (1 + expf(-z)), d = s * (1 - s), m = 1 - 2 * s
            return (z * s, s + z * d, 2 * d + z * d * m, 3 * d * m + z * d * (m * m - 2 * d))
        case .tanh:
            // t = tanh z, q = 1 − t² (computed as (1 + t)(1 − t)): f' = q, f'' = −2tq, f''' = q(6t² − 2).
            let (t, plus, minus) = Self.tanhParts(z)
            let q = plus * minus
            return (t, q, -2 * t * q, q * (6 * t * t - 2))
        case .softplus:
            let s = 1 / (1 + expf(-z)), d = s * (1 - s)
            return (max(z, 0) + log1pf(expf(-abs(z))), s, d, d * (1 - 2 * s))
        case .elu:
            if z > 0 { return (z, 1, 0, 0) }
            let e = expf(z)
            return (expm1f(z), e, e, e)
        case .leakyReLU:
            return z > 0 ? (z, 1, 0, 0) : (0.2 * z, 0.2, 0, 0)
        case .gelu:
            // u = c(z + a z³) with u' = c(1 + 3a z²), u'' = 6acz, u''' = 6ac; t = tanh u,
            // S = 1 − t² (S' = −2 t S u'), Q = u'' − 2 t u'²:
            // f = ½ z (1 + t), f' = ½(1 + t) + ½ z S u', f'' = S u' + ½ z S Q,
            // f''' = 3/2 S Q − z t S u' Q + ½ z S (u''' − 2 S u'³ − 4 t u' u'').
            let c: Float = 0.797_884_560_802_865_4, a: Float = 0.044715
            let u1 = c * (1 + 3 * a * z * z), u2 = 6 * a * c * z, u3 = 6 * a * c
            let (t, plus, minus) = Self.tanhParts(c * (z + a * z * z * z))
            let s = plus * minus, q = u2 - 2 * t * u1 * u1
            let f1 = 0.5 * plus + 0.5 * z * s * u1
            let f2 = s * u1 + 0.5 * z * s * q
            let f3 = 1.5 * s * q - z * t * s * u1 * q + 0.5 * z * s * (u3 - 2 * s * u1 * u1 * u1 - 4 * t * u1 * u2)
            return (0.5 * z * plus, f1, f2, f3)
        case .geluErf:
            // f = z Φ, f' = Φ + z φ, f'' = φ (2 − z²), f''' = φ z (z² − 4)   (φ' = −z φ).
            let phi = 0.5 * erfcf(-z * 0.707_106_781_186_547_5)
            let density = expf(-0.5 * z * z) * 0.398_942_280_401_432_7
            return (z * phi, phi + z * density, density * (2 - z * z), density * z * (z * z - 4))
        }
    }
}
