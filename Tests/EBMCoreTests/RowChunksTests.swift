import XCTest
@testable import EBMCore

/// `RowChunks` covers every row once, in order, in chunks no larger than its limit.
final class RowChunksTests: XCTestCase {
    func testChunksCoverTheRowsInOrder() {
        for (rows, limit) in [(0, 4), (1, 4), (4, 4), (5, 4), (9, 4), (2_500, 1024), (7, 1)] {
            let chunks = RowChunks(rows: rows, limit: limit)
            var next = 0
            for c in chunks {
                XCTAssertEqual(c.start, next)
                XCTAssertGreaterThan(c.count, 0)
                XCTAssertLessThanOrEqual(c.count, chunks.size)
                next += c.count
            }
            XCTAssertEqual(next, rows, "rows \(rows), limit \(limit)")
            XCTAssertEqual(chunks.size, max(1, min(rows, limit)))
            XCTAssertEqual(chunks.isSingle, rows <= limit)
            XCTAssertEqual(Array(chunks).count, (rows + limit - 1) / limit)
        }
    }

    func testDefaultLimit() {
        let chunks = RowChunks(rows: 3_000)
        XCTAssertEqual(chunks.map(\.count), Array(repeating: 256, count: 11) + [184])
    }

    /// A costly network gets fewer rows per chunk: its forward multiply-adds counted by hand.
    func testChunksOfCostlyNetworksAreSmaller() throws {
        let conv = try Conv2d(inChannels: 64, outChannels: 64, kernel: (3, 3), padding: (1, 1), inputHeight: 16, inputWidth: 16)
        XCTAssertEqual(conv.multiplyAdds, 64 * 64 * 9 * 256 + 64 * 256)
        let linear = try Linear(inFeatures: 64 * 256, outFeatures: 1)
        XCTAssertEqual(linear.multiplyAdds, 64 * 256 + 1 + 64 * 256)
        let wide = try Sequential([conv, try ActivationLayer(.swish, shape: [64, 16, 16]), try Flatten(shape: [64, 16, 16]), linear])
        let total = conv.multiplyAdds + 64 * 256 + 64 * 256 + linear.multiplyAdds  // SiLU and Flatten: one per input
        XCTAssertEqual(wide.multiplyAdds, total)
        XCTAssertEqual(try SpectralNorm(conv).multiplyAdds, conv.multiplyAdds)
        XCTAssertEqual(RowChunks.limit(multiplyAddsPerRow: total), RowChunks.multiplyAddBudget / total)
        XCTAssertEqual(RowChunks.limit(multiplyAddsPerRow: total), 28)  // 2²⁸ / 9 519 105
        // The MLPs and small CNNs keep full chunks; an enormous row still gets one.
        XCTAssertEqual(RowChunks.limit(multiplyAddsPerRow: 784 * 512 + 512 * 128), RowChunks.defaultSize)
        XCTAssertEqual(RowChunks.limit(multiplyAddsPerRow: Int.max), 1)
        let energy = try NetworkEnergy(network: wide, seed: 0)
        XCTAssertEqual(energy.evaluationChunkRows, 28)
    }
}
