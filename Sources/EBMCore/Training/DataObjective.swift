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

/// The step of a `DataObjective`: the batch in blocks over the threads, each block's gradient
/// and sums into its own slot, added in block order.
final class DataObjectiveStep<Model: TrainableEnergy, Objective: DataObjective>: TrainingObjective {
    let model: Model
    let objective: Objective
    private var rows = 0, threads = 0
    private var blocks = ChainBlocks(rows: 1)
    private var workspaces: [Model.Workspace] = []
    private var scratch: [FloatBuffer] = []
    private var partials = FloatBuffer()
    /// Per block: the sums of the loss, of the energies and of the other energies.
    private var blockSums: [Double] = []

    init(model: Model, objective: Objective) {
        self.model = model
        self.objective = objective
    }

    var initialParameters: [Float] { objective.initialParameters }

    func lossAndGradient(_ batch: TrainingBatch, shouldStop: () -> Bool) throws -> TrainingStepStatistics {
        let size = model.parameterCount + objective.initialParameters.count
        if batch.rows != rows || batch.threads != threads {
            rows = batch.rows
            threads = batch.threads
            blocks = ChainBlocks(rows: rows)
            let blockRows = blocks.blockRows, workers = max(1, min(threads, blocks.count))
            workspaces = try (0..<workers).map { _ in try model.makeWorkspace(capacity: objective.workspaceRows(rows: blockRows)) }
            scratch = try (0..<workers).map { _ in
                try FloatBuffer(count: objective.scratchCount(rows: blockRows, dimension: model.dimension,
                                                          parameters: model.parameterCount))
            }
            partials = try FloatBuffer(count: blocks.count * size)
            blockSums = [Double](repeating: 0, count: 3 * blocks.count)
        }
        let d = model.dimension, scale = 1 / Float(rows)
        let blocks = blocks, workspaces = workspaces, scratch = scratch
        let partials = partials, x = batch.x
        try blockSums.withUnsafeMutableBufferPointer { sums in
            try ChainParallel.run(blocks, threads: workspaces.count, steps: 1, poll: { _ in false }) { b, worker, _ in
                let r = blocks.range(b)
                let s = objective.block(
                    model, x: x + r.lowerBound * d, rows: r.count, firstRow: r.lowerBound, step: batch.step,
                    seed: batch.seed, scale: scale, own: batch.ownParameters, grad: partials.base + b * size,
                    scratch: scratch[worker].base, workspace: workspaces[worker])
                sums[3 * b] = s.loss
                sums[3 * b + 1] = s.energy
                sums[3 * b + 2] = s.otherEnergy
            }
        }
        var loss = 0.0, energy = 0.0, other = 0.0
        for b in 0..<blocks.count {
            loss += blockSums[3 * b]
            energy += blockSums[3 * b + 1]
            other += blockSums[3 * b + 2]
        }
        sumPartials(partials.base, count: blocks.count, size: size, into: batch.gradient)
        let stats = TrainingStepStatistics(loss: loss / Double(rows), dataEnergy: energy / Double(rows),
                                           modelEnergy: other / Double(rows))
        guard stats.loss.isFinite, stats.dataEnergy.isFinite else {
            throw EBMError.diverged(Divergence(.training, .energy, step: batch.step + 1,
                "training diverged at step \(batch.step + 1): non-finite loss or energy (loss = \(stats.loss), mean E(data) = \(stats.dataEnergy))"))
        }
        return stats
    }
}

extension DataObjective {
    /// The objective's step on `model` (the existential opened once).
    func step(on model: any TrainableEnergy) -> any TrainingObjective {
        func open<M: TrainableEnergy>(_ m: M) -> any TrainingObjective { DataObjectiveStep(model: m, objective: self) }
        return open(model)
    }
}
