/// The Philox4x32-10 counter-based generator (Salmon, Moraes, Dror & Shaw, "Parallel random
/// numbers: as easy as 1, 2, 3", SC'11).
///
/// A pure function of a 128-bit counter and a 64-bit key: any draw can be computed directly from
/// its coordinates, so a chain's random stream depends only on `(seed, chain index, step)`, never
/// on which thread produced it or in what order.
public struct Philox4x32: Hashable, Sendable {
    /// The two 32-bit key words.
    public var key: (UInt32, UInt32)

    /// A generator with the given 64-bit key.
    public init(key: UInt64) {
        self.key = (UInt32(truncatingIfNeeded: key), UInt32(truncatingIfNeeded: key >> 32))
    }

    /// A generator whose key mixes a user seed with a purpose tag and an index, so that
    /// independent uses of one seed (initialisation, noise of step t, buffer draws …) never
    /// share a stream.
    public init(seed: UInt64, purpose: UInt64, index: UInt64 = 0) {
        self.init(key: SplitMix64.mix(seed ^ SplitMix64.mix(purpose &+ SplitMix64.mix(index))))
    }

    public static func == (a: Self, b: Self) -> Bool { a.key == b.key }
    public func hash(into h: inout Hasher) { h.combine(key.0); h.combine(key.1) }

    /// The four 32-bit outputs for `counter` (ten rounds; constants from Random123).
    public func block(_ c0: UInt32, _ c1: UInt32, _ c2: UInt32, _ c3: UInt32)
        -> (UInt32, UInt32, UInt32, UInt32)
    {
        rounds(c0, c1, c2, c3)
    }

    /// The ten Philox4x32 rounds on one counter, or on a vector of counters lane by lane: the one
    /// implementation behind `block` and the 16-counter `blocks`.
    @inline(__always)
    func rounds<W: PhiloxWords>(_ c0: W, _ c1: W, _ c2: W, _ c3: W) -> (W, W, W, W) {
        var c = (c0, c1, c2, c3)
        var k = key
        for round in 0..<10 {
            if round > 0 {
                k.0 &+= 0x9E37_79B9
                k.1 &+= 0xBB67_AE85
            }
            let p0 = c.0.multipliedFull(by: 0xD251_1F53)
            let p1 = c.2.multipliedFull(by: 0xCD9E_8D57)
            c = ((p1.high ^ c.1).xor(k.0), p1.low, (p0.high ^ c.3).xor(k.1), p0.low)
        }
        return c
    }
}

/// A 32-bit word, or a vector of them, as Philox's rounds use it.
protocol PhiloxWords {
    /// The high and low 32-bit halves of the 64-bit product `self · m` (lane by lane).
    func multipliedFull(by m: UInt32) -> (high: Self, low: Self)
    /// Bitwise exclusive or.
    static func ^ (a: Self, b: Self) -> Self
    /// `self` exclusive-or `k` (in every lane).
    func xor(_ k: UInt32) -> Self
}

extension UInt32: PhiloxWords {
    @inline(__always)
    func multipliedFull(by m: UInt32) -> (high: UInt32, low: UInt32) {
        let p = UInt64(self) &* UInt64(m)
        return (UInt32(truncatingIfNeeded: p >> 32), UInt32(truncatingIfNeeded: p))
    }

    @inline(__always)
    func xor(_ k: UInt32) -> UInt32 { self ^ k }
}

/// SplitMix64's finaliser (Steele, Lea & Flood 2014): a bijective 64-bit mixer used to derive
/// Philox keys from seeds.
enum SplitMix64 {
    @inlinable
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Purpose tags that separate the random streams derived from one seed: the core's own here; a
/// sampler kernel declares its tag in its own file (`SamplerKernel.noisePurpose`), and
/// `KernelRegistry.purposesAreDistinct` checks that no two streams share one.
public enum Purpose {
    static let initialisation: UInt64 = 1
    /// The noise of `langevin` calls and of the trainer's Langevin steps.
    public static let langevinNoise: UInt64 = 2
    static let bufferInit: UInt64 = 3
    static let bufferDraws: UInt64 = 4
    static let aisInitial: UInt64 = 5
    static let aisNoise: UInt64 = 6
    static let dataNoise: UInt64 = 8
    /// Denoising score matching's perturbations of the data.
    static let denoisingNoise: UInt64 = 10
    /// Sliced score matching's projections.
    static let projections: UInt64 = 11
    /// Noise-contrastive estimation's noise samples.
    static let nceNoise: UInt64 = 12
    /// Diffusion recovery likelihood's diffusion noise and its negatives' Langevin noise.
    static let recoveryNoise: UInt64 = 32

    /// The tags above other than `langevinNoise` (which the Langevin kernel and the trainer's
    /// negatives share): no kernel may draw from these.
    static let core: Set<UInt64> = [initialisation, bufferInit, bufferDraws, aisInitial, aisNoise, dataNoise,
                                    denoisingNoise, projections, nceNoise, recoveryNoise]
}
