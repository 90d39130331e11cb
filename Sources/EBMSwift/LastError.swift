#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEBMSwift
import EBMCore

/// A per-thread block of `size` zeroed bytes: a `pthread` key whose destructor frees it when the
/// thread ends, the block made on first use.
private struct ThreadSlot {
    let key: pthread_key_t
    let size: Int

    init(size: Int) {
        var key = pthread_key_t()
        pthread_key_create(&key) { free($0) }
        self.key = key
        self.size = size
    }

    var pointer: UnsafeMutableRawPointer {
        if let raw = pthread_getspecific(key) { return raw }
        let raw = calloc(size, 1)!
        pthread_setspecific(key, raw)
        return raw
    }
}

/// The calling thread's last error: a message in a C string buffer and, after a divergence, its
/// structured report.
enum LastError {
    static let capacity = 1024
    private static let messageSlot = ThreadSlot(size: capacity)
    private static let divergenceSlot = ThreadSlot(size: MemoryLayout<ebm_divergence>.size)

    private static var buffer: UnsafeMutablePointer<CChar> { messageSlot.pointer.assumingMemoryBound(to: CChar.self) }

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

    /// Static C strings of the site and quantity names (the Swift enums' raw values, made once).
    private static let empty = UnsafePointer(strdup("")!)
    private static let siteNames = Dictionary(uniqueKeysWithValues: Divergence.Site.allCases
        .map { ($0, UnsafePointer(strdup($0.rawValue)!)) })
    private static let quantityNames = Dictionary(uniqueKeysWithValues: Divergence.Quantity.allCases
        .map { ($0, UnsafePointer(strdup($0.rawValue)!)) })

    static func setDivergence(_ d: Divergence) {
        divergenceSlot.pointer.assumingMemoryBound(to: ebm_divergence.self).pointee = ebm_divergence(
            site: siteNames[d.site]!, quantity: quantityNames[d.quantity]!, step: Int64(d.step), chain: Int64(d.chain))
    }

    /// The calling thread's last divergence (empty names if none).
    static var divergence: ebm_divergence {
        let d = divergenceSlot.pointer.assumingMemoryBound(to: ebm_divergence.self).pointee
        return d.site == nil ? ebm_divergence(site: empty, quantity: empty, step: 0, chain: -1) : d
    }
}
