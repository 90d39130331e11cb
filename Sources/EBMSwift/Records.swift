import CEBMSwift
import EBMCore

// The one place an `ebm_record` becomes a core `SettingsRecord`.

/// Settings beyond this count, or arrays beyond `maximumCount` values, are refused before anything
/// is read from them.
private let maximumSettings = 256

extension SettingsRecord {
    /// The core's record of the caller's C record, named by `role` in messages.
    init(_ pointer: UnsafePointer<ebm_record>?, role: String) throws {
        let c = try nonNull(pointer, role).pointee
        try require(c.count >= 0 && c.count <= maximumSettings, "the \(role) record must have 0 to \(maximumSettings) settings, got \(c.count)")
        var names: [String] = [], values: [SettingValue] = []
        names.reserveCapacity(Int(c.count))
        values.reserveCapacity(Int(c.count))
        for k in 0..<Int(c.count) {
            let s = try nonNull(c.settings, "\(role) settings")[k]
            let name = String(cString: try nonNull(s.name, "the name of \(role) setting \(k)"))
            let value: SettingValue
            switch s.type {
            case EBM_SETTING_NONE: value = .none
            case EBM_SETTING_INTEGER: value = .integer(s.integer)
            case EBM_SETTING_NUMBER: value = .number(s.number)
            case EBM_SETTING_TEXT: value = .text(String(cString: try nonNull(s.text, "\(role) setting '\(name)'")))
            case EBM_SETTING_ARRAY:
                try require(s.count >= 0 && s.count <= Int64(maximumCount), "\(role) setting '\(name)' has \(s.count) values")
                value = .array(s.count == 0 ? [] : Array(UnsafeBufferPointer(start: try nonNull(s.array, "\(role) setting '\(name)'"),
                                                                             count: Int(s.count))))
            default: throw EBMError.invalidArgument("\(role) setting '\(name)' has unknown type \(s.type)")
            }
            try require(!names.contains(name), "the \(role) record sets '\(name)' twice")
            names.append(name)
            values.append(value)
        }
        self.init(role: role, kind: c.kind.map { String(cString: $0) } ?? "", names: names, values: values)
    }

    /// The record, or `nil` for a NULL pointer.
    init?(optional pointer: UnsafePointer<ebm_record>?, role: String) throws {
        guard pointer != nil else { return nil }
        try self.init(pointer, role: role)
    }
}

