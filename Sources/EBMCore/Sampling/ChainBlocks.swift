/// A fixed partition of `rows` independent chains into contiguous blocks.
///
/// Block sizes depend only on `rows`, never on the number of threads, so every chain's
/// arithmetic (including the shapes of the BLAS calls it takes part in) is the same whatever
/// the thread count: results are bit-identical with 1 or many threads.
public struct ChainBlocks: Sendable, Equatable {
    /// Number of chains.
    public let rows: Int
    /// Rows per block (the last block may be shorter).
    public let blockRows: Int

    /// Blocks of at least `minimumRows` rows, at most `maximumBlocks` of them, sized in multiples
    /// of 8 rows (whole SIMD tiles for the BLAS). 64 rows keep the per-block matrix products large
    /// enough for the BLAS kernels (measured with `make bench`: 32-row blocks were 7 % slower on
    /// toy2d, 13 % on digits8x8 and 23 % on mnist).
    public init(rows: Int, minimumRows: Int = 64, maximumBlocks: Int = 16) {
        precondition(rows > 0 && minimumRows > 0 && maximumBlocks > 0)
        let even = (rows + maximumBlocks - 1) / maximumBlocks
        let size = max(minimumRows, (even + 7) / 8 * 8)
        self.rows = rows
        self.blockRows = min(size, rows)
    }

    /// Blocks of exactly `blockRows` rows (the last may be shorter), for energies whose own shape
    /// decides the best block (see `MLPEnergy.blocks(rows:)`).
    public init(rows: Int, blockRows: Int) {
        precondition(rows > 0 && blockRows > 0)
        self.rows = rows
        self.blockRows = min(blockRows, rows)
    }

    /// One block holding every row (for energies that must see the whole batch at once).
    public init(single rows: Int) {
        precondition(rows > 0)
        self.rows = rows
        self.blockRows = rows
    }

    /// Number of blocks.
    public var count: Int { (rows + blockRows - 1) / blockRows }

    /// The rows of block `b`.
    public func range(_ b: Int) -> Range<Int> {
        (b * blockRows)..<min(rows, (b + 1) * blockRows)
    }
}
