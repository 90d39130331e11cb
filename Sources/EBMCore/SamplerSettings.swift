/// A sampler chosen by name with its settings: what crosses the C ABI, what the trainer and AIS
/// hold, and what makes the kernel. A new kernel adds a `Kind` and a case in `kernel(dimension:)`.
public struct SamplerSettings: Sendable {
    /// The kernels.
    public enum Kind: String, CaseIterable, Sendable {
        case langevin, mala, hmc
    }

    public var kind: Kind
    /// Number of steps (warm-up included).
    public var steps: Int
    public var stepSize: Float
    /// Langevin's noise standard deviation (`nil`: `sqrt(2·stepSize)`), elementwise gradient bound
    /// and clamp box.
    public var noiseScale: Float?
    public var gradientClip: Float?
    public var clamp: (low: Float, high: Float)?
    /// HMC's leapfrog steps per step, diagonal inverse mass (`nil`: identity) and divergence threshold.
    public var leapfrogSteps: Int = 1
    public var inverseMass: [Float]?
    public var divergenceThreshold: Float = HMC.defaultDivergenceThreshold
    /// Warm-up adaptation (MALA and HMC), if any.
    public var adaptation: AdaptationSettings?

    public init(kind: Kind, steps: Int, stepSize: Float) {
        self.kind = kind
        self.steps = steps
        self.stepSize = stepSize
    }

    /// Langevin settings (Algorithm 14.4 and its practical options).
    public static func langevin(steps: Int, stepSize: Float, noiseScale: Float? = nil, gradientClip: Float? = nil,
                                clamp: (low: Float, high: Float)? = nil) -> SamplerSettings {
        var s = SamplerSettings(kind: .langevin, steps: steps, stepSize: stepSize)
        s.noiseScale = noiseScale
        s.gradientClip = gradientClip
        s.clamp = clamp
        return s
    }

    /// MALA settings.
    public static func mala(steps: Int, stepSize: Float) -> SamplerSettings {
        SamplerSettings(kind: .mala, steps: steps, stepSize: stepSize)
    }

    /// HMC settings.
    public static func hmc(steps: Int, stepSize: Float, leapfrogSteps: Int, inverseMass: [Float]? = nil) -> SamplerSettings {
        var s = SamplerSettings(kind: .hmc, steps: steps, stepSize: stepSize)
        s.leapfrogSteps = leapfrogSteps
        s.inverseMass = inverseMass
        return s
    }

    /// The kernel, for energies of `dimension` inputs, after checking every setting.
    /// - Throws: `EBMError.invalidArgument` naming the offending setting.
    public func kernel(dimension: Int) throws -> any SamplerKernel {
        try require(steps > 0 && steps < Int(UInt32.max), "n_steps must be in [1, 2^32 − 1), got \(steps)")
        let kernel: any SamplerKernel
        switch kind {
        case .langevin:
            kernel = try Langevin(stepSize: stepSize, noiseScale: noiseScale, gradientClip: gradientClip, clamp: clamp)
        case .mala:
            kernel = try MALA(stepSize: stepSize)
        case .hmc:
            kernel = try HMC(stepSize: stepSize, leapfrogSteps: leapfrogSteps, inverseMass: inverseMass,
                             dimension: dimension, divergenceThreshold: divergenceThreshold)
        }
        if let a = adaptation {
            try require(kernel.adaptable, "step-size adaptation needs a Metropolis kernel (mala or hmc), not \(kind.rawValue)")
            try require(a.warmupSteps < steps, "n_warmup (\(a.warmupSteps)) must be below n_steps (\(steps))")
            try require(!a.adaptMass || kind == .hmc, "mass adaptation is for hmc, not \(kind.rawValue)")
        }
        return kernel
    }

    /// The adaptation state of a run of `rows` chains, if adaptation is on.
    public func makeAdaptation(rows: Int, dimension: Int) -> ChainAdaptation? {
        guard let a = adaptation else { return nil }
        return inverseMass.withOptionalPointer { mass in
            ChainAdaptation(a, rows: rows, dimension: dimension, initialStep: stepSize, initialInverseMass: mass)
        }
    }
}

extension Optional where Wrapped == [Float] {
    /// Calls `body` with the array's storage, or `nil`.
    func withOptionalPointer<R>(_ body: (UnsafePointer<Float>?) throws -> R) rethrows -> R {
        guard let array = self else { return try body(nil) }
        return try array.withUnsafeBufferPointer { try body($0.baseAddress) }
    }
}
