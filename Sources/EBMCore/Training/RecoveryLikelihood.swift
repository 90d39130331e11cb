import Foundation

/// Diffusion recovery likelihood (Gao et al. 2021). The data diffuse in `T` steps,
/// `x_{t+1} = √(1 − σ²_{t+1}) x_t + σ_{t+1} ε` (`x_0` the data), and the model learns each step's
/// reversal: with `y_t = √(1 − σ²_{t+1}) x_t`,
///
/// `p(y_t | x_{t+1}) ∝ exp(−E(y_t) − ‖y_t − x_{t+1}‖² / (2σ²_{t+1}))`,
///
/// whose maximum-likelihood gradient needs samples of that conditional only — a distribution tied
/// to a point by the quadratic term, unimodal and quickly sampled: `K` Langevin steps from
/// `x_{t+1}`, `y ← y − (h²/2) ∇U(y) + h ε` with `h = b σ_{t+1} √(1 − σ²_{t+1})` (`b` =
/// `step_scale`; `σ√(1 − σ²)` is the conditional's width for data of unit variance, so the step
/// stays in proportion to the conditional whether the tether or the energy confines it) on
/// `U(y) = E(y) + ‖y − x_{t+1}‖² / (2σ²_{t+1})`. Row `i` of the batch at step `s` takes level
/// `t = (i + s) mod T` (every level equally often, as multi-scale DSM takes its σ), so
/// `∇w L = (1/N) Σ_i [∇w E(y⁺_i) − ∇w E(y⁻_i)]` with `y⁺ = √(1 − σ²) x_t` from the data and `y⁻`
/// the Langevin sample.
///
/// The energy knows the level through a head per level (Gao et al. embed it in every block): a
/// classifier `NetworkEnergy` with `T` logits is read as `E(y, t) = −f(y)[t]`, so the levels share
/// the network's features and each has its own last layer. A model without classes is one energy
/// for every level — sound for one level, a compromise for several (the levels' marginals
/// conflict: noise is likely at the last level and unlikely at the first). The first level's
/// energy is the density of the (scaled) data. Sampling runs the chain of conditionals down from
/// noise (`ebm_swift.objectives.DRL.sample`).
struct RecoveryLikelihood: DataObjective {
    /// `σ_1 … σ_T`, the noise each diffusion step adds, in diffusion order.
    let sigmas: [Float]
    /// `a_t = Π_{s ≤ t} √(1 − σ_s²)` for `t = 0 … T − 1` (`a_0 = 1`): `x_t = a_t x_0 + √(1 − a_t²) ε`.
    let scales: [Float]
    /// Langevin steps per negative.
    let steps: Int
    /// `b`: the Langevin step of level `t` is `h = b σ_{t+1} √(1 − σ²_{t+1})`.
    let stepScale: Float
    /// Whether the model is a classifier with one logit per level, `E(y, t) = −f(y)[t]` (a head per
    /// level on a shared network), rather than one energy for every level.
    let heads: Bool

    /// - Throws: `EBMError.invalidArgument` for no `σ`, a `σ` outside (0, 1), a step count outside
    ///   [1, 2³¹), or a step scale outside (0, 2) (the quadratic term alone diverges at `b ≥ 2`).
    init(sigmas: [Float], steps: Int, stepScale: Float, heads: Bool) throws {
        try require(!sigmas.isEmpty && sigmas.count <= 1024, "recovery likelihood needs 1 to 1024 sigmas, got \(sigmas.count)")
        for s in sigmas { try require(s > 0 && s < 1, "sigma must lie in (0, 1), got \(s)") }
        try require(steps >= 1 && steps <= Int(Int32.max), "n_steps must be in [1, 2^31 − 1], got \(steps)")
        try require(stepScale > 0 && stepScale < 2, "step_scale must lie in (0, 2), got \(stepScale)")
        self.sigmas = sigmas
        self.steps = steps
        self.stepScale = stepScale
        self.heads = heads
        var a = 1.0, scales: [Float] = []
        for s in sigmas {
            scales.append(Float(a))
            a *= (1 - Double(s) * Double(s)).squareRoot()
        }
        self.scales = scales
    }

    /// The positives and negatives go through one gradient pass together.
    func workspaceRows(rows: Int) -> Int { 2 * rows }

    /// `[y⁺; y⁻]`, the anchors `x_{t+1}`, the noise, `∇E(y⁻)`; `2 · rows` energies and cotangents;
    /// with heads, `2 · rows × T` logits and their cotangents.
    func scratchCount(rows: Int, dimension: Int, parameters: Int) -> Int {
        5 * rows * dimension + 4 * rows + (heads ? 4 * rows * sigmas.count : 0)
    }

    func level(_ row: Int, step: Int) -> Int { (row + step) % sigmas.count }

    func block<Model: TrainableEnergy>(
        _ model: Model, x: UnsafePointer<Float>, rows: Int, firstRow: Int, step: Int, seed: UInt64, scale: Float,
        own: UnsafePointer<Float>, grad: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
        workspace: Model.Workspace
    ) -> ObjectiveSums {
        let d = model.dimension, n = rows * d
        let positive = scratch, negative = scratch + n, anchor = scratch + 2 * n, eps = scratch + 3 * n
        let g = scratch + 4 * n, energies = scratch + 5 * n, cotangents = energies + 2 * rows
        let levels = sigmas.count, logits = cotangents + 2 * rows, logitCotangents = logits + 2 * rows * levels
        let stream = Philox4x32(seed: seed, purpose: Purpose.recoveryNoise, index: UInt64(step))
        // x_t = a_t x_0 + √(1 − a_t²) ε, then y⁺ = √(1 − σ²) x_t and x_{t+1} = y⁺ + σ ε'.
        stream.fillNormal(eps, rows: rows, dimension: d, firstRow: UInt64(firstRow), step: 0)
        for i in 0..<rows {
            let t = level(firstRow + i, step: step), a = scales[t], c = (1 - a * a).squareRoot()
            for j in (i * d)..<((i + 1) * d) { positive[j] = a * x[j] + c * eps[j] }
        }
        stream.fillNormal(eps, rows: rows, dimension: d, firstRow: UInt64(firstRow), step: 1)
        for i in 0..<rows {
            let sigma = sigmas[level(firstRow + i, step: step)], r = (1 - sigma * sigma).squareRoot()
            for j in (i * d)..<((i + 1) * d) {
                positive[j] *= r
                anchor[j] = positive[j] + sigma * eps[j]
                negative[j] = anchor[j]
            }
        }
        // The level heads' passes: `E(y_i, t_i) = −f(y_i)[t_i]`, so a row's energy cotangent c is the
        // logit cotangent −c at its level. (The model is a `NetworkEnergy` classifier whenever
        // `heads`: `make` checks it; a mismatch would leave the step's loss NaN, never a trap.)
        let net = heads ? model as? NetworkEnergy : nil, netWorkspace = workspace as? NetworkWorkspace
        if heads && (net == nil || netWorkspace == nil) { return ObjectiveSums(loss: .nan, energy: .nan) }
        func levelCotangents(_ count: Int, _ value: (Int) -> Float) {
            logitCotangents.update(repeating: 0, count: count * levels)
            for i in 0..<count { logitCotangents[i * levels + level(firstRow + i % rows, step: step)] = -value(i) }
        }
        let yNegative = UnsafeBufferPointer(start: UnsafePointer(negative), count: n)
        for k in 0..<steps {
            if let net, let netWorkspace {
                net.forwardLogits(negative, rows: rows, logits: logits, saving: true, workspace: netWorkspace)
                levelCotangents(rows) { _ in 1 }
                net.backwardLogits(negative, rows: rows, logits: logits, cotangents: logitCotangents,
                                   parameterGradient: nil, inputGradient: g, workspace: netWorkspace)
            } else {
                model.gradients(yNegative, rows: rows, energies: UnsafeMutableBufferPointer(start: energies, count: rows),
                                into: UnsafeMutableBufferPointer(start: g, count: n), workspace: workspace)
            }
            stream.fillNormal(eps, rows: rows, dimension: d, firstRow: UInt64(firstRow), step: UInt32(2 + k))
            for i in 0..<rows {
                let sigma = sigmas[level(firstRow + i, step: step)], h = stepScale * sigma * (1 - sigma * sigma).squareRoot()
                let drift = h * h / 2, tether = 1 / (sigma * sigma)
                for j in (i * d)..<((i + 1) * d) {
                    negative[j] += h * eps[j] - drift * (g[j] + tether * (negative[j] - anchor[j]))
                }
            }
        }
        // ∇w Σ_i scale · (E(y⁺_i) − E(y⁻_i)) in one pass over the stacked rows.
        if let net, let netWorkspace {
            net.forwardLogits(positive, rows: 2 * rows, logits: logits, saving: true, workspace: netWorkspace)
            levelCotangents(2 * rows) { $0 < rows ? scale : -scale }
            net.backwardLogits(positive, rows: 2 * rows, logits: logits, cotangents: logitCotangents,
                               parameterGradient: grad, inputGradient: nil, workspace: netWorkspace)
            for i in 0..<(2 * rows) { energies[i] = -logits[i * levels + level(firstRow + i % rows, step: step)] }
        } else {
            cotangents.update(repeating: scale, count: rows)
            (cotangents + rows).update(repeating: -scale, count: rows)
            model.forwardForGradient(positive, rows: 2 * rows, energies: energies, workspace: workspace)
            model.parameterGradient(positive, rows: 2 * rows, cotangent: cotangents, into: grad, workspace: workspace)
        }
        var sums = ObjectiveSums(loss: 0, energy: 0, otherEnergy: 0)
        for i in 0..<rows {
            sums.energy += Double(energies[i])
            sums.otherEnergy += Double(energies[rows + i])
        }
        sums.loss = sums.energy - sums.otherEnergy
        return sums
    }
}

/// `drl`: `sigmas` (the diffusion's noise per step, in order, each in (0, 1)), `n_steps` (Langevin
/// steps per negative), `step_scale` (`b`). A classifier model must have one class per level (its
/// logits are the levels' heads); any other trainable energy is one energy for every level.
enum RecoveryLikelihoodKind: ObjectiveKind {
    static let kind = "drl"
    static let samplesNegatives = false

    static func make(_ record: inout SettingsRecord, kernel: (any SamplerKernel)?, model: any TrainableEnergy,
                     seed: UInt64) throws -> any TrainingObjective {
        let sigmas = try record.array("sigmas").map(Float.init)
        let steps = try record.integer("n_steps")
        let stepScale = try record.number("step_scale")
        try record.finish()
        let classes = (model as? any ClassifierEnergy)?.classes
        if let classes {
            try require(classes == sigmas.count && model is NetworkEnergy,
                        "a classifier energy trained by recovery likelihood needs one class per level: \(sigmas.count) levels, \(classes) classes")
        }
        return try RecoveryLikelihood(sigmas: sigmas, steps: steps, stepScale: Float(stepScale),
                                      heads: classes != nil).step(on: model)
    }
}
