/// Scratch memory for evaluating an `MLPEnergy` on batches of up to `capacity` rows: one block
/// carved into per-layer activations, activation derivatives, two back-propagation buffers,
/// the output energies and a row of ones.
public final class MLPWorkspace {
    /// The largest batch this workspace serves.
    public let capacity: Int
    let storage: FloatBuffer
    /// Per hidden layer: `f(z)` and `f'(z)`, `capacity × width` each.
    let activations: [UnsafeMutablePointer<Float>]
    let derivatives: [UnsafeMutablePointer<Float>]
    /// Two `capacity × max width` buffers for the backward pass (ping-pong).
    let deltaA: UnsafeMutablePointer<Float>
    let deltaB: UnsafeMutablePointer<Float>
    /// `capacity` energies (when the caller does not want them) and `capacity` ones.
    let energies: UnsafeMutablePointer<Float>
    let ones: UnsafeMutablePointer<Float>

    init(hidden: [Int], dimension: Int, capacity: Int) {
        let widest = max(hidden.max() ?? 1, dimension)
        let total = capacity * (2 * hidden.reduce(0, +) + 2 * widest + 2)
        self.capacity = capacity
        let block = FloatBuffer(count: total)
        storage = block
        var offset = 0
        func carve(_ count: Int) -> UnsafeMutablePointer<Float> {
            defer { offset += count }
            return block.base + offset
        }
        activations = hidden.map { carve(capacity * $0) }
        derivatives = hidden.map { carve(capacity * $0) }
        deltaA = carve(capacity * widest)
        deltaB = carve(capacity * widest)
        energies = carve(capacity)
        ones = carve(capacity)
        ones.update(repeating: 1, count: capacity)
    }
}
