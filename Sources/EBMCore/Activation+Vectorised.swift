/// The activation passes of the forward step, 16 lanes at a time (see `VectorMath`).
extension Activation {
    /// The fused bias-activation(-derivative) pass for activations with a vectorised form; `false`
    /// if this activation has none (the caller then takes the scalar path).
    @inline(__always)
    func applyVectorised(
        _ out: UnsafeMutablePointer<Float>, rows: Int, width: Int, bias: UnsafePointer<Float>,
        derivative: UnsafeMutablePointer<Float>?
    ) -> Bool {
        let pass: (UnsafeMutablePointer<Float>, Int, Int, UnsafePointer<Float>, UnsafeMutablePointer<Float>?) -> Void
        switch self {
        case .swish: pass = Self.swishPass
        case .tanh: pass = Self.tanhPass
        case .gelu: pass = Self.geluPass
        case .leakyReLU: pass = Self.leakyReLUPass
        case .softplus, .elu: return false
        }
        pass(out, rows, width, bias, derivative)
        return true
    }

    // One non-inlined function per activation: each stays small enough for the optimiser to
    // inline `VectorMath.exp` into its loop (with all four in one body it did not, and the
    // 16-lane vectors then went through the stack).

    @inline(never)
    private static func swishPass(
        _ out: UnsafeMutablePointer<Float>, _ rows: Int, _ width: Int, _ bias: UnsafePointer<Float>,
        _ derivative: UnsafeMutablePointer<Float>?
    ) {
        // f = z σ(z), f' = σ (1 + z (1 − σ)).
        forEachVector(out, rows: rows, width: width, bias: bias, derivative: derivative) { z in
            let s = VectorMath.sigmoid(z)
            return (z * s, s * VectorMath.V.one.addingProduct(z, 1 - s))
        }
    }

    @inline(never)
    private static func tanhPass(
        _ out: UnsafeMutablePointer<Float>, _ rows: Int, _ width: Int, _ bias: UnsafePointer<Float>,
        _ derivative: UnsafeMutablePointer<Float>?
    ) {
        forEachVector(out, rows: rows, width: width, bias: bias, derivative: derivative) { z in
            let (t, plus, minus) = VectorMath.tanhParts(z)
            return (t, plus * minus)
        }
    }

    @inline(never)
    private static func geluPass(
        _ out: UnsafeMutablePointer<Float>, _ rows: Int, _ width: Int, _ bias: UnsafePointer<Float>,
        _ derivative: UnsafeMutablePointer<Float>?
    ) {
        // The scalar `valueAndDerivative(.gelu)` spells out the formula.
        forEachVector(out, rows: rows, width: width, bias: bias, derivative: derivative) { z in
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

    @inline(never)
    private static func leakyReLUPass(
        _ out: UnsafeMutablePointer<Float>, _ rows: Int, _ width: Int, _ bias: UnsafePointer<Float>,
        _ derivative: UnsafeMutablePointer<Float>?
    ) {
        forEachVector(out, rows: rows, width: width, bias: bias, derivative: derivative) { z in
            let positive = z .> 0
            return (z.replacing(with: 0.2 * z, where: .!positive),
                    VectorMath.V(repeating: 0.2).replacing(with: 1, where: positive))
        }
    }

    /// Applies `f` (value, derivative) to 16 lanes at a time of every row; a row's last partial
    /// vector goes through `f` padded with zeros, so every element takes the same arithmetic.
    @inline(__always)
    private static func forEachVector(
        _ out: UnsafeMutablePointer<Float>, rows: Int, width: Int, bias: UnsafePointer<Float>,
        derivative: UnsafeMutablePointer<Float>?,
        _ f: (VectorMath.V) -> (VectorMath.V, VectorMath.V)
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
                let (v, g) = f(z)
                UnsafeMutableRawPointer(o + j).storeBytes(of: v, as: V.self)
                if let d { UnsafeMutableRawPointer(d + j).storeBytes(of: g, as: V.self) }
                j += lanes
            }
            if j < width {
                var z = V()
                for k in 0..<(width - j) { z[k] = o[j + k] + bias[j + k] }
                let (v, g) = f(z)
                for k in 0..<(width - j) {
                    o[j + k] = v[k]
                    d?[j + k] = g[k]
                }
            }
        }
    }
}
