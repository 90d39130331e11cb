/// Vectorised elementary functions for the activation passes and the Gaussian noise, 16 lanes
/// at a time: one AVX-512 register, or two AVX2 registers (which LLVM interleaves) without it.
///
/// Written with bit operations and `multiplyAdd` (fused where the hardware has FMA) only:
/// Swift's generic SIMD code runs float-to-int conversions and `squareRoot()` lane by lane (the
/// latter through libm's `sqrtf`).
enum VectorMath {
    typealias V = SIMD16<Float>
    typealias VI = SIMD16<Int32>

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
        let shifted = V(repeating: 12_582_912).multiplyAdd(v, 1.442_695_04)  // 1.5·2²³
        let n = shifted - 12_582_912
        v = v.multiplyAdd(n, -0.693_359_375).multiplyAdd(n, 2.121_944_4e-4)
        let v2 = v * v
        var p = V(repeating: 1.398_199_95e-3).multiplyAdd(v, 1.987_569_15e-4)
        p = V(repeating: 8.333_451_9e-3).multiplyAdd(p, v)
        p = V(repeating: 4.166_579_59e-2).multiplyAdd(p, v)
        p = V(repeating: 1.666_666_55e-1).multiplyAdd(p, v)
        p = V(repeating: 5.000_000_12e-1).multiplyAdd(p, v)
        let y = (v + 1).multiplyAdd(p, v2)
        let integer = unsafeBitCast(shifted, to: VI.self) &- 0x4B40_0000  // n as an integer
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

    /// Natural logarithm of positive, normal, finite lanes, accurate to about 1 ulp: Cephes'
    /// `logf` — `x = m·2^e` with `m ∈ [√½, √2)`, `ln x = e ln 2 + ln m`, and a degree-8
    /// minimax polynomial in `m − 1` (ln 2 split in two parts). No special cases: the Box–Muller
    /// radius only takes logarithms of uniforms in (0, 1).
    @inline(__always)
    static func log(_ x: V) -> V {
        let bits = unsafeBitCast(x, to: VI.self)
        // x = m·2^e with m ∈ [½, 1); Float(e) via 1.5·2²³ as in `exp`.
        var fe = unsafeBitCast((bits &>> 23) &+ (0x4B40_0000 - 126), to: V.self) - 12_582_912
        var m = unsafeBitCast((bits & 0x007F_FFFF) | 0x3F00_0000, to: V.self)
        // Selects on masks from float comparisons only: a mask moved to integer lanes is built
        // lane by lane.
        let low = m .< 0.707_106_781_186_547_524
        fe = fe.replacing(with: fe - 1, where: low)
        m = m.replacing(with: m + m, where: low) - 1
        let z = m * m
        var p = V(repeating: -1.151_461_031_0e-1).multiplyAdd(m, 7.037_683_629_2e-2)
        p = V(repeating: 1.167_699_874_0e-1).multiplyAdd(p, m)
        p = V(repeating: -1.242_014_084_6e-1).multiplyAdd(p, m)
        p = V(repeating: 1.424_932_278_7e-1).multiplyAdd(p, m)
        p = V(repeating: -1.666_805_766_5e-1).multiplyAdd(p, m)
        p = V(repeating: 2.000_071_476_5e-1).multiplyAdd(p, m)
        p = V(repeating: -2.499_999_399_3e-1).multiplyAdd(p, m)
        p = V(repeating: 3.333_333_117_4e-1).multiplyAdd(p, m)
        var y = (p * m * z).multiplyAdd(fe, -2.121_944_40e-4)
        y = y.multiplyAdd(z, -0.5)
        return (m + y).multiplyAdd(fe, 0.693_359_375)
    }

    /// `√x` for finite lanes `x ≥ 0`, within about 1 ulp: the reciprocal square root
    /// from the exponent-halving bit trick (relative error ≤ 3.5 %), two Newton steps
    /// `y ← y (3 − x y²)/2` (error ≈ 5e-6), then `s = x y` corrected once by `s + y (x − s²)/2`,
    /// which squares the error again. `√0 = 0` exactly.
    @inline(__always)
    static func squareRoot(_ x: V) -> V {
        // Subnormal lanes are scaled by 2²⁴ first (and their roots by 2⁻¹²): the bit trick needs
        // a normal exponent.
        let subnormal = x .< Float.leastNormalMagnitude
        let a = x.replacing(with: x * 0x1p24, where: subnormal)
        var y = unsafeBitCast(0x5F37_59DF &- (unsafeBitCast(a, to: VI.self) &>> 1), to: V.self)
        let half = 0.5 * a
        y = y * V(repeating: 1.5).multiplyAdd(half * y, -y)
        y = y * V(repeating: 1.5).multiplyAdd(half * y, -y)
        let s = a * y
        let root = s.multiplyAdd(0.5 * y, a.multiplyAdd(s, -s))
        return root.replacing(with: root * 0x1p-12, where: subnormal)
    }

    /// `(sin 2πu, cos 2πu)` for lanes `u ∈ [0, 1]`, within about 2 ulp of the rounded angle.
    ///
    /// `4u = q + r` with `q` the nearest integer (exact: the addition of 1.5·2²³ rounds and keeps
    /// `q` in the low bits) and `r ∈ [−½, ½]`; the angle is `q·π/2 + a`, `a = r·π/2 ∈ [−π/4, π/4]`,
    /// where Cephes' `sinf`/`cosf` polynomials hold. The quadrant `q mod 4` swaps the two and
    /// sets their signs.
    @inline(__always)
    static func sinCosTwoPi(_ u: V) -> (sin: V, cos: V) {
        let y = 4 * u
        let shifted = y + 12_582_912  // 1.5·2²³
        let q = unsafeBitCast(shifted, to: VI.self)
        let a = (y - (shifted - 12_582_912)) * 1.570_796_326_794_896_6
        let a2 = a * a
        var ps = V(repeating: 8.332_160_873_6e-3).multiplyAdd(a2, -1.951_529_589_1e-4)
        ps = V(repeating: -1.666_665_461_1e-1).multiplyAdd(ps, a2)
        let sinA = a.multiplyAdd(ps * a2, a)
        var pc = V(repeating: -1.388_731_625_493_765e-3).multiplyAdd(a2, 2.443_315_711_809_948e-5)
        pc = V(repeating: 4.166_664_568_298_827e-2).multiplyAdd(pc, a2)
        let cosA = (V.one.multiplyAdd(a2, -0.5)).multiplyAdd(pc * a2, a2)
        // Angle q·π/2 + a: q = 1 → (cos a, −sin a), q = 2 → (−sin a, −cos a), q = 3 → (−cos a, sin a).
        // Bitwise selects and sign flips: `odd` is all ones in lanes with q odd.
        let odd = VI.zero &- (q & 1)
        let sinBits = unsafeBitCast(sinA, to: VI.self), cosBits = unsafeBitCast(cosA, to: VI.self)
        let swapped = (sinBits ^ cosBits) & odd
        let sinSign = (q & 2) &<< 30, cosSign = ((q &+ 1) & 2) &<< 30
        return (unsafeBitCast(sinBits ^ swapped ^ sinSign, to: V.self),
                unsafeBitCast(cosBits ^ swapped ^ cosSign, to: V.self))
    }
}
