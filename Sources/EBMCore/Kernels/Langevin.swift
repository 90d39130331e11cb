/// Unadjusted Langevin dynamics (ULA; Bishop, *Deep Learning*, Algorithm 14.4, with the practical
/// options of IGEBM/JEM-style samplers): per step and chain
/// `x ← clamp(x − η clip(∇x E(x)) + σ ε)`, `ε ~ N(0, I)`, with `σ = sqrt(2η)` by default.
///
/// No Metropolis test: every move is taken, so the chains sample `exp(−E)` only up to a bias that
/// vanishes with `η`, and the step size is not adapted.
public struct Langevin: SamplerKernel {
    /// Step size `η`.
    public let stepSize: Float
    /// Standard deviation of the added noise; a value below `sqrt(2η)` samples a colder distribution.
    public let noiseScale: Float
    /// Elementwise bound on the gradient (`.infinity`: none).
    public let gradientClip: Float
    /// The box the states are clamped to after each step (`±.infinity`: none).
    public let low: Float, high: Float

    public static let kind = "langevin"
    public static let noisePurpose = Purpose.langevinNoise
    public var keepsCache: Bool { false }
    public var adaptable: Bool { false }

    /// - Throws: `EBMError.invalidArgument` naming the offending setting.
    public init(stepSize: Float, noiseScale: Float? = nil, gradientClip: Float? = nil,
                clamp: (low: Float, high: Float)? = nil) throws {
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
        self.stepSize = stepSize
        self.noiseScale = sigma
        self.gradientClip = gradientClip ?? .infinity
        self.low = clamp?.low ?? -.infinity
        self.high = clamp?.high ?? .infinity
    }

    /// Settings `step_size`, `noise_scale` (`nil`: `sqrt(2η)`), `grad_clip` and `clamp` (`(low, high)`), each
    /// optional but the first.
    public init(settings r: inout SettingsRecord, dimension: Int) throws {
        let step = Float(try r.number("step_size"))
        let noise = try r.optionalNumber("noise_scale").map(Float.init)
        let clip = try r.optionalNumber("grad_clip").map(Float.init)
        let box = try r.optionalArray("clamp", count: 2).map { (low: Float($0[0]), high: Float($0[1])) }
        try self.init(stepSize: step, noiseScale: noise, gradientClip: clip, clamp: box)
    }

    public func step<E: EnergyFunction>(
        _ energy: E, _ s: ChainBlockState, _ c: StepContext, workspace ws: SamplerWorkspace<E>,
        interrupted: () -> Bool
    ) throws {
        let noise = c.noise, counter = c.counter, t = c.step, steps = c.steps
        let n = s.rows, d = s.dimension
        let eps = ws.noise.base
        if noiseScale > 0 {
            noise.fillNormal(eps, rows: n, dimension: d, firstRow: UInt64(s.firstChain), step: counter)
        } else {
            eps.update(repeating: 0, count: n * d)
        }
        let finite = Langevin.update(s.x, gradient: s.gradient, noise: eps, count: n * d, stepSize: stepSize,
                                     noiseScale: noiseScale, clip: gradientClip, low: low, high: high)
        if !finite {
            throw EBMError.diverged(Divergence(site, .samples, step: t + 1,
                "Langevin sampling diverged at step \(t + 1) of \(steps): a gradient or state became NaN or infinite (try a smaller step_size, grad_clip or clamp)"))
        }
        ws.outcome.update(repeating: StepOutcome.accepted.rawValue, count: n)
        ws.logAcceptance.update(repeating: 0, count: n)
    }
}
