#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The settings of a persistent-chain maximum-likelihood trainer.
public struct TrainerSettings: Sendable {
    /// The sampler that moves the negatives (any kernel; not adapted).
    public var sampler: SamplerSettings
    /// The optimiser.
    public var optimizer: OptimizerSettings
    /// Number of persistent chains.
    public var bufferSize: Int
    /// Probability that a drawn chain restarts from uniform noise.
    public var reinitProbability: Float
    /// The box `[low, high]^dim` of that noise (and of the initial buffer).
    public var initLow: Float, initHigh: Float
    /// Weight `α` of the energy regulariser `α (mean E(data)² + mean E(model)²)`.
    public var alpha: Float
    /// Seed of every random stream of the trainer.
    public var seed: UInt64
    /// Persistent chains (a replay buffer) or short-run chains started from uniform noise on the
    /// init box at every step.
    public var persistent: Bool = true
    /// Standard deviation of Gaussian noise added to each data batch (0: none).
    public var dataNoise: Float = 0
    /// Rescale the parameter gradient to at most this Euclidean norm, if set.
    public var gradientClipNorm: Float?
    /// What a step minimises; with an objective other than maximum likelihood no negatives are
    /// sampled (the sampler and buffer settings go unused).
    public var objective: TrainingObjective = .maximumLikelihood
    /// Decay `β` of an exponential moving average of the parameters, `w̄ ← β w̄ + (1 − β) w`
    /// after every update (IGEBM, Du & Mordatch 2019), if set.
    public var averageDecay: Float?

    /// Validated settings.
    /// - Throws: `EBMError.invalidArgument` naming the offending setting.
    public init(sampler: SamplerSettings, optimizer: OptimizerSettings, bufferSize: Int,
                reinitProbability: Float, initLow: Float, initHigh: Float, alpha: Float,
                seed: UInt64) throws {
        try require(bufferSize > 0 && bufferSize < Int(UInt32.max), "buffer_size must be positive, got \(bufferSize)")
        try require(reinitProbability >= 0 && reinitProbability <= 1,
                    "reinit_prob must be in [0, 1], got \(reinitProbability)")
        try require(initLow.isFinite && initHigh.isFinite && initLow < initHigh,
                    "init_range must be finite (low, high) with low < high, got (\(initLow), \(initHigh))")
        try require(alpha >= 0 && alpha.isFinite, "alpha must be non-negative and finite, got \(alpha)")
        try require(sampler.adaptation == nil, "the trainer's sampler is not adapted (the energy changes at every step)")
        self.sampler = sampler
        self.optimizer = optimizer
        self.bufferSize = bufferSize
        self.reinitProbability = reinitProbability
        self.initLow = initLow
        self.initHigh = initHigh
        self.alpha = alpha
        self.seed = seed
    }

    /// Checks the options set after `init`.
    public func validated() throws -> TrainerSettings {
        try require(dataNoise >= 0 && dataNoise.isFinite, "data_noise must be non-negative and finite, got \(dataNoise)")
        if let c = gradientClipNorm {
            try require(c > 0 && c.isFinite, "clip_grad_norm must be positive, got \(c)")
        }
        if let b = averageDecay {
            try require(b > 0 && b < 1, "ema_decay must be in (0, 1), got \(b)")
        }
        return self
    }
}

/// What one training step measured.
public struct TrainingStepStatistics: Sendable, Equatable {
    /// The objective: for maximum likelihood
    /// `mean E(data) − mean E(model) + α (mean E(data)² + mean E(model)²)`.
    public var loss: Double
    /// `mean E(data)` (for denoising score matching, of the perturbed data).
    public var dataEnergy: Double
    /// `mean E(model samples)`; NaN for objectives without model samples.
    public var modelEnergy: Double
    /// `‖∇w loss‖₂`.
    public var gradientNorm: Double
}

/// Maximum-likelihood training of a trainable energy (an `MLPEnergy`, a `NetworkEnergy`) with
/// persistent chains moved by any sampler kernel (ULA by default)
/// (Bishop, *Deep Learning*, §14.3.2–14.3.3).
///
/// The gradient of `L = mean_data E − mean_model E` is
/// `∇w L = E_data[∇w E] − E_model[∇w E] = −∇w E_data[ln p(x|w)]`: descending `L` ascends the
/// likelihood, with the model expectation estimated from Langevin samples held constant.
public final class Trainer<Model: TrainableEnergy> {
    /// The model being trained (updated in place, under its write lock).
    public let model: Model
    /// The settings.
    public let settings: TrainerSettings
    /// The optimiser state.
    public let optimizer: Optimizer
    /// The persistent chains.
    public let buffer: ReplayBuffer
    /// Steps taken.
    public private(set) var stepCount = 0

    /// The kernel that moves the negatives.
    private let kernel: any SamplerKernel
    /// The objective's computation when it needs the data only (`nil`: maximum likelihood).
    private let dataObjective: (any DataObjective)?
    /// A joint energy model's class energies `E(x, y)`, when its negatives are class-conditional
    /// (empty otherwise).
    private let classEnergies: [ClassEnergy]
    /// The objective's own parameters (NCE's log-normaliser; none for the others) and their optimiser.
    public let objectiveParameters: FloatBuffer
    public let objectiveOptimizer: Optimizer
    /// The moving average of the parameters (with `averageDecay`; empty otherwise). It starts at
    /// the initial parameters and follows every update.
    public let averagedParameters: FloatBuffer
    private var workspace: StepWorkspace<Model>
    /// The model's gradient, then the objective's.
    private let gradient: FloatBuffer
    /// Parameters and optimiser state before the last update, to roll back a divergent one.
    private let backup: FloatBuffer
    /// The model's buffers at the start of the current step, restored if it fails.
    private let bufferBackup: FloatBuffer

    /// A trainer for `model`; the buffer starts uniform on the init box.
    public init(model: Model, settings: TrainerSettings) throws {
        self.model = model
        self.settings = try settings.validated()
        kernel = settings.sampler.kernel
        dataObjective = try settings.objective.dataObjective()
        if case .jointEnergy(_, true) = settings.objective {
            guard let network = model as? NetworkEnergy, let k = network.classes else {
                throw EBMError.invalidArgument("a joint energy model needs a classifier energy (n_classes)")
            }
            try require(settings.bufferSize >= k, "a class-conditional buffer needs buffer_size >= n_classes (\(k)), got \(settings.bufferSize)")
            classEnergies = try (0..<k).map { try ClassEnergy(network, label: $0) }
        } else {
            classEnergies = []
        }
        optimizer = Optimizer(settings.optimizer, count: model.parameterCount)
        var stream = UniformStream(Philox4x32(seed: settings.seed, purpose: Purpose.bufferInit))
        buffer = ReplayBuffer(capacity: settings.bufferSize, dimension: model.dimension,
                              low: settings.initLow, high: settings.initHigh, stream: &stream)
        objectiveParameters = FloatBuffer(dataObjective?.initialParameters ?? [])
        var objectiveSettings = settings.optimizer
        objectiveSettings.weightDecay = 0
        objectiveOptimizer = Optimizer(objectiveSettings, count: objectiveParameters.count)
        let averaged = FloatBuffer(count: settings.averageDecay == nil ? 0 : model.parameterCount)
        if settings.averageDecay != nil {
            model.lock.read { averaged.base.update(from: model.parameters.base, count: model.parameterCount) }
        }
        averagedParameters = averaged
        workspace = StepWorkspace(model: model, capacity: 1, rows: 1, threads: 1, classEnergies: classEnergies)
        gradient = FloatBuffer(count: model.parameterCount + objectiveParameters.count)
        backup = FloatBuffer(count: 3 * (model.parameterCount + objectiveParameters.count))
        bufferBackup = FloatBuffer(count: model.buffers.count)
    }

    /// One training step on `rows` data rows (`rows × dim`, row-major):
    ///
    /// 1. draw `rows` negatives from the buffer without replacement (each restarted from the
    ///    uniform init box with probability `reinitProbability`);
    /// 2. move them by `sampler.steps` steps of the sampler kernel, with noise keyed by `(seed, step count)`;
    /// 3. one optimiser step on `L = mean E(x⁺) − mean E(x⁻) + α (mean E(x⁺)² + mean E(x⁻)²)`,
    ///    negatives held constant; per-row cotangents `(±1 + 2α E_i) / rows`;
    /// 4. write the negatives back.
    ///
    /// On any error nothing changes: model, optimiser, buffer and step count stay as they were.
    /// - Throws: `.invalidArgument` for a bad batch size, `.diverged` for a NaN or infinity in
    ///   the samples, energies, gradient or updated parameters, `.interrupted` from `shouldStop`.
    public func step(_ data: UnsafeBufferPointer<Float>, rows: Int, labels: UnsafePointer<Int32>? = nil,
                     learningRate: Float? = nil, shouldStop: () -> Bool = { false }) throws -> TrainingStepStatistics {
        let d = model.dimension
        try require(rows > 0, "the batch must have at least one row")
        try require(!settings.persistent || dataObjective != nil || rows <= settings.bufferSize,
                    "the batch has \(rows) rows but buffer_size is \(settings.bufferSize); a step draws one chain per data row")
        if let lr = learningRate {
            try require(lr > 0 && lr.isFinite, "the learning rate must be positive and finite, got \(lr)")
        }
        try require(data.count == rows * d, "the batch must have \(rows * d) values, got \(data.count)")
        if case .jointEnergy = settings.objective {
            let k = try requireValue(model.classes, "a joint energy model needs a classifier energy (n_classes)")
            let y = try requireValue(labels, "a joint energy model trains on labelled data: the labels are missing")
            for i in 0..<rows { try require(y[i] >= 0 && Int(y[i]) < k, "label \(y[i]) of row \(i) is not in [0, \(k))") }
        } else {
            try require(labels == nil, "labels are for objective 'jem' only")
        }
        let threads = ChainParallel.defaultThreads
        if workspace.capacity < rows || workspace.blocks.rows != rows || workspace.threads != threads {
            workspace = StepWorkspace(model: model, capacity: max(rows, workspace.capacity), rows: rows, threads: threads,
                                      objective: dataObjective, classEnergies: classEnergies)
        }
        let ws = workspace
        if let objective = dataObjective {
            return try dataObjectiveStep(objective, data, rows: rows, learningRate: learningRate, ws)
        }
        let negatives = ws.joint.slice(rows * d, rows * d)

        var draws = UniformStream(Philox4x32(seed: settings.seed, purpose: Purpose.bufferDraws,
                                             index: UInt64(stepCount)))
        if let labels, !classEnergies.isEmpty { ws.sortLabels(labels, rows: rows, classes: classEnergies.count) }
        if settings.persistent && !classEnergies.isEmpty {
            buffer.draw(labels: ws.sortedLabels, partitions: classEnergies.count, count: rows, into: negatives,
                        reinitProbability: settings.reinitProbability, low: settings.initLow, high: settings.initHigh,
                        stream: &draws)
        } else if settings.persistent {
            buffer.draw(count: rows, into: negatives, reinitProbability: settings.reinitProbability,
                        low: settings.initLow, high: settings.initHigh, stream: &draws)
        } else {
            for i in 0..<(rows * d) { negatives[i] = draws.nextUniform(settings.initLow, settings.initHigh) }
        }
        beginStep()
        do {
            let stats = try model.lock.read { () throws -> TrainingStepStatistics in
                try sampleNegatives(negatives, ws, shouldStop: shouldStop)
                ws.joint.base.update(from: data.baseAddress!, count: rows * d)
                addDataNoise(rows: rows, ws)
                return try lossAndGradient(rows: rows, labels: labels, ws)
            }
            try applyUpdate(learningRate: learningRate ?? settings.optimizer.learningRate)
            if settings.persistent { buffer.writeBack(UnsafeBufferPointer(negatives)) }
            stepCount += 1
            return stats
        } catch {
            if settings.persistent { buffer.undoDraw() }
            failStep()
            throw error
        }
    }

    /// The start of every step: the model's buffers are saved and a spectral norm's power
    /// iteration runs (`trainingStepWillBegin`).
    private func beginStep() {
        guard model.buffers.count > 0 else { return }
        model.lock.write {
            bufferBackup.base.update(from: model.buffers.base, count: model.buffers.count)
            model.trainingStepWillBegin()
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

    /// A step of an objective that needs the data only: the batch (with data noise, if set) in
    /// blocks over the threads, then the update. On any error nothing changes.
    private func dataObjectiveStep(_ objective: any DataObjective, _ data: UnsafeBufferPointer<Float>, rows: Int,
                                   learningRate: Float?, _ ws: StepWorkspace<Model>) throws -> TrainingStepStatistics {
        let d = model.dimension
        let x = ws.joint.base
        x.update(from: data.baseAddress!, count: rows * d)
        addDataNoise(rows: rows, ws)
        beginStep()
        do {
            let stats = try model.lock.read { () throws -> TrainingStepStatistics in
                let blocks = ws.objectiveBlocks, scale = 1 / Float(rows), step = stepCount
                let stride = gradient.count, own = UnsafePointer(objectiveParameters.base)
                try ChainParallel.run(blocks, threads: ws.objectiveWorkspaces.count, steps: 1, poll: { _ in false }) { b, worker, _ in
                    let r = blocks.range(b)
                    let sums = objective.block(
                        model, x: x + r.lowerBound * d, rows: r.count, firstRow: r.lowerBound, step: step,
                        seed: settings.seed, scale: scale, own: own, grad: ws.partials.base + b * stride,
                        scratch: ws.objectiveScratch[worker].base, workspace: ws.objectiveWorkspaces[worker])
                    ws.blockSums[3 * b] = sums.loss
                    ws.blockSums[3 * b + 1] = sums.energy
                    ws.blockSums[3 * b + 2] = sums.otherEnergy
                }
                var loss = 0.0, energy = 0.0, other = 0.0
                for b in 0..<blocks.count {
                    loss += ws.blockSums[3 * b]
                    energy += ws.blockSums[3 * b + 1]
                    other += ws.blockSums[3 * b + 2]
                }
                sumPartials(count: blocks.count, ws)
                let stats = TrainingStepStatistics(loss: loss / Double(rows), dataEnergy: energy / Double(rows),
                                                   modelEnergy: other / Double(rows), gradientNorm: 0)
                guard stats.loss.isFinite, stats.dataEnergy.isFinite else {
                    throw EBMError.diverged(Divergence(.training, .energy, step: stepCount + 1,
                        "training diverged at step \(stepCount + 1): non-finite loss or energy (loss = \(stats.loss), mean E(data) = \(stats.dataEnergy))"))
                }
                return try clippedGradient(stats)
            }
            try applyUpdate(learningRate: learningRate ?? settings.optimizer.learningRate)
            stepCount += 1
            return stats
        } catch {
            failStep()
            throw error
        }
    }

    /// Adds the step's data noise (`dataNoise` × standard normals keyed by the step) to the
    /// batch in `ws.joint`.
    private func addDataNoise(rows: Int, _ ws: StepWorkspace<Model>) {
        guard settings.dataNoise > 0 else { return }
        let noise = Philox4x32(seed: settings.seed, purpose: Purpose.dataNoise, index: UInt64(stepCount))
        let eps = ws.dataNoise.base, joint = ws.joint.base
        noise.fillNormal(eps, rows: rows, dimension: model.dimension, firstRow: 0, step: 0)
        for k in 0..<(rows * model.dimension) { joint[k] += settings.dataNoise * eps[k] }
    }

    /// `gradient ← Σ_b partial_b`, in block order.
    private func sumPartials(count: Int, _ ws: StepWorkspace<Model>) {
        let p = gradient.count
        gradient.base.update(from: ws.partials.base, count: p)
        for b in 1..<max(1, count) {
            let partial = ws.partials.base + b * p
            for i in 0..<p { gradient.base[i] += partial[i] }
        }
    }

    /// Restores a saved run: step count, optimiser moments and update count, buffer states and
    /// permutation (parameters are restored through the model). A run resumed this way continues
    /// bit for bit as the uninterrupted one, since every random stream is keyed by the step count.
    public func restore(stepCount: Int, updates: Int, firstMoment: UnsafeBufferPointer<Float>,
                        secondMoment: UnsafeBufferPointer<Float>, bufferStates: UnsafeBufferPointer<Float>,
                        permutation: UnsafeBufferPointer<Int64>) throws {
        let p = model.parameterCount
        try require(stepCount >= 0 && updates >= 0, "step counts must be non-negative")
        try require(firstMoment.count == p && secondMoment.count == p, "optimiser moments must have \(p) values")
        try buffer.restore(states: bufferStates, permutation: permutation)
        optimizer.firstMoment.base.update(from: firstMoment.baseAddress!, count: p)
        optimizer.secondMoment.base.update(from: secondMoment.baseAddress!, count: p)
        optimizer.updates = updates
        objectiveOptimizer.updates = updates
        self.stepCount = stepCount
    }

    /// Replaces the moving average of the parameters (a resumed run's).
    public func restoreAveragedParameters(_ values: UnsafeBufferPointer<Float>) throws {
        try require(values.count == averagedParameters.count,
                    "the averaged parameters have \(averagedParameters.count) values, got \(values.count)")
        try require(values.allSatisfy(\.isFinite), "the averaged parameters must be finite")
        if let v = values.baseAddress { averagedParameters.base.update(from: v, count: values.count) }
    }

    /// `[values, first moments, second moments]` of the objective's own parameters.
    public func copyObjectiveState(into out: UnsafeMutableBufferPointer<Float>) throws {
        let k = objectiveParameters.count
        try require(out.count == 3 * k, "the objective's state has \(3 * k) values, got room for \(out.count)")
        guard let o = out.baseAddress, k > 0 else { return }
        o.update(from: objectiveParameters.base, count: k)
        (o + k).update(from: objectiveOptimizer.firstMoment.base, count: k)
        (o + 2 * k).update(from: objectiveOptimizer.secondMoment.base, count: k)
    }

    /// Restores what `copyObjectiveState` wrote (after `restore`, which sets the update count).
    public func restoreObjectiveState(_ state: UnsafeBufferPointer<Float>) throws {
        let k = objectiveParameters.count
        try require(state.count == 3 * k, "the objective's state has \(3 * k) values, got \(state.count)")
        guard let s = state.baseAddress, k > 0 else { return }
        try require(state.allSatisfy(\.isFinite) && (0..<k).allSatisfy { s[2 * k + $0] >= 0 },
                    "the objective's state must be finite with non-negative second moments")
        objectiveParameters.base.update(from: s, count: k)
        objectiveOptimizer.firstMoment.base.update(from: s + k, count: k)
        objectiveOptimizer.secondMoment.base.update(from: s + 2 * k, count: k)
    }

    /// Moves the negatives by the configured kernel, noise keyed by `(seed, step count)`.
    /// With class-conditional negatives (sorted by class, `ws.classStarts`), each class's chains
    /// move on its class energy, chain offsets keeping every chain's noise its own.
    private func sampleNegatives(_ negatives: UnsafeMutableBufferPointer<Float>, _ ws: StepWorkspace<Model>,
                                 shouldStop: () -> Bool) throws {
        let noise = Philox4x32(seed: settings.seed, purpose: Purpose.langevinNoise, index: UInt64(stepCount))
        guard !classEnergies.isEmpty else {
            try Sampling.run(model, kernel: kernel, x: negatives, blocks: ws.blocks, steps: settings.sampler.steps,
                             noise: noise, workspaces: ws.samplers, poll: { _ in shouldStop() })
            return
        }
        let d = model.dimension
        for (c, energy) in classEnergies.enumerated() {
            let start = ws.classStarts[c], n = ws.classStarts[c + 1] - start
            guard n > 0 else { continue }
            try Sampling.run(energy, kernel: kernel, x: UnsafeMutableBufferPointer(rebasing: negatives[(start * d)..<((start + n) * d)]),
                             blocks: energy.blocks(rows: n), steps: settings.sampler.steps, noise: noise,
                             chainOffset: start, workspaces: ws.classSamplers[c], poll: { _ in shouldStop() })
        }
    }

    /// Forward and backward over `[data; negatives]` (`2·rows` rows), filling `gradient`.
    ///
    /// The rows are split into blocks that depend only on their number and spread over the
    /// threads: each block runs its forward pass, sets its own cotangents
    /// `∂L/∂E_i = (±1 + 2α E_i)/rows` (+ for data, − for negatives: each needs only its own
    /// energy) and back-propagates into its own partial gradient; the partials are then added in
    /// block order, so the result does not depend on the thread count.
    private func lossAndGradient(rows: Int, labels: UnsafePointer<Int32>?, _ ws: StepWorkspace<Model>) throws
        -> TrainingStepStatistics {
        if let labels, case .jointEnergy(let weight, _) = settings.objective {
            return try jointLossAndGradient(rows: rows, labels: labels, crossEntropyWeight: weight, ws)
        }
        let e = ws.energies.base, c = ws.cotangent.base
        let d = model.dimension, p = model.parameterCount
        let a = Float(2 * settings.alpha), inv = 1 / Float(rows)
        let blocks = ws.gradientBlocks
        try ChainParallel.run(blocks, threads: ws.gradientWorkspaces.count, steps: 1, poll: { _ in false }) { b, worker, _ in
            let r = blocks.range(b)
            let x = ws.joint.base + r.lowerBound * d
            let scratch = ws.gradientWorkspaces[worker]
            model.forwardForGradient(x, rows: r.count, energies: e + r.lowerBound, workspace: scratch)
            for i in r { c[i] = ((i < rows ? 1 : -1) + a * e[i]) * inv }
            model.parameterGradient(x, rows: r.count, cotangent: c + r.lowerBound,
                                    into: ws.partials.base + b * p, workspace: scratch)
        }
        sumPartials(count: blocks.count, ws)
        let stats = contrastiveStatistics(rows: rows, ws)
        guard stats.loss.isFinite, stats.dataEnergy.isFinite, stats.modelEnergy.isFinite else {
            throw EBMError.diverged(Divergence(.training, .energy, step: stepCount + 1,
                "training diverged at step \(stepCount + 1): non-finite energy (mean E(data) = \(stats.dataEnergy), mean E(model) = \(stats.modelEnergy))"))
        }
        return try clippedGradient(stats)
    }

    /// The joint energy model's pass over `[data; negatives]`: the classifier's logits `f`, the
    /// energies `E = −logsumexp f` and the softmax `p`; per-row logit cotangents
    /// `−c_i p_i` (the maximum-likelihood term, `c_i` as in `lossAndGradient`) plus, on data rows,
    /// `λ (p_i − onehot(y_i)) / rows` (the cross-entropy); one backward pass per block.
    private func jointLossAndGradient(rows: Int, labels: UnsafePointer<Int32>, crossEntropyWeight: Float,
                                      _ ws: StepWorkspace<Model>) throws -> TrainingStepStatistics {
        let e = ws.energies.base, d = model.dimension, p = model.parameterCount, k = model.classes!
        let a = Float(2 * settings.alpha), inv = 1 / Float(rows), lambda = crossEntropyWeight * inv
        let blocks = ws.gradientBlocks
        try ChainParallel.run(blocks, threads: ws.gradientWorkspaces.count, steps: 1, poll: { _ in false }) { b, worker, _ in
            let r = blocks.range(b)
            let x = ws.joint.base + r.lowerBound * d
            let logits = ws.logitScratch[worker].base, c = logits + blocks.blockRows * k
            model.forwardLogits(x, rows: r.count, logits: logits, saving: true, workspace: ws.gradientWorkspaces[worker])
            var crossEntropy = 0.0
            for (j, i) in r.enumerated() {
                let f = logits + j * k, g = c + j * k
                var m = f[0]
                for q in 1..<k { m = max(m, f[q]) }
                var s: Float = 0
                for q in 0..<k { s += expf(f[q] - m) }
                let lse = m + logf(s)
                e[i] = -lse
                let ci = ((i < rows ? 1 : -1) + a * e[i]) * inv
                for q in 0..<k {
                    let prob = expf(f[q] - lse)
                    g[q] = -ci * prob + (i < rows ? lambda * prob : 0)
                }
                if i < rows {
                    let y = Int(labels[i])
                    g[y] -= lambda
                    crossEntropy += Double(lse - f[y])
                }
            }
            ws.blockCrossEntropy[b] = crossEntropy
            model.backwardLogits(x, rows: r.count, logits: logits, cotangents: c,
                                 parameterGradient: ws.partials.base + b * p, inputGradient: nil,
                                 workspace: ws.gradientWorkspaces[worker])
        }
        sumPartials(count: blocks.count, ws)
        var crossEntropy = 0.0
        for b in 0..<blocks.count { crossEntropy += ws.blockCrossEntropy[b] }
        var stats = contrastiveStatistics(rows: rows, ws)
        stats.loss += Double(crossEntropyWeight) * crossEntropy / Double(rows)
        guard stats.loss.isFinite else {
            throw EBMError.diverged(Divergence(.training, .energy, step: stepCount + 1,
                "training diverged at step \(stepCount + 1): non-finite energy or cross-entropy (mean E(data) = \(stats.dataEnergy), mean E(model) = \(stats.modelEnergy))"))
        }
        return try clippedGradient(stats)
    }

    /// The contrastive loss `mean E(x⁺) − mean E(x⁻) + α (mean E(x⁺)² + mean E(x⁻)²)` and the two
    /// means, from the energies of `[data; negatives]` in `ws.energies`.
    private func contrastiveStatistics(rows: Int, _ ws: StepWorkspace<Model>) -> TrainingStepStatistics {
        let e = ws.energies.base
        var sumPos = 0.0, sumNeg = 0.0, sqPos = 0.0, sqNeg = 0.0
        for i in 0..<rows {
            let positive = Double(e[i]), negative = Double(e[rows + i])
            sumPos += positive; sumNeg += negative; sqPos += positive * positive; sqNeg += negative * negative
        }
        let m = Double(rows), alpha = Double(settings.alpha)
        return TrainingStepStatistics(loss: (sumPos - sumNeg) / m + alpha * (sqPos + sqNeg) / m,
                                      dataEnergy: sumPos / m, modelEnergy: sumNeg / m, gradientNorm: 0)
    }

    /// Checks that `gradient` is finite, clips it to `gradientClipNorm`, and returns `stats` with
    /// its norm (before clipping).
    private func clippedGradient(_ stats: TrainingStepStatistics) throws -> TrainingStepStatistics {
        var norm = 0.0
        for i in 0..<gradient.count { norm += Double(gradient.base[i]) * Double(gradient.base[i]) }
        norm = norm.squareRoot()
        guard norm.isFinite else {
            throw EBMError.diverged(Divergence(.training, .gradient, step: stepCount + 1,
                                               "training diverged at step \(stepCount + 1): the parameter gradient is not finite"))
        }
        if let limit = settings.gradientClipNorm, norm > Double(limit) {
            // Global-norm clipping (torch.nn.utils.clip_grad_norm_): g ← g · limit / ‖g‖.
            let scale = Float(Double(limit) / norm)
            for i in 0..<gradient.count { gradient.base[i] *= scale }
        }
        var result = stats
        result.gradientNorm = norm
        return result
    }

    /// The optimiser step (the model's parameters, then the objective's), rolled back (parameters
    /// and moments) if it leaves a non-finite value.
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
            let finite = modelFinite && objectiveFinite
            defer { model.parametersDidChange() }
            if !finite {
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
}

/// The trainer's scratch memory for batches of up to `capacity` rows, kept across steps.
private final class StepWorkspace<Model: TrainableEnergy> {
    let capacity: Int
    /// The chain blocks of a batch of `blocks.rows` rows and one sampler workspace per thread.
    let blocks: ChainBlocks
    let threads: Int
    let samplers: [SamplerWorkspace<Model>]
    /// The blocks of `[data; negatives]` for the gradient pass, one MLP workspace per thread and
    /// one partial gradient per block.
    let gradientBlocks: ChainBlocks
    let gradientWorkspaces: [Model.Workspace]
    let partials: FloatBuffer
    /// `[data; negatives]`, `2·capacity × dim`.
    let joint: FloatBuffer
    let energies: FloatBuffer
    let cotangent: FloatBuffer
    /// The data noise (`capacity × dim`).
    let dataNoise: FloatBuffer
    /// A data objective's blocks of the batch, one model workspace and scratch per thread, and
    /// each block's loss and energy sums (empty for maximum likelihood).
    let objectiveBlocks: ChainBlocks
    let objectiveWorkspaces: [Model.Workspace]
    let objectiveScratch: [FloatBuffer]
    let blockSums: UnsafeMutableBufferPointer<Double>
    /// A joint energy model's logits and their cotangents per thread, and each block's cross-entropy.
    let logitScratch: [FloatBuffer]
    let blockCrossEntropy: UnsafeMutableBufferPointer<Double>
    /// Class-conditional negatives: per class its sampler workspaces, the batch's labels sorted
    /// by class and where each class starts (`classes + 1` entries).
    let classSamplers: [[SamplerWorkspace<ClassEnergy>]]
    let sortedLabels: UnsafeMutablePointer<Int32>
    let classStarts: UnsafeMutablePointer<Int>

    init(model: Model, capacity: Int, rows: Int, threads: Int, objective: (any DataObjective)? = nil,
         classEnergies: [ClassEnergy] = []) {
        classSamplers = classEnergies.map { SamplerWorkspace.perThread($0, blocks: $0.blocks(rows: rows), threads: threads) }
        sortedLabels = .allocate(capacity: max(1, capacity))
        sortedLabels.initialize(repeating: 0, count: max(1, capacity))
        classStarts = .allocate(capacity: classEnergies.count + 1)
        classStarts.initialize(repeating: 0, count: classEnergies.count + 1)
        dataNoise = FloatBuffer(count: capacity * model.dimension)
        self.capacity = capacity
        self.threads = threads
        blocks = model.blocks(rows: rows)
        samplers = SamplerWorkspace.perThread(model, blocks: blocks, threads: threads)
        let gradientBlocks = ChainBlocks(rows: 2 * rows)
        self.gradientBlocks = gradientBlocks
        let gradientWorkers = max(1, min(threads, gradientBlocks.count))
        gradientWorkspaces = (0..<gradientWorkers).map { _ in model.makeWorkspace(capacity: gradientBlocks.blockRows) }
        let objectiveBlocks = ChainBlocks(rows: rows)
        self.objectiveBlocks = objectiveBlocks
        let objectiveWorkers = objective == nil ? 0 : max(1, min(threads, objectiveBlocks.count))
        objectiveWorkspaces = (0..<objectiveWorkers).map { _ in
            model.makeWorkspace(capacity: objective!.workspaceRows(rows: objectiveBlocks.blockRows))
        }
        objectiveScratch = (0..<objectiveWorkers).map { _ in
            FloatBuffer(count: objective!.scratchCount(rows: objectiveBlocks.blockRows, dimension: model.dimension,
                                                       parameters: model.parameterCount))
        }
        blockSums = .allocate(capacity: 3 * objectiveBlocks.count)
        blockSums.initialize(repeating: 0)
        let k = model.classes ?? 0
        logitScratch = k == 0 ? [] : (0..<gradientWorkers).map { _ in FloatBuffer(count: 2 * gradientBlocks.blockRows * k) }
        blockCrossEntropy = .allocate(capacity: gradientBlocks.count)
        blockCrossEntropy.initialize(repeating: 0)
        partials = FloatBuffer(count: max(gradientBlocks.count, objectiveBlocks.count)
                                      * (model.parameterCount + (objective?.initialParameters.count ?? 0)))
        joint = FloatBuffer(count: 2 * capacity * model.dimension)
        energies = FloatBuffer(count: 2 * capacity)
        cotangent = FloatBuffer(count: 2 * capacity)
    }

    deinit {
        blockSums.deallocate()
        blockCrossEntropy.deallocate()
        sortedLabels.deallocate()
        classStarts.deallocate()
    }

    /// `sortedLabels ← labels` sorted (a counting sort) and `classStarts` the start of each class.
    func sortLabels(_ labels: UnsafePointer<Int32>, rows: Int, classes: Int) {
        classStarts.update(repeating: 0, count: classes + 1)
        for i in 0..<rows { classStarts[Int(labels[i]) + 1] += 1 }
        for c in 0..<classes { classStarts[c + 1] += classStarts[c] }
        var k = 0
        for c in 0..<classes {
            for _ in classStarts[c]..<classStarts[c + 1] {
                sortedLabels[k] = Int32(c)
                k += 1
            }
        }
    }
}
