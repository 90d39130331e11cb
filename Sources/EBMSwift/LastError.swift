#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The calling thread's last error message, in a per-thread C string buffer (a `pthread` key
/// whose destructor frees it when the thread ends).
enum LastError {
    static let capacity = 1024
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { free($0) }
        return key
    }()

    /// This thread's buffer, made on first use.
    private static var buffer: UnsafeMutablePointer<CChar> {
        if let raw = pthread_getspecific(key) { return raw.assumingMemoryBound(to: CChar.self) }
        let raw = calloc(capacity, 1)!
        pthread_setspecific(key, raw)
        return raw.assumingMemoryBound(to: CChar.self)
    }

    /// Stores `message` (truncated to fit) for the calling thread.
    static func set(_ message: String) {
        let out = buffer
        var n = 0
        for byte in message.utf8 where n < capacity - 1 {
            out[n] = CChar(bitPattern: byte)
            n += 1
        }
        out[n] = 0
    }

    /// The calling thread's message ("" if none).
    static var message: UnsafePointer<CChar> { UnsafePointer(buffer) }
}
