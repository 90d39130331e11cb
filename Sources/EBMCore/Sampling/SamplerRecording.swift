/// What a sampler records besides the final states, in caller-owned memory.
public struct SamplerRecording {
    /// `(steps / thin, rows, dim)` floats: the states after steps `thin, 2·thin, …`; or `nil`.
    public var trajectory: UnsafeMutablePointer<Float>?
    /// Record every `thin`-th state (≥ 1).
    public var thin: Int
    /// `(blocks, steps, 3)` doubles: per block and step, the sums over its chains of the energy and
    /// gradient norm at the start of the step and of the acceptances (1 for ULA); or `nil`.
    public var statistics: UnsafeMutablePointer<Double>?

    /// Records nothing.
    public static let none = SamplerRecording(trajectory: nil, thin: 1, statistics: nil)

    /// A recording into the given buffers.
    public init(trajectory: UnsafeMutablePointer<Float>?, thin: Int, statistics: UnsafeMutablePointer<Double>?) {
        self.trajectory = trajectory
        self.thin = max(1, thin)
        self.statistics = statistics
    }

    /// Whether per-step energies are needed.
    var wantsStatistics: Bool { statistics != nil }

    /// Stores the block's states after step `t` (0-based) if `t + 1` is a multiple of `thin`.
    @inline(__always)
    func recordStates(_ x: UnsafePointer<Float>, rows: Int, firstRow: Int, totalRows: Int, dimension d: Int, step t: Int) {
        guard let out = trajectory, (t + 1) % thin == 0 else { return }
        let frame = (t + 1) / thin - 1
        (out + (frame * totalRows + firstRow) * d).update(from: x, count: rows * d)
    }

    /// Adds a block's step sums.
    @inline(__always)
    func recordStatistics(block: Int, steps: Int, step t: Int, energy: Double, gradientNorm: Double, accepted: Double) {
        guard let s = statistics else { return }
        let at = s + (block * steps + t) * 3
        at[0] = energy
        at[1] = gradientNorm
        at[2] = accepted
    }

    /// Reduces `(blocks, steps, 3)` block sums to `(steps, 3)` means over `rows` chains: mean
    /// energy, mean gradient norm, acceptance rate. Blocks are added in order: deterministic.
    public static func reduce(_ sums: UnsafePointer<Double>, blocks: Int, steps: Int, rows: Int,
                              into means: UnsafeMutablePointer<Double>) {
        for t in 0..<steps {
            for c in 0..<3 {
                var s = 0.0
                for b in 0..<blocks { s += sums[(b * steps + t) * 3 + c] }
                means[t * 3 + c] = s / Double(rows)
            }
        }
    }
}
