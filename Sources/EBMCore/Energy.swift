/// An energy function `E: R^dim → R` evaluated on batches, defining the density
/// `p(x) = exp(−E(x)) / Z` (Bishop, *Deep Learning*, §14.3.1).
///
/// Batches are row-major: `x` holds `rows × dimension` floats. Implementations keep all scratch
/// memory in a `Workspace` made once per call (or per trainer) for a maximum batch size, so that
/// the evaluation itself allocates nothing. An energy value is immutable while it is evaluated;
/// several threads may evaluate one energy at once, each with its own workspace.
public protocol EnergyFunction {
    /// Scratch memory for batches of up to `capacity` rows.
    associatedtype Workspace

    /// The input dimension.
    var dimension: Int { get }

    /// Scratch memory for batches of at most `capacity` rows.
    func makeWorkspace(capacity: Int) throws -> Workspace

    /// Whether the energy must see the whole batch in one call (and so from one thread), as an
    /// energy computed by a Python callback must. Defaults to `false`.
    var wholeBatch: Bool { get }

    /// The block partition for sampling `rows` chains of this energy: it may depend on `rows` and
    /// on the energy, never on the thread count. Defaults to `ChainBlocks(rows:)`, or one block
    /// for a `wholeBatch` energy.
    func blocks(rows: Int) -> ChainBlocks

    /// The most rows one chunk of a batch evaluation takes (`RowChunks`): its workspace is sized
    /// for them, and Ctrl-C is polled between chunks. Defaults to `RowChunks.defaultSize`; a
    /// costly network takes fewer (`RowChunks.limit(multiplyAddsPerRow:)`).
    var evaluationChunkRows: Int { get }

    /// Writes `E(x_i)` for each row of `x` into `energies` (`rows` floats).
    func energies(
        _ x: UnsafeBufferPointer<Float>, rows: Int,
        into energies: UnsafeMutableBufferPointer<Float>, workspace: Workspace)

    /// Writes `∇x E(x_i)` for each row of `x` into `gradient` (`rows × dimension` floats), and
    /// the energies too when `energies` is given.
    func gradients(
        _ x: UnsafeBufferPointer<Float>, rows: Int,
        energies: UnsafeMutableBufferPointer<Float>?,
        into gradient: UnsafeMutableBufferPointer<Float>, workspace: Workspace)
}

extension EnergyFunction {
    /// Most energies evaluate any slice of a batch independently.
    public var wholeBatch: Bool { false }

    public func blocks(rows: Int) -> ChainBlocks {
        wholeBatch ? ChainBlocks(single: rows) : ChainBlocks(rows: rows)
    }

    public var evaluationChunkRows: Int { RowChunks.defaultSize }
}
