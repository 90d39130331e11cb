/// The jet passes of the activations (`NetworkLayer+Jet.swift`), 16 lanes at a time, for the
/// activations whose forward pass is vectorised too (the same value arithmetic, so a jet's value
/// block equals the plain pass's). Measured on a DSM step of the toy2d MLP (2, 128, 128): the
/// scalar passes took 40 % of the step.
extension Activation {
    /// `y ← jet(f)(x)` over `n` values per block (see `elementwiseJetForward`); `false` when this
    /// activation has no vector form (the caller takes the scalar path).
    func jetForwardVectorised(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, n: Int, order: Int) -> Bool {
        switch self {
        case .swish: SwishJet.forward(x, y, n, order)
        case .tanh: TanhJet.forward(x, y, n, order)
        case .gelu: GeluJet.forward(x, y, n, order)
        case .leakyReLU: LeakyReLUJet.forward(x, y, n, order)
        case .softplus, .elu, .geluErf: return false
        }
        return true
    }

    /// The reverse of `jetForwardVectorised` (see `elementwiseJetBackward`).
    func jetBackwardVectorised(
        _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, n: Int, order: Int
    ) -> Bool {
        switch self {
        case .swish: SwishJet.backward(x, dy, dx, n, order)
        case .tanh: TanhJet.backward(x, dy, dx, n, order)
        case .gelu: GeluJet.backward(x, dy, dx, n, order)
        case .leakyReLU: LeakyReLUJet.backward(x, dy, dx, n, order)
        case .softplus, .elu, .geluErf: return false
        }
        return true
    }
}

/// An activation's value and first three derivatives on 16 lanes (the formulas of the scalar
/// `Activation.derivatives`).
private protocol JetKernel {
    static func derivatives(_ z: VectorMath.V) -> (VectorMath.V, VectorMath.V, VectorMath.V, VectorMath.V)
}

extension JetKernel {
    typealias V = VectorMath.V

    /// Loads 16 values from `p + i`, or the `n − i` left padded with zeros.
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ i: Int, _ n: Int) -> V {
        if i + V.scalarCount <= n { return UnsafeRawPointer(p + i).loadUnaligned(as: V.self) }
        var v = V()
        for k in 0..<(n - i) { v[k] = p[i + k] }
        return v
    }

    @inline(__always)
    static func store(_ v: V, _ p: UnsafeMutablePointer<Float>, _ i: Int, _ n: Int) {
        if i + V.scalarCount <= n {
            UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: V.self)
        } else {
            for k in 0..<(n - i) { p[i + k] = v[k] }
        }
    }

    @inline(never)
    static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, _ order: Int) {
        var i = 0
        while i < n {
            let (f, f1, f2, _) = derivatives(load(x, i, n))
            let x1 = load(x + n, i, n)
            store(f, y, i, n)
            store(f1 * x1, y + n, i, n)
            if order == 2 { store(f2 * x1 * x1 + f1 * load(x + 2 * n, i, n), y + 2 * n, i, n) }
            i += V.scalarCount
        }
    }

    @inline(never)
    static func backward(
        _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ n: Int, _ order: Int
    ) {
        var i = 0
        while i < n {
            let (_, f1, f2, f3) = derivatives(load(x, i, n))
            let x1 = load(x + n, i, n), d0 = load(dy, i, n), d1 = load(dy + n, i, n)
            if order == 2 {
                let x2 = load(x + 2 * n, i, n), d2 = load(dy + 2 * n, i, n)
                store(f1 * d0 + f2 * x1 * d1 + (f3 * x1 * x1 + f2 * x2) * d2, dx, i, n)
                store(f1 * d1 + 2 * f2 * x1 * d2, dx + n, i, n)
                store(f1 * d2, dx + 2 * n, i, n)
            } else {
                store(f1 * d0 + f2 * x1 * d1, dx, i, n)
                store(f1 * d1, dx + n, i, n)
            }
            i += V.scalarCount
        }
    }
}

private enum SwishJet: JetKernel {
    @inline(__always)
    static func derivatives(_ z: V) -> (V, V, V, V) {
        let s = VectorMath.sigmoid(z), d = s * (1 - s), m = 1 - 2 * s
        return (z * s, s + z * d, 2 * d + z * d * m, 3 * d * m + z * d * (m * m - 2 * d))
    }
}

private enum TanhJet: JetKernel {
    @inline(__always)
    static func derivatives(_ z: V) -> (V, V, V, V) {
        let (t, plus, minus) = VectorMath.tanhParts(z)
        let q = plus * minus
        return (t, q, -2 * t * q, q * (6 * t * t - 2))
    }
}

private enum GeluJet: JetKernel {
    @inline(__always)
    static func derivatives(_ z: V) -> (V, V, V, V) {
        let c: Float = 0.797_884_560_802_865_4, a: Float = 0.044715
        let z2: V = z * z
        let u1: V = c * (1 + 3 * a * z2), u2: V = 6 * a * c * z, u3: Float = 6 * a * c
        let (t, plus, minus) = VectorMath.tanhParts(c * (z + a * z2 * z))
        let s: V = plus * minus, q: V = u2 - 2 * t * u1 * u1
        let half: V = 0.5 * plus
        let f1: V = half + 0.5 * z * s * u1
        let f2: V = s * u1 + 0.5 * z * s * q
        let zs: V = z * s
        let u1Cubed: V = u1 * u1 * u1
        let inner: V = u3 - 2 * s * u1Cubed - 4 * t * u1 * u2
        let f3: V = 1.5 * s * q - zs * t * u1 * q + 0.5 * zs * inner
        return (z * half, f1, f2, f3)
    }
}

private enum LeakyReLUJet: JetKernel {
    @inline(__always)
    static func derivatives(_ z: V) -> (V, V, V, V) {
        let positive = z .> 0
        return (z.replacing(with: 0.2 * z, where: .!positive), V(repeating: 0.2).replacing(with: 1, where: positive),
                V(), V())
    }
}
