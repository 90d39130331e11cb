/// An energy `E: R^inputShape → R` computed by a network whose output is one number per sample.
///
/// The parameters live in one flat vector in the network's `parameters` order (PyTorch's
/// `state_dict` order and names). Like `MLPEnergy`, evaluations hold `lock` for reading and
/// updates hold it for writing; the core's evaluation methods do not take it themselves.
public final class NetworkEnergy {
    public let network: Sequential
    public let parameters: FloatBuffer
    /// The layers' buffers (state that is not trained, e.g. a spectral norm's `u` and `v`), in
    /// the network's `buffers` order.
    public let buffers: FloatBuffer
    public let lock = ReadWriteLock()
    /// Rows per chain block when the network samples in blocks of its own (see
    /// `NetworkEnergy+Blocking.swift`), else `nil`.
    let blockRows: Int?
    /// Rows per chunk of a batch evaluation, from the network's cost (`RowChunks.limit`).
    public let evaluationChunkRows: Int
    /// For a joint energy model (`classes` given): the classifier, whose `classes` logits `f(x)`
    /// the energy reads as `E(x) = −logsumexp f(x)`; `network` is it followed by
    /// `NegativeLogSumExp` (the same layers, so the same parameters). See `NetworkEnergy+Classes.swift`.
    public let classifier: Sequential?
    /// The names and shapes of the parameter tensors in the flat vector's order: the network's
    /// (PyTorch `state_dict` names) unless the energy's factory names them (`MLPEnergy`).
    public internal(set) var parameterTensors: [ParameterShape]
    /// The names and shapes of the buffers, in the flat buffer vector's order.
    public let bufferTensors: [ParameterShape]

    /// An energy from a network with one output per sample or, with `classes`, from a classifier
    /// ending in `classes` logits (a joint energy model).
    /// - Throws: `EBMError.invalidArgument` unless the network ends in one output per sample (or
    ///   `classes` of them); `.interrupted` when `shouldStop` (asked between the spectral norms' first power
    ///   iterations) returns `true`.
    public init(network: Sequential, seed: UInt64, classes: Int? = nil, shouldStop: () -> Bool = { false }) throws {
        if let k = classes {
            try require(network.outputShape == [k],
                        "a classifier energy with \(k) classes must end in \(k) outputs per sample, got shape \(network.outputShape)")
            classifier = network
            self.network = try Sequential(network.layers + [try NegativeLogSumExp(classes: k)])
        } else {
            try require(network.outputCount == 1,
                        "an energy network must end in one output per sample, got shape \(network.outputShape)")
            classifier = nil
            self.network = network
        }
        let network = self.network
        evaluationChunkRows = RowChunks.limit(multiplyAddsPerRow: network.multiplyAdds)
        parameterTensors = network.parameters
        bufferTensors = network.buffers
        self.parameters = try FloatBuffer(count: network.parameterCount)
        var stream = UniformStream(Philox4x32(seed: seed, purpose: Purpose.initialisation))
        network.initialise(parameters.base, &stream)
        self.buffers = try FloatBuffer(count: network.bufferCount)
        network.initialiseBuffers(buffers.base, &stream)
        // One power iteration from the random start, so that a spectral norm's σ estimates the
        // largest singular value before the first training step (a random u, v could give σ ≈ 0).
        try network.trainingStepWillBegin(parameters.base, buffers: buffers.base, shouldStop: shouldStop)
        blockRows = Self.directBlockRows(network)
        if blockRows != nil {
            for case let linear as Linear in network.layers { try linear.useTransposedWeights() }
        }
        parametersDidChange()
    }

    /// Brings the layers' derived state up to date (the caller holds the write lock, or owns the
    /// energy alone).
    public func parametersDidChange() {
        network.parametersDidChange(parameters.base, buffers: buffers.base)
    }

    public func trainingStepWillBegin(shouldStop: () -> Bool) throws {
        try network.trainingStepWillBegin(parameters.base, buffers: buffers.base, shouldStop: shouldStop)
    }

    /// `grad ← ∇w (1/rows) Σ_i E(x_i, w)` (flat layout).
    public func parameterGradientOfMean(
        _ x: UnsafeBufferPointer<Float>, rows: Int,
        into grad: UnsafeMutableBufferPointer<Float>, workspace ws: NetworkWorkspace
    ) {
        assert(x.count == rows * dimension && grad.count == parameterCount && rows > 0)
        forwardForGradient(x.baseAddress!, rows: rows, energies: ws.energies, workspace: ws)
        ws.cotangent.update(repeating: 1 / Float(rows), count: rows)
        parameterGradient(x.baseAddress!, rows: rows, cotangent: ws.cotangent, into: grad.baseAddress!, workspace: ws)
    }

    public func forwardForGradient(
        _ x: UnsafePointer<Float>, rows: Int, energies: UnsafeMutablePointer<Float>, workspace ws: NetworkWorkspace
    ) {
        network.forward(ws.buffers(x, rows: rows, parameters: parameters.base, output: energies), saving: true)
    }

    public func parameterGradient(
        _ x: UnsafePointer<Float>, rows: Int, cotangent: UnsafePointer<Float>,
        into grad: UnsafeMutablePointer<Float>, workspace ws: NetworkWorkspace
    ) {
        network.backward(ws.buffers(x, rows: rows, parameters: parameters.base), outputCotangent: cotangent,
                         inputCotangent: nil, parameterGradient: grad)
    }
}

/// Scratch memory for evaluating a `NetworkEnergy` on blocks of up to `capacity` rows.
public final class NetworkWorkspace {
    public let capacity: Int
    /// One allocation, carved into the saved region, the scratch region, `capacity` energies (when
    /// the caller does not want them) and `capacity` cotangents.
    private let storage: FloatBuffer
    let saved: UnsafeMutablePointer<Float>
    let scratch: UnsafeMutablePointer<Float>
    let energies: UnsafeMutablePointer<Float>
    let cotangent: UnsafeMutablePointer<Float>

    init(network: Sequential, capacity: Int) throws {
        self.capacity = capacity
        let savedCount = network.savedCount(rows: capacity), scratchCount = network.scratchCount(rows: capacity)
        storage = try FloatBuffer(count: savedCount + scratchCount + 2 * capacity,
                                  for: "the network's workspace for \(capacity) rows")
        saved = storage.base
        scratch = storage.base + savedCount
        energies = scratch + scratchCount
        cotangent = energies + capacity
    }

    func buffers(_ x: UnsafePointer<Float>, rows: Int, parameters: UnsafePointer<Float>,
                 output: UnsafeMutablePointer<Float>? = nil) -> LayerBuffers {
        precondition(rows <= capacity, "workspace too small")
        return LayerBuffers(rows: rows, input: x, output: output ?? energies, parameters: parameters,
                            saved: saved, scratch: scratch)
    }
}

extension NetworkEnergy: TrainableEnergy {
    public var dimension: Int { network.inputCount }

    public func makeWorkspace(capacity: Int) throws -> NetworkWorkspace {
        try NetworkWorkspace(network: network, capacity: capacity)
    }

    public func energies(
        _ x: UnsafeBufferPointer<Float>, rows: Int,
        into energies: UnsafeMutableBufferPointer<Float>, workspace ws: NetworkWorkspace
    ) {
        assert(x.count == rows * dimension && energies.count == rows)
        network.forward(ws.buffers(x.baseAddress!, rows: rows, parameters: parameters.base, output: energies.baseAddress!),
                        saving: false)
    }

    public func gradients(
        _ x: UnsafeBufferPointer<Float>, rows: Int,
        energies: UnsafeMutableBufferPointer<Float>?,
        into gradient: UnsafeMutableBufferPointer<Float>, workspace ws: NetworkWorkspace
    ) {
        assert(x.count == rows * dimension && gradient.count == rows * dimension)
        let b = ws.buffers(x.baseAddress!, rows: rows, parameters: parameters.base, output: energies?.baseAddress)
        network.forward(b, saving: true)
        ws.cotangent.update(repeating: 1, count: rows)
        network.backward(b, outputCotangent: ws.cotangent, inputCotangent: gradient.baseAddress, parameterGradient: nil)
    }
}
