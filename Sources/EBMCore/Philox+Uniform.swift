/// The logs of the Metropolis tests' uniforms, 16 chains at a time.
extension Philox4x32 {
    /// `out[i] = ln u(w0)` with `w0` the first word of block `(0, counter, row_lo, row_hi)` of
    /// chain `row = firstRow + i`, for `rows` chains: the scalar `openUnit(block(0, counter, …).0)`
    /// of every chain, its log taken by the 16-lane `VectorMath.log`. A value depends only on the
    /// key, the chain and the counter.
    func fillLogUniform(_ out: UnsafeMutablePointer<Float>, rows: Int, firstRow: UInt64, counter: UInt32) {
        var i = 0
        while i < rows {
            var lo = Lanes(), hi = Lanes()
            for l in 0..<16 {
                let chain = firstRow &+ UInt64(i + l)
                lo[l] = UInt32(truncatingIfNeeded: chain)
                hi[l] = UInt32(truncatingIfNeeded: chain >> 32)
            }
            let logs = VectorMath.log(Self.openUnit(blocks(Lanes(repeating: 0), Lanes(repeating: counter), lo, hi).0))
            for l in 0..<min(16, rows - i) { out[i + l] = logs[l] }
            i += 16
        }
    }
}
