import XCTest
@testable import EBMCore

final class ReplayBufferTests: XCTestCase {
    /// Draws are without replacement; write-back lands in the drawn slots; undo restores the
    /// permutation so that a repeated draw with the same stream picks the same slots.
    func testDrawWriteBackUndo() throws {
        var init0 = UniformStream(Philox4x32(key: 1))
        let buffer = try ReplayBuffer(capacity: 10, dimension: 1, low: 0, high: 1, stream: &init0)
        let original = buffer.states.array
        XCTAssertTrue(original.allSatisfy { $0 > 0 && $0 < 1 })
        let batch = try FloatBuffer(count: 10)
        var s = UniformStream(Philox4x32(key: 2))
        buffer.draw(count: 10, into: batch.all, reinitProbability: 0, low: 0, high: 1, stream: &s)
        XCTAssertEqual(batch.array.sorted(), original.sorted(), "a full draw is a permutation")

        var s1 = UniformStream(Philox4x32(key: 3)), s2 = s1
        buffer.draw(count: 4, into: batch.all, reinitProbability: 0, low: 0, high: 1, stream: &s1)
        let first = Array(batch.array.prefix(4))
        buffer.undoDraw()
        buffer.draw(count: 4, into: batch.all, reinitProbability: 0, low: 0, high: 1, stream: &s2)
        XCTAssertEqual(Array(batch.array.prefix(4)), first)

        for k in 0..<4 { batch.base[k] = 5 + Float(k) }
        buffer.writeBack(UnsafeBufferPointer(batch.all))
        XCTAssertEqual(buffer.states.array.filter { $0 >= 5 }.sorted(), [5, 6, 7, 8])
    }

    /// With reinit probability 1 every drawn state is fresh noise in the box.
    func testReinitialisation() throws {
        var s0 = UniformStream(Philox4x32(key: 1))
        let buffer = try ReplayBuffer(capacity: 8, dimension: 2, low: 0, high: 1, stream: &s0)
        let batch = try FloatBuffer(count: 16)
        var s = UniformStream(Philox4x32(key: 2))
        buffer.draw(count: 8, into: batch.all, reinitProbability: 1, low: 10, high: 11, stream: &s)
        XCTAssertTrue(batch.array.allSatisfy { $0 > 10 && $0 < 11 })
    }
}
