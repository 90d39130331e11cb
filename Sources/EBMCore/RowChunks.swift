/// The rows `0..<rows` of a batch as consecutive chunks of at most `size` rows, in order.
///
/// Every evaluation that takes a batch of any size (energies, gradients, parameter gradients,
/// jets, logits) walks it through this sequence with one workspace sized for `size` rows, so its
/// memory is bounded whatever the batch: a workspace for two million rows of a wide network would
/// be tens of gigabytes. The chunking is fixed by `rows` and `size` alone, so results do not depend
/// on threads or on how a caller splits its work.
public struct RowChunks: Sequence {
    /// The chunk size of the batch evaluations: large enough that a chunk's matrix products run
    /// at full speed (energies, gradients and parameter gradients of 65 536 rows of the mnist MLP
    /// took the same time, within 4 %, in chunks of 1024), small enough that a chunk's workspace
    /// stays a few megabytes and that Ctrl-C, polled between chunks, is answered within about a
    /// quarter of a second of work even for a wide convolutional network.
    public static let defaultSize = 256

    /// Multiply-adds of one chunk's forward pass, at most: a chunk of a costly network gets fewer
    /// rows, so that Ctrl-C, polled between chunks, is answered within ~50 ms of work whatever the
    /// network. 2²⁸ multiply-adds forward are about three times as many in a parameter gradient,
    /// 1.6 GFLOP: 20–40 ms at the 40–80 GFLOP/s two cores reach on convolutions. The UvA CNN
    /// (0.8 M multiply-adds per 28×28 image) and the MLPs keep 256-row chunks.
    public static let multiplyAddBudget = 1 << 28

    /// The chunk size for an energy costing `multiplyAdds` multiply-adds per row (forward):
    /// `defaultSize`, or fewer rows when 256 of them would exceed `multiplyAddBudget`; at least 1.
    public static func limit(multiplyAddsPerRow multiplyAdds: Int) -> Int {
        Swift.max(1, Swift.min(defaultSize, multiplyAddBudget / Swift.max(1, multiplyAdds)))
    }

    /// The number of rows in the batch.
    public let rows: Int
    /// The largest chunk: `min(rows, limit)`, at least 1 (the workspace capacity to allocate).
    public let size: Int

    /// Chunks of `rows` rows of at most `limit` rows each (`limit` ≥ 1).
    public init(rows: Int, limit: Int = RowChunks.defaultSize) {
        precondition(rows >= 0 && limit >= 1, "RowChunks needs rows >= 0 and limit >= 1")
        self.rows = rows
        self.size = Swift.max(1, Swift.min(rows, limit))
    }

    /// One chunk: rows `start..<start + count`.
    public struct Chunk {
        public let start: Int
        public let count: Int
    }

    public struct Iterator: IteratorProtocol {
        let rows: Int, size: Int
        var start = 0

        public mutating func next() -> Chunk? {
            guard start < rows else { return nil }
            let n = Swift.min(size, rows - start)
            defer { start += n }
            return Chunk(start: start, count: n)
        }
    }

    public func makeIterator() -> Iterator { Iterator(rows: rows, size: size) }

    /// Whether the batch is one chunk.
    public var isSingle: Bool { rows <= size }
}
