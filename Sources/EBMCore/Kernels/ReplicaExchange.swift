#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Replica exchange (parallel tempering; Swendsen & Wang 1986, Geyer 1991) with the
/// non-reversible deterministic even–odd swap scheme (Syed, Bouchard-Côté, Deligiannidis & Doucet
/// 2022, "Non-reversible parallel tempering: a scalable highly parallel MCMC scheme").
///
/// Each chain carries `K` replicas at temperatures `1 = T₀ < T₁ < … < T_{K−1}`, replica `k`
/// targeting `exp(−E/T_k)`. A step moves every replica by one step of the inner kernel (any
/// registered kernel that evaluates rows in place) on the tempered energy, with step size
/// `η T_k`, then proposes to swap the states of neighbours `(k, k + 1)` for every even `k` at even
/// steps and every odd `k` at odd steps, each accepted with probability
/// `min(1, exp((β_k − β_{k+1}) (E(x_k) − E(x_{k+1}))))`, `β = 1/T`. The alternation makes a state
/// travel the ladder ballistically rather than diffusively: round trips between the cold and the
/// hot end grow linearly, not quadratically, with `K`. The chain's `T = 1` replica samples
/// `exp(−E)/Z` exactly when the inner kernel does.
///
/// During warm-up (`adaptTemperatures`), each chain's ladder is re-spaced at the ends of windows
/// of doubling length (an eighth, a quarter, half and all of warm-up) so that the swap rejection
/// rates are equal: the estimated communication barrier `Λ(β)` — the cumulative rejection rate —
/// is interpolated linearly and the interior `β`s placed at equal steps of it (Syed et al. 2022,
/// §5.1), keeping `T₀ = 1` and `T_{K−1}`.
///
/// Reported per chain: the swap acceptance rate of each pair after warm-up, the round trips of
/// states between the two ends after warm-up, and the ladder. One inner step costs `K` times the
/// inner kernel's gradients.
public struct ReplicaExchange: SamplerKernel {
    public let inner: any SamplerKernel
    /// The temperatures, increasing from 1.
    public let temperatures: [Float]
    public let adaptTemperatures: Bool

    public static let kind = "replica_exchange"
    /// Its swap uniforms (the inner kernel draws from its own stream of this one).
    public static let noisePurpose: UInt64 = 16
    public static let rowsInPlace = false
    public var stepSize: Float { inner.stepSize }
    public var adaptable: Bool { inner.adaptable }
    public var gradientsPerStep: Int { temperatures.count * inner.gradientsPerStep }
    public var statistics: [ChainStatistic] {
        [ChainStatistic("swap_rate", width: temperatures.count - 1, .last), ChainStatistic("round_trips", .last),
         ChainStatistic("temperatures", width: temperatures.count, .last)]
    }
    private static let swapTag: UInt64 = 0x5245_5357

    /// - Throws: `EBMError.invalidArgument` for fewer than 2 temperatures, temperatures that do not
    ///   increase from 1, or an inner kernel that cannot be tempered.
    public init(inner: any SamplerKernel, temperatures: [Float], adaptTemperatures: Bool) throws {
        try require(temperatures.count >= 2, "replica exchange needs at least 2 temperatures, got \(temperatures.count)")
        try require(temperatures.count <= 1024, "replica exchange takes at most 1024 temperatures, got \(temperatures.count)")
        try require(temperatures[0] == 1, "temperatures must start at 1 (the target), got \(temperatures[0])")
        try require(zip(temperatures, temperatures.dropFirst()).allSatisfy { $0 < $1 } && temperatures.allSatisfy(\.isFinite),
                    "temperatures must be finite and strictly increasing")
        try require(type(of: inner).rowsInPlace, "replica exchange cannot run the kernel '\(type(of: inner).kind)' inside")
        self.inner = inner
        self.temperatures = temperatures
        self.adaptTemperatures = adaptTemperatures
    }

    /// Settings `kernel` (the inner kernel's kind), `temperatures`, `adapt_temperatures`, and the
    /// inner kernel's own settings as fields `inner.<name>`.
    public init(settings r: inout SettingsRecord, dimension: Int) throws {
        let kind = try r.text("kernel")
        let temperatures = try r.array("temperatures").map(Float.init)
        let adapt = try r.flag("adapt_temperatures")
        let inner = try KernelRegistry.kernel(r.subrecord(prefix: "inner.", role: "replica exchange's kernel", kind: kind),
                                              dimension: dimension)
        try self.init(inner: inner, temperatures: temperatures, adaptTemperatures: adapt)
    }

    public func prepare<E: EnergyFunction>(_ energy: E, _ s: ChainBlockState, _ c: StepContext,
                                           workspace ws: SamplerWorkspace<E>) throws {
        let K = temperatures.count, d = s.dimension
        if (ws.kernelState as? Replicas<E>).map({ $0.capacity != ws.capacity || $0.levels != K }) ?? true {
            ws.kernelState = try Replicas(energy, capacity: ws.capacity, levels: K, dimension: d)
        }
        let R = ws.kernelState as! Replicas<E>
        let width = inner.statistics.reduce(0) { $0 + $1.width }
        if width > 0 && R.inner.statistics == nil {  // an inner kernel that reports (NUTS) writes them here
            R.inner.statistics = try FloatBuffer(count: ws.capacity * K * width)
        }
        for i in 0..<s.rows {
            for k in 0..<K {
                let row = i * K + k
                R.beta.base[row] = 1 / temperatures[k]
                (R.x.base + row * d).update(from: s.x + i * d, count: d)
                R.identity[row] = k
                R.end[row] = k == 0 ? 1 : 0
                if k < K - 1 { R.accepted[i * (K - 1) + k] = 0; R.attempts[i * (K - 1) + k] = 0; R.rejection[i * (K - 1) + k] = 0 }
            }
            R.roundTrips[i] = 0
        }
        let tempered = TemperedEnergy(energy, inverseTemperatures: R.beta.base)
        tempered.gradients(UnsafeBufferPointer(start: R.x.base, count: s.rows * K * d), rows: s.rows * K,
                           energies: R.energies.slice(0, s.rows * K), into: R.gradient.slice(0, s.rows * K * d),
                           workspace: R.inner.energyWorkspace)
        try Sampling.checkInitialState(R.state(s), site: site)
        try inner.prepare(tempered, R.state(s), innerContext(R, s, c), workspace: R.inner)
    }

    /// The inner kernel's view of step `c`: each replica's step size `η T_k`.
    private func innerContext<E>(_ R: Replicas<E>, _ s: ChainBlockState, _ c: StepContext) -> StepContext {
        let K = temperatures.count
        for i in 0..<s.rows {
            let eta = c.tuning.stepSizes?[i] ?? inner.stepSize
            for k in 0..<K { R.stepSizes.base[i * K + k] = eta / R.beta.base[i * K + k] }
        }
        return StepContext(tuning: BlockTuning(stepSizes: UnsafePointer(R.stepSizes.base), inverseMass: nil),
                           noise: c.noise, counter: c.counter, step: c.step, steps: c.steps, warmup: c.warmup)
    }

    public func step<E: EnergyFunction>(
        _ energy: E, _ s: ChainBlockState, _ c: StepContext, workspace ws: SamplerWorkspace<E>,
        interrupted: () -> Bool
    ) throws {
        let K = temperatures.count, d = s.dimension, n = s.rows
        let R = ws.kernelState as! Replicas<E>
        let tempered = TemperedEnergy(energy, inverseTemperatures: R.beta.base)
        let innerState = R.state(s)
        if !inner.keepsCache {
            tempered.gradients(UnsafeBufferPointer(start: R.x.base, count: n * K * d), rows: n * K,
                               energies: R.energies.slice(0, n * K), into: R.gradient.slice(0, n * K * d),
                               workspace: R.inner.energyWorkspace)
        }
        try inner.step(tempered, innerState, innerContext(R, s, c), workspace: R.inner, interrupted: interrupted)
        let key = Self.derivedKey(c.noise, tag: Self.swapTag), counted = c.step >= c.warmup
        for i in 0..<n {
            ws.outcome[i] = R.inner.outcome[i * K]
            ws.logAcceptance[i] = R.inner.logAcceptance[i * K]
            var k = c.step % 2
            while k < K - 1 {
                let a = i * K + k, b = a + 1, pair = i * (K - 1) + k
                let (betaA, betaB) = (R.beta.base[a], R.beta.base[b])
                let (ua, ub) = (Double(R.energies.base[a]) / Double(betaA), Double(R.energies.base[b]) / Double(betaB))
                let logAlpha = Double(betaA - betaB) * (ua - ub)
                let probability = logAlpha.isNaN ? 0 : min(1, exp(logAlpha))
                if counted {
                    R.accepted[pair] += probability
                    R.attempts[pair] += 1
                } else {
                    R.rejection[pair] += 1 - probability
                    R.windowAttempts[pair] += 1
                }
                if Double(logf(Self.uniform(key, index: k, counter: c.counter, chain: s.firstChain + i))) < logAlpha {
                    R.swap(a, b)
                }
                k += 2
            }
            // Round trips: a state that last visited the hot end arrives at the cold end.
            let cold = R.identity[i * K], hot = R.identity[i * K + K - 1]
            if R.end[i * K + cold] == 2 {
                if counted { R.roundTrips[i] += 1 }
                R.end[i * K + cold] = 1
            }
            if R.end[i * K + hot] == 1 { R.end[i * K + hot] = 2 }
            (s.x + i * d).update(from: R.x.base + i * K * d, count: d)
            (s.gradient + i * d).update(from: R.gradient.base + i * K * d, count: d)
            s.energies[i] = R.energies.base[i * K]
        }
        if adaptTemperatures && c.step < c.warmup && Self.windowEnds(warmup: c.warmup).contains(c.step + 1) {
            for i in 0..<n { R.respace(chain: i) }
        }
        let statistics = ws.statistics!.base, width = 2 * K
        for i in 0..<n {
            let out = statistics + i * width
            for k in 0..<(K - 1) {
                let pair = i * (K - 1) + k
                out[k] = R.attempts[pair] > 0 ? Float(R.accepted[pair] / R.attempts[pair]) : 0
            }
            out[K - 1] = Float(R.roundTrips[i])
            for k in 0..<K { out[K + k] = 1 / R.beta.base[i * K + k] }
        }
    }

    /// The steps after which the ladder is re-spaced: the ends of windows of doubling length.
    static func windowEnds(warmup: Int) -> [Int] {
        [warmup / 8, warmup / 4, warmup / 2, warmup].filter { $0 > 0 }
    }
}
