import CEBMSwift
import EBMCore

/// Runs `body`, turning a thrown `EBMError` into its status code and the thread's last-error
/// message. The only way an export reports failure; nothing is thrown across the C boundary.
@inline(__always)
func withStatus(_ body: () throws -> Void) -> ebm_status {
    do {
        try body()
        return EBM_OK
    } catch let error as EBMError {
        LastError.set(error.message)
        if case .diverged(let divergence) = error { LastError.setDivergence(divergence) }
        switch error {
        case .invalidArgument: return EBM_ERR_INVALID_ARGUMENT
        case .diverged: return EBM_ERR_DIVERGED
        case .interrupted: return EBM_ERR_INTERRUPTED
        case .outOfMemory: return EBM_ERR_OUT_OF_MEMORY
        }
    } catch {
        LastError.set("internal error: \(error)")
        return EBM_ERR_INTERNAL
    }
}

/// Throws `invalidArgument` naming `name` when `pointer` is NULL.
@inline(__always)
func nonNull<T>(_ pointer: T?, _ name: String) throws -> T {
    guard let p = pointer else { throw EBMError.invalidArgument("\(name) must not be NULL") }
    return p
}

/// Throws unless `count` is a valid non-negative element count.
@inline(__always)
func checkedCount(_ count: Int64, _ name: String) throws -> Int {
    guard count > 0, count <= Int64(maximumCount) else {
        throw EBMError.invalidArgument("\(name) must be in [1, 2^31 - 1], got \(count)")
    }
    return Int(count)
}
