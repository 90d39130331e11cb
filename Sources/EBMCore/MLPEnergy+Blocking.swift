/// How an MLP's batches are cut into chain blocks, and the layout of its forward products.
///
/// OpenBLAS (0.3.34 with its AVX-512 kernels) multiplies a small row-major product `A·B` —
/// neither operand transposed, `α = 1`, `β = 0` — directly, without packing the operands into
/// its panel layout; an `A·Bᵀ`, or a larger product, goes through packing (and zeroes `C` first).
/// Measured on one core (Zen 4): 107–112 GFLOP/s direct against 79–93 packed for 128×64×64 and
/// 32×128×128 products; with the Haswell kernels the untransposed product was also the faster
/// (76–88 against 61–70 GFLOP/s).
///
/// So when a network is narrow enough that blocks of at least 32 rows keep every hidden layer's
/// product within `directProductLimit` (`rows · out · in`), the energy samples in such blocks
/// (at most 128 rows) and multiplies by transposed copies of its hidden weights. Measured with
/// `benchmarks/bench.py`'s workload: toy2d (2, 128, 128) with 32-row blocks 2.17 → 2.65 M
/// chain-steps/s, manychains (2, 64, 64) with 128-row blocks 7.45 → 8.64 M. Wider networks keep
/// `ChainBlocks(rows:)` and multiply by `Wᵀ` in place: their products are packed either way, and a
/// transposed copy was 5 % slower on the mnist widths (784, 512, 512).
extension MLPEnergy {
    /// The largest `rows · out · in` that OpenBLAS 0.3.34 multiplies directly (measured: 2¹⁹
    /// did, 2²⁰ did not).
    static let directProductLimit = 1 << 19

    /// Rows per block for the direct products, or `nil` when they would be fewer than 32.
    static func directBlockRows<S: Sequence>(shapes: S) -> Int? where S.Element == (out: Int, in: Int) {
        let largest = shapes.map { $0.out * $0.in }.max() ?? 1
        let rows = min(128, directProductLimit / largest / 8 * 8)
        return rows >= 32 ? rows : nil
    }

    /// The block partition for sampling `rows` chains (depends on `rows` and the widths only).
    public func blocks(rows: Int) -> ChainBlocks {
        blockRows.map { ChainBlocks(rows: rows, blockRows: $0) } ?? ChainBlocks(rows: rows)
    }

    /// Brings the transposed weight copies up to date; every change of `parameters` ends with it
    /// (the caller holds the write lock, or owns the energy alone).
    public func parametersDidChange() {
        guard let transposed = transposedWeights else { return }
        for l in 0..<hidden.count {
            let (rows, cols) = layerShapes[l]
            let w = weight(l), t = transposed.base + weightOffsets[l]
            for r in 0..<rows {
                for c in 0..<cols { t[c * rows + r] = w[r * cols + c] }
            }
        }
    }
}
