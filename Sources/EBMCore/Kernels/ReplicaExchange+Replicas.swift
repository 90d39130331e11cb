#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ReplicaExchange {
    /// The replicas of one block of chains (row `i K + k`: chain `i` at level `k`), their inverse
    /// temperatures, the inner kernel's workspace, and the swap and round-trip book-keeping. Made once
    /// per thread (`prepare`), reused by every step.
    final class Replicas<E: EnergyFunction> {
        let capacity: Int, levels: Int, dimension: Int
        let x, energies, gradient, beta, stepSizes: FloatBuffer
        let inner: SamplerWorkspace<TemperedEnergy<E>>
        /// Per row: the replica (state) at that level, and for each replica index the end it
        /// visited last (0: neither yet, 1: cold, 2: hot).
        var identity: [Int], end: [UInt8]
        /// Per pair `(k, k + 1)` of each chain: acceptance probabilities and attempts after
        /// warm-up; rejection probabilities and attempts in the current adaptation window.
        var accepted, attempts, rejection, windowAttempts: [Double]
        var roundTrips: [Double]

        init(_ energy: E, capacity: Int, levels K: Int, dimension d: Int) throws {
            self.capacity = capacity
            self.levels = K
            self.dimension = d
            let rows = capacity * K
            (x, gradient) = (try FloatBuffer(count: rows * d), try FloatBuffer(count: rows * d))
            (energies, beta, stepSizes) = (try FloatBuffer(count: rows), try FloatBuffer(count: rows), try FloatBuffer(count: rows))
            beta.base.update(repeating: 1, count: rows)
            inner = try SamplerWorkspace(TemperedEnergy(energy, inverseTemperatures: beta.base), capacity: rows)
            identity = Array(repeating: 0, count: rows)
            end = Array(repeating: 0, count: rows)
            accepted = Array(repeating: 0, count: capacity * (K - 1))
            (attempts, rejection, windowAttempts) = (accepted, accepted, accepted)
            roundTrips = Array(repeating: 0, count: capacity)
        }

        /// The inner kernel's block: every replica of the chains of `s`, keyed by global replica index.
        func state(_ s: ChainBlockState) -> ChainBlockState {
            ChainBlockState(x: x.base, energies: energies.base, gradient: gradient.base, rows: s.rows * levels,
                            firstChain: s.firstChain * levels, dimension: dimension)
        }

        /// Exchanges the states of rows `a` and `b` (neighbouring levels of one chain), rescaling
        /// their tempered energies and gradients to their new temperatures.
        func swap(_ a: Int, _ b: Int) {
            let d = dimension, (ba, bb) = (beta.base[a], beta.base[b])
            let xa = x.base + a * d, xb = x.base + b * d, ga = gradient.base + a * d, gb = gradient.base + b * d
            for j in 0..<d {
                (xa[j], xb[j]) = (xb[j], xa[j])
                (ga[j], gb[j]) = (gb[j] / bb * ba, ga[j] / ba * bb)
            }
            (energies.base[a], energies.base[b]) = (energies.base[b] / bb * ba, energies.base[a] / ba * bb)
            identity.swapAt(a, b)
        }

        /// Re-spaces chain `i`'s ladder so that its estimated swap rejection rates become equal,
        /// keeping both ends, and restarts the window's counts.
        func respace(chain i: Int) {
            let K = levels, d = dimension
            var barrier = [0.0]  // Λ at each level: the cumulative rejection rate
            for k in 0..<(K - 1) {
                let pair = i * (K - 1) + k
                let rate = windowAttempts[pair] > 0 ? rejection[pair] / windowAttempts[pair] : 0
                barrier.append(barrier[k] + max(rate, 1e-3))  // a floor keeps Λ strictly increasing
                rejection[pair] = 0
                windowAttempts[pair] = 0
            }
            let old = (0..<K).map { Double(beta.base[i * K + $0]) }
            var new = old
            var segment = 0
            for k in 1..<(K - 1) {
                let target = barrier[K - 1] * Double(k) / Double(K - 1)
                while segment < K - 2 && barrier[segment + 1] < target { segment += 1 }
                let w = (target - barrier[segment]) / (barrier[segment + 1] - barrier[segment])
                // β decreases along the ladder; interpolate in log β (temperatures span decades).
                new[k] = exp(log(old[segment]) + w * (log(old[segment + 1]) - log(old[segment])))
            }
            for k in 1..<(K - 1) {
                let row = i * K + k, ratio = Float(new[k] / old[k])
                beta.base[row] = Float(new[k])
                energies.base[row] *= ratio
                for j in 0..<d { gradient.base[row * d + j] *= ratio }
            }
        }
    }
}
