/// The settings of a trainer that do not depend on its objective.
public struct TrainerSettings: Sendable {
    /// Seed of every random stream of the trainer.
    public var seed: UInt64
    /// The optimiser.
    public var optimizer: OptimizerSettings
    /// Standard deviation of Gaussian noise added to each data batch (0: none).
    public var dataNoise: Float = 0
    /// Rescale the parameter gradient to at most this Euclidean norm, if set.
    public var gradientClipNorm: Float?
    /// Decay `β` of an exponential moving average of the parameters, `w̄ ← β w̄ + (1 − β) w`
    /// after every update (IGEBM, Du & Mordatch 2019), if set.
    public var averageDecay: Float?

    /// Checked settings.
    /// - Throws: `EBMError.invalidArgument` naming the offending setting.
    public init(seed: UInt64, optimizer: OptimizerSettings, dataNoise: Float = 0, gradientClipNorm: Float? = nil,
                averageDecay: Float? = nil) throws {
        try require(dataNoise >= 0 && dataNoise.isFinite, "data_noise must be non-negative and finite, got \(dataNoise)")
        if let c = gradientClipNorm { try require(c > 0 && c.isFinite, "clip_grad_norm must be positive, got \(c)") }
        if let b = averageDecay { try require(b > 0 && b < 1, "ema_decay must be in (0, 1), got \(b)") }
        self.seed = seed
        self.optimizer = optimizer
        self.dataNoise = dataNoise
        self.gradientClipNorm = gradientClipNorm
        self.averageDecay = averageDecay
    }
}

/// Trains a trainable energy on any objective: each step validates the batch, asks the objective
/// for the loss and its gradient, clips it, updates the parameters (or rolls the update back if
/// it made one non-finite), keeps the moving average, and lets the objective keep or undo what it
/// moved. On any error nothing changes: model, optimiser, objective state and step count stay as
/// they were. Every random stream is keyed by `(seed, purpose, step count)`, so a resumed run
/// continues bit for bit as the uninterrupted one.
public final class Trainer {
    /// The model being trained (updated in place, under its write lock).
    public let model: any TrainableEnergy
    public let settings: TrainerSettings
    /// What a step minimises.
    public let objective: any TrainingObjective
    /// The optimiser of the model's parameters, and of the objective's own (no weight decay).
    public let optimizer: Optimizer, objectiveOptimizer: Optimizer
    /// The objective's own parameters (NCE's log-normaliser; usually none).
    public let objectiveParameters: FloatBuffer
    /// The moving average of the parameters (with `averageDecay`; empty otherwise), starting at
    /// the initial parameters.
    public let averagedParameters: FloatBuffer
    /// Steps taken.
    public private(set) var stepCount = 0
    /// The model's gradient, then the objective's.
    private let gradient: FloatBuffer
    /// Parameters and optimiser moments before the last update, to roll back a divergent one.
    private let backup: FloatBuffer
    /// The model's buffers at the start of the current step, restored if it fails.
    private let bufferBackup: FloatBuffer
    /// The batch with its data noise, and that noise.
    private var batch = FloatBuffer(), noise = FloatBuffer()

    public init(model: any TrainableEnergy, settings: TrainerSettings, objective: any TrainingObjective) throws {
        self.model = model
        self.settings = settings
        self.objective = objective
        let p = model.parameterCount
        optimizer = try Optimizer(settings.optimizer, count: p)
        objectiveParameters = try FloatBuffer(objective.initialParameters)
        var own = settings.optimizer
        own.weightDecay = 0
        objectiveOptimizer = try Optimizer(own, count: objectiveParameters.count)
        let averaged = try FloatBuffer(count: settings.averageDecay == nil ? 0 : p)
        if settings.averageDecay != nil {
            model.lock.read { averaged.base.update(from: model.parameters.base, count: p) }
        }
        averagedParameters = averaged
        gradient = try FloatBuffer(count: p + objectiveParameters.count)
        backup = try FloatBuffer(count: 3 * gradient.count)
        bufferBackup = try FloatBuffer(count: model.buffers.count)
    }

    /// Elements of one sample.
    public var dimension: Int { model.dimension }

    /// One training step on `rows` data rows (`rows × dim`, row-major) and, for an objective that
    /// takes them, their labels; `negativeSampler` moves the negatives elsewhere (`OutsideNegatives`).
    /// - Throws: `.invalidArgument` for a bad batch, `.diverged` for a NaN or infinity in the
    ///   samples, energies, gradient or updated parameters, `.interrupted` from `shouldStop`.
    public func step(_ data: UnsafeBufferPointer<Float>, rows: Int, labels: UnsafePointer<Int32>? = nil,
                     learningRate: Float? = nil, negativeSampler: NegativeSampler? = nil,
                     shouldStop: () -> Bool = { false }) throws -> TrainingStepStatistics {
        let d = model.dimension
        try require(rows > 0, "the batch must have at least one row")
        if let lr = learningRate { try require(lr > 0 && lr.isFinite, "the learning rate must be positive and finite, got \(lr)") }
        try require(data.count == rows * d, "the batch must have \(rows * d) values, got \(data.count)")
        try objective.check(rows: rows, labels: labels)
        try addDataNoise(data, rows: rows)
        do {
            try beginStep(shouldStop: shouldStop)
            var stats = try model.lock.read {
                try objective.lossAndGradient(
                    TrainingBatch(x: batch.base, rows: rows, labels: labels, step: stepCount, seed: settings.seed,
                                  threads: ChainParallel.defaultThreads, ownParameters: objectiveParameters.base,
                                  gradient: gradient.base, negativeSampler: negativeSampler), shouldStop: shouldStop)
            }
            stats.gradientNorm = try clipGradient()
            try applyUpdate(learningRate: learningRate ?? settings.optimizer.learningRate)
            objective.stepDidEnd(succeeded: true)
            stepCount += 1
            return stats
        } catch {
            objective.stepDidEnd(succeeded: false)
            failStep()
            throw error
        }
    }

    /// `batch ← data` plus the step's data noise (`dataNoise` × standard normals keyed by the step).
    private func addDataNoise(_ data: UnsafeBufferPointer<Float>, rows: Int) throws {
        let n = rows * model.dimension
        if batch.count != n {
            batch = try FloatBuffer(count: n)
            noise = try FloatBuffer(count: settings.dataNoise > 0 ? n : 0)
        }
        batch.base.update(from: data.baseAddress!, count: n)
        guard settings.dataNoise > 0 else { return }
        Philox4x32(seed: settings.seed, purpose: Purpose.dataNoise, index: UInt64(stepCount))
            .fillNormal(noise.base, rows: rows, dimension: model.dimension, firstRow: 0, step: 0)
        for k in 0..<n { batch.base[k] += settings.dataNoise * noise.base[k] }
    }

    /// The start of every step: the model's buffers are saved and a spectral norm's power
    /// iteration runs (`trainingStepWillBegin`, asking `shouldStop` between iterations).
    private func beginStep(shouldStop: () -> Bool) throws {
        guard model.buffers.count > 0 else { return }
        try model.lock.write {
            bufferBackup.base.update(from: model.buffers.base, count: model.buffers.count)
            try model.trainingStepWillBegin(shouldStop: shouldStop)
        }
    }

    /// A failed step: the model's buffers as they were before `beginStep`.
    private func failStep() {
        guard model.buffers.count > 0 else { return }
        model.lock.write {
            model.buffers.base.update(from: bufferBackup.base, count: model.buffers.count)
            model.parametersDidChange()
        }
    }

    /// Checks that `gradient` is finite, clips it to `gradientClipNorm` (global norm, as
    /// `torch.nn.utils.clip_grad_norm_`), and returns its norm before clipping.
    private func clipGradient() throws -> Double {
        var norm = 0.0
        for i in 0..<gradient.count { norm += Double(gradient.base[i]) * Double(gradient.base[i]) }
        norm = norm.squareRoot()
        guard norm.isFinite else {
            throw EBMError.diverged(Divergence(.training, .gradient, step: stepCount + 1,
                                               "training diverged at step \(stepCount + 1): the parameter gradient is not finite"))
        }
        if let limit = settings.gradientClipNorm, norm > Double(limit) {
            let scale = Float(Double(limit) / norm)
            for i in 0..<gradient.count { gradient.base[i] *= scale }
        }
        return norm
    }

    /// The optimiser step (the model's parameters, then the objective's), rolled back (parameters
    /// and moments) if it leaves a non-finite value; then the moving average.
    private func applyUpdate(learningRate: Float) throws {
        let p = model.parameterCount
        /// Saves `parameters` and `optimizer`'s moments at `backup + 3·offset`, then updates.
        func update(_ parameters: FloatBuffer, _ optimizer: Optimizer, offset: Int) -> Bool {
            let n = parameters.count, saved = backup.base + 3 * offset
            guard n > 0 else { return true }
            saved.update(from: parameters.base, count: n)
            (saved + n).update(from: optimizer.firstMoment.base, count: n)
            (saved + 2 * n).update(from: optimizer.secondMoment.base, count: n)
            optimizer.update(parameters.all, gradient: UnsafeBufferPointer(start: gradient.base + offset, count: n),
                             learningRate: learningRate)
            var finite = true
            for i in 0..<n { finite = finite && parameters.base[i].isFinite }
            return finite
        }
        func rollBack(_ parameters: FloatBuffer, _ optimizer: Optimizer, offset: Int) {
            let n = parameters.count, saved = backup.base + 3 * offset
            guard n > 0 else { return }
            parameters.base.update(from: saved, count: n)
            optimizer.firstMoment.base.update(from: saved + n, count: n)
            optimizer.secondMoment.base.update(from: saved + 2 * n, count: n)
            optimizer.updates -= 1
        }
        try model.lock.write {
            let modelFinite = update(model.parameters, optimizer, offset: 0)  // both run: both roll back
            let objectiveFinite = update(objectiveParameters, objectiveOptimizer, offset: p)
            defer { model.parametersDidChange() }
            if !(modelFinite && objectiveFinite) {
                rollBack(model.parameters, optimizer, offset: 0)
                rollBack(objectiveParameters, objectiveOptimizer, offset: p)
                throw EBMError.diverged(Divergence(.training, .parameters, step: stepCount + 1,
                    "training diverged at step \(stepCount + 1): the update made a parameter non-finite (lr too large?); parameters kept from before the step"))
            }
            if let beta = settings.averageDecay {
                let w = model.parameters.base, average = averagedParameters.base
                for i in 0..<p { average[i] = beta * average[i] + (1 - beta) * w[i] }
            }
        }
    }

    /// The trainer's state by name, for saving and resuming a run: `step_count`, `updates`,
    /// `first_moment`, `second_moment`, `averaged_parameters` (with `averageDecay`),
    /// `objective_state` (the objective's own parameters and their moments, if any), then the
    /// objective's (`buffer`, `permutation` of a replay buffer). The model's parameters and
    /// buffers are saved through the model.
    public var state: [StateEntry] {
        let p = model.parameterCount, k = objectiveParameters.count
        var entries: [StateEntry] = [
            .counter("step_count", get: { self.stepCount }, set: { self.stepCount = $0 }),
            .counter("updates", get: { self.optimizer.updates },
                     set: { self.optimizer.updates = $0; self.objectiveOptimizer.updates = $0 }),
            .floats("first_moment", optimizer.firstMoment, shape: [p]),
            .floats("second_moment", optimizer.secondMoment, shape: [p], nonNegative: true),
        ]
        if settings.averageDecay != nil { entries.append(.floats("averaged_parameters", averagedParameters, shape: [p])) }
        if k > 0 {
            let own = [objectiveParameters, objectiveOptimizer.firstMoment, objectiveOptimizer.secondMoment]
            entries.append(StateEntry("objective_state", .float32, shape: [3 * k], get: { raw in
                let out = raw.assumingMemoryBound(to: Float.self)
                for (j, part) in own.enumerated() { (out + j * k).update(from: part.base, count: k) }
            }, set: { raw in
                let v = UnsafeBufferPointer(start: raw.assumingMemoryBound(to: Float.self), count: 3 * k)
                try require(v.allSatisfy(\.isFinite) && v[(2 * k)...].allSatisfy { $0 >= 0 },
                            "the trainer's objective_state must be finite with non-negative second moments")
                for (j, part) in own.enumerated() { part.base.update(from: v.baseAddress! + j * k, count: k) }
            }))
        }
        return entries + objective.state
    }
}
