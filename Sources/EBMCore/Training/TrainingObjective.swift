/// What one training step measured.
public struct TrainingStepStatistics: Sendable, Equatable {
    /// The objective's value (for maximum likelihood
    /// `mean E(data) − mean E(model) + α (mean E(data)² + mean E(model)²)`).
    public var loss: Double
    /// `mean E(data)` (for denoising score matching, of the perturbed data).
    public var dataEnergy: Double
    /// `mean E(model samples)` (NCE: of its noise samples); NaN for objectives without such points.
    public var modelEnergy: Double
    /// `‖∇w loss‖₂` (set by the trainer).
    public var gradientNorm: Double = 0
}

/// The batch of one training step, as the trainer hands it to its objective.
public struct TrainingBatch {
    /// The data rows (`rows × dim`), the step's data noise already added.
    public let x: UnsafePointer<Float>
    public let rows: Int
    /// The rows' class labels (objectives that take labels), checked by `TrainingObjective.check`.
    public let labels: UnsafePointer<Int32>?
    /// The step's index (0-based): every random stream of a step is keyed by `(seed, purpose, step)`.
    public let step: Int
    public let seed: UInt64
    /// Threads to spread the step over (the result does not depend on it).
    public let threads: Int
    /// The current values of the objective's own parameters (`initialParameters`; NCE's `c`).
    public let ownParameters: UnsafePointer<Float>
    /// Where the gradient goes: the model's parameters, then the objective's own (overwritten).
    public let gradient: UnsafeMutablePointer<Float>
    /// Moves the step's negatives instead of the objective (`OutsideNegatives.swift`), if set.
    public var negativeSampler: NegativeSampler? = nil
}

/// What a training step minimises: maximum likelihood with negatives from any kernel, JEM, DSM,
/// SSM, NCE — each one file conforming to this protocol, made from its record by an
/// `ObjectiveKind` listed in `ObjectiveRegistry`.
///
/// The trainer calls `check` before the step, `lossAndGradient` with the model's read lock held,
/// then (after the optimiser update, or any error) `stepDidEnd`. An objective owns its scratch
/// memory and its state (a replay buffer), and names what of it a saved run must keep (`state`).
public protocol TrainingObjective: AnyObject {
    /// Initial values of parameters of the objective's own (NCE's log-normaliser), which the trainer
    /// keeps after the model's in the gradient and updates with the same rule; empty for most.
    var initialParameters: [Float] { get }
    /// Checks a batch of `rows` rows (and its labels) before anything changes.
    func check(rows: Int, labels: UnsafePointer<Int32>?) throws
    /// Fills `batch.gradient` with `∇ L` and returns the step's statistics (gradient norm aside).
    /// - Throws: `.diverged` for a non-finite loss or energy, `.interrupted` from `shouldStop`.
    func lossAndGradient(_ batch: TrainingBatch, shouldStop: () -> Bool) throws -> TrainingStepStatistics
    /// The end of a step: `succeeded` (keep what it moved, e.g. write the negatives back) or not
    /// (undo it: the objective's state is as before the step).
    func stepDidEnd(succeeded: Bool)
    /// The objective's state that a saved run keeps, by name.
    var state: [StateEntry] { get }
}

extension TrainingObjective {
    public var initialParameters: [Float] { [] }
    public var state: [StateEntry] { [] }
    public func stepDidEnd(succeeded: Bool) {}

    /// The default check: an objective that takes no labels refuses them.
    public func check(rows: Int, labels: UnsafePointer<Int32>?) throws {
        try require(labels == nil, "labels are for objective 'jem' only")
    }
}

/// Makes an objective from its record: `kind` is the record's kind, and `make` reads the fields
/// (strictly: it calls `finish()` before allocating anything).
public protocol ObjectiveKind {
    static var kind: String { get }
    /// Whether the objective samples negatives (and so takes a sampler record).
    static var samplesNegatives: Bool { get }
    static func make(_ record: inout SettingsRecord, kernel: (any SamplerKernel)?, model: any TrainableEnergy,
                     seed: UInt64) throws -> any TrainingObjective
}

/// `gradient ← Σ_b partial_b` over `count` partial gradients of `size` values each, in block
/// order (so the sum does not depend on which thread computed which block).
func sumPartials(_ partials: UnsafePointer<Float>, count: Int, size: Int, into gradient: UnsafeMutablePointer<Float>) {
    gradient.update(from: partials, count: size)
    for b in 1..<max(1, count) {
        let partial = partials + b * size
        for i in 0..<size { gradient[i] += partial[i] }
    }
}
