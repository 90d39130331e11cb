#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Warm-up adaptation of a Metropolis kernel: the step size by dual averaging towards a target
/// acceptance probability, and optionally HMC's diagonal inverse mass from the warm-up variance.
public struct AdaptationSettings: Sendable, Equatable {
    /// Steps of warm-up (the first ones of the run); everything is frozen after them.
    public var warmupSteps: Int
    /// The acceptance probability dual averaging aims at.
    public var targetAcceptance: Double
    /// Also estimate the diagonal inverse mass (HMC).
    public var adaptMass: Bool

    /// - Throws: `EBMError.invalidArgument` naming the offending setting.
    public init(warmupSteps: Int, targetAcceptance: Double, adaptMass: Bool = false) throws {
        try require(warmupSteps > 0, "n_warmup must be positive, got \(warmupSteps)")
        try require(targetAcceptance > 0 && targetAcceptance < 1,
                    "target_accept must be in (0, 1), got \(targetAcceptance)")
        self.warmupSteps = warmupSteps
        self.targetAcceptance = targetAcceptance
        self.adaptMass = adaptMass
    }

    /// The last steps of warm-up, a refinement of the step size (`StepSizeRefinement`): a fifth of
    /// a warm-up of at least 50 steps.
    public var refinementSteps: Int { warmupSteps >= 50 ? warmupSteps / 5 : 0 }

    /// The steps of dual averaging (and of mass adaptation): warm-up before the refinement.
    public var dualAveragingSteps: Int { warmupSteps - refinementSteps }

    /// The mass matrix's estimation windows within the dual-averaging steps, Stan's schedule: a first buffer of 75 steps tunes the
    /// step size alone (the chains leave their starting points), then windows of 25, 50, 100, …
    /// steps each accumulate every coordinate's variance, which becomes the inverse mass at the
    /// window's end (step-size adaptation then restarts; the last window stretches to the end of
    /// this phase), and a final buffer of 50 steps tunes the step size to the last mass. A warm-up
    /// shorter than 150 steps keeps Stan's proportions, 15 % / 75 % / 10 %, with one window.
    /// Doubling windows matter: each mass makes the chains explore faster, so the next, longer
    /// window sees more of the target.
    public var massWindows: [Range<Int>] {
        let steps = dualAveragingSteps
        var first = 75, last = 50, base = 25
        if steps < first + last + base {
            first = steps * 15 / 100
            last = steps / 10
            base = steps - first - last
        }
        let end = steps - last
        guard base > 0, end > first else { return [] }
        var windows: [Range<Int>] = [], start = first, size = base
        while start < end {
            // A window whose successor would not fit stretches to the end of the phase.
            let stop = start + size + 2 * size > end ? end : start + size
            windows.append(start..<stop)
            start = stop
            size *= 2
        }
        return windows
    }
}

/// The adaptation state of one run, per chain: each chain adapts on its own statistics, so a
/// chain's numbers depend only on the seed and its index — never on the thread count, on how the
/// chains are split into blocks, or on which other chains run alongside it.
public final class ChainAdaptation {
    public let settings: AdaptationSettings
    public let rows: Int, dimension: Int
    /// Each chain's current step size (frozen at the averaged value after warm-up).
    public let stepSizes: FloatBuffer
    /// Each chain's diagonal inverse mass (`rows × dimension`), when the mass is adapted.
    public let inverseMass: FloatBuffer?
    private let averaging: UnsafeMutablePointer<DualAveraging>
    private let refinement: UnsafeMutablePointer<StepSizeRefinement>
    private let mean: UnsafeMutablePointer<Double>?, squares: UnsafeMutablePointer<Double>?
    private let windows: [Range<Int>]

    /// Every chain starts at `initialStep`, and from `initialInverseMass` (`dimension` values, or the
    /// identity) when the mass is adapted.
    public init(_ settings: AdaptationSettings, rows: Int, dimension: Int, initialStep: Float,
                initialInverseMass: UnsafePointer<Float>?) throws {
        self.settings = settings
        self.rows = rows
        self.dimension = dimension
        windows = settings.adaptMass ? settings.massWindows : []
        stepSizes = try FloatBuffer(count: rows)
        stepSizes.base.update(repeating: initialStep, count: rows)
        averaging = try allocateChecked(DualAveraging.self, count: rows, for: "step-size adaptation of every chain")
        averaging.initialize(repeating: DualAveraging(initialStep: Double(initialStep), target: settings.targetAcceptance),
                             count: rows)
        refinement = try allocateChecked(StepSizeRefinement.self, count: rows, for: "step-size adaptation of every chain")
        refinement.initialize(repeating: StepSizeRefinement(initialStep: Double(initialStep), target: settings.targetAcceptance,
                                                            length: settings.refinementSteps), count: rows)
        if settings.adaptMass {
            let m = try FloatBuffer(count: rows * dimension)
            for i in 0..<rows {
                for j in 0..<dimension { m.base[i * dimension + j] = initialInverseMass?[j] ?? 1 }
            }
            inverseMass = m
            mean = try allocateChecked(Double.self, count: rows * dimension, for: "mass adaptation (chains × dimension)")
            squares = try allocateChecked(Double.self, count: rows * dimension, for: "mass adaptation (chains × dimension)")
        } else {
            inverseMass = nil
            mean = nil
            squares = nil
        }
    }

    deinit {
        averaging.deinitialize(count: rows)
        averaging.deallocate()
        refinement.deinitialize(count: rows)
        refinement.deallocate()
        mean?.deallocate()
        squares?.deallocate()
    }

    /// The per-chain settings of the chains `first ..< first + count`.
    public func tuning(first: Int) -> BlockTuning {
        BlockTuning(stepSizes: UnsafePointer(stepSizes.base + first),
                    inverseMass: inverseMass.map { UnsafePointer($0.base + first * dimension) })
    }

    /// After step `t` (0-based) of the chains `first ..< first + count`: the logs of their
    /// acceptance probabilities and their new positions. Returns the first of these chains whose
    /// tuned step size or inverse mass is not a finite positive float (chains that ran off to
    /// infinity on an improper target), or `nil`.
    public func update(first: Int, count: Int, step t: Int, logAcceptance: UnsafePointer<Double>,
                       positions x: UnsafePointer<Float>) -> Int? {
        let warmup = settings.warmupSteps
        guard t < warmup else { return nil }
        adapt(first: first, count: count, step: t, logAcceptance: logAcceptance, positions: x)
        let d = dimension
        for r in first..<(first + count) {
            let h = stepSizes.base[r]
            if !(h.isFinite && h > 0) { return r }
            if let mass = inverseMass {
                for j in 0..<d where !(mass.base[r * d + j].isFinite && mass.base[r * d + j] > 0) { return r }
            }
        }
        return nil
    }

    private func adapt(first: Int, count: Int, step t: Int, logAcceptance: UnsafePointer<Double>,
                       positions x: UnsafePointer<Float>) {
        let warmup = settings.warmupSteps, dualSteps = settings.dualAveragingSteps
        let d = dimension
        let window = windows.first { $0.contains(t) }
        for i in 0..<count {
            let r = first + i
            if t >= dualSteps {
                refinement[r].update(acceptance: exp(logAcceptance[i]))
                stepSizes.base[r] = Float(t == warmup - 1 ? refinement[r].finalStep : refinement[r].step)
                continue
            }
            averaging[r].update(acceptance: exp(logAcceptance[i]))
            stepSizes.base[r] = Float(averaging[r].step)
            if let mean, let squares, let mass = inverseMass, let window {
                // Welford's running mean and sum of squared deviations over the window.
                let n = Double(t - window.lowerBound + 1)
                for j in 0..<d {
                    let k = r * d + j, v = Double(x[i * d + j])
                    if n == 1 {
                        mean[k] = v
                        squares[k] = 0
                    } else {
                        let delta = v - mean[k]
                        mean[k] += delta / n
                        squares[k] += delta * (v - mean[k])
                    }
                }
                if t == window.upperBound - 1 {
                    // Stan's regularised variance: shrunk towards 10⁻³ with weight 5 / (n + 5).
                    for j in 0..<d {
                        let k = r * d + j
                        let variance = n > 1 ? squares[k] / (n - 1) : 1
                        mass.base[k] = Float((n / (n + 5)) * variance + 1e-3 * (5 / (n + 5)))
                    }
                    averaging[r].restart(at: averaging[r].step)
                }
            }
            if t == dualSteps - 1 {
                let averaged = averaging[r].averagedStep
                stepSizes.base[r] = Float(averaged)
                refinement[r] = StepSizeRefinement(initialStep: averaged, target: settings.targetAcceptance,
                                                   length: settings.refinementSteps)
            }
        }
    }
}
