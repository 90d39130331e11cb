import CEBMSwift
import EBMCore

// C exports of the persistent-chain trainer. See ebm_swift.h for ownership.

extension TrainerSettings {
    /// The core's settings from the C config, validated.
    init(_ c: ebm_trainer_config, dimension: Int) throws {
        let rule: OptimizerSettings.Rule
        switch c.optimizer {
        case EBM_OPT_SGD: rule = .sgd(momentum: Float(c.beta1))
        case EBM_OPT_ADAM: rule = .adam(beta1: Float(c.beta1), beta2: Float(c.beta2), epsilon: Float(c.eps))
        default: throw EBMError.invalidArgument("unknown optimizer code \(c.optimizer)")
        }
        var settings = try TrainerSettings(
            sampler: try SamplerSettings(c.sampler, dimension: dimension),
            optimizer: try OptimizerSettings(rule: rule, learningRate: Float(c.lr),
                                             weightDecay: Float(c.weight_decay)),
            bufferSize: Int(clamping: c.buffer_size), reinitProbability: Float(c.reinit_prob),
            initLow: Float(c.init_low), initHigh: Float(c.init_high), alpha: Float(c.alpha),
            seed: c.sampler.seed)
        settings.persistent = c.persistent != 0
        settings.dataNoise = Float(c.data_noise)
        settings.gradientClipNorm = c.clip_grad_norm > 0 ? Float(c.clip_grad_norm) : nil
        settings.objective = try TrainingObjective(c, dimension: dimension)
        settings.averageDecay = c.ema_decay != 0 ? Float(c.ema_decay) : nil
        self = try settings.validated()
    }
}

extension TrainingObjective {
    /// The objective of the C config (its arrays read here).
    init(_ c: ebm_trainer_config, dimension: Int) throws {
        switch c.objective {
        case EBM_OBJECTIVE_ML:
            self = .maximumLikelihood
        case EBM_OBJECTIVE_DSM:
            let sigmas = UnsafeBufferPointer(start: try nonNull(c.sigmas, "sigmas"), count: try checkedCount(c.n_sigmas, "n_sigmas"))
            self = .denoisingScoreMatching(sigmas: sigmas.map { Float($0) })
        case EBM_OBJECTIVE_SSM:
            guard c.projection == EBM_PROJECTION_RADEMACHER || c.projection == EBM_PROJECTION_GAUSSIAN else {
                throw EBMError.invalidArgument("unknown projection code \(c.projection)")
            }
            self = .slicedScoreMatching(projections: Int(clamping: c.n_projections), gaussian: c.projection == EBM_PROJECTION_GAUSSIAN)
        case EBM_OBJECTIVE_JEM:
            try require(c.cross_entropy_weight >= 0 && c.cross_entropy_weight.isFinite,
                        "the cross-entropy weight must be non-negative and finite, got \(c.cross_entropy_weight)")
            self = .jointEnergy(crossEntropyWeight: Float(c.cross_entropy_weight), classConditional: c.class_conditional != 0)
        case EBM_OBJECTIVE_NCE:
            let d = dimension
            self = .noiseContrastive(
                mean: Array(UnsafeBufferPointer(start: try nonNull(c.noise_mean, "noise_mean"), count: d)),
                covariance: Array(UnsafeBufferPointer(start: try nonNull(c.noise_cov, "noise_cov"), count: d * d)),
                ratio: Int(clamping: c.noise_ratio))
        default:
            throw EBMError.invalidArgument("unknown objective code \(c.objective)")
        }
    }
}

@_cdecl("ebm_trainer_create")
public func ebmTrainerCreate(
    _ energy: OpaquePointer?, _ config: UnsafePointer<ebm_trainer_config>?,
    _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> ebm_status {
    withStatus {
        let out = try nonNull(out, "out")
        let model = try object(energy, as: EnergyHandle.self).trainable("ebm_trainer_create")
        let settings = try TrainerSettings(try nonNull(config, "config").pointee, dimension: model.dimension)
        out.pointee = retainedHandle(TrainerHandle(try makeTrainer(model: model, settings: settings)))
    }
}

@_cdecl("ebm_trainer_destroy")
public func ebmTrainerDestroy(_ trainer: OpaquePointer?) {
    releaseHandle(trainer, as: TrainerHandle.self)
}

@_cdecl("ebm_trainer_step")
public func ebmTrainerStep(
    _ trainer: OpaquePointer?, _ x: UnsafePointer<Float>?, _ n: Int64, _ labels: UnsafePointer<Int32>?, _ lr: Double,
    _ stats: UnsafeMutablePointer<ebm_train_stats>?, _ poll: ebm_poll_fn?,
    _ pollContext: UnsafeMutableRawPointer?
) -> ebm_status {
    withStatus {
        let h = try object(trainer, as: TrainerHandle.self)
        let out = try nonNull(stats, "stats")
        let rows = try checkedCount(n, "n")
        let data = UnsafeBufferPointer(start: try nonNull(x, "x"), count: rows * h.trainer.dimension)
        let s = try h.lock.write {
            let polled = pollFunction(poll, pollContext)
            return try h.trainer.step(data, rows: rows, labels: labels, learningRate: lr > 0 ? Float(lr) : nil,
                                      shouldStop: { polled(0) })
        }
        out.pointee = ebm_train_stats(
            loss: s.loss, e_data: s.dataEnergy, e_model: s.modelEnergy, grad_norm: s.gradientNorm)
    }
}

@_cdecl("ebm_trainer_buffer_size")
public func ebmTrainerBufferSize(_ trainer: OpaquePointer?, _ out: UnsafeMutablePointer<Int64>?) -> ebm_status {
    withStatus {
        try nonNull(out, "out").pointee = Int64(try object(trainer, as: TrainerHandle.self).trainer.buffer.capacity)
    }
}

@_cdecl("ebm_trainer_get_buffer")
public func ebmTrainerGetBuffer(
    _ trainer: OpaquePointer?, _ buffer: UnsafeMutablePointer<Float>?, _ count: Int64
) -> ebm_status {
    withStatus {
        let h = try object(trainer, as: TrainerHandle.self)
        let out = try nonNull(buffer, "buffer")
        let states = h.trainer.buffer.states
        guard count == Int64(states.count) else {
            throw EBMError.invalidArgument("count must be \(states.count), got \(count)")
        }
        h.lock.read { out.update(from: states.base, count: states.count) }
    }
}

@_cdecl("ebm_trainer_step_count")
public func ebmTrainerStepCount(_ trainer: OpaquePointer?, _ out: UnsafeMutablePointer<Int64>?) -> ebm_status {
    withStatus {
        let h = try object(trainer, as: TrainerHandle.self)
        try nonNull(out, "out").pointee = Int64(h.lock.read { h.trainer.stepCount })
    }
}

@_cdecl("ebm_trainer_get_state")
public func ebmTrainerGetState(
    _ trainer: OpaquePointer?, _ first: UnsafeMutablePointer<Float>?, _ second: UnsafeMutablePointer<Float>?,
    _ nParams: Int64, _ buffer: UnsafeMutablePointer<Float>?, _ nBuffer: Int64,
    _ permutation: UnsafeMutablePointer<Int64>?, _ bufferSize: Int64,
    _ stepCount: UnsafeMutablePointer<Int64>?, _ updates: UnsafeMutablePointer<Int64>?
) -> ebm_status {
    withStatus {
        let h = try object(trainer, as: TrainerHandle.self)
        let t = h.trainer
        let p = t.parameterCount, states = t.buffer.states
        guard nParams == Int64(p), nBuffer == Int64(states.count), bufferSize == Int64(t.buffer.capacity) else {
            throw EBMError.invalidArgument("state sizes must be \(p) parameters, \(states.count) buffer values, \(t.buffer.capacity) chains")
        }
        let m = try nonNull(first, "first_moment"), v = try nonNull(second, "second_moment")
        let b = try nonNull(buffer, "buffer"), order = try nonNull(permutation, "permutation")
        let steps = try nonNull(stepCount, "step_count"), count = try nonNull(updates, "updates")
        h.lock.read {
            m.update(from: t.optimizer.firstMoment.base, count: p)
            v.update(from: t.optimizer.secondMoment.base, count: p)
            b.update(from: states.base, count: states.count)
            t.buffer.copyPermutation(into: UnsafeMutableBufferPointer(start: order, count: t.buffer.capacity))
            steps.pointee = Int64(t.stepCount)
            count.pointee = Int64(t.optimizer.updates)
        }
    }
}

@_cdecl("ebm_trainer_set_state")
public func ebmTrainerSetState(
    _ trainer: OpaquePointer?, _ first: UnsafePointer<Float>?, _ second: UnsafePointer<Float>?,
    _ nParams: Int64, _ buffer: UnsafePointer<Float>?, _ nBuffer: Int64,
    _ permutation: UnsafePointer<Int64>?, _ bufferSize: Int64, _ stepCount: Int64, _ updates: Int64
) -> ebm_status {
    withStatus {
        let h = try object(trainer, as: TrainerHandle.self)
        let p = try checkedCount(nParams, "n_params"), nb = try checkedCount(nBuffer, "n_buffer")
        let chains = try checkedCount(bufferSize, "buffer_size")
        try h.lock.write {
            try h.trainer.restore(
                stepCount: Int(stepCount), updates: Int(updates),
                firstMoment: UnsafeBufferPointer(start: try nonNull(first, "first_moment"), count: p),
                secondMoment: UnsafeBufferPointer(start: try nonNull(second, "second_moment"), count: p),
                bufferStates: UnsafeBufferPointer(start: try nonNull(buffer, "buffer"), count: nb),
                permutation: UnsafeBufferPointer(start: try nonNull(permutation, "permutation"), count: chains))
        }
    }
}

@_cdecl("ebm_trainer_num_objective_parameters")
public func ebmTrainerNumObjectiveParameters(_ trainer: OpaquePointer?, _ out: UnsafeMutablePointer<Int64>?) -> ebm_status {
    withStatus {
        try nonNull(out, "out").pointee = Int64(try object(trainer, as: TrainerHandle.self).trainer.objectiveParameters.count)
    }
}

@_cdecl("ebm_trainer_get_objective_state")
public func ebmTrainerGetObjectiveState(_ trainer: OpaquePointer?, _ state: UnsafeMutablePointer<Float>?, _ count: Int64) -> ebm_status {
    withStatus {
        let h = try object(trainer, as: TrainerHandle.self)
        let out = UnsafeMutableBufferPointer(start: try nonNull(state, "state"), count: try checkedCount(count, "count"))
        try h.lock.read { try h.trainer.copyObjectiveState(into: out) }
    }
}

@_cdecl("ebm_trainer_set_objective_state")
public func ebmTrainerSetObjectiveState(_ trainer: OpaquePointer?, _ state: UnsafePointer<Float>?, _ count: Int64) -> ebm_status {
    withStatus {
        let h = try object(trainer, as: TrainerHandle.self)
        let values = UnsafeBufferPointer(start: try nonNull(state, "state"), count: try checkedCount(count, "count"))
        try h.lock.write { try h.trainer.restoreObjectiveState(values) }
    }
}

@_cdecl("ebm_trainer_get_averaged_parameters")
public func ebmTrainerGetAveragedParameters(_ trainer: OpaquePointer?, _ values: UnsafeMutablePointer<Float>?, _ count: Int64) -> ebm_status {
    withStatus {
        let h = try object(trainer, as: TrainerHandle.self)
        let out = try nonNull(values, "values"), n = try checkedCount(count, "count")
        try h.lock.read {
            let average = h.trainer.averagedParameters
            try require(average.count > 0, "this trainer keeps no average of the parameters (ema_decay)")
            try require(n == average.count, "count must be \(average.count), got \(n)")
            out.update(from: average.base, count: n)
        }
    }
}

@_cdecl("ebm_trainer_set_averaged_parameters")
public func ebmTrainerSetAveragedParameters(_ trainer: OpaquePointer?, _ values: UnsafePointer<Float>?, _ count: Int64) -> ebm_status {
    withStatus {
        let h = try object(trainer, as: TrainerHandle.self)
        let v = UnsafeBufferPointer(start: try nonNull(values, "values"), count: try checkedCount(count, "count"))
        try h.lock.write {
            try require(h.trainer.averagedParameters.count > 0, "this trainer keeps no average of the parameters (ema_decay)")
            try h.trainer.restoreAveragedParameters(v)
        }
    }
}
