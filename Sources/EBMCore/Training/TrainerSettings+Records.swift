/// The trainer's settings from its four records (see `ebm_trainer_create`): each record read
/// strictly, by name.
extension TrainerSettings {
    /// - Parameters:
    ///   - trainer: `seed`, `data_noise`, `clip_grad_norm` (none or > 0), `ema_decay` (none or in (0, 1)).
    ///   - optimizer: `OptimizerSettings(record:)`.
    ///   - objective: kind `ml`/`jem` (the negatives' schedule and buffer), `dsm`, `ssm` or `nce`.
    ///   - sampler: the negatives' kernel record; `nil` for objectives without negatives.
    public init(trainer: SettingsRecord, optimizer: SettingsRecord, objective: SettingsRecord,
                sampler: SettingsRecord?, dimension: Int) throws {
        var t = trainer, o = objective
        let seed = try t.bits("seed")
        let dataNoise = Float(try t.number("data_noise"))
        let clip = try t.optionalNumber("clip_grad_norm").map(Float.init)
        let decay = try t.optionalNumber("ema_decay").map(Float.init)
        try t.finish()
        let kind = objective.kind
        let negatives = kind == "ml" || kind == "jem"
        try require(negatives == (sampler != nil),
                    negatives ? "objective '\(kind)' needs a sampler record for its negatives"
                              : "objective '\(kind)' samples no negatives: it takes no sampler record")
        var steps = 1, persistent = true, bufferSize = 1, reinit: Float = 0, low: Float = -1, high: Float = 1, alpha: Float = 0
        let goal: TrainingObjective
        if negatives {
            steps = try o.integer("n_steps")
            persistent = try o.flag("persistent")
            bufferSize = try o.integer("buffer_size")
            reinit = Float(try o.number("reinit_prob"))
            low = Float(try o.number("init_low"))
            high = Float(try o.number("init_high"))
            alpha = Float(try o.number("alpha"))
        }
        switch kind {
        case "ml":
            goal = .maximumLikelihood
        case "jem":
            let weight = try o.number("cross_entropy_weight")
            try require(weight >= 0 && weight.isFinite, "the cross-entropy weight must be non-negative and finite, got \(weight)")
            goal = .jointEnergy(crossEntropyWeight: Float(weight), classConditional: try o.flag("class_conditional"))
        case "dsm":
            goal = .denoisingScoreMatching(sigmas: try o.array("sigmas").map(Float.init))
        case "ssm":
            let projection = try o.text("projection")
            try require(projection == "rademacher" || projection == "gaussian",
                        "projection must be 'rademacher' or 'gaussian', got '\(projection)'")
            goal = .slicedScoreMatching(projections: try o.integer("n_projections"), gaussian: projection == "gaussian")
        case "nce":
            goal = .noiseContrastive(mean: try o.array("noise_mean", count: dimension),
                                     covariance: try o.array("noise_cov", count: dimension * dimension),
                                     ratio: try o.integer("noise_ratio"))
        default:
            throw EBMError.invalidArgument("unknown objective '\(kind)'; the objectives are ml, jem, dsm, ssm, nce")
        }
        try o.finish()
        let kernel = try sampler.map { try KernelRegistry.kernel($0, dimension: dimension) } ?? Langevin(stepSize: 1)
        var settings = try TrainerSettings(
            sampler: try SamplerSettings(kernel: kernel, steps: steps),
            optimizer: try OptimizerSettings(record: optimizer), bufferSize: bufferSize,
            reinitProbability: reinit, initLow: low, initHigh: high, alpha: alpha, seed: seed)
        settings.persistent = persistent
        settings.dataNoise = dataNoise
        settings.gradientClipNorm = clip
        settings.objective = goal
        settings.averageDecay = decay
        self = try settings.validated()
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
