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

    /// Allocates `count` zeroed floats.
    public init(count: Int) {
        precondition(count >= 0)
        self.count = count
        // Allocate at least one element so `base` is always a valid pointer.
        base = .allocate(capacity: max(count, 1))
        base.initialize(repeating: 0, count: max(count, 1))
    }

    /// Copies `values` into a new buffer.
    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { src in
            if let s = src.baseAddress { base.update(from: s, count: values.count) }
        }
    }

    deinit { base.deallocate() }

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
