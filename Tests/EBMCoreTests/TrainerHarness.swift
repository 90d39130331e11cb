@testable import EBMCore

/// A trainer as the tests write it: the four records the ABI passes, filled with defaults that a
/// test overrides by name.
struct TrainerSpec {
    var objective = "ml"
    var objectiveFields: [String: SettingValue] = [:]
    var sampler: SamplerSpec? = .langevin(steps: 5, stepSize: 0.01)
    var seed: UInt64 = 1
    var learningRate: Float = 1e-3
    var bufferSize = 64
    var alpha: Float = 0.1

    /// Maximum likelihood with `steps` Langevin steps per training step.
    static func maximumLikelihood(seed: UInt64 = 1, lr: Float = 1e-3, steps: Int = 5, bufferSize: Int = 64) -> TrainerSpec {
        TrainerSpec(sampler: .langevin(steps: steps, stepSize: 0.01), seed: seed, learningRate: lr, bufferSize: bufferSize)
    }

    /// An objective without negatives (`dsm`, `ssm`, `nce`) and its fields.
    static func dataObjective(_ kind: String, _ fields: [String: SettingValue]) -> TrainerSpec {
        TrainerSpec(objective: kind, objectiveFields: fields, sampler: nil)
    }

    var samplesNegatives: Bool { sampler != nil }

    var objectiveRecord: SettingsRecord {
        var f = objectiveFields
        if let s = sampler {
            let defaults: [String: SettingValue] = [
                "n_steps": .integer(Int64(s.steps)), "persistent": .integer(1), "buffer_size": .integer(Int64(bufferSize)),
                "reinit_prob": .number(0.05), "init_low": .number(-2), "init_high": .number(2), "alpha": .number(Double(alpha)),
            ]
            f.merge(defaults) { given, _ in given }
        }
        return SettingsRecord(role: "objective", kind: objective, fields: f)
    }

    func objective(for model: any TrainableEnergy) throws -> any TrainingObjective {
        try ObjectiveRegistry.objective(objectiveRecord, sampler: sampler?.record, model: model, seed: seed)
    }

    func trainer(for model: any TrainableEnergy) throws -> Trainer {
        let trainer = SettingsRecord(role: "trainer", fields: [
            "seed": .integer(Int64(seed)), "data_noise": .number(0), "clip_grad_norm": .none, "ema_decay": .none])
        let optimizer = SettingsRecord(role: "optimizer", kind: "adam", fields: [
            "lr": .number(Double(learningRate)), "weight_decay": .number(0), "beta1": .number(0),
            "beta2": .number(0.999), "eps": .number(1e-8)])
        return try Trainer(model: model, trainer: trainer, optimizer: optimizer, objective: objectiveRecord,
                           sampler: sampler?.record)
    }
}

extension Trainer {
    /// The replay buffer of a maximum-likelihood trainer's objective.
    var replayBuffer: ReplayBuffer {
        (objective as! MaximumLikelihood<NetworkEnergy>).negatives.buffer
    }
}
