#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Conversions from Philox words to floating-point variates.
extension Philox4x32 {
    /// A uniform float in the open interval (0, 1) from the top 23 bits `k` of `word`:
    /// `(2k + 1) / 2²⁴`, an odd integer below 2²⁴ over 2²⁴ — exact, never 0, never 1.
    @inlinable
    static func openUnit(_ word: UInt32) -> Float {
        Float((word >> 9) << 1 | 1) * 0x1p-24
    }
}

/// A sequential stream of uniform draws from one Philox key, for the serial parts of the
/// library (parameter initialisation, replay-buffer bookkeeping). Counter-based, so its state
/// is two integers and can be saved and restored exactly.
public struct UniformStream {
    /// The generator.
    public let philox: Philox4x32
    /// Index of the next 32-bit word.
    public internal(set) var position: UInt64

    /// A stream positioned at word `position` of `philox`'s sequence.
    public init(_ philox: Philox4x32, position: UInt64 = 0) {
        self.philox = philox
        self.position = position
    }

    /// The next 32-bit word.
    public mutating func nextWord() -> UInt32 {
        let blockIndex = position >> 2
        let w = philox.block(
            UInt32(truncatingIfNeeded: blockIndex), UInt32(truncatingIfNeeded: blockIndex >> 32),
            0xFFFF_FFFF, 0xFFFF_FFFF)
        let lane = Int(position & 3)
        position &+= 1
        switch lane {
        case 0: return w.0
        case 1: return w.1
        case 2: return w.2
        default: return w.3
        }
    }

    /// A uniform float in (0, 1).
    public mutating func nextUnit() -> Float { Philox4x32.openUnit(nextWord()) }

    /// A uniform float in (low, high).
    public mutating func nextUniform(_ low: Float, _ high: Float) -> Float {
        low + (high - low) * nextUnit()
    }

    /// A uniform integer in `0 ..< bound` (Lemire's multiply-shift with rejection: unbiased).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0 && bound <= Int(UInt32.max))
        let b = UInt64(bound)
        let threshold = (UInt64(1) << 32) % b
        while true {
            let product = UInt64(nextWord()) &* b
            if (product & 0xFFFF_FFFF) >= threshold { return Int(product >> 32) }
        }
    }
}
