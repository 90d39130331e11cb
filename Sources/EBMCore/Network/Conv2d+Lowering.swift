/// Conv2d's lowering to matrix products: how many samples share a product, the index tables,
/// im2col and col2im.
extension Conv2d {
    /// Columns a group's product aims for: enough that OpenBLAS's per-call packing of the weight
    /// is spread over many columns.
    static let groupColumns = 256
    /// Floats a group's column matrix may take (256 KiB, half of a Zen 3 core's L2): the columns
    /// are written by im2col and read by the product right after, so they should stay in cache.
    static let groupScratchFloats = 1 << 16
    /// At most this many samples share a product.
    static let maximumGroup = 32

    /// Samples per product for a layer of `K = fieldSize` rows and `P = positions` columns per
    /// sample: the largest power of two `G ≤ maximumGroup` with `G·P ≤ groupColumns` and
    /// `G·K·P ≤ groupScratchFloats`, at least 1. A function of the shapes only, so a chain's
    /// result never depends on how many threads run or how the chains are split (groups start at
    /// multiples of `G` within a block, whose size is fixed).
    /// UvA CNN (28×28): 1, 4, 8, 16 samples for its four layers (P = 256, 64, 16, 4).
    static func groupSize(fieldSize: Int, positions: Int) -> Int {
        var g = 1
        while 2 * g <= maximumGroup && 2 * g * positions <= groupColumns
            && 2 * g * fieldSize * positions <= groupScratchFloats {
            g *= 2
        }
        return g
    }

    /// Calls `body(row, c, i, j)` for each row of the column matrix: input channel `c`, kernel
    /// offset `(i, j)`, in the order of the weight's `in × kh × kw` axes.
    private func forEachFieldRow(_ body: (Int, Int, Int, Int) -> Void) {
        var row = 0
        for c in 0..<inChannels {
            for i in 0..<kernel.h {
                for j in 0..<kernel.w {
                    body(row, c, i, j)
                    row += 1
                }
            }
        }
    }

    /// The two index tables of the lowering, built once from the shapes:
    /// - `gather[row · P + pos]`: the input element that column entry comes from, or `inputCount`
    ///   (a zero after the input's copy) in the padding: one sample's `im2col` is one gather;
    /// - `contributions[m · inputCount + e]`: where, in a group's column matrix (rows of
    ///   `ld = G·P`, the sample's own columns first), the `m`-th column entry input element `e`
    ///   went to, or `K · ld` (a row of zeros after the columns) past its last, for `m < M` (the
    ///   largest count): `col2im` is `M` passes of gather-and-add over the input, no two writes
    ///   to one place; sample `s` of the group reads at an offset of `s·P`.
    /// Both loops are unconditional, so the AVX2 and AVX-512 builds compile them to vector gathers.
    /// Measured on the UvA CNN (Langevin, batch 128, 2 threads): strided copies per output row
    /// (2 to 8 floats each on these small stride-2 images) took half of a step; the tables took
    /// it from 17.3 to 23 k chain-steps/s as scalar loops with a branch for the padding, and
    /// unconditional (vector-gathered) to 29 k.
    static func indexTables(_ conv: Conv2d) throws -> (gather: IndexTable, contributions: IndexTable, perInput: Int) {
        let p = conv.positions, ld = conv.group * p, entries = conv.fieldSize * p, n = conv.inputCount
        let gather = try IndexTable(count: entries, repeating: Int32(n), for: "Conv2d's gather table")
        let counts = try IndexTable(count: n, repeating: 0, for: "Conv2d's scatter counts")
        conv.forEachEntry { entry, element in
            gather.base[entry] = Int32(element)
            counts.base[element] += 1
        }
        var perInput = 1
        for e in 0..<n { perInput = max(perInput, Int(counts.base[e])) }
        let total = try requireCount([n, perInput], "Conv2d's scatter table")
        let contributions = try IndexTable(count: total, repeating: Int32(conv.fieldSize * ld),
                                           for: "Conv2d's scatter table")
        counts.base.update(repeating: 0, count: n)
        // Entries in increasing order, so each element's contributions are listed as before.
        conv.forEachEntry { entry, element in
            let (row, pos) = entry.quotientAndRemainder(dividingBy: p)
            contributions.base[Int(counts.base[element]) * n + element] = Int32(row * ld + pos)
            counts.base[element] += 1
        }
        return (gather, contributions, perInput)
    }

    /// Calls `body(entry, element)` for every column-matrix entry that reads an input element
    /// (not padding), in increasing entry order.
    private func forEachEntry(_ body: (Int, Int) -> Void) {
        let p = positions
        forEachFieldRow { row, c, i, j in
            for oy in 0..<outputHeight {
                let y = oy * stride.h - padding.h + i
                guard y >= 0 && y < inputHeight else { continue }
                for ox in 0..<outputWidth {
                    let x = ox * stride.w - padding.w + j
                    guard x >= 0 && x < inputWidth else { continue }
                    body(row * p + oy * outputWidth + ox, (c * inputHeight + y) * inputWidth + x)
                }
            }
        }
    }

    /// One sample's columns into rows of stride `ld`:
    /// `cols[((c·kh + i)·kw + j)·ld + oy·ow + ox] = x[c, oy·sh − ph + i, ox·sw − pw + j]` (0
    /// outside), through a copy of `x` followed by a zero, in `padded`.
    func im2col(_ x: UnsafePointer<Float>, into cols: UnsafeMutablePointer<Float>, ld: Int,
                padded: UnsafeMutablePointer<Float>) {
        padded.update(from: x, count: inputCount)
        padded[inputCount] = 0
        let p = positions, idx = gather.base
        for row in 0..<fieldSize {
            let to = cols + row * ld, from = idx + row * p
            for t in 0..<p { to[t] = padded[Int(from[t])] }
        }
    }

    /// The adjoint of `im2col` for one sample: `dx[e] ← Σ` of the column entries that came from
    /// element `e` (`cols` points at the sample's first column of the group's matrix, which is
    /// followed by a row of zeros).
    func col2im(_ cols: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>) {
        let n = inputCount
        let first = contributions.base
        for e in 0..<n { dx[e] = cols[Int(first[e])] }
        for m in 1..<max(1, contributionsPerInput) {
            let row = first + m * n
            for e in 0..<n { dx[e] += cols[Int(row[e])] }
        }
    }
}
