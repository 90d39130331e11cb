import CEBMSwift
import EBMCore

// C exports of the persistent-chain trainer. See ebm_swift.h for ownership.

extension TrainerSettings {
    /// The core's settings from the C config, validated.
    init(_ c: ebm_trainer_config) throws {
        let rule: OptimizerSettings.Rule
        switch c.optimizer {
        case EBM_OPT_SGD: rule = .sgd(momentum: Float(c.beta1))
        case EBM_OPT_ADAM: rule = .adam(beta1: Float(c.beta1), beta2: Float(c.beta2), epsilon: Float(c.eps))
        default: throw EBMError.invalidArgument("unknown optimizer code \(c.optimizer)")
        }
        try self.init(
            sampler: try LangevinParameters(c.sampler),
            optimizer: try OptimizerSettings(rule: rule, learningRate: Float(c.lr),
                                             weightDecay: Float(c.weight_decay)),
            bufferSize: Int(clamping: c.buffer_size), reinitProbability: Float(c.reinit_prob),
            initLow: Float(c.init_low), initHigh: Float(c.init_high), alpha: Float(c.alpha),
            seed: c.sampler.seed)
    }
}

@_cdecl("ebm_trainer_create")
public func ebmTrainerCreate(
    _ mlp: OpaquePointer?, _ config: UnsafePointer<ebm_trainer_config>?,
    _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> ebm_status {
    withStatus {
        let out = try nonNull(out, "out")
        let model = try object(mlp, as: EnergyHandle.self).energy.mlp("ebm_trainer_create")
        let settings = try TrainerSettings(try nonNull(config, "config").pointee)
        out.pointee = retainedHandle(TrainerHandle(Trainer(model: model, settings: settings)))
    }
}

@_cdecl("ebm_trainer_destroy")
public func ebmTrainerDestroy(_ trainer: OpaquePointer?) {
    releaseHandle(trainer, as: TrainerHandle.self)
}

@_cdecl("ebm_trainer_step")
public func ebmTrainerStep(
    _ trainer: OpaquePointer?, _ x: UnsafePointer<Float>?, _ n: Int64,
    _ stats: UnsafeMutablePointer<ebm_train_stats>?, _ poll: ebm_poll_fn?,
    _ pollContext: UnsafeMutableRawPointer?
) -> ebm_status {
    withStatus {
        let h = try object(trainer, as: TrainerHandle.self)
        let out = try nonNull(stats, "stats")
        let rows = try checkedCount(n, "n")
        let data = UnsafeBufferPointer(start: try nonNull(x, "x"), count: rows * h.trainer.model.dimension)
        let s = try h.lock.write {
            let polled = pollFunction(poll, pollContext)
            return try h.trainer.step(data, rows: rows, shouldStop: { polled(0) })
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
