/// The errors the core reports. The C ABI turns each into a status code and a message.
public enum EBMError: Error, Equatable {
    /// An argument is out of its domain; the message names it, what was expected and what came.
    case invalidArgument(String)
    /// A NaN or infinity appeared during sampling or training: where, in what, at which step.
    case diverged(Divergence)
    /// The caller's poll callback asked to stop.
    case interrupted
    /// An allocation of `bytes` for `what` failed (the process's memory or address-space limit).
    case outOfMemory(what: String, bytes: Int)

    /// A human-readable description, suitable for an exception message.
    public var message: String {
        switch self {
        case .invalidArgument(let text): return text
        case .diverged(let divergence): return divergence.message
        case .interrupted: return "interrupted"
        case .outOfMemory(let what, let bytes):
            return "cannot allocate \(bytes) bytes (\(formatBytes(bytes))) for \(what)"
        }
    }
}

/// Throws `EBMError.invalidArgument(message())` unless `condition` holds.
@inlinable
public func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw EBMError.invalidArgument(message()) }
}

/// `value`, or `EBMError.invalidArgument(message)` when it is `nil`.
public func requireValue<T>(_ value: T?, _ message: @autoclosure () -> String) throws -> T {
    guard let value else { throw EBMError.invalidArgument(message()) }
    return value
}

/// `bytes` in GB, MB or kB for a message.
func formatBytes(_ bytes: Int) -> String {
    let b = Double(bytes)
    if b >= 1e9 { return "\((b / 1e8).rounded() / 10) GB" }
    if b >= 1e6 { return "\((b / 1e5).rounded() / 10) MB" }
    return "\((b / 1e2).rounded() / 10) kB"
}
