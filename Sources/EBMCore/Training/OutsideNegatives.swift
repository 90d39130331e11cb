/// A step's negatives moved outside the trainer — by replicas of it on other machines
/// (`ebm_swift.distributed.fit`) — with the very arithmetic of a local step.
///
/// The trainer draws the step's start states from its buffer as always, then hands them to a
/// `NegativeSampler` instead of moving them itself: a `NegativeRequest` with the states, the
/// segments that move on one energy (the whole batch; JEM's class-conditional buffer: one per
/// class present), the block size of the chains, the step and the model's parameters and buffers
/// at the step. A replica with those parameters runs `Trainer.sampleNegatives` on any run of
/// whole blocks of a segment, `[start + k·blockRows, …)`, with `chainOffset` its first chain: the
/// noise of chain `i` at step `t` is keyed by `(seed, step, i, t)` and its blocks have the local
/// step's shapes (`ChainBlocks`), so the moved chains are the local step's bit for bit, however
/// the blocks are spread. The trainer then checks them and computes the gradient itself.

/// Rows `[start, start + count)` of a step's chains, which move on the model's energy
/// (`classIndex == nil`) or on class `classIndex`'s (JEM with a class-conditional buffer).
public struct NegativeSegment: Sendable, Equatable {
    public let start: Int
    public let count: Int
    public let classIndex: Int?
}

/// What a step asks of an outside sampler.
public struct NegativeRequest {
    /// The start states (`rows × dimension`); the sampler overwrites them with the moved chains.
    public let x: UnsafeMutableBufferPointer<Float>
    public let dimension: Int
    /// The segments, in row order, covering every row.
    public let segments: [NegativeSegment]
    /// Chains per block: a piece of a segment must start at a multiple of it (from the segment's start).
    public let blockRows: Int
    /// The step (0-based) whose noise the chains take.
    public let step: Int
    /// The model's parameters and buffers the chains move on (valid during the call).
    public let parameters: UnsafeBufferPointer<Float>
    public let buffers: UnsafeBufferPointer<Float>
}

/// Moves a step's negatives outside the trainer; throws to fail the step (which then changes nothing).
public typealias NegativeSampler = (NegativeRequest) throws -> Void

/// An objective whose steps sample negatives, which a replica can move for it.
public protocol NegativeSampling: AnyObject {
    /// Moves chains `[chainOffset, chainOffset + x.count / dim)` of step `step`'s negatives in
    /// place, on the model (`classIndex == nil`) or on class `classIndex`'s energy.
    func sampleNegatives(_ x: UnsafeMutableBufferPointer<Float>, chainOffset: Int, classIndex: Int?, step: Int,
                         seed: UInt64, threads: Int, shouldStop: () -> Bool) throws
}

extension Negatives {
    /// The segments of the current step: one, or (class-conditional) one per class present.
    func segments(conditional: Bool) -> [NegativeSegment] {
        guard conditional else { return [NegativeSegment(start: 0, count: rows, classIndex: nil)] }
        return (0..<classEnergies.count).compactMap { c in
            let start = classStarts[c], count = classStarts[c + 1] - start
            return count > 0 ? NegativeSegment(start: start, count: count, classIndex: c) : nil
        }
    }

    /// Hands the drawn chains to `sampler` and checks what comes back.
    func sampleOutside(_ sampler: NegativeSampler, _ negatives: UnsafeMutableBufferPointer<Float>,
                       conditional: Bool, step: Int) throws {
        try sampler(NegativeRequest(
            x: negatives, dimension: model.dimension, segments: segments(conditional: conditional),
            blockRows: model.blocks(rows: rows).blockRows, step: step,
            parameters: UnsafeBufferPointer(model.parameters.all), buffers: UnsafeBufferPointer(model.buffers.all)))
        let d = model.dimension
        for i in 0..<negatives.count where !negatives[i].isFinite {
            throw EBMError.diverged(Divergence(kernel.site, .samples, step: step + 1, chain: i / d,
                "training diverged at step \(step + 1): negative \(i / d) came back from the outside sampler with a non-finite value"))
        }
    }

    /// A replica's share of a step's negatives (see `NegativeSampling`); its workspaces are kept
    /// for the next piece (block-sized, so any piece fits).
    func sample(_ x: UnsafeMutableBufferPointer<Float>, chainOffset: Int, classIndex: Int?, step: Int, seed: UInt64,
                threads: Int, shouldStop: () -> Bool) throws {
        let d = model.dimension
        try require(!x.isEmpty && x.count % d == 0, "x must hold whole rows of \(d) values, got \(x.count)")
        try require(chainOffset >= 0 && chainOffset < Int(UInt32.max), "chain_offset must be in [0, 2^32 − 1), got \(chainOffset)")
        try require(step >= 0, "step must be non-negative, got \(step)")
        let rows = x.count / d
        let noise = Philox4x32(seed: seed, purpose: Purpose.langevinNoise, index: UInt64(step))
        if let c = classIndex {
            try require(c >= 0 && c < classEnergies.count,
                        "class_index must be in [0, \(classEnergies.count)) (a class-conditional buffer's classes), got \(c)")
            let energy = classEnergies[c], blocks = energy.blocks(rows: rows)
            if (replicaClassWorkspaces[c]?.count ?? 0) < threads {
                replicaClassWorkspaces[c] = try SamplerWorkspace.perThread(energy, blocks: full(energy, threads), threads: threads)
            }
            try Sampling.run(energy, kernel: kernel, x: x, blocks: blocks, steps: settings.steps, noise: noise,
                             chainOffset: chainOffset, workspaces: replicaClassWorkspaces[c]!, poll: { _ in shouldStop() })
        } else {
            try require(classEnergies.isEmpty, "a class-conditional buffer's negatives move on a class energy: pass class_index")
            let blocks = model.blocks(rows: rows)
            if replicaWorkspaces.count < threads {
                replicaWorkspaces = try SamplerWorkspace.perThread(model, blocks: full(model, threads), threads: threads)
            }
            try Sampling.run(model, kernel: kernel, x: x, blocks: blocks, steps: settings.steps, noise: noise,
                             chainOffset: chainOffset, workspaces: replicaWorkspaces, poll: { _ in shouldStop() })
        }
    }
}

/// Blocks of `energy`'s full size, at least one per thread: workspaces made for them fit any piece.
private func full<E: EnergyFunction>(_ energy: E, _ threads: Int) -> ChainBlocks {
    energy.blocks(rows: ChainBlocks.alignment * max(1, threads))
}

extension ContrastiveObjective {
    public func sampleNegatives(_ x: UnsafeMutableBufferPointer<Float>, chainOffset: Int, classIndex: Int?, step: Int,
                                seed: UInt64, threads: Int, shouldStop: () -> Bool) throws {
        try negatives.sample(x, chainOffset: chainOffset, classIndex: classIndex, step: step, seed: seed,
                             threads: threads, shouldStop: shouldStop)
    }
}

extension Trainer {
    /// A replica's share of step `step`'s negatives, moved in place on the model as it is now (the
    /// caller sets the parameters and buffers the request carried).
    /// - Throws: `.invalidArgument` for an objective without negatives or bad arguments,
    ///   `.diverged` for a non-finite chain, `.interrupted` from `shouldStop`.
    public func sampleNegatives(_ x: UnsafeMutableBufferPointer<Float>, chainOffset: Int, classIndex: Int?, step: Int,
                                shouldStop: () -> Bool = { false }) throws {
        guard let sampling = objective as? any NegativeSampling else {
            throw EBMError.invalidArgument("this trainer's objective samples no negatives")
        }
        try model.lock.read {
            try sampling.sampleNegatives(x, chainOffset: chainOffset, classIndex: classIndex, step: step,
                                         seed: settings.seed, threads: ChainParallel.defaultThreads, shouldStop: shouldStop)
        }
    }
}
