/// The settings of a Langevin run (Bishop, *Deep Learning*, Algorithm 14.4, with the
/// practical options of IGEBM/JEM-style samplers).
public struct LangevinParameters: Sendable {
    /// Number of steps `T`.
    public var steps: Int
    /// Step size `η`.
    public var stepSize: Float
    /// Standard deviation of the added noise; `sqrt(2η)` samples `exp(−E)` exactly in the limit
    /// `η → 0`; a smaller value samples a colder distribution.
    public var noiseScale: Float
    /// Elementwise bound on the gradient, if any.
    public var gradientClip: Float?
    /// Box the states are clamped to after each step, if any.
    public var clamp: (low: Float, high: Float)?

    /// Validated settings; `noiseScale: nil` means `sqrt(2·stepSize)`.
    /// - Throws: `EBMError.invalidArgument` naming the offending setting.
    public init(steps: Int, stepSize: Float, noiseScale: Float? = nil,
                gradientClip: Float? = nil, clamp: (low: Float, high: Float)? = nil) throws {
        try require(steps > 0 && steps < Int(UInt32.max), "n_steps must be in [1, 2^32 − 1), got \(steps)")
        try require(stepSize > 0 && stepSize.isFinite, "step_size must be positive and finite, got \(stepSize)")
        let sigma = noiseScale ?? (2 * stepSize).squareRoot()
        try require(sigma >= 0 && sigma.isFinite, "noise_scale must be non-negative and finite, got \(sigma)")
        if let c = gradientClip {
            try require(c > 0 && !c.isNaN, "grad_clip must be positive, got \(c)")
        }
        if let box = clamp {
            try require(box.low.isFinite && box.high.isFinite && box.low < box.high,
                        "clamp must be finite (low, high) with low < high, got (\(box.low), \(box.high))")
        }
        self.steps = steps
        self.stepSize = stepSize
        self.noiseScale = sigma
        self.gradientClip = gradientClip
        self.clamp = clamp
    }
}

/// Scratch memory for a Langevin run of up to `capacity` chains: the energy's own workspace,
/// the gradient and one row of noise.
public final class LangevinWorkspace<E: EnergyFunction> {
    /// The largest number of chains served.
    public let capacity: Int
    let energyWorkspace: E.Workspace
    let gradient: FloatBuffer
    let noise: FloatBuffer

    /// Workspace for `energy` and up to `capacity` chains.
    public init(_ energy: E, capacity: Int) {
        self.capacity = capacity
        energyWorkspace = energy.makeWorkspace(capacity: capacity)
        gradient = FloatBuffer(count: capacity * energy.dimension)
        noise = FloatBuffer(count: energy.dimension)
    }
}

/// Unadjusted Langevin dynamics (Bishop, Algorithm 14.4): per step and chain
/// `x ← x − η ∇x E(x) + σ ε`, `ε ~ N(0, I)`, with `σ = sqrt(2η)` by default.
public enum Langevin {
    /// Runs `parameters.steps` steps on the `rows` chains stored row-major in `x`, in place.
    ///
    /// Chain `i`'s noise at step `t` is `noise.fillNormal(row: i, step: t)`: it depends only on the
    /// key and the chain's index, not on how the work is scheduled. Nothing is allocated here.
    ///
    /// - Parameters:
    ///   - shouldStop: polled once per step; returning `true` stops with `.interrupted`.
    /// - Throws: `.diverged` when a gradient or state becomes NaN or infinite (the step is named),
    ///   `.interrupted` when `shouldStop` says so. `x` then holds the states reached so far.
    public static func run<E: EnergyFunction>(
        _ energy: E, x: UnsafeMutableBufferPointer<Float>, rows: Int,
        parameters p: LangevinParameters, noise: Philox4x32,
        workspace ws: LangevinWorkspace<E>, shouldStop: () -> Bool = { false }
    ) throws {
        let d = energy.dimension
        precondition(rows <= ws.capacity && x.count == rows * d, "workspace too small")
        let g = ws.gradient.slice(0, rows * d)
        let eps = ws.noise.all
        let eta = p.stepSize, sigma = p.noiseScale
        let clip = p.gradientClip ?? .infinity
        let low = p.clamp?.low ?? -.infinity, high = p.clamp?.high ?? .infinity
        for t in 0..<p.steps {
            if shouldStop() { throw EBMError.interrupted }
            energy.gradients(UnsafeBufferPointer(x), rows: rows, energies: nil, into: g,
                             workspace: ws.energyWorkspace)
            var finite = true
            for i in 0..<rows {
                if sigma > 0 {
                    noise.fillNormal(eps, row: UInt64(i), step: UInt32(t))
                } else {
                    eps.update(repeating: 0)
                }
                let base = i * d
                for j in 0..<d {
                    let gradient = g[base + j]
                    let step = x[base + j] - eta * min(max(gradient, -clip), clip) + sigma * eps[j]
                    // NaN fails `isFinite`; test before the clamp, which could hide it.
                    finite = finite && gradient.isFinite && step.isFinite
                    x[base + j] = min(max(step, low), high)
                }
            }
            if !finite {
                throw EBMError.diverged(
                    "Langevin sampling diverged at step \(t + 1) of \(p.steps): a gradient or state became NaN or infinite (try a smaller step_size, grad_clip or clamp)")
            }
        }
    }
}
