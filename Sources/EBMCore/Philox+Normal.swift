/// Standard normal noise from Philox, 16 counters at a time.
extension Philox4x32 {
    typealias Lanes = SIMD16<UInt32>

    /// `block` for 16 counters at once (lane `l` is counter `(c0[l], c1[l], c2[l], c3[l])`).
    @inline(__always)
    func blocks(_ c0: Lanes, _ c1: Lanes, _ c2: Lanes, _ c3: Lanes) -> (Lanes, Lanes, Lanes, Lanes) {
        rounds(c0, c1, c2, c3)
    }

    /// Fills the row-major `rows × dimension` matrix at `out` with standard normal variates; row
    /// `i` is the noise of chain `firstRow + i` at `step`.
    ///
    /// Four normals per Philox block: block `j` of a row (its entries `4j ..< 4j + 4`) uses the
    /// counter `(j, step, row_lo, row_hi)`, and the Box–Muller transform of its words `w0 … w3`,
    /// `r = √(−2 ln u(w0))`, `(r cos 2πu(w1), r sin 2πu(w1))`, and the same with `w2, w3`, where
    /// `u(w) = (2⌊w / 2⁹⌋ + 1) / 2²⁴ ∈ (0, 1)`. A value depends only on the key and its
    /// (row, column, step) — not on `rows`, `firstRow` or the thread — and the blocks of all the
    /// rows are computed 16 at a time.
    public func fillNormal(
        _ out: UnsafeMutablePointer<Float>, rows: Int, dimension d: Int, firstRow: UInt64, step: UInt32
    ) {
        guard rows > 0 && d > 0 else { return }
        let perRow = (d + 3) / 4
        let total = rows * perRow
        // Per group of 16 blocks: the counters' words 0, 2, 3, where each block's normals go and
        // how many of its four are used, then the normals themselves. Filled and read lane by lane
        // through memory: a SIMD lane subscript with a variable index costs a whole-vector blend.
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 48) { counters in
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 32) { places in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 64) { normals in
            let c = counters.baseAddress!, start = places.baseAddress!, used = start + 16
            let z = normals.baseAddress!
            var row = 0, column = 0  // of the next block
            var p = 0
            while p < total {
                let count = min(16, total - p)
                for l in 0..<16 {
                    let chain = firstRow &+ UInt64(row)
                    c[l] = UInt32(truncatingIfNeeded: column)
                    c[16 + l] = UInt32(truncatingIfNeeded: chain)
                    c[32 + l] = UInt32(truncatingIfNeeded: chain >> 32)
                    start[l] = row * d + 4 * column
                    used[l] = min(4, d - 4 * column)
                    column += 1
                    if column == perRow { column = 0; row += 1 }
                }
                Self.normals(self, c, step: step, into: z)
                for l in 0..<count {
                    let o = out + start[l]
                    if used[l] == 4 {
                        o[0] = z[l]; o[1] = z[16 + l]; o[2] = z[32 + l]; o[3] = z[48 + l]
                    } else {
                        for k in 0..<used[l] { o[k] = z[16 * k + l] }
                    }
                }
                p += count
            }
        }
        }
        }
    }

    /// 64 normals from the 16 counters `(c[l], step, c[16 + l], c[32 + l])`: `z[16k + l]` is
    /// normal `k` of block `l`. A function of its own so that the optimiser inlines the vector
    /// math into it (it does not inline into large callers).
    @inline(never)
    static func normals(_ philox: Philox4x32, _ c: UnsafePointer<UInt32>, step: UInt32, into z: UnsafeMutablePointer<Float>) {
        let load = { (k: Int) in UnsafeRawPointer(c + 16 * k).loadUnaligned(as: Lanes.self) }
        let w = philox.blocks(load(0), Lanes(repeating: step), load(1), load(2))
        let radius1 = boxMullerRadius(w.0), (sin1, cos1) = VectorMath.sinCosTwoPi(openUnit(w.1))
        let radius2 = boxMullerRadius(w.2), (sin2, cos2) = VectorMath.sinCosTwoPi(openUnit(w.3))
        let out = UnsafeMutableRawPointer(z)
        out.storeBytes(of: radius1 * cos1, as: VectorMath.V.self)
        out.storeBytes(of: radius1 * sin1, toByteOffset: 64, as: VectorMath.V.self)
        out.storeBytes(of: radius2 * cos2, toByteOffset: 128, as: VectorMath.V.self)
        out.storeBytes(of: radius2 * sin2, toByteOffset: 192, as: VectorMath.V.self)
    }

    /// The noise of one chain: `fillNormal(out.baseAddress!, rows: 1, dimension: out.count, …)`.
    public func fillNormal(_ out: UnsafeMutableBufferPointer<Float>, row: UInt64, step: UInt32) {
        guard let base = out.baseAddress else { return }
        fillNormal(base, rows: 1, dimension: out.count, firstRow: row, step: step)
    }

    /// `u(w)` for 16 words, as the scalar `openUnit`: `(2k + 1) / 2²⁴` for the top 23 bits `k`,
    /// built as the float `1 + k/2²³` (`k` in the mantissa of 1), minus `1 − 2⁻²⁴` — exact.
    @inline(__always)
    static func openUnit(_ w: Lanes) -> VectorMath.V {
        unsafeBitCast((w &>> 9) | 0x3F80_0000, to: VectorMath.V.self) - (1 - 0x1p-24)
    }

    /// The Box–Muller radius `√(−2 ln u(w))`.
    @_transparent
    static func boxMullerRadius(_ w: Lanes) -> VectorMath.V {
        VectorMath.squareRoot(-2 * VectorMath.log(openUnit(w)))
    }
}

extension SIMD16: PhiloxWords where Scalar == UInt32 {
    /// The high halves come from 64-bit lanes (`vpmuludq`), the low ones from a 32-bit multiply.
    @inline(__always)
    func multipliedFull(by m: UInt32) -> (high: Self, low: Self) {
        (Self(truncatingIfNeeded: (SIMD16<UInt64>(truncatingIfNeeded: self) &* UInt64(m)) &>> 32), self &* m)
    }

    @inline(__always)
    func xor(_ k: UInt32) -> Self { self ^ k }
}
