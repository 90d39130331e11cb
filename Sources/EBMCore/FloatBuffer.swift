#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Uninitialised memory for `count` values of `T` from `malloc`, or `EBMError.outOfMemory` naming
/// `what`: the core's allocations whose size comes from inputs go through here (Swift's own
/// `allocate` aborts the process when the memory is not there). Release with `free`.
public func allocateChecked<T>(_ type: T.Type, count: Int, for what: @autoclosure () -> String) throws
    -> UnsafeMutablePointer<T> {
    let (bytes, overflow) = max(count, 1).multipliedReportingOverflow(by: MemoryLayout<T>.stride)
    guard !overflow, let raw = malloc(bytes) else {
        throw EBMError.outOfMemory(what: "\(what()) (\(count) values)", bytes: overflow ? Int.max : bytes)
    }
    return raw.bindMemory(to: T.self, capacity: max(count, 1))
}

/// An owned, fixed-size, uninitialised-then-zeroed block of `Float`s: the one place the core
/// allocates memory for parameters and workspaces.
///
/// Reference semantics on purpose: a workspace is allocated once per call (or once per trainer)
/// and handed to the hot loop, which writes into it without copy-on-write checks.
public final class FloatBuffer {
    /// The first element; valid for `count` elements until `self` is deinitialised.
    public let base: UnsafeMutablePointer<Float>
    /// Number of elements.
    public let count: Int

    /// Allocates `count` zeroed floats, or throws `EBMError.outOfMemory` naming `what` when the
    /// process cannot have them (an address-space limit, a size no machine holds): a failed
    /// allocation never aborts the process.
    public init(count: Int, for what: @autoclosure () -> String = "a buffer") throws {
        precondition(count >= 0)
        self.count = count
        // At least one element so `base` is always a valid pointer.
        base = try allocateChecked(Float.self, count: max(count, 1), for: what())
        base.initialize(repeating: 0, count: max(count, 1))
    }

    /// An empty buffer (one zeroed element behind `base`), to be replaced once sizes are known.
    public init() {
        count = 0
        base = .allocate(capacity: 1)  // 4 bytes: fixed, not from any input
        base.initialize(to: 0)
    }

    /// Copies `values` into a new buffer.
    public convenience init(_ values: [Float]) throws {
        try self.init(count: values.count)
        values.withUnsafeBufferPointer { src in
            if let s = src.baseAddress { base.update(from: s, count: values.count) }
        }
    }

    deinit { free(base) }

    /// The elements `offset ..< offset + length` as a mutable buffer pointer.
    @inlinable
    public func slice(_ offset: Int, _ length: Int) -> UnsafeMutableBufferPointer<Float> {
        assert(offset >= 0 && length >= 0 && offset + length <= count, "slice out of bounds")
        return UnsafeMutableBufferPointer(start: base + offset, count: length)
    }

    /// All elements as a mutable buffer pointer.
    @inlinable
    public var all: UnsafeMutableBufferPointer<Float> { slice(0, count) }

    /// The elements copied into an array.
    public var array: [Float] { Array(UnsafeBufferPointer(start: base, count: count)) }
}
