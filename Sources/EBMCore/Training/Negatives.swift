/// How the negatives of a contrastive objective (maximum likelihood, JEM) are made: the fields
/// of its record besides the objective's own.
struct NegativeSettings {
    /// Steps of the kernel per training step.
    var steps: Int
    /// Persistent chains (a replay buffer) or short-run chains from uniform noise at every step.
    var persistent: Bool
    /// Number of persistent chains.
    var bufferSize: Int
    /// Probability that a drawn chain restarts from uniform noise on `[initLow, initHigh]^dim`.
    var reinitProbability: Float
    var initLow: Float, initHigh: Float
    /// Weight `α` of the energy regulariser `α (mean E(data)² + mean E(model)²)`.
    var alpha: Float

    /// `n_steps`, `persistent`, `buffer_size`, `reinit_prob`, `init_low`, `init_high`, `alpha`.
    init(_ r: inout SettingsRecord) throws {
        steps = try r.integer("n_steps")
        persistent = try r.flag("persistent")
        bufferSize = try r.integer("buffer_size")
        reinitProbability = Float(try r.number("reinit_prob"))
        initLow = Float(try r.number("init_low"))
        initHigh = Float(try r.number("init_high"))
        alpha = Float(try r.number("alpha"))
        try require(steps > 0 && steps < Int(UInt32.max), "n_steps must be in [1, 2^32 − 1), got \(steps)")
        try require(bufferSize > 0 && bufferSize < Int(UInt32.max), "buffer_size must be positive, got \(bufferSize)")
        try require(reinitProbability >= 0 && reinitProbability <= 1,
                    "reinit_prob must be in [0, 1], got \(reinitProbability)")
        try require(initLow.isFinite && initHigh.isFinite && initLow < initHigh,
                    "init_range must be finite (low, high) with low < high, got (\(initLow), \(initHigh))")
        try require(alpha >= 0 && alpha.isFinite, "alpha must be non-negative and finite, got \(alpha)")
    }
}

/// The negatives of a contrastive step and the chains they come from (Bishop, *Deep Learning*,
/// §14.3.2): `rows` chains drawn from the replay buffer (each restarted from the init box with
/// probability `reinitProbability`) or, short-run, fresh from the box; moved by `steps` steps of
/// the kernel with noise keyed by `(seed, step)`; written back when the step succeeds.
///
/// With class energies (JEM's class-conditional buffer) each row's chain comes from its label's
/// partition of the buffer and moves on `E(x, y)`; the rows are taken in label order.
final class Negatives<Model: TrainableEnergy> {
    let model: Model
    let settings: NegativeSettings
    let kernel: any SamplerKernel
    let buffer: ReplayBuffer
    let classEnergies: [ClassEnergy]
    /// `[data; negatives]` of the current step (`2·rows × dim`).
    private(set) var joint = FloatBuffer()
    private(set) var rows = 0
    private var threads = 0
    private var blocks = ChainBlocks(rows: 1)
    private var samplers: [SamplerWorkspace<Model>] = []
    private var classSamplers: [[SamplerWorkspace<ClassEnergy>]] = []
    /// The batch's labels sorted by class, and where each class starts (`classes + 1` entries).
    private var sortedLabels: [Int32] = []
    private(set) var classStarts: [Int]
    private var drew = false
    /// A replica's workspaces (`OutsideNegatives.swift`): the model's, and each class energy's, one per thread.
    var replicaWorkspaces: [SamplerWorkspace<Model>] = []
    var replicaClassWorkspaces: [Int: [SamplerWorkspace<ClassEnergy>]] = [:]

    /// The buffer starts uniform on the init box, drawn from `seed`.
    init(model: Model, settings: NegativeSettings, kernel: any SamplerKernel, seed: UInt64,
         classEnergies: [ClassEnergy] = []) throws {
        try require(classEnergies.isEmpty || settings.bufferSize >= classEnergies.count,
                    "a class-conditional buffer needs buffer_size >= n_classes (\(classEnergies.count)), got \(settings.bufferSize)")
        try requireCount([settings.bufferSize, model.dimension], "the buffer (buffer_size × dim)")
        self.model = model
        self.settings = settings
        self.kernel = kernel
        self.classEnergies = classEnergies
        var stream = UniformStream(Philox4x32(seed: seed, purpose: Purpose.bufferInit))
        buffer = try ReplayBuffer(capacity: settings.bufferSize, dimension: model.dimension,
                              low: settings.initLow, high: settings.initHigh, stream: &stream)
        classStarts = [Int](repeating: 0, count: classEnergies.count + 1)
    }

    /// A step draws one chain per data row: persistent chains need `rows ≤ buffer_size`.
    func check(rows: Int) throws {
        try require(!settings.persistent || rows <= settings.bufferSize,
                    "the batch has \(rows) rows but buffer_size is \(settings.bufferSize); a step draws one chain per data row")
    }

    /// Scratch for `rows` rows over `threads` threads (kept while they stay the same).
    private func prepare(rows: Int, threads: Int) throws {
        guard rows != self.rows || threads != self.threads else { return }
        self.rows = rows
        self.threads = threads
        joint = try FloatBuffer(count: 2 * rows * model.dimension)
        blocks = model.blocks(rows: rows)
        samplers = try SamplerWorkspace.perThread(model, blocks: blocks, threads: threads)
        classSamplers = try classEnergies.map { try SamplerWorkspace.perThread($0, blocks: $0.blocks(rows: rows), threads: threads) }
        sortedLabels = [Int32](repeating: 0, count: rows)
    }

    /// Draws and moves the step's negatives and sets `joint ← [batch; negatives]`.
    func run(_ batch: TrainingBatch, shouldStop: () -> Bool) throws {
        try prepare(rows: batch.rows, threads: batch.threads)
        let d = model.dimension, n = rows * d
        let negatives = joint.slice(n, n)
        var draws = UniformStream(Philox4x32(seed: batch.seed, purpose: Purpose.bufferDraws, index: UInt64(batch.step)))
        let conditional = !classEnergies.isEmpty
        if conditional, let labels = batch.labels { sortLabels(labels) }
        if settings.persistent && conditional {
            sortedLabels.withUnsafeBufferPointer { sorted in
                buffer.draw(labels: sorted.baseAddress!, partitions: classEnergies.count, count: rows, into: negatives,
                            reinitProbability: settings.reinitProbability, low: settings.initLow, high: settings.initHigh,
                            stream: &draws)
            }
        } else if settings.persistent {
            buffer.draw(count: rows, into: negatives, reinitProbability: settings.reinitProbability,
                        low: settings.initLow, high: settings.initHigh, stream: &draws)
        } else {
            for i in 0..<n { negatives[i] = draws.nextUniform(settings.initLow, settings.initHigh) }
        }
        drew = settings.persistent
        let noise = Philox4x32(seed: batch.seed, purpose: Purpose.langevinNoise, index: UInt64(batch.step))
        if let outside = batch.negativeSampler {
            try sampleOutside(outside, negatives, conditional: conditional, step: batch.step)
        } else if conditional {
            for (c, energy) in classEnergies.enumerated() {
                let start = classStarts[c], count = classStarts[c + 1] - start
                guard count > 0 else { continue }
                try Sampling.run(energy, kernel: kernel, x: UnsafeMutableBufferPointer(rebasing: negatives[(start * d)..<((start + count) * d)]),
                                 blocks: energy.blocks(rows: count), steps: settings.steps, noise: noise,
                                 chainOffset: start, workspaces: classSamplers[c], poll: { _ in shouldStop() })
            }
        } else {
            try Sampling.run(model, kernel: kernel, x: negatives, blocks: blocks, steps: settings.steps,
                             noise: noise, workspaces: samplers, poll: { _ in shouldStop() })
        }
        joint.base.update(from: batch.x, count: n)
    }

    /// Keeps the moved chains (a successful step) or undoes the draw.
    func stepDidEnd(succeeded: Bool) {
        guard drew else { return }
        if succeeded {
            buffer.writeBack(UnsafeBufferPointer(joint.slice(rows * model.dimension, rows * model.dimension)))
        } else {
            buffer.undoDraw()
        }
        drew = false
    }

    /// `sortedLabels ← labels` sorted (a counting sort) and `classStarts` the start of each class.
    private func sortLabels(_ labels: UnsafePointer<Int32>) {
        let classes = classEnergies.count
        for c in 0...classes { classStarts[c] = 0 }
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

    /// The contrastive loss `mean E(x⁺) − mean E(x⁻) + α (mean E(x⁺)² + mean E(x⁻)²)` and the two
    /// means, from the energies `e` of `[data; negatives]`.
    func contrastiveStatistics(_ e: UnsafePointer<Float>) -> TrainingStepStatistics {
        var sumPos = 0.0, sumNeg = 0.0, sqPos = 0.0, sqNeg = 0.0
        for i in 0..<rows {
            let positive = Double(e[i]), negative = Double(e[rows + i])
            sumPos += positive; sumNeg += negative; sqPos += positive * positive; sqNeg += negative * negative
        }
        let m = Double(rows), alpha = Double(settings.alpha)
        return TrainingStepStatistics(loss: (sumPos - sumNeg) / m + alpha * (sqPos + sqNeg) / m,
                                      dataEnergy: sumPos / m, modelEnergy: sumNeg / m)
    }
}

/// An objective whose step samples negatives (maximum likelihood, JEM): what it keeps or undoes
/// at the end of a step, and the state it saves, are its negatives'.
protocol ContrastiveObjective: TrainingObjective, NegativeSampling {
    associatedtype Model: TrainableEnergy
    var negatives: Negatives<Model> { get }
}

extension ContrastiveObjective {
    func stepDidEnd(succeeded: Bool) { negatives.stepDidEnd(succeeded: succeeded) }

    var state: [StateEntry] { negatives.buffer.state }
}
