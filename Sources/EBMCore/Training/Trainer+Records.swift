/// A trainer from its four records (see `ebm_trainer_create`), each read strictly, by name.
extension Trainer {
    /// - Parameters:
    ///   - trainer: `seed`, `data_noise`, `clip_grad_norm` (none or > 0), `ema_decay` (none or in (0, 1)).
    ///   - optimizer: `OptimizerSettings(record:)`.
    ///   - objective: any kind of `ObjectiveRegistry` (`ml`, `jem`, `dsm`, `ssm`, `nce`).
    ///   - sampler: the negatives' kernel record for an objective that samples them, else `nil`.
    public convenience init(model: any TrainableEnergy, trainer: SettingsRecord, optimizer: SettingsRecord,
                            objective: SettingsRecord, sampler: SettingsRecord?) throws {
        let settings = try SettingsRecord.read(trainer) { t in
            try TrainerSettings(seed: try t.bits("seed"), optimizer: try OptimizerSettings(record: optimizer),
                                dataNoise: Float(try t.number("data_noise")),
                                gradientClipNorm: try t.optionalNumber("clip_grad_norm").map(Float.init),
                                averageDecay: try t.optionalNumber("ema_decay").map(Float.init))
        }
        try self.init(model: model, settings: settings,
                  objective: try ObjectiveRegistry.objective(objective, sampler: sampler, model: model, seed: settings.seed))
    }
}

extension OptimizerSettings {
    /// Kind `adam` (`lr`, `weight_decay`, `beta1`, `beta2`, `eps`) or `sgd` (`lr`, `weight_decay`, `momentum`).
    public init(record: SettingsRecord) throws {
        self = try SettingsRecord.read(record) { r in
            let lr = Float(try r.number("lr")), decay = Float(try r.number("weight_decay"))
            let rule: Rule
            switch record.kind {
            case "adam": rule = .adam(beta1: Float(try r.number("beta1")), beta2: Float(try r.number("beta2")),
                                      epsilon: Float(try r.number("eps")))
            case "sgd": rule = .sgd(momentum: Float(try r.number("momentum")))
            default: throw EBMError.invalidArgument("unknown optimizer '\(record.kind)'; the optimizers are adam, sgd")
            }
            return try OptimizerSettings(rule: rule, learningRate: lr, weightDecay: decay)
        }
    }
}
