/// One setting's value as it crosses the C ABI: nothing (a Python `None`), an integer, a number,
/// a text or an array of numbers.
public enum SettingValue: Sendable, Equatable {
    case none
    case integer(Int64)
    case number(Double)
    case text(String)
    case array([Double])

    var typeName: String {
        switch self {
        case .none: "None"
        case .integer: "an integer"
        case .number: "a number"
        case .text: "a text"
        case .array: "an array"
        }
    }
}

/// A configuration record: a kind (`"hmc"`, `"dsm"`, `"adam"`, …) and its settings by name — the
/// one shape every configuration takes across the ABI (sampler kernels, objectives, optimisers,
/// run settings). Reading is strict: each consumer takes the fields it knows with the typed
/// accessors below, and `finish()` rejects a field nobody took; a missing field or one of the
/// wrong type is an error naming the record and the field.
public struct SettingsRecord: Sendable {
    /// What the record configures (for messages): `"sampler"`, `"objective"`, …
    public let role: String
    /// The kind within that role (`"hmc"`), or `""` for a record with one kind.
    public let kind: String
    /// The fields in the order given, and whether each was taken. A record holds a handful of
    /// fields, so a linear search beats hashing (records are read on every sampling call: a
    /// one-chain Langevin step spent a fifth of its native time building hashed dictionaries).
    private var names: [String]
    private var values: [SettingValue]
    private var taken: [Bool]

    public init(role: String, kind: String = "", fields: [String: SettingValue]) {
        let sorted = fields.sorted { $0.key < $1.key }
        self.init(role: role, kind: kind, names: sorted.map(\.key), values: sorted.map(\.value))
    }

    /// The record of fields `names[i] = values[i]` (names distinct: see `index(of:)`).
    public init(role: String, kind: String, names: [String], values: [SettingValue]) {
        precondition(names.count == values.count)
        self.role = role
        self.kind = kind
        self.names = names
        self.values = values
        self.taken = Array(repeating: false, count: names.count)
    }

    /// The position of field `name`, if the record has it.
    public func index(of name: String) -> Int? { names.firstIndex(of: name) }

    private var name: String { kind.isEmpty ? "the \(role) settings" : "\(role) '\(kind)'" }

    private mutating func take(_ field: String) throws -> SettingValue {
        guard let i = index(of: field) else {
            throw EBMError.invalidArgument("\(name) needs the field '\(field)'")
        }
        taken[i] = true
        return values[i]
    }

    private func wrongType(_ field: String, _ expected: String, _ value: SettingValue) -> EBMError {
        .invalidArgument("\(name): '\(field)' must be \(expected), got \(value.typeName)")
    }

    /// A required integer.
    public mutating func integer(_ field: String) throws -> Int {
        let value = try take(field)
        guard case .integer(let v) = value else { throw wrongType(field, "an integer", value) }
        guard let i = Int(exactly: v) else { throw wrongType(field, "a machine integer", value) }
        return i
    }

    /// A required 64-bit unsigned integer (a seed: the record carries its bits).
    public mutating func bits(_ field: String) throws -> UInt64 {
        let value = try take(field)
        guard case .integer(let v) = value else { throw wrongType(field, "an integer", value) }
        return UInt64(bitPattern: v)
    }

    /// A required flag (an integer 0 or 1).
    public mutating func flag(_ field: String) throws -> Bool {
        let value = try take(field)
        guard case .integer(let v) = value, v == 0 || v == 1 else { throw wrongType(field, "0 or 1", value) }
        return v == 1
    }

    /// A required number (an integer is accepted as a number).
    public mutating func number(_ field: String) throws -> Double {
        try optionalNumber(field) ?? { throw wrongType(field, "a number", .none) }()
    }

    /// A number, or `nil` for `.none`.
    public mutating func optionalNumber(_ field: String) throws -> Double? {
        let value = try take(field)
        switch value {
        case .none: return nil
        case .number(let v): return v
        case .integer(let v): return Double(v)
        default: throw wrongType(field, "a number", value)
        }
    }

    /// A required text.
    public mutating func text(_ field: String) throws -> String {
        let value = try take(field)
        guard case .text(let v) = value else { throw wrongType(field, "a text", value) }
        return v
    }

    /// An array, or `nil` for `.none`; when `count` is given it must have that many values.
    public mutating func optionalArray(_ field: String, count: Int? = nil) throws -> [Double]? {
        let value = try take(field)
        switch value {
        case .none: return nil
        case .array(let v):
            if let count { try require(v.count == count, "\(name): '\(field)' must hold \(count) values, got \(v.count)") }
            return v
        default: throw wrongType(field, "an array", value)
        }
    }

    /// A required array.
    public mutating func array(_ field: String, count: Int? = nil) throws -> [Double] {
        try optionalArray(field, count: count) ?? { throw wrongType(field, "an array", .none) }()
    }

    /// The record of kind `kind` made of this record's fields named `prefix…` (the prefix
    /// removed), all of which are taken: how a record carries another (replica exchange's inner
    /// kernel).
    public mutating func subrecord(prefix: String, role: String, kind: String) -> SettingsRecord {
        var innerNames: [String] = [], innerValues: [SettingValue] = []
        for i in names.indices where names[i].hasPrefix(prefix) {
            innerNames.append(String(names[i].dropFirst(prefix.count)))
            innerValues.append(values[i])
            taken[i] = true
        }
        return SettingsRecord(role: role, kind: kind, names: innerNames, values: innerValues)
    }

    /// Checks that every field was taken.
    public func finish() throws {
        guard taken.contains(false) else { return }
        let unknown = names.indices.filter { !taken[$0] }.map { names[$0] }.sorted()
        try require(unknown.isEmpty, "\(name) has no field\(unknown.count > 1 ? "s" : "") \(unknown.map { "'\($0)'" }.joined(separator: ", "))")
    }

    /// Reads the record with `body` and checks that every field was taken.
    public static func read<T>(_ record: SettingsRecord, _ body: (inout SettingsRecord) throws -> T) throws -> T {
        var r = record
        let result = try body(&r)
        try r.finish()
        return result
    }
}
