#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A joint energy model (JEM, Grathwohl et al. 2020): maximum likelihood of `p(x)` for a
/// classifier energy `E(x) = −logsumexp f(x)`, plus `λ` × the cross-entropy of `p(y|x)` on
/// labelled data. With a class-conditional buffer each data row's negative comes from its class's
/// partition of the buffer and moves on `E(x, y) = −f(x)[y]`; otherwise on `E(x)`.
///
/// One pass over `[data; negatives]`: the logits `f`, the energies `E = −logsumexp f` and the
/// softmax `p`; per-row logit cotangents `−c_i p_i` (the maximum-likelihood term, `c_i` as in
/// `MaximumLikelihood`) plus, on data rows, `λ (p_i − onehot(y_i)) / rows` (the cross-entropy);
/// one backward pass per block, partials added in block order.
final class JointEnergy<Model: ClassifierEnergy>: ContrastiveObjective {
    let model: Model
    let classes: Int
    let crossEntropyWeight: Float
    let negatives: Negatives<Model>
    private var rows = 0, threads = 0
    private var blocks = ChainBlocks(rows: 1)
    private var workspaces: [Model.Workspace] = []
    /// Per worker: a block's logits, then their cotangents.
    private var logits: [FloatBuffer] = []
    private var partials = FloatBuffer(), energies = FloatBuffer()
    private var blockCrossEntropy: [Double] = []

    init(model: Model, classes: Int, crossEntropyWeight: Float, classConditional: Bool, negatives: NegativeSettings,
         kernel: any SamplerKernel, seed: UInt64) throws {
        self.model = model
        self.classes = classes
        self.crossEntropyWeight = crossEntropyWeight
        let classEnergies = classConditional ? try (0..<classes).map { try model.classEnergy(label: $0) } : []
        self.negatives = try Negatives(model: model, settings: negatives, kernel: kernel, seed: seed,
                                       classEnergies: classEnergies)
    }

    func check(rows: Int, labels: UnsafePointer<Int32>?) throws {
        let y = try requireValue(labels, "a joint energy model trains on labelled data: the labels are missing")
        for i in 0..<rows { try require(y[i] >= 0 && Int(y[i]) < classes, "label \(y[i]) of row \(i) is not in [0, \(classes))") }
        try negatives.check(rows: rows)
    }

    func lossAndGradient(_ batch: TrainingBatch, shouldStop: () -> Bool) throws -> TrainingStepStatistics {
        try negatives.run(batch, shouldStop: shouldStop)
        if batch.rows != rows || batch.threads != threads {
            rows = batch.rows
            threads = batch.threads
            blocks = ChainBlocks(rows: 2 * rows)
            let blockRows = blocks.blockRows, workers = max(1, min(threads, blocks.count))
            workspaces = try (0..<workers).map { _ in try model.makeWorkspace(capacity: blockRows) }
            logits = try (0..<workers).map { _ in try FloatBuffer(count: 2 * blockRows * classes) }
            partials = try FloatBuffer(count: blocks.count * model.parameterCount)
            energies = try FloatBuffer(count: 2 * rows)
            blockCrossEntropy = [Double](repeating: 0, count: blocks.count)
        }
        let labels = batch.labels!, e = energies.base, joint = negatives.joint.base, k = classes
        let logits = logits, d = model.dimension, p = model.parameterCount, rows = rows, blocks = blocks
        let workspaces = workspaces, partials = partials
        let a = 2 * negatives.settings.alpha, inv = 1 / Float(rows), lambda = crossEntropyWeight * inv
        try blockCrossEntropy.withUnsafeMutableBufferPointer { blockCrossEntropy in
            try ChainParallel.run(blocks, threads: workspaces.count, steps: 1, poll: { _ in false }) { b, worker, _ in
                let r = blocks.range(b)
                let x = joint + r.lowerBound * d
                let f0 = logits[worker].base, c0 = f0 + blocks.blockRows * k
                model.forwardLogits(x, rows: r.count, logits: f0, saving: true, workspace: workspaces[worker])
                var crossEntropy = 0.0
                for (j, i) in r.enumerated() {
                    let f = f0 + j * k, g = c0 + j * k
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
                blockCrossEntropy[b] = crossEntropy
                model.backwardLogits(x, rows: r.count, logits: f0, cotangents: c0,
                                     parameterGradient: partials.base + b * p, inputGradient: nil,
                                     workspace: workspaces[worker])
            }
        }
        sumPartials(partials.base, count: blocks.count, size: p, into: batch.gradient)
        var crossEntropy = 0.0
        for b in 0..<blocks.count { crossEntropy += blockCrossEntropy[b] }
        var stats = negatives.contrastiveStatistics(e)
        stats.loss += Double(crossEntropyWeight) * crossEntropy / Double(rows)
        guard stats.loss.isFinite else {
            throw EBMError.diverged(Divergence(.training, .energy, step: batch.step + 1,
                "training diverged at step \(batch.step + 1): non-finite energy or cross-entropy (mean E(data) = \(stats.dataEnergy), mean E(model) = \(stats.modelEnergy))"))
        }
        return stats
    }
}

/// `jem`: the negatives' settings plus `cross_entropy_weight` and `class_conditional`; the model
/// must be a classifier energy.
enum JointEnergyKind: ObjectiveKind {
    static let kind = "jem"
    static let samplesNegatives = true

    static func make(_ record: inout SettingsRecord, kernel: (any SamplerKernel)?, model: any TrainableEnergy,
                     seed: UInt64) throws -> any TrainingObjective {
        let settings = try NegativeSettings(&record)
        let weight = try record.number("cross_entropy_weight")
        let conditional = try record.flag("class_conditional")
        try record.finish()
        try require(weight >= 0 && weight.isFinite, "the cross-entropy weight must be non-negative and finite, got \(weight)")
        guard let classifier = model as? any ClassifierEnergy, let k = classifier.classes else {
            throw EBMError.invalidArgument("a joint energy model needs a classifier energy (n_classes)")
        }
        func open<M: ClassifierEnergy>(_ m: M) throws -> any TrainingObjective {
            try JointEnergy(model: m, classes: k, crossEntropyWeight: Float(weight), classConditional: conditional,
                            negatives: settings, kernel: kernel!, seed: seed)
        }
        return try open(classifier)
    }
}
