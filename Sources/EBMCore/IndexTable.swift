#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An owned, fixed-size table of `Int32` indices (a convolution's gather and scatter tables),
/// allocated through `allocateChecked`: a table too large for the process is an
/// `EBMError.outOfMemory`, not an abort.
public final class IndexTable {
    public let base: UnsafeMutablePointer<Int32>
    public let count: Int

    /// `count` entries, each `value`; `what` names the table in an out-of-memory error.
    public init(count: Int, repeating value: Int32, for what: @autoclosure () -> String) throws {
        precondition(count >= 0)
        self.count = count
        base = try allocateChecked(Int32.self, count: max(count, 1), for: what())
        base.initialize(repeating: value, count: max(count, 1))
    }

    /// An empty table.
    public init() {
        count = 0
        base = .allocate(capacity: 1)
        base.initialize(to: 0)
    }

    deinit { free(base) }
}
