/// Maximum likelihood with negatives from the model (Bishop, *Deep Learning*, §14.3.2–14.3.3):
/// contrastive divergence with persistent or short-run chains moved by any kernel.
///
/// The gradient of `L = mean_data E − mean_model E + α (mean E(x⁺)² + mean E(x⁻)²)` is
/// `∇w L = E_data[∇w E] − E_model[∇w E] + …`: descending `L` ascends the likelihood, with the
/// model expectation estimated from the negatives held constant.
///
/// One pass over `[data; negatives]` (`2·rows` rows) in blocks that depend only on their number:
/// each block runs its forward pass, sets its own cotangents `∂L/∂E_i = (±1 + 2α E_i)/rows`
/// (+ for data, − for negatives) and back-propagates into its own partial gradient; the partials
/// are added in block order, so the result does not depend on the thread count.
final class MaximumLikelihood<Model: TrainableEnergy>: ContrastiveObjective {
    let model: Model
    let negatives: Negatives<Model>
    private var rows = 0, threads = 0
    private var blocks = ChainBlocks(rows: 1)
    private var workspaces: [Model.Workspace] = []
    private var partials = FloatBuffer(), energies = FloatBuffer(), cotangents = FloatBuffer()

    init(model: Model, negatives: NegativeSettings, kernel: any SamplerKernel, seed: UInt64) throws {
        self.model = model
        self.negatives = try Negatives(model: model, settings: negatives, kernel: kernel, seed: seed)
    }

    func check(rows: Int, labels: UnsafePointer<Int32>?) throws {
        try require(labels == nil, "labels are for objective 'jem' only")
        try negatives.check(rows: rows)
    }

    func lossAndGradient(_ batch: TrainingBatch, shouldStop: () -> Bool) throws -> TrainingStepStatistics {
        try negatives.run(batch, shouldStop: shouldStop)
        if batch.rows != rows || batch.threads != threads {
            rows = batch.rows
            threads = batch.threads
            blocks = ChainBlocks(rows: 2 * rows)
            let blockRows = blocks.blockRows
            workspaces = try (0..<max(1, min(threads, blocks.count))).map { _ in try model.makeWorkspace(capacity: blockRows) }
            partials = try FloatBuffer(count: blocks.count * model.parameterCount)
            energies = try FloatBuffer(count: 2 * rows)
            cotangents = try FloatBuffer(count: 2 * rows)
        }
        let e = energies.base, c = cotangents.base, joint = negatives.joint.base
        let d = model.dimension, p = model.parameterCount, rows = rows, blocks = blocks
        let workspaces = workspaces, partials = partials
        let a = 2 * negatives.settings.alpha, inv = 1 / Float(rows)
        try ChainParallel.run(blocks, threads: workspaces.count, steps: 1, poll: { _ in false }) { b, worker, _ in
            let r = blocks.range(b)
            let x = joint + r.lowerBound * d
            model.forwardForGradient(x, rows: r.count, energies: e + r.lowerBound, workspace: workspaces[worker])
            for i in r { c[i] = ((i < rows ? 1 : -1) + a * e[i]) * inv }
            model.parameterGradient(x, rows: r.count, cotangent: c + r.lowerBound,
                                    into: partials.base + b * p, workspace: workspaces[worker])
        }
        sumPartials(partials.base, count: blocks.count, size: p, into: batch.gradient)
        let stats = negatives.contrastiveStatistics(e)
        guard stats.loss.isFinite, stats.dataEnergy.isFinite, stats.modelEnergy.isFinite else {
            throw EBMError.diverged(Divergence(.training, .energy, step: batch.step + 1,
                "training diverged at step \(batch.step + 1): non-finite energy (mean E(data) = \(stats.dataEnergy), mean E(model) = \(stats.modelEnergy))"))
        }
        return stats
    }
}

/// `ml`: maximum likelihood; its record holds the negatives' settings (`NegativeSettings`).
enum MaximumLikelihoodKind: ObjectiveKind {
    static let kind = "ml"
    static let samplesNegatives = true

    static func make(_ record: inout SettingsRecord, kernel: (any SamplerKernel)?, model: any TrainableEnergy,
                     seed: UInt64) throws -> any TrainingObjective {
        let settings = try NegativeSettings(&record)
        try record.finish()
        func open<M: TrainableEnergy>(_ m: M) throws -> any TrainingObjective {
            try MaximumLikelihood(model: m, negatives: settings, kernel: kernel!, seed: seed)
        }
        return try open(model)
    }
}
