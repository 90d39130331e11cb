/// Denoising score matching (Vincent 2011): the model's score `s = −∇x E` at a perturbed point
/// `x̃ = x + σ ε`, `ε ~ N(0, I)`, regressed on the perturbation's score `−ε/σ`; with the weight
/// `λ(σ) = σ²` of Song & Ermon (2019), which makes every noise level's loss of order one:
///
/// `ℓ(x) = ½ σ² ‖s(x̃) + ε/σ‖² = ½ ‖ε − σ ∇E(x̃)‖²`.
///
/// Its minimiser is the score of the data convolved with `N(0, σ²I)`, so a single small `σ`
/// learns the data's score up to a variance `σ²` added to the data's. With several `σ` (a
/// geometric list, largest first), row `i` of the batch at step `t` takes
/// `σ_{(i + t) mod L}` — every level equally often, stratified rather than drawn, so the step has
/// less variance — and the energy (not conditioned on `σ`) learns one density whose score fits all
/// levels, sharp near the data and smooth far from it (multi-scale DSM, Li et al. 2019).
///
/// Gradient: `∂ℓ/∂(∇E) = σ² ∇E − σ ε =: u`, so `∇w ℓ = ∇w ⟨∇x E(x̃), u⟩` with `u` held: one
/// gradient pass for `∇E(x̃)` and one first-order jet along `u` (about three plain passes).
struct DenoisingScoreMatching: DataObjective {
    let sigmas: [Float]

    /// - Throws: `EBMError.invalidArgument` for no `σ` or a `σ` that is not positive and finite.
    init(sigmas: [Float]) throws {
        try require(!sigmas.isEmpty, "denoising score matching needs at least one sigma")
        for s in sigmas { try require(s > 0 && s.isFinite, "sigma must be positive and finite, got \(s)") }
        self.sigmas = sigmas
    }

    func workspaceRows(rows: Int) -> Int { 2 * rows }

    /// `[x̃; u]` (the jet's stacked input), `ε`, `∇E(x̃)`, then `2 · rows` outputs and cotangents.
    func scratchCount(rows: Int, dimension: Int, parameters: Int) -> Int { 4 * rows * dimension + 4 * rows }

    func block<Model: TrainableEnergy>(
        _ model: Model, x: UnsafePointer<Float>, rows: Int, firstRow: Int, step: Int, seed: UInt64, scale: Float,
        own: UnsafePointer<Float>, grad: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
        workspace: Model.Workspace
    ) -> ObjectiveSums {
        let d = model.dimension, n = rows * d
        let perturbed = scratch, u = scratch + n, eps = scratch + 2 * n, g = scratch + 3 * n
        let outputs = scratch + 4 * n, cotangents = outputs + 2 * rows
        Philox4x32(seed: seed, purpose: Purpose.denoisingNoise, index: UInt64(step))
            .fillNormal(eps, rows: rows, dimension: d, firstRow: UInt64(firstRow), step: 0)
        for i in 0..<rows {
            let sigma = sigmas[(firstRow + i + step) % sigmas.count]
            for j in (i * d)..<((i + 1) * d) { perturbed[j] = x[j] + sigma * eps[j] }
        }
        model.gradients(UnsafeBufferPointer(start: perturbed, count: n), rows: rows,
                        energies: UnsafeMutableBufferPointer(start: outputs, count: rows),
                        into: UnsafeMutableBufferPointer(start: g, count: n), workspace: workspace)
        var loss = 0.0, energy = 0.0
        for i in 0..<rows {
            let sigma = sigmas[(firstRow + i + step) % sigmas.count]
            var sum: Float = 0
            for j in (i * d)..<((i + 1) * d) {
                let r = eps[j] - sigma * g[j]
                sum += r * r
                u[j] = -scale * sigma * r
            }
            loss += 0.5 * Double(sum)
            energy += Double(outputs[i])
        }
        cotangents.update(repeating: 0, count: rows)
        (cotangents + rows).update(repeating: 1, count: rows)
        model.forwardJet(perturbed, rows: rows, order: 1, outputs: outputs, workspace: workspace)
        model.parameterGradientOfJet(perturbed, rows: rows, order: 1, outputs: outputs, cotangents: cotangents,
                                     into: grad, workspace: workspace)
        return ObjectiveSums(loss: loss, energy: energy)
    }
}

/// `dsm`: `sigmas` (one or more noise levels, largest first).
enum DenoisingScoreMatchingKind: ObjectiveKind {
    static let kind = "dsm"
    static let samplesNegatives = false

    static func make(_ record: inout SettingsRecord, kernel: (any SamplerKernel)?, model: any TrainableEnergy,
                     seed: UInt64) throws -> any TrainingObjective {
        let sigmas = try record.array("sigmas").map(Float.init)
        try record.finish()
        return try DenoisingScoreMatching(sigmas: sigmas).step(on: model)
    }
}
