import XCTest
@testable import EBMCore

/// Every registered objective's parameter gradient against central finite differences of its
/// loss, along the gradient's own direction and two random ones.
///
/// DSM, SSM and NCE: the loss the objective reports, re-evaluated at `w ± h v` for the same step
/// (so the same noise). Maximum likelihood and JEM hold the negatives fixed (the gradient treats
/// them as constants), and their loss is recomputed here from the model's energies and logits
/// alone — an independent evaluation of `mean E⁺ − mean E⁻ + α (mean E⁺² + mean E⁻²)` (+ λ × the
/// cross-entropy). Float32 losses of order one lose ~1e-6 to rounding, ~1e-4 after dividing by
/// `2h` with `h = 1e-2`; the truncation error is `O(h²)`: the tolerance `1e-3 + 2 %` covers both.
final class ObjectiveGradientTests: XCTestCase {
    let rows = 12, h = 1e-2

    func model(classes: Int? = nil) throws -> NetworkEnergy {
        let layers: [NetworkLayer] = [try Linear(inFeatures: 2, outFeatures: 16), try ActivationLayer(.swish, shape: [16]),
                                      try Linear(inFeatures: 16, outFeatures: classes ?? 1)]
        return try NetworkEnergy(network: try Sequential(layers), seed: 3, classes: classes)
    }

    var data: [Float] {
        var rng = TestRNG(state: 5)
        return (0..<(2 * rows)).map { _ in Float(0.7 * rng.normal() + 0.3) }
    }

    var labels: [Int32] { (0..<rows).map { Int32($0 % 3) } }

    /// `(loss, gradient)` of one call at step 0; the objective's own parameters are `own`.
    func lossAndGradient(_ objective: any TrainingObjective, _ model: NetworkEnergy, own: [Float],
                         labels: [Int32]? = nil) throws -> (Double, [Float]) {
        let x = try FloatBuffer(data), g = try FloatBuffer(count: model.parameterCount + own.count), o = try FloatBuffer(own)
        let y = UnsafeMutablePointer<Int32>.allocate(capacity: rows)
        defer { y.deallocate() }
        for i in 0..<rows { y[i] = labels?[i] ?? 0 }
        let stats = try objective.lossAndGradient(
            TrainingBatch(x: x.base, rows: rows, labels: labels == nil ? nil : UnsafePointer(y), step: 0, seed: 7,
                          threads: 2, ownParameters: o.base, gradient: g.base), shouldStop: { false })
        return (stats.loss, g.array)
    }

    /// Asserts `⟨g, v⟩ ≈ (L(w + h v) − L(w − h v)) / 2h` for `v = g/‖g‖` and two random unit `v`.
    func checkDirections(_ model: NetworkEnergy, gradient g: [Float], ownCount: Int = 0, own: [Float] = [],
                         loss: (NetworkEnergy, [Float]) throws -> Double, file: StaticString = #filePath, line: UInt = #line) throws {
        var rng = TestRNG(state: 11)
        let norm = g.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        XCTAssertGreaterThan(norm, 1e-3, "a vanishing gradient proves nothing", file: file, line: line)
        var directions = [g.map { Double($0) / norm }]
        for _ in 0..<2 {
            let v = (0..<g.count).map { _ in rng.normal() }
            let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            directions.append(v.map { $0 / n })
        }
        let w = model.parameters.array, p = model.parameterCount
        for v in directions {
            func at(_ sign: Double) throws -> Double {
                let shifted = (0..<p).map { Float(Double(w[$0]) + sign * h * v[$0]) }
                try shifted.withUnsafeBufferPointer { try model.setParameters($0) }
                let ownShifted = (0..<ownCount).map { Float(Double(own[$0]) + sign * h * v[p + $0]) }
                return try loss(model, ownShifted)
            }
            let fd = (try at(1) - (try at(-1))) / (2 * h)
            let exact = zip(g, v).reduce(0.0) { $0 + Double($1.0) * $1.1 }
            XCTAssertEqual(fd, exact, accuracy: 1e-3 + 0.02 * abs(exact), file: file, line: line)
        }
        try w.withUnsafeBufferPointer { try model.setParameters($0) }
    }

    func testDataObjectives() throws {
        let specs: [TrainerSpec] = [
            .dataObjective("dsm", ["sigmas": .array([0.5, 0.2])]),
            .dataObjective("ssm", ["n_projections": .integer(2), "projection": .text("rademacher")]),
            .dataObjective("ssm", ["n_projections": .integer(1), "projection": .text("gaussian")]),
            .dataObjective("nce", ["noise_mean": .array([0.3, 0.3]), "noise_cov": .array([1, 0.2, 0.2, 1]),
                                   "noise_ratio": .integer(2)]),
            // A Langevin step this small leaves the negatives at their anchors: the loss
            // E(y⁺) − E(y⁻) is then a function of the weights alone.
            .dataObjective("drl", ["sigmas": .array([0.1, 0.3]), "n_steps": .integer(2), "step_scale": .number(1e-4)]),
        ]
        for spec in specs {
            let model = try model(), objective = try spec.objective(for: model)
            let own = objective.initialParameters.map { $0 + 0.4 }
            let (_, g) = try lossAndGradient(objective, model, own: own)
            try checkDirections(model, gradient: g, ownCount: own.count, own: own) { m, shifted in
                try self.lossAndGradient(objective, m, own: shifted).0
            }
        }
    }

    /// Recovery likelihood with a head per level (a classifier with one logit per level): the
    /// reported loss `mean E(y⁺, t) − mean E(y⁻, t)`, negatives held at their anchors by a tiny step.
    func testRecoveryLikelihoodHeads() throws {
        let spec = TrainerSpec.dataObjective("drl", ["sigmas": .array([0.1, 0.3, 0.6]), "n_steps": .integer(2),
                                                     "step_scale": .number(1e-4)])
        let model = try model(classes: 3), objective = try spec.objective(for: model)
        let (_, g) = try lossAndGradient(objective, model, own: [])
        try checkDirections(model, gradient: g) { m, _ in try self.lossAndGradient(objective, m, own: []).0 }
        // A classifier whose classes are not the levels is refused.
        XCTAssertThrowsError(try TrainerSpec.dataObjective("drl", ["sigmas": .array([0.1, 0.3]), "n_steps": .integer(2),
                                                                   "step_scale": .number(0.5)]).objective(for: model))
    }

    /// Maximum likelihood, persistent and short-run, with the energy regulariser.
    func testMaximumLikelihood() throws {
        for persistent in [true, false] {
            var spec = TrainerSpec.maximumLikelihood(steps: 3)
            spec.objectiveFields["persistent"] = .integer(persistent ? 1 : 0)
            let model = try model(), objective = try spec.objective(for: model)
            let (_, g) = try lossAndGradient(objective, model, own: [])
            let joint = (objective as! MaximumLikelihood<NetworkEnergy>).negatives.joint.array
            try checkDirections(model, gradient: g) { m, _ in
                let e = try self.energies(m, joint)
                return self.contrastive(e, alpha: 0.1)
            }
        }
    }

    /// JEM, class-conditional or not: contrastive term plus λ × the data's cross-entropy.
    func testJointEnergy() throws {
        for conditional in [false, true] {
            var spec = TrainerSpec.maximumLikelihood(steps: 3)
            spec.objective = "jem"
            spec.objectiveFields = ["cross_entropy_weight": .number(0.7), "class_conditional": .integer(conditional ? 1 : 0)]
            let model = try model(classes: 3), objective = try spec.objective(for: model)
            let (_, g) = try lossAndGradient(objective, model, own: [], labels: labels)
            let joint = (objective as! JointEnergy<NetworkEnergy>).negatives.joint.array
            try checkDirections(model, gradient: g) { m, _ in
                let f = try self.logits(m, joint, classes: 3)
                var e = [Double](), crossEntropy = 0.0
                for i in 0..<(2 * self.rows) {
                    let row = f[(3 * i)..<(3 * i + 3)], top = row.max()!
                    let lse = top + log(row.reduce(0) { $0 + exp($1 - top) })
                    e.append(-lse)
                    if i < self.rows { crossEntropy += lse - row[3 * i + Int(self.labels[i])] }
                }
                return self.contrastive(e, alpha: 0.1) + 0.7 * crossEntropy / Double(self.rows)
            }
        }
    }

    func contrastive(_ e: [Double], alpha: Double) -> Double {
        let n = Double(rows), pos = e[..<rows], neg = e[rows...]
        return (pos.reduce(0, +) - neg.reduce(0, +)) / n
            + alpha * (pos.reduce(0) { $0 + $1 * $1 } + neg.reduce(0) { $0 + $1 * $1 }) / n
    }

    func energies(_ m: NetworkEnergy, _ x: [Float]) throws -> [Double] {
        let n = x.count / m.dimension
        var out = [Float](repeating: 0, count: n)
        try x.withUnsafeBufferPointer { xs in
            try out.withUnsafeMutableBufferPointer { m.energies(xs, rows: n, into: $0, workspace: try m.makeWorkspace(capacity: n)) }
        }
        return out.map(Double.init)
    }

    func logits(_ m: NetworkEnergy, _ x: [Float], classes: Int) throws -> [Double] {
        let n = x.count / m.dimension
        var out = [Float](repeating: 0, count: n * classes)
        try x.withUnsafeBufferPointer { xs in
            try out.withUnsafeMutableBufferPointer {
                m.forwardLogits(xs.baseAddress!, rows: n, logits: $0.baseAddress!, saving: false,
                                workspace: try m.makeWorkspace(capacity: n))
            }
        }
        return out.map(Double.init)
    }
}
