#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEBMSwift
import EBMCore

/// The poll callback of the calling thread's batch evaluations (`ebm_set_thread_poll`): the
/// energies, gradients, parameter gradients, jets and logits of a batch go in chunks of at most
/// `RowChunks.defaultSize` rows (fewer for a costly network, `RowChunks.limit`), and between two
/// chunks they call it, so Ctrl-C stops a call on tens of thousands of images within one chunk's
/// work; building a network calls it between its spectral norms' power iterations. Per thread, so that callers on other
/// threads keep their own (or none).
enum ThreadPoll {
    private final class Callback {
        let poll: ebm_poll_fn
        let context: UnsafeMutableRawPointer?
        init(_ poll: ebm_poll_fn, _ context: UnsafeMutableRawPointer?) {
            self.poll = poll
            self.context = context
        }
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        // The destructor releases a callback a thread left set when it exits.
        precondition(pthread_key_create(&key, { raw in
            if let raw { Unmanaged<AnyObject>.fromOpaque(raw).release() }
        }) == 0)
        return key
    }()

    /// Sets (or, with `nil`, clears) the calling thread's callback.
    static func set(_ poll: ebm_poll_fn?, _ context: UnsafeMutableRawPointer?) {
        if let old = pthread_getspecific(key) { Unmanaged<AnyObject>.fromOpaque(old).release() }
        let new = poll.map { Unmanaged<AnyObject>.passRetained(Callback($0, context)).toOpaque() }
        pthread_setspecific(key, new.map { UnsafeRawPointer($0) })
    }

    /// Throws `EBMError.interrupted` when the thread's callback asks to stop; `done` is the
    /// fraction of the batch evaluated so far.
    static func check(done: Double) throws {
        guard let raw = pthread_getspecific(key) else { return }
        let callback = Unmanaged<AnyObject>.fromOpaque(raw).takeUnretainedValue() as! Callback
        if callback.poll(callback.context, done) != 0 { throw EBMError.interrupted }
    }
}

@_cdecl("ebm_set_thread_poll")
public func ebmSetThreadPoll(_ poll: ebm_poll_fn?, _ context: UnsafeMutableRawPointer?) {
    ThreadPoll.set(poll, context)
}
