/// A fixed partition of `rows` independent chains into contiguous blocks.
///
/// Block sizes depend only on the energy, never on the number of threads or of chains, so every
/// chain's arithmetic — including the shape of every BLAS call it takes part in — is the same
/// whatever the thread count, and whatever split of a run into pieces at multiples of
/// `alignment` chains (`chain_offset` runs, `distributed` chunks): results are bit-identical.
///
/// Why the shape of a call matters: OpenBLAS's kernels compute the rows of a product in groups
/// (12 rows with its Haswell kernels on Zen 3, measured) and an incomplete last group with other
/// kernels, whose results differ in the last bits. So a row's value depends on where the call
/// starts and how many rows it has; blocks of a fixed size, at fixed places, fix both.
public struct ChainBlocks: Sendable, Equatable {
    /// Number of chains.
    public let rows: Int
    /// Rows per block (the last block may be shorter).
    public let blockRows: Int

    /// Rows per block of energies without a block size of their own. 64 rows keep the per-block
    /// matrix products large enough for the BLAS kernels (measured with `make bench`: 32-row
    /// blocks were 7 % slower on toy2d, 13 % on digits8x8 and 23 % on mnist).
    public static let standardRows = 64

    /// Every energy's block size divides this many chains: a run split at multiples of it gives
    /// every chain the same blocks as the whole run (`ebm_runtime_info.chain_alignment`).
    public static let alignment = 128

    /// Blocks of `standardRows` rows (the last may be shorter).
    public init(rows: Int) {
        self.init(rows: rows, blockRows: ChainBlocks.standardRows)
    }

    /// Blocks of exactly `blockRows` rows (the last may be shorter), for energies whose own shape
    /// decides the best block (see `MLPEnergy.blocks(rows:)`).
    public init(rows: Int, blockRows: Int) {
        precondition(rows > 0 && blockRows > 0 && ChainBlocks.alignment % blockRows == 0)
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
