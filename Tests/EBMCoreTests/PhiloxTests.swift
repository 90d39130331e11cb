import Foundation
import XCTest
@testable import EBMCore

final class PhiloxTests: XCTestCase {
    /// Known-answer vectors of Philox4x32-10 from Random123's tests/kat_vectors.
    func testKnownAnswers() {
        let cases: [((UInt32, UInt32, UInt32, UInt32), UInt64, (UInt32, UInt32, UInt32, UInt32))] = [
            ((0, 0, 0, 0), 0, (0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8)),
            ((0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff), 0xffffffff_ffffffff,
             (0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd)),
            ((0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), 0x299f31d0_a4093822,
             (0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1)),
        ]
        for (counter, key, expected) in cases {
            let out = Philox4x32(key: key).block(counter.0, counter.1, counter.2, counter.3)
            XCTAssertEqual([out.0, out.1, out.2, out.3], [expected.0, expected.1, expected.2, expected.3])
        }
    }

    /// Mean, variance and fourth moment of the Box–Muller normals; with n = 400 000 the standard
    /// errors are 0.0016, 0.0022 and 0.016, and the bounds are five of them.
    func testNormalMoments() throws {
        let philox = Philox4x32(seed: 42, purpose: 7)
        let n = 400_000, width = 10
        let row = try FloatBuffer(count: width)
        var s1 = 0.0, s2 = 0.0, s4 = 0.0
        for r in 0..<(n / width) {
            philox.fillNormal(row.all, row: UInt64(r), step: 3)
            for v in row.array.map(Double.init) { s1 += v; s2 += v * v; s4 += v * v * v * v }
        }
        XCTAssertEqual(s1 / Double(n), 0, accuracy: 0.008)
        XCTAssertEqual(s2 / Double(n), 1, accuracy: 0.011)
        XCTAssertEqual(s4 / Double(n), 3, accuracy: 0.08)
    }

    /// A row's noise depends only on (key, row, step), and differs between rows and steps.
    func testNoiseIsAddressedByCoordinates() throws {
        let p = Philox4x32(seed: 1, purpose: 2)
        let a = try FloatBuffer(count: 7), b = try FloatBuffer(count: 7), c = try FloatBuffer(count: 7)
        p.fillNormal(a.all, row: 5, step: 9)
        p.fillNormal(b.all, row: 5, step: 9)
        p.fillNormal(c.all, row: 6, step: 9)
        XCTAssertEqual(a.array, b.array)
        XCTAssertNotEqual(a.array, c.array)
        XCTAssertNotEqual(Philox4x32(seed: 1, purpose: 2), Philox4x32(seed: 2, purpose: 2))
    }

    /// The matrix fill gives every chain the noise that a fill of that chain alone gives, and an
    /// entry's value does not depend on the row length (for every length mod 4).
    func testMatrixFillMatchesRows() throws {
        let p = Philox4x32(seed: 3, purpose: 2)
        for d in [1, 2, 3, 4, 5, 7, 64] {
            let rows = 37, first: UInt64 = (1 << 32) - 5  // chains crossing a 32-bit boundary
            let matrix = try FloatBuffer(count: rows * d)
            p.fillNormal(matrix.base, rows: rows, dimension: d, firstRow: first, step: 11)
            let row = try FloatBuffer(count: d), longer = try FloatBuffer(count: d + 9)
            for i in 0..<rows {
                p.fillNormal(row.all, row: first + UInt64(i), step: 11)
                p.fillNormal(longer.all, row: first + UInt64(i), step: 11)
                XCTAssertEqual(Array(matrix.array[(i * d)..<((i + 1) * d)]), row.array, "d = \(d), row \(i)")
                XCTAssertEqual(Array(longer.array[0..<d]), row.array, "d = \(d), row \(i)")
            }
        }
    }

    /// The Box–Muller normals are those of the scalar Philox block and the double-precision
    /// transform, to float rounding.
    func testNormalsFollowTheDefinition() throws {
        let p = Philox4x32(seed: 8, purpose: 2)
        let out = try FloatBuffer(count: 4 * 50)
        p.fillNormal(out.base, rows: 50, dimension: 4, firstRow: 100, step: 2)
        for i in 0..<50 {
            let w = p.block(0, 2, UInt32(100 + i), 0)
            let u = [w.0, w.1, w.2, w.3].map { Double(2 * ($0 >> 9) + 1) / 16_777_216 }
            let r1 = (-2 * Foundation.log(u[0])).squareRoot(), r2 = (-2 * Foundation.log(u[2])).squareRoot()
            let expected = [r1 * cos(2 * .pi * u[1]), r1 * sin(2 * .pi * u[1]),
                            r2 * cos(2 * .pi * u[3]), r2 * sin(2 * .pi * u[3])]
            for k in 0..<4 {
                XCTAssertEqual(Double(out.base[4 * i + k]), expected[k], accuracy: 2e-6 * max(1, abs(expected[k])))
            }
        }
    }

    /// Bounded integers are in range and roughly uniform (chi-square with 9 d.o.f. < 30, p ≈ 4e-4).
    func testBoundedIntegers() {
        var s = UniformStream(Philox4x32(key: 99))
        var counts = [Int](repeating: 0, count: 10)
        for _ in 0..<100_000 { counts[s.nextInt(below: 10)] += 1 }
        let chi2 = counts.reduce(0.0) { $0 + pow(Double($1) - 10_000, 2) / 10_000 }
        XCTAssertLessThan(chi2, 30)
        for _ in 0..<1000 {
            let u = s.nextUniform(-2, 3)
            XCTAssertTrue(u > -2 && u < 3)
        }
    }

    /// Every kernel draws from a stream tag of its own, none of them the core's: a kernel that
    /// reused MALA's tag, or the buffer's, would correlate streams that must be independent.
    func testKernelStreamTagsAreDistinct() {
        XCTAssertTrue(KernelRegistry.purposesAreDistinct)
        let tags = KernelRegistry.kernels.map { $0.noisePurpose }
        XCTAssertEqual(Set(tags).count, tags.count, "\(tags)")
        XCTAssertTrue(Purpose.core.isDisjoint(with: tags), "\(tags)")
        XCTAssertEqual(Langevin.noisePurpose, Purpose.langevinNoise)  // shared with the trainer's negatives, by design
    }
}
