/// The persistent chains of contrastive-divergence training (Tieleman 2008; the replay buffer of
/// Du & Mordatch 2019): a `capacity × dimension` store of states that each step draws from,
/// moves by Langevin and writes back.
public final class ReplayBuffer {
    /// Number of stored states.
    public let capacity: Int
    /// Dimension of a state.
    public let dimension: Int
    /// The states, row-major.
    public let states: FloatBuffer
    /// A permutation of `0 ..< capacity` whose first `k` entries are the last draw's indices.
    private let permutation: UnsafeMutablePointer<Int>
    /// The swap partners of the last draw, so it can be undone.
    private var swaps: [Int] = []
    private var drawn = 0
    /// The slots of the last class-partitioned draw (`nil` after a plain draw).
    private let slots: UnsafeMutablePointer<Int>
    private var partitioned = false

    /// A buffer of `capacity` states uniform on `[low, high]^dimension`, drawn from `stream`.
    public init(capacity: Int, dimension: Int, low: Float, high: Float, stream: inout UniformStream) throws {
        self.capacity = capacity
        self.dimension = dimension
        states = try FloatBuffer(count: capacity * dimension, for: "the replay buffer (buffer_size × dimension)")
        for i in 0..<states.count { states.base[i] = stream.nextUniform(low, high) }
        permutation = try allocateChecked(Int.self, count: capacity, for: "the replay buffer's order (buffer_size)")
        for i in 0..<capacity { permutation[i] = i }
        slots = try allocateChecked(Int.self, count: capacity, for: "the replay buffer's slots (buffer_size)")
        slots.initialize(repeating: 0, count: capacity)
    }

    deinit {
        permutation.deallocate()
        slots.deallocate()
    }

    /// Copies `count` distinct states, chosen uniformly without replacement, into `batch`
    /// (`count × dimension`); each is replaced by a fresh uniform draw on `[low, high]` with
    /// probability `reinitProbability`. The buffer itself is unchanged until `writeBack`.
    ///
    /// A partial Fisher–Yates shuffle of a persistent permutation: `O(count)` per draw.
    public func draw(count: Int, into batch: UnsafeMutableBufferPointer<Float>,
                     reinitProbability: Float, low: Float, high: Float,
                     stream: inout UniformStream) {
        precondition(count <= capacity && batch.count >= count * dimension)
        if swaps.count < count { swaps.reserveCapacity(count) }
        swaps.removeAll(keepingCapacity: true)
        for k in 0..<count {
            let j = k + stream.nextInt(below: capacity - k)
            swaps.append(j)
            permutation.swapAt(k, j)
            fill(batch.baseAddress! + k * dimension, slot: permutation[k], reinitProbability, low, high, &stream)
        }
        drawn = count
        partitioned = false
    }

    /// The class-partitioned draw of joint energy models (JEM's class-conditional buffer): the
    /// buffer is split into `partitions` interleaved partitions (slot `s` holds class
    /// `s mod partitions`), and row `k` of `batch` takes a state of class `labels[k]` from a slot of
    /// that partition chosen uniformly — with replacement, as JEM draws — or, with probability
    /// `reinitProbability`, a fresh uniform draw. `writeBack` stores the rows in those slots (a slot
    /// drawn twice keeps the later row). The permutation of plain draws is left alone.
    public func draw(labels: UnsafePointer<Int32>, partitions: Int, count: Int,
                     into batch: UnsafeMutableBufferPointer<Float>, reinitProbability: Float, low: Float, high: Float,
                     stream: inout UniformStream) {
        precondition(count <= capacity && partitions <= capacity && batch.count >= count * dimension)
        for k in 0..<count {
            let c = Int(labels[k])
            let size = (capacity - c + partitions - 1) / partitions
            slots[k] = c + partitions * stream.nextInt(below: size)
            fill(batch.baseAddress! + k * dimension, slot: slots[k], reinitProbability, low, high, &stream)
        }
        drawn = count
        partitioned = true
    }

    /// `row ← ` the state in `slot`, or with probability `reinitProbability` a fresh uniform draw.
    @inline(__always)
    private func fill(_ row: UnsafeMutablePointer<Float>, slot: Int, _ reinitProbability: Float, _ low: Float, _ high: Float,
                      _ stream: inout UniformStream) {
        if stream.nextUnit() < reinitProbability {
            for c in 0..<dimension { row[c] = stream.nextUniform(low, high) }
        } else {
            row.update(from: states.base + slot * dimension, count: dimension)
        }
    }

    /// Stores the `count` moved states of the last draw back in their slots.
    public func writeBack(_ batch: UnsafeBufferPointer<Float>) {
        precondition(batch.count >= drawn * dimension)
        for k in 0..<drawn {
            (states.base + (partitioned ? slots[k] : permutation[k]) * dimension)
                .update(from: batch.baseAddress! + k * dimension, count: dimension)
        }
    }

    /// What a saved run keeps of the buffer: its states (`buffer`, `capacity × dimension`) and the
    /// permutation that drives the draws (`permutation`, checked to be one of `0 ..< capacity`).
    public var state: [StateEntry] {
        [
            .floats("buffer", states, shape: [capacity, dimension]),
            StateEntry("permutation", .int64, shape: [capacity], get: { [self] out in
                let o = out.assumingMemoryBound(to: Int64.self)
                for i in 0..<capacity { o[i] = Int64(permutation[i]) }
            }, set: { [self] raw in
                let order = UnsafeBufferPointer(start: raw.assumingMemoryBound(to: Int64.self), count: capacity)
                var seen = [Bool](repeating: false, count: capacity)
                for v in order {
                    try require(v >= 0 && v < capacity && !seen[Int(v)], "the trainer's permutation is not a permutation of 0..<\(capacity)")
                    seen[Int(v)] = true
                }
                for i in 0..<capacity { permutation[i] = Int(order[i]) }
                drawn = 0
            }),
        ]
    }

    /// Undoes the last draw's effect on the permutation, as if it had never happened.
    public func undoDraw() {
        if !partitioned {
            for k in stride(from: drawn - 1, through: 0, by: -1) { permutation.swapAt(k, swaps[k]) }
        }
        drawn = 0
    }
}

extension UnsafeMutablePointer where Pointee == Int {
    @inline(__always)
    fileprivate func swapAt(_ i: Int, _ j: Int) {
        let t = self[i]
        self[i] = self[j]
        self[j] = t
    }
}
