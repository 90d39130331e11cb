/// Sliced score matching (Song, Garg, Shi & Ermon 2019): Hyvärinen's score-matching loss with the
/// Hessian's trace replaced by its projections on random directions `v`, for the score
/// `s = −∇x E`:
///
/// `ℓ(x) = E_v[ vᵀ ∇x s(x) v + ½ (vᵀ s(x))² ] = E_v[ −vᵀ ∇²E(x) v + ½ ⟨∇E(x), v⟩² ]`,
///
/// estimated with `M` directions per row. With Gaussian directions the second term's expectation
/// is known, `E_v ½ (vᵀ s)² = ½ ‖∇E‖²`, and the variance-reduced form (SSM-VR) uses it instead.
/// Rademacher directions (entries ±1) keep the sampled term.
///
/// Gradient: one second-order jet along each `v` gives `⟨∇E, v⟩` and `vᵀ∇²E v`, and its reverse
/// pass, with cotangents `(0, ⟨∇E, v⟩/M, −1/M)` (scaled), the gradient of both terms at once;
/// SSM-VR adds one gradient pass for `∇E` and a first-order jet along it (`∇w ½‖∇E‖²`).
/// A row's directions are keyed by its index in the batch, the projection and the step.
struct SlicedScoreMatching: DataObjective {
    let projections: Int
    /// Gaussian directions and the variance-reduced loss, or Rademacher directions.
    let gaussian: Bool

    /// - Throws: `EBMError.invalidArgument` for fewer than one projection.
    init(projections: Int, gaussian: Bool) throws {
        try require(projections >= 1 && projections <= 1024, "n_projections must be in [1, 1024], got \(projections)")
        self.projections = projections
        self.gaussian = gaussian
    }

    func workspaceRows(rows: Int) -> Int { 3 * rows * projections }

    /// The jet's stacked input `[x…; v; 0]` and its outputs and cotangents (`3 · rows · M` rows),
    /// then for SSM-VR a second gradient.
    func scratchCount(rows: Int, dimension: Int, parameters: Int) -> Int {
        let jetRows = rows * projections
        return 3 * jetRows * dimension + 6 * jetRows + (gaussian ? parameters : 0)
    }

    func block<Model: TrainableEnergy>(
        _ model: Model, x: UnsafePointer<Float>, rows: Int, firstRow: Int, step: Int, seed: UInt64, scale: Float,
        own: UnsafePointer<Float>, grad: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
        workspace: Model.Workspace
    ) -> ObjectiveSums {
        let d = model.dimension, m = projections, jetRows = rows * m, n = jetRows * d
        let points = scratch, v = scratch + n, zeros = scratch + 2 * n
        let outputs = scratch + 3 * n, cotangents = outputs + 3 * jetRows
        for i in 0..<rows {
            for k in 0..<m { (points + (i * m + k) * d).update(from: x + i * d, count: d) }
        }
        Philox4x32(seed: seed, purpose: Purpose.projections, index: UInt64(step))
            .fillNormal(v, rows: jetRows, dimension: d, firstRow: UInt64(firstRow * m), step: 0)
        if !gaussian {
            for j in 0..<n { v[j] = v[j] > 0 ? 1 : -1 }
        }
        zeros.update(repeating: 0, count: n)
        model.forwardJet(points, rows: jetRows, order: 2, outputs: outputs, workspace: workspace)
        let perProjection = scale / Float(m)
        var loss = 0.0, energy = 0.0
        for j in 0..<jetRows {
            let first = outputs[jetRows + j], second = outputs[2 * jetRows + j]
            loss += Double(-second) + (gaussian ? 0 : 0.5 * Double(first) * Double(first))
            cotangents[j] = 0
            cotangents[jetRows + j] = gaussian ? 0 : perProjection * first
            cotangents[2 * jetRows + j] = -perProjection
            if j % m == 0 { energy += Double(outputs[j]) }
        }
        model.parameterGradientOfJet(points, rows: jetRows, order: 2, outputs: outputs, cotangents: cotangents,
                                     into: grad, workspace: workspace)
        loss /= Double(m)
        guard gaussian else { return ObjectiveSums(loss: loss, energy: energy) }

        // SSM-VR's ½‖∇E‖²: its gradient is ∇w ⟨∇E(x), ∇E(x)⟩/2 with the direction held, a
        // first-order jet along scale·∇E. The jet's input is [x; scale·∇E] in the first 2·rows·d
        // floats (within [x…; v]); ∇E goes where the zeros were.
        let g = zeros, extra = cotangents + 3 * jetRows
        points.update(from: x, count: rows * d)
        model.gradients(UnsafeBufferPointer(start: points, count: rows * d), rows: rows, energies: nil,
                        into: UnsafeMutableBufferPointer(start: g, count: rows * d), workspace: workspace)
        var squares = 0.0
        for j in 0..<(rows * d) {
            squares += Double(g[j]) * Double(g[j])
            points[rows * d + j] = scale * g[j]
        }
        loss += 0.5 * squares
        cotangents.update(repeating: 0, count: rows)
        (cotangents + rows).update(repeating: 1, count: rows)
        model.forwardJet(points, rows: rows, order: 1, outputs: outputs, workspace: workspace)
        model.parameterGradientOfJet(points, rows: rows, order: 1, outputs: outputs, cotangents: cotangents,
                                     into: extra, workspace: workspace)
        for i in 0..<model.parameterCount { grad[i] += extra[i] }
        return ObjectiveSums(loss: loss, energy: energy)
    }
}

/// `ssm`: `n_projections` and `projection` (`rademacher`, or `gaussian` for SSM-VR).
enum SlicedScoreMatchingKind: ObjectiveKind {
    static let kind = "ssm"
    static let samplesNegatives = false

    static func make(_ record: inout SettingsRecord, kernel: (any SamplerKernel)?, model: any TrainableEnergy,
                     seed: UInt64) throws -> any TrainingObjective {
        let projections = try record.integer("n_projections"), projection = try record.text("projection")
        try record.finish()
        try require(projection == "rademacher" || projection == "gaussian",
                    "projection must be 'rademacher' or 'gaussian', got '\(projection)'")
        return try SlicedScoreMatching(projections: projections, gaussian: projection == "gaussian").step(on: model)
    }
}
