/// The errors the core reports. The C ABI turns each into a status code and a message.
public enum EBMError: Error, Equatable {
    /// An argument is out of its domain; the message names it, what was expected and what came.
    case invalidArgument(String)
    /// A NaN or infinity appeared during sampling or training: where, in what, at which step.
    case diverged(Divergence)
    /// The caller's poll callback asked to stop.
    case interrupted

    /// A human-readable description, suitable for an exception message.
    public var message: String {
        switch self {
        case .invalidArgument(let text): return text
        case .diverged(let divergence): return divergence.message
        case .interrupted: return "interrupted"
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
