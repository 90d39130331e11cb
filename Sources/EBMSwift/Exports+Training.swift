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
        out.pointee = retainedHandle(TrainerHandle(try Trainer(
            model: model, trainer: try SettingsRecord(trainer, role: "trainer"),
            optimizer: try SettingsRecord(optimizer, role: "optimizer"),
            objective: try SettingsRecord(objective, role: "objective"),
            sampler: try SettingsRecord(optional: sampler, role: "sampler"))))
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
    _ pollContext: UnsafeMutableRawPointer?, _ negatives: ebm_negatives_fn?, _ negativesContext: UnsafeMutableRawPointer?
) -> ebm_status {
    withStatus {
        let h = try object(trainer, as: TrainerHandle.self)
        let out = try nonNull(stats, "stats")
        let rows = try checkedCount(n, "n")
        let data = UnsafeBufferPointer(start: try nonNull(x, "x"), count: rows * h.trainer.dimension)
        let s = try h.lock.write {
            let polled = pollFunction(poll, pollContext)
            return try h.trainer.step(data, rows: rows, labels: labels, learningRate: lr > 0 ? Float(lr) : nil,
                                      negativeSampler: negatives.map { outsideSampler($0, negativesContext) },
                                      shouldStop: { polled(0) })
        }
        out.pointee = ebm_train_stats(
            loss: s.loss, e_data: s.dataEnergy, e_model: s.modelEnergy, grad_norm: s.gradientNorm)
    }
}

@_cdecl("ebm_trainer_state")
public func ebmTrainerState(
    _ trainer: OpaquePointer?, _ entries: UnsafeMutablePointer<ebm_state_entry>?, _ capacity: Int64,
    _ count: UnsafeMutablePointer<Int64>?
) -> ebm_status {
    withStatus {
        let h = try object(trainer, as: TrainerHandle.self)
        let out = try nonNull(count, "count")
        try require(capacity >= 0 && (capacity == 0 || entries != nil),
                    "capacity must be non-negative and entries not NULL when it is positive, got \(capacity)")
        let room = Int(capacity)
        for (i, entry) in h.state.prefix(room).enumerated() {
            let shape = entry.shape.map(Int64.init) + [0, 0]
            entries![i] = ebm_state_entry(name: UnsafePointer(h.names[i]), type: entry.element.rawValue,
                                          ndim: Int32(entry.shape.count), shape: (shape[0], shape[1]))
        }
        out.pointee = Int64(h.state.count)
    }
}

@_cdecl("ebm_trainer_get_state")
public func ebmTrainerGetState(
    _ trainer: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ values: UnsafeMutableRawPointer?, _ count: Int64
) -> ebm_status {
    withStatus {
        let h = try object(trainer, as: TrainerHandle.self)
        let entry = try h.entry(try nonNull(name, "name"), count: count)
        let out = try nonNull(values, "values")
        h.lock.read { entry.get(out) }
    }
}

@_cdecl("ebm_trainer_set_state")
public func ebmTrainerSetState(
    _ trainer: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ values: UnsafeRawPointer?, _ count: Int64
) -> ebm_status {
    withStatus {
        let h = try object(trainer, as: TrainerHandle.self)
        let entry = try h.entry(try nonNull(name, "name"), count: count)
        let v = try nonNull(values, "values")
        try h.lock.write { try entry.set(v) }
    }
}

/// The caller's negatives function as a `NegativeSampler`: segments and pointers converted, a
/// non-zero return an interruption (the caller keeps its own error).
private func outsideSampler(_ fn: @escaping ebm_negatives_fn, _ context: UnsafeMutableRawPointer?) -> NegativeSampler {
    { request in
        let segments = request.segments.map {
            ebm_negative_segment(start: Int64($0.start), count: Int64($0.count), class_index: Int64($0.classIndex ?? -1))
        }
        let status = segments.withUnsafeBufferPointer { s in
            fn(context, request.x.baseAddress, Int64(request.x.count / request.dimension), Int64(request.dimension),
               s.baseAddress, Int64(s.count), Int64(request.blockRows), Int64(request.step),
               request.parameters.baseAddress, Int64(request.parameters.count),
               request.buffers.baseAddress, Int64(request.buffers.count))
        }
        if status != 0 { throw EBMError.interrupted }
    }
}

@_cdecl("ebm_trainer_sample_negatives")
public func ebmTrainerSampleNegatives(
    _ trainer: OpaquePointer?, _ x: UnsafeMutablePointer<Float>?, _ n: Int64, _ chainOffset: Int64,
    _ classIndex: Int64, _ step: Int64, _ poll: ebm_poll_fn?, _ pollContext: UnsafeMutableRawPointer?
) -> ebm_status {
    withStatus {
        let h = try object(trainer, as: TrainerHandle.self)
        let rows = try checkedCount(n, "n")
        try require(rows > 0, "n must be positive, got \(n)")
        try require(classIndex >= -1, "class_index must be -1 (the model) or a class, got \(classIndex)")
        let chains = UnsafeMutableBufferPointer(start: try nonNull(x, "x"), count: rows * h.trainer.dimension)
        try h.lock.write {
            let polled = pollFunction(poll, pollContext)
            try h.trainer.sampleNegatives(chains, chainOffset: Int(chainOffset), classIndex: classIndex < 0 ? nil : Int(classIndex),
                                          step: Int(step), shouldStop: { polled(0) })
        }
    }
}
