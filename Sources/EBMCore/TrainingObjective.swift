/// What a training step minimises.
///
/// Maximum likelihood needs samples of the model (the negatives the trainer's sampler moves); the
/// other objectives need the data batch only, and each is one `DataObjective` in its own file.
public enum TrainingObjective: Sendable, Equatable {
    /// Contrastive divergence with persistent or short-run chains (`Trainer`'s default).
    case maximumLikelihood
    /// A joint energy model (Grathwohl et al. 2020): maximum likelihood of `p(x)` for a classifier
    /// energy `E(x) = −logsumexp f(x)`, plus `weight` × the cross-entropy of `p(y|x)` on labelled
    /// data (`Trainer.step`'s labels). With `classConditional`, each data row's negative comes from
    /// its class's partition of the buffer and moves on `E(x, y) = −f(x)[y]` (JEM's
    /// class-conditional buffer); otherwise on `E(x)`.
    case jointEnergy(crossEntropyWeight: Float, classConditional: Bool)
    /// Denoising score matching (`DenoisingScoreMatching.swift`).
    case denoisingScoreMatching(sigmas: [Float])
    /// Sliced score matching (`SlicedScoreMatching.swift`).
    case slicedScoreMatching(projections: Int, gaussian: Bool)
    /// Noise-contrastive estimation against `N(mean, covariance)` with `ratio` noise samples per
    /// data row (`NoiseContrastiveEstimation.swift`).
    case noiseContrastive(mean: [Double], covariance: [Double], ratio: Int)

    /// The objective's computation, or `nil` for maximum likelihood.
    func dataObjective() throws -> (any DataObjective)? {
        switch self {
        case .maximumLikelihood, .jointEnergy:
            return nil
        case .denoisingScoreMatching(let sigmas):
            return try DenoisingScoreMatching(sigmas: sigmas)
        case .slicedScoreMatching(let projections, let gaussian):
            return try SlicedScoreMatching(projections: projections, gaussian: gaussian)
        case .noiseContrastive(let mean, let covariance, let ratio):
            return try NoiseContrastiveEstimation(mean: mean, covariance: covariance, ratio: ratio)
        }
    }
}

/// An objective computed from the data batch alone: `L = (1/N) Σ_i ℓ(x_i)` over the `N` rows of a
/// batch. The trainer splits the rows into blocks that depend only on `N` (`ChainBlocks`), runs
/// `block` on each (spread over the threads, each with its own workspace and scratch), and adds
/// the blocks' gradients and sums in block order, so the step does not depend on the thread count.
/// Random draws are keyed by `(seed, purpose, step)` and the row's index in the batch.
///
/// An objective may have parameters of its own (NCE's log-normaliser): the trainer keeps them
/// after the model's in its gradient, updates them with a second optimiser of the same rule, and
/// saves them with its state.
protocol DataObjective {
    /// Parameters of the objective itself, and their initial values.
    var initialParameters: [Float] { get }
    /// Rows of the model workspace a block of `rows` data rows needs.
    func workspaceRows(rows: Int) -> Int
    /// Floats of scratch a block of `rows` data rows of `dimension` values (and a model of
    /// `parameters` parameters) needs.
    func scratchCount(rows: Int, dimension: Int, parameters: Int) -> Int
    /// For the block of data rows `x` (`rows × dim`; row `i` is row `firstRow + i` of the batch)
    /// at training step `step` (0-based), with the objective's own parameters `own`: writes
    /// `grad ← ∇ Σ_i scale · ℓ(x_i)` (overwriting; the model's parameters, then the objective's)
    /// and returns `Σ_i ℓ(x_i)`, `Σ_i E` of the points the objective evaluates the energy at, and
    /// `Σ E` of its other points (NCE's noise samples), or NaN.
    func block<Model: TrainableEnergy>(
        _ model: Model, x: UnsafePointer<Float>, rows: Int, firstRow: Int, step: Int, seed: UInt64, scale: Float,
        own: UnsafePointer<Float>, grad: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
        workspace: Model.Workspace
    ) -> ObjectiveSums
}

extension DataObjective {
    var initialParameters: [Float] { [] }
}

/// What an objective's block returns: its sums over the block's rows.
struct ObjectiveSums {
    var loss: Double
    var energy: Double
    var otherEnergy: Double = .nan
}
