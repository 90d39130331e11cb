import CEBMSwift
import EBMCore

// C exports of the persistent-chain trainer. See ebm_swift.h for ownership.

@_cdecl("ebm_trainer_create")
public func ebmTrainerCreate(
    _ energy: OpaquePointer?, _ trainer: UnsafePointer<ebm_record>?, _ optimizer: UnsafePointer<ebm_record>?,
    _ objective: UnsafePointer<ebm_record>?, _ sampler: UnsafePointer<ebm_record>?,
    _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> ebm_status {
    withStatus {
        let out = try nonNull(out, "out")
        let model = try object(energy, as: EnergyHandle.self).trainable("ebm_trainer_create")
        let settings = try TrainerSettings(
            trainer: try SettingsRecord(trainer, role: "trainer"), optimizer: try SettingsRecord(optimizer, role: "optimizer"),
            objective: try SettingsRecord(objective, role: "objective"),
            sampler: try SettingsRecord(optional: sampler, role: "sampler"), dimension: model.dimension)
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
