/// One named array of a trainer's state (optimiser moments, step count, a replay buffer): what
/// crosses the ABI when a run is saved or resumed, read and written by name
/// (`ebm_trainer_state`, `ebm_trainer_get_state`, `ebm_trainer_set_state`).
///
/// `set` validates the values it is given before it writes any (finite, non-negative, a
/// permutation: whatever the entry needs), so a bad file never leaves garbage in a trainer.
public struct StateEntry {
    /// The element type; the raw values are the ABI's `EBM_STATE_*` codes.
    public enum Element: Int32, Sendable {
        case float32 = 1
        case int64 = 2
    }

    public let name: String
    public let element: Element
    /// The array's shape (`[]` for a scalar).
    public let shape: [Int]
    /// Copies the values into `out` (room for `count` elements of `element`).
    public let get: (UnsafeMutableRawPointer) -> Void
    /// Checks then stores `count` elements of `element` read from `values`.
    public let set: (UnsafeRawPointer) throws -> Void

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }

    public init(_ name: String, _ element: Element, shape: [Int], get: @escaping (UnsafeMutableRawPointer) -> Void,
                set: @escaping (UnsafeRawPointer) throws -> Void) {
        self.name = name
        self.element = element
        self.shape = shape
        self.get = get
        self.set = set
    }

    /// Floats held in `storage` (`shape` elements from `offset`); values must be finite, and with
    /// `nonNegative` also ≥ 0.
    public static func floats(_ name: String, _ storage: FloatBuffer, offset: Int = 0, shape: [Int],
                              nonNegative: Bool = false) -> StateEntry {
        let n = shape.reduce(1, *)
        return StateEntry(name, .float32, shape: shape, get: { out in
            out.assumingMemoryBound(to: Float.self).update(from: storage.base + offset, count: n)
        }, set: { raw in
            let v = UnsafeBufferPointer(start: raw.assumingMemoryBound(to: Float.self), count: n)
            try require(v.allSatisfy(\.isFinite), "the trainer's \(name) holds NaN or infinite values")
            if nonNegative { try require(v.allSatisfy { $0 >= 0 }, "the trainer's \(name) has negative values") }
            (storage.base + offset).update(from: raw.assumingMemoryBound(to: Float.self), count: n)
        })
    }

    /// A count in `[0, 2⁵³]` (so that counting on from it never overflows).
    public static func counter(_ name: String, get: @escaping () -> Int, set: @escaping (Int) -> Void) -> StateEntry {
        StateEntry(name, .int64, shape: [], get: { out in
            out.assumingMemoryBound(to: Int64.self).pointee = Int64(get())
        }, set: { raw in
            let v = raw.assumingMemoryBound(to: Int64.self).pointee
            try require(v >= 0 && v <= 1 << 53, "the trainer's \(name) must be in [0, 2^53], got \(v)")
            set(Int(v))
        })
    }
}

extension Array where Element == StateEntry {
    /// The entry called `name`.
    /// - Throws: `EBMError.invalidArgument` listing the names there are.
    public func entry(_ name: String) throws -> StateEntry {
        guard let e = first(where: { $0.name == name }) else {
            throw EBMError.invalidArgument("the trainer has no state '\(name)'; it has \(map(\.name).joined(separator: ", "))")
        }
        return e
    }
}
