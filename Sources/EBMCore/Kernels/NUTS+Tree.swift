#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension NUTS {
    /// The trees of one block of chains, grown in lockstep: per chain its two edges, the leaf being
    /// built, the tree's and the current subtree's proposals, momentum sums and log weights, and the
    /// U-turn checkpoints of the subtree. Made once per thread (`prepare`), reused by every step.
    final class Trees {
        let capacity: Int, dimension: Int, depth: Int
        // Per chain, `dimension` floats each.
        let leftX, leftP, leftG, rightX, rightP, rightG: FloatBuffer
        let leafX, leafP, leafG: FloatBuffer
        let proposalX, proposalG, subX, subG: FloatBuffer
        let rho, subRho: FloatBuffer
        /// Per chain, `depth × dimension` floats: the momentum and momentum sum at the checkpoints
        /// of the iterative U-turn check.
        let checkpointP, checkpointRho: FloatBuffer
        /// `dimension` floats of scratch (a sub-trajectory's momentum sum).
        let scratch: FloatBuffer
        // Per chain scalars.
        var proposalE, subE, leafE: [Float]
        var h0, logWeight, subLogWeight, acceptSum: [Double]
        var leapfrogs, treeDepth: [Int]
        var direction: [Float]
        var growing, building, divergent, moved: [Bool]
        /// The chains of the block whose subtree gets a leaf in this round, and their rows there.
        var active: [Int]

        init(capacity: Int, dimension d: Int, depth: Int) throws {
            self.capacity = capacity
            self.dimension = d
            self.depth = depth
            func vectors() throws -> FloatBuffer { try FloatBuffer(count: capacity * d) }
            (leftX, leftP, leftG, rightX, rightP, rightG) = (try vectors(), try vectors(), try vectors(), try vectors(), try vectors(), try vectors())
            (leafX, leafP, leafG) = (try vectors(), try vectors(), try vectors())
            (proposalX, proposalG, subX, subG) = (try vectors(), try vectors(), try vectors(), try vectors())
            (rho, subRho) = (try vectors(), try vectors())
            checkpointP = try FloatBuffer(count: capacity * depth * d)
            checkpointRho = try FloatBuffer(count: capacity * depth * d)
            scratch = try FloatBuffer(count: d)
            proposalE = Array(repeating: 0, count: capacity)
            (subE, leafE) = (proposalE, proposalE)
            h0 = Array(repeating: 0, count: capacity)
            (logWeight, subLogWeight, acceptSum) = (h0, h0, h0)
            leapfrogs = Array(repeating: 0, count: capacity)
            treeDepth = leapfrogs
            direction = Array(repeating: 1, count: capacity)
            growing = Array(repeating: false, count: capacity)
            (building, divergent, moved) = (growing, growing, growing)
            active = []
            active.reserveCapacity(capacity)
        }

        /// `d` floats of chain `i` in `buffer`.
        @inline(__always)
        func row(_ buffer: FloatBuffer, _ i: Int) -> UnsafeMutablePointer<Float> { buffer.base + i * dimension }

        /// Checkpoint `c` of chain `i`.
        @inline(__always)
        func checkpoint(_ buffer: FloatBuffer, _ i: Int, _ c: Int) -> UnsafeMutablePointer<Float> {
            buffer.base + (i * depth + c) * dimension
        }
    }

    /// `ln(eᵃ + eᵇ)`.
    @inline(__always)
    static func logAddExp(_ a: Double, _ b: Double) -> Double {
        if a == -.infinity { return b }
        if b == -.infinity { return a }
        return max(a, b) + log1p(exp(-abs(a - b)))
    }

    /// The generalised U-turn criterion (Betancourt 2017, §A.4.2, as in NumPyro and BlackJAX) of a
    /// trajectory whose end momenta are `left`, `right` and whose momenta sum to `sum`: with
    /// `ρ = sum − (left + right)/2`, it turns when `(M⁻¹ left)·ρ ≤ 0` or `(M⁻¹ right)·ρ ≤ 0`.
    @inline(__always)
    static func turning(_ left: UnsafePointer<Float>, _ right: UnsafePointer<Float>, sum: UnsafePointer<Float>,
                        count d: Int, inverseMass m: (Int) -> Float) -> Bool {
        var atLeft: Float = 0, atRight: Float = 0
        for j in 0..<d {
            let rho = sum[j] - 0.5 * (left[j] + right[j]), mj = m(j)
            atLeft += mj * left[j] * rho
            atRight += mj * right[j] * rho
        }
        return atLeft <= 0 || atRight <= 0
    }

    /// The checkpoints a subtree's leaf `n` (0-based) checks against, `minimum ... maximum` (NumPyro's
    /// `_leaf_idx_to_ckpt_idxs`): an even leaf stores itself at `maximum` and checks nothing
    /// (`minimum > maximum`); an odd leaf closes one balanced sub-subtree per trailing one bit of `n`.
    @inline(__always)
    static func checkpoints(leaf n: Int) -> (minimum: Int, maximum: Int) {
        let maximum = (n >> 1).nonzeroBitCount
        let closing = ((~n & (n + 1)) - 1).nonzeroBitCount
        return (maximum - closing + 1, maximum)
    }
}
