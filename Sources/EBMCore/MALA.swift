#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The Metropolis-adjusted Langevin algorithm (Roberts & Tweedie 1996): the Langevin step of
/// Algorithm 14.4 used as a proposal, `y = x − η ∇E(x) + sqrt(2η) ε`, accepted with probability
/// `min(1, exp(−E(y) + E(x)) q(x | y) / q(y | x))`, `q(b | a) ∝ exp(−‖b − a + η ∇E(a)‖² / 4η)`.
/// The chain's stationary law is exactly `exp(−E) / Z`, at any step size.
public enum MALA {
    /// Runs `steps` MALA steps on the chains in `x` (in place), counting each chain's acceptances
    /// into `accepted` (`rows` doubles, added to). Energy and gradient of the current state are
    /// cached across steps, so each step costs one gradient evaluation.
    ///
    /// Noise and acceptance uniforms of chain `i` at step `t` are keyed by `(i, stepOffset + t)`:
    /// independent of the thread count.
    public static func run<E: EnergyFunction>(
        _ energy: E, x: UnsafeMutableBufferPointer<Float>, blocks: ChainBlocks,
        steps: Int, stepSize: Float, noise: Philox4x32, stepOffset: Int = 0,
        accepted: UnsafeMutableBufferPointer<Double>,
        workspaces: [SamplerWorkspace<E>], recording: SamplerRecording = .none,
        poll: (Double) -> Bool = { _ in false }
    ) throws {
        precondition(x.count == blocks.rows * energy.dimension && accepted.count == blocks.rows)
        try ChainParallel.run(blocks, threads: workspaces.count, steps: steps, poll: poll) { b, worker, shouldStop in
            let rows = blocks.range(b)
            try runBlock(energy, x: x.baseAddress! + rows.lowerBound * energy.dimension, rows: rows,
                         totalRows: blocks.rows, block: b, steps: steps, stepSize: stepSize,
                         noise: noise, stepOffset: stepOffset,
                         accepted: accepted.baseAddress! + rows.lowerBound,
                         workspace: workspaces[worker], recording: recording, shouldStop: shouldStop)
        }
    }

    static func runBlock<E: EnergyFunction>(
        _ energy: E, x: UnsafeMutablePointer<Float>, rows: Range<Int>, totalRows: Int, block: Int,
        steps: Int, stepSize eta: Float, noise: Philox4x32, stepOffset: Int,
        accepted: UnsafeMutablePointer<Double>, workspace ws: SamplerWorkspace<E>,
        recording: SamplerRecording, shouldStop: () -> Bool
    ) throws {
        let d = energy.dimension, n = rows.count
        precondition(n <= ws.capacity, "workspace too small")
        let e = ws.energies.base, g = ws.gradient.base
        let y = ws.proposal.base, ey = ws.proposalEnergies.base, gy = ws.proposalGradient.base
        let eps = ws.noise.base
        let sigma = (2 * eta).squareRoot()
        // Acceptance uniforms come from a key of their own (the noise key's mix with a tag).
        let uniforms = Philox4x32(key: SplitMix64.mix(UInt64(noise.key.0) | UInt64(noise.key.1) << 32 ^ 0x4D41_4C41))

        energy.gradients(UnsafeBufferPointer(start: x, count: n * d), rows: n, energies: ws.energies.slice(0, n),
                         into: ws.gradient.slice(0, n * d), workspace: ws.energyWorkspace)
        for i in 0..<(n * d) where !g[i].isFinite {
            throw EBMError.diverged(Divergence(.mala, .gradient, step: 0, "MALA: the gradient at the initial states is NaN or infinite"))
        }
        for i in 0..<n where !e[i].isFinite {
            throw EBMError.diverged(Divergence(.mala, .energy, step: 0, chain: rows.lowerBound + i,
                                               "MALA: the energy at the initial state of chain \(rows.lowerBound + i) is \(e[i])"))
        }
        for t in 0..<steps {
            if shouldStop() { throw EBMError.interrupted }
            let counter = UInt32(truncatingIfNeeded: stepOffset + t)
            var energySum = 0.0, normSum = 0.0
            noise.fillNormal(eps, rows: n, dimension: d, firstRow: UInt64(rows.lowerBound), step: counter)
            for k in 0..<(n * d) { y[k] = x[k] - eta * g[k] + sigma * eps[k] }
            energy.gradients(UnsafeBufferPointer(start: y, count: n * d), rows: n,
                             energies: ws.proposalEnergies.slice(0, n),
                             into: ws.proposalGradient.slice(0, n * d), workspace: ws.energyWorkspace)
            var acceptedNow = 0.0
            for i in 0..<n {
                let row = UInt64(rows.lowerBound + i)
                if recording.wantsStatistics {  // at the state the step starts from
                    energySum += Double(e[i])
                    var s: Float = 0
                    for j in 0..<d { s += g[i * d + j] * g[i * d + j] }
                    normSum += Double(s.squareRoot())
                }
                // log q(x | y) − log q(y | x) with q(b | a) = N(b; a − η∇E(a), 2η I):
                // forward residual y − x + η g(x) = σ ε; reverse residual x − y + η g(y).
                var forward: Float = 0, reverse: Float = 0, finite = ey[i].isFinite
                for j in 0..<d {
                    let k = i * d + j
                    let f = y[k] - x[k] + eta * g[k]
                    let r = x[k] - y[k] + eta * gy[k]
                    forward += f * f
                    reverse += r * r
                    finite = finite && gy[k].isFinite
                }
                let logAlpha = Double(e[i] - ey[i]) + Double(forward - reverse) / Double(4 * eta)
                let w = uniforms.block(0, counter, UInt32(truncatingIfNeeded: row), UInt32(truncatingIfNeeded: row >> 32))
                let u = Double(Philox4x32.openUnit(w.0))
                if finite && log(u) < logAlpha {
                    (x + i * d).update(from: y + i * d, count: d)
                    (g + i * d).update(from: gy + i * d, count: d)
                    e[i] = ey[i]
                    accepted[i] += 1
                    acceptedNow += 1
                }
            }
            recording.recordStatistics(block: block, steps: steps, step: t, energy: energySum,
                                       gradientNorm: normSum, accepted: acceptedNow)
            recording.recordStates(x, rows: n, firstRow: rows.lowerBound, totalRows: totalRows, dimension: d, step: t)
        }
    }
}
