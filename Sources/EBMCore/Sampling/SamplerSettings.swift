/// A sampling run's kernel and schedule: what the sampling calls, the trainer's negatives and AIS's
/// transitions hold. The kernel is any registered `SamplerKernel`, already checked.
public struct SamplerSettings: @unchecked Sendable {  // kernels are immutable once made
    /// The kernel.
    public let kernel: any SamplerKernel
    /// Number of steps (warm-up included).
    public let steps: Int
    /// Warm-up adaptation of a Metropolis kernel, if any.
    public let adaptation: AdaptationSettings?

    /// Checked settings.
    /// - Throws: `EBMError.invalidArgument` for a step count outside `[1, 2³² − 1)`, or adaptation
    ///   that the kernel cannot take.
    public init(kernel: any SamplerKernel, steps: Int, adaptation: AdaptationSettings? = nil) throws {
        try require(steps > 0 && steps < Int(UInt32.max), "n_steps must be in [1, 2^32 − 1), got \(steps)")
        let kind = type(of: kernel).kind
        if let a = adaptation {
            try require(kernel.adaptable, "step-size adaptation needs a Metropolis kernel, not \(kind)")
            try require(a.warmupSteps < steps, "n_warmup (\(a.warmupSteps)) must be below n_steps (\(steps))")
            try require(!a.adaptMass || type(of: kernel).adaptsMass, "mass adaptation is for kernels with momenta, not \(kind)")
        }
        self.kernel = kernel
        self.steps = steps
        self.adaptation = adaptation
    }

    /// The settings of a sampler record (any registered kernel), `steps` steps and an optional
    /// adaptation record (`n_warmup`, `target_accept`, `adapt_mass`).
    public init(sampler: SettingsRecord, steps: Int, adaptation: SettingsRecord?, dimension: Int) throws {
        let warmup = try adaptation.map { a in
            try SettingsRecord.read(a) {
                try AdaptationSettings(warmupSteps: try $0.integer("n_warmup"), targetAcceptance: try $0.number("target_accept"),
                                       adaptMass: try $0.flag("adapt_mass"))
            }
        }
        try self.init(kernel: try KernelRegistry.kernel(sampler, dimension: dimension), steps: steps, adaptation: warmup)
    }

    /// The kernel's name.
    public var kind: String { type(of: kernel).kind }

    /// The adaptation state of a run of `rows` chains, if adaptation is on.
    public func makeAdaptation(rows: Int, dimension: Int) throws -> ChainAdaptation? {
        guard let a = adaptation else { return nil }
        return try ChainAdaptation(a, rows: rows, dimension: dimension, initialStep: kernel.stepSize,
                               initialInverseMass: kernel.inverseMass.map { UnsafePointer($0.base) })
    }
}
