#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A readers–writer lock (`pthread_rwlock_t`): any number of concurrent readers, or one writer.
/// Guards a model's parameters, so that several threads can sample one model while an update
/// waits for them. Writer-preferring where the platform offers it (glibc): once a writer waits,
/// new readers wait behind it, so a stream of sampling calls cannot starve `set_parameters` or a
/// training step. No thread takes it for reading twice (that would deadlock behind a waiting
/// writer).
public final class ReadWriteLock: @unchecked Sendable {
    private let handle: UnsafeMutablePointer<pthread_rwlock_t>

    /// A new, unlocked lock.
    public init() {
        handle = .allocate(capacity: 1)
        handle.initialize(to: pthread_rwlock_t())
        #if canImport(Glibc)
        var attributes = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attributes)
        pthread_rwlockattr_setkind_np(&attributes, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        pthread_rwlock_init(handle, &attributes)
        pthread_rwlockattr_destroy(&attributes)
        #else
        pthread_rwlock_init(handle, nil)
        #endif
    }

    deinit {
        pthread_rwlock_destroy(handle)
        handle.deallocate()
    }

    /// Runs `body` holding the lock for reading.
    @inlinable
    public func read<T>(_ body: () throws -> T) rethrows -> T {
        lockRead()
        defer { unlock() }
        return try body()
    }

    /// Runs `body` holding the lock for writing.
    @inlinable
    public func write<T>(_ body: () throws -> T) rethrows -> T {
        lockWrite()
        defer { unlock() }
        return try body()
    }

    @usableFromInline func lockRead() { pthread_rwlock_rdlock(handle) }
    @usableFromInline func lockWrite() { pthread_rwlock_wrlock(handle) }
    @usableFromInline func unlock() { pthread_rwlock_unlock(handle) }
}
