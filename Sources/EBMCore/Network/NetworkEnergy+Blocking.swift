/// How a fully connected network's batches are cut into chain blocks, and the layout of its
/// forward products.
///
/// OpenBLAS (0.3.34 with its AVX-512 kernels) multiplies a small row-major product `A·B` —
/// neither operand transposed, `α = 1`, `β = 0` — directly, without packing the operands into
/// its panel layout; an `A·Bᵀ`, or a larger product, goes through packing (and zeroes `C` first).
/// Measured on one core (Zen 4): 107–112 GFLOP/s direct against 79–93 packed for 128×64×64 and
/// 32×128×128 products; with the Haswell kernels the untransposed product was also the faster
/// (76–88 against 61–70 GFLOP/s).
///
/// So when a network of `Linear` and activation layers only is narrow enough that blocks of at
/// least 32 rows keep every product within `directProductLimit` (`rows · out · in`), the energy
/// samples in such blocks (32, 64 or 128 rows) and its `Linear` layers multiply by transposed copies
/// of their weights. Measured with `benchmarks/bench.py`'s workload: toy2d (2, 128, 128) with
/// 32-row blocks 2.17 → 2.65 M chain-steps/s, manychains (2, 64, 64) with 128-row blocks 7.45 →
/// 8.64 M. Wider networks, and networks with other layers (convolutions keep their own products),
/// keep `ChainBlocks(rows:)` and multiply by `Wᵀ` in place: their products are packed either way,
/// and a transposed copy was 5 % slower on the mnist widths (784, 512, 512).
extension NetworkEnergy {
    /// The largest `rows · out · in` that OpenBLAS 0.3.34 multiplies directly (measured: 2¹⁹
    /// did, 2²⁰ did not).
    static let directProductLimit = 1 << 19

    /// Rows per block for the direct products of `network`, or `nil` when it has layers other
    /// than `Linear` and activations, or when the blocks would be fewer than 32 rows.
    static func directBlockRows(_ network: Sequential) -> Int? {
        var largest = 1
        for layer in network.layers {
            if let linear = layer as? Linear {
                if linear.outFeatures > 1 { largest = max(largest, linear.outFeatures * linear.inFeatures) }
            } else if !(layer is ActivationLayer) {
                return nil
            }
        }
        // A power of two, so that it divides `ChainBlocks.alignment` (128).
        var rows = ChainBlocks.alignment
        while rows >= 32 && rows * largest > directProductLimit { rows /= 2 }
        return rows >= 32 ? rows : nil
    }

    /// The block partition for sampling `rows` chains (depends on `rows` and the layers only).
    public func blocks(rows: Int) -> ChainBlocks {
        blockRows.map { ChainBlocks(rows: rows, blockRows: $0) } ?? ChainBlocks(rows: rows)
    }
}
