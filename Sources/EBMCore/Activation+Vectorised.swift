/// The activation passes of the forward step, 16 lanes at a time (see `VectorMath`).
extension Activation {
    /// The fused bias-activation(-derivative) pass for activations with a vectorised form; `false`
    /// if this activation has none (the caller then takes the scalar path).
    @inline(__always)
    func applyVectorised(
        _ out: UnsafeMutablePointer<Float>, rows: Int, width: Int, bias: UnsafePointer<Float>,
        derivative: UnsafeMutablePointer<Float>?
    ) -> Bool {
        switch self {
        case .swish: SwishKernel.pass(out, rows, width, bias, derivative)
        case .tanh: TanhKernel.pass(out, rows, width, bias, derivative)
        case .gelu: GeluKernel.pass(out, rows, width, bias, derivative)
        case .leakyReLU: LeakyReLUKernel.pass(out, rows, width, bias, derivative)
        case .softplus, .elu, .geluErf: return false
        }
        return true
    }
}

/// One activation's value and derivative on 16 lanes. The passes are generic over it rather than
/// taking a closure: a closure this large is not inlined into the loop, and each call then moves
/// the vectors through memory (measured: a third of the pass's time).
private protocol VectorKernel {
    static func valueAndDerivative(_ z: VectorMath.V) -> (VectorMath.V, VectorMath.V)
}

extension VectorKernel {
    /// `out ← f(out + bias)` and `derivative ← f'(out + bias)` (when given) over a row-major
    /// `rows × width` block, 16 lanes at a time; a row's last partial vector goes through the
    /// kernel padded with zeros, so every element takes the same arithmetic. One non-inlined
    /// function per kernel, small enough for the optimiser to inline the vector math into its loop.
    @inline(never)
    static func pass(
        _ out: UnsafeMutablePointer<Float>, _ rows: Int, _ width: Int, _ bias: UnsafePointer<Float>,
        _ derivative: UnsafeMutablePointer<Float>?
    ) {
        typealias V = VectorMath.V
        let lanes = V.scalarCount
        let vectorWidth = width - width % lanes
        for r in 0..<rows {
            let o = out + r * width
            let d = derivative.map { $0 + r * width }
            var j = 0
            while j < vectorWidth {
                let z = UnsafeRawPointer(o + j).loadUnaligned(as: V.self)
                    + UnsafeRawPointer(bias + j).loadUnaligned(as: V.self)
                let (v, g) = valueAndDerivative(z)
                UnsafeMutableRawPointer(o + j).storeBytes(of: v, as: V.self)
                if let d { UnsafeMutableRawPointer(d + j).storeBytes(of: g, as: V.self) }
                j += lanes
            }
            if j < width {
                var z = V()
                for k in 0..<(width - j) { z[k] = o[j + k] + bias[j + k] }
                let (v, g) = valueAndDerivative(z)
                for k in 0..<(width - j) {
                    o[j + k] = v[k]
                    d?[j + k] = g[k]
                }
            }
        }
    }
}

/// `f = z σ(z)`, `f' = σ (1 + z (1 − σ))`.
private enum SwishKernel: VectorKernel {
    @inline(__always)
    static func valueAndDerivative(_ z: VectorMath.V) -> (VectorMath.V, VectorMath.V) {
        let s = VectorMath.sigmoid(z)
        return (z * s, s * VectorMath.V.one.multiplyAdd(z, 1 - s))
    }
}

/// `f = tanh z`, `f' = (1 + tanh z)(1 − tanh z)`.
private enum TanhKernel: VectorKernel {
    @inline(__always)
    static func valueAndDerivative(_ z: VectorMath.V) -> (VectorMath.V, VectorMath.V) {
        let (t, plus, minus) = VectorMath.tanhParts(z)
        return (t, plus * minus)
    }
}

/// The tanh form of GELU; the scalar `Activation.valueAndDerivative` spells out the formula.
private enum GeluKernel: VectorKernel {
    @inline(__always)
    static func valueAndDerivative(_ z: VectorMath.V) -> (VectorMath.V, VectorMath.V) {
        typealias V = VectorMath.V
        let c: Float = 0.797_884_560_802_865_4, a: Float = 0.044715
        let z2: V = z * z
        let u: V = c * (z + a * z2 * z)
        let (_, plus, minus) = VectorMath.tanhParts(u)
        let half: V = 0.5 * plus
        let slope: V = c * (1 + 3 * a * z2)
        let dt: V = 0.5 * z * plus * minus * slope
        return (z * half, half + dt)
    }
}

/// `f = z` for `z > 0`, else `0.2 z`.
private enum LeakyReLUKernel: VectorKernel {
    @inline(__always)
    static func valueAndDerivative(_ z: VectorMath.V) -> (VectorMath.V, VectorMath.V) {
        let positive = z .> 0
        return (z.replacing(with: 0.2 * z, where: .!positive),
                VectorMath.V(repeating: 0.2).replacing(with: 1, where: positive))
    }
}
