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
}
