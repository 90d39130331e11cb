#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEBMSwift
import EBMCore

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

    /// The calling thread's last divergence, kept in its own per-thread slot.
    private static let divergenceKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { free($0) }
        return key
    }()

    private static var divergenceSlot: UnsafeMutablePointer<ebm_divergence> {
        if let raw = pthread_getspecific(divergenceKey) { return raw.assumingMemoryBound(to: ebm_divergence.self) }
        let slot = calloc(1, MemoryLayout<ebm_divergence>.size)!.assumingMemoryBound(to: ebm_divergence.self)
        slot.pointee = ebm_divergence(site: empty, quantity: empty, step: 0, chain: -1)
        pthread_setspecific(divergenceKey, slot)
        return slot
    }

    /// Static C strings of the site and quantity names (the Swift enums' raw values, made once).
    private static let empty = UnsafePointer(strdup("")!)
    private static let siteNames = Dictionary(uniqueKeysWithValues: [Divergence.Site.langevin, .mala, .ais, .training]
        .map { ($0, UnsafePointer(strdup($0.rawValue)!)) })
    private static let quantityNames = Dictionary(uniqueKeysWithValues:
        [Divergence.Quantity.samples, .energy, .gradient, .parameters, .logWeight]
        .map { ($0, UnsafePointer(strdup($0.rawValue)!)) })

    static func setDivergence(_ d: Divergence) {
        divergenceSlot.pointee = ebm_divergence(site: siteNames[d.site]!, quantity: quantityNames[d.quantity]!,
                                                step: Int64(d.step), chain: Int64(d.chain))
    }

    static var divergence: ebm_divergence { divergenceSlot.pointee }
}
