/// Joint energy models (Grathwohl et al. 2020): a classifier `f` with `K` logits read as an energy,
/// `E(x) = −logsumexp_y f(x)[y]` (`p(x)`), `E(x, y) = −f(x)[y]` (`p(x, y)`), and
/// `p(y|x) = softmax f(x)`. The energy's `network` ends in `NegativeLogSumExp`; these passes run
/// its `classifier` (the same layers and parameters without it).
extension NetworkEnergy: ClassifierEnergy {
    public func classEnergy(label: Int) throws -> ClassEnergy { try ClassEnergy(self, label: label) }

    /// Number of classes, or `nil` for an energy that is not a classifier.
    public var classes: Int? { classifier.map(\.outputCount) }

    /// The classifier's buffers for `rows` rows writing `rows × K` logits to `logits` (the
    /// energy's workspace serves: the classifier's layers are the energy's but the last).
    private func classifierBuffers(_ x: UnsafePointer<Float>, rows: Int, logits: UnsafeMutablePointer<Float>,
                                   _ ws: NetworkWorkspace) -> LayerBuffers {
        precondition(rows <= ws.capacity, "workspace too small")
        return LayerBuffers(rows: rows, input: x, output: logits, parameters: parameters.base, saved: ws.saved,
                            scratch: ws.scratch)
    }

    /// `logits ← f(x)` (`rows × K`); with `saving`, keeps what `parameterGradientOfLogits` needs.
    public func forwardLogits(_ x: UnsafePointer<Float>, rows: Int, logits: UnsafeMutablePointer<Float>,
                              saving: Bool, workspace ws: NetworkWorkspace) {
        classifier!.forward(classifierBuffers(x, rows: rows, logits: logits, ws), saving: saving)
    }

    /// After `forwardLogits(saving: true)` on the same rows and workspace: `grad ← Σ_i ⟨c_i, ∇w f(x_i)⟩`
    /// for per-row logit cotangents `c` (`rows × K`; overwriting, flat layout), and the input
    /// gradient `Σ_k c_ik ∇x f(x_i)[k]` when `inputGradient` is given.
    public func backwardLogits(_ x: UnsafePointer<Float>, rows: Int, logits: UnsafeMutablePointer<Float>,
                               cotangents: UnsafePointer<Float>, parameterGradient: UnsafeMutablePointer<Float>?,
                               inputGradient: UnsafeMutablePointer<Float>?, workspace ws: NetworkWorkspace) {
        classifier!.backward(classifierBuffers(x, rows: rows, logits: logits, ws), outputCotangent: cotangents,
                             inputCotangent: inputGradient, parameterGradient: parameterGradient)
    }
}

/// The class-conditional energy `E(x, y) = −f(x)[y]` of a joint energy model for one class `y`:
/// `exp(−E(x, y)) ∝ p(x, y)`, whose samples are the model's images of class `y`. A view: it
/// evaluates its parent's parameters under its parent's lock.
public final class ClassEnergy: GuardedEnergy {
    public let parent: NetworkEnergy
    public let label: Int

    /// - Throws: `EBMError.invalidArgument` unless `parent` is a classifier energy and `label` one of its classes.
    public init(_ parent: NetworkEnergy, label: Int) throws {
        guard let k = parent.classes else { throw EBMError.invalidArgument("the energy has no classes") }
        try require(label >= 0 && label < k, "the class must be in [0, \(k)), got \(label)")
        self.parent = parent
        self.label = label
    }

    public var lock: ReadWriteLock { parent.lock }
    public var dimension: Int { parent.dimension }
    public func blocks(rows: Int) -> ChainBlocks { parent.blocks(rows: rows) }
    public var evaluationChunkRows: Int { parent.evaluationChunkRows }

    /// The parent's workspace, then `capacity × K` logits and their cotangents.
    public final class Workspace {
        let network: NetworkWorkspace
        let logits: FloatBuffer, cotangents: FloatBuffer
        init(_ energy: ClassEnergy, capacity: Int) throws {
            network = try energy.parent.makeWorkspace(capacity: capacity)
            let k = energy.parent.classes!
            logits = try FloatBuffer(count: capacity * k, for: "the class logits of a block (rows × n_classes)")
            cotangents = try FloatBuffer(count: capacity * k, for: "the class cotangents of a block (rows × n_classes)")
        }
    }

    public func makeWorkspace(capacity: Int) throws -> Workspace { try Workspace(self, capacity: capacity) }

    public func energies(_ x: UnsafeBufferPointer<Float>, rows: Int, into energies: UnsafeMutableBufferPointer<Float>,
                         workspace ws: Workspace) {
        let k = parent.classes!
        parent.forwardLogits(x.baseAddress!, rows: rows, logits: ws.logits.base, saving: false, workspace: ws.network)
        for i in 0..<rows { energies[i] = -ws.logits.base[i * k + label] }
    }

    public func gradients(_ x: UnsafeBufferPointer<Float>, rows: Int, energies: UnsafeMutableBufferPointer<Float>?,
                          into gradient: UnsafeMutableBufferPointer<Float>, workspace ws: Workspace) {
        let k = parent.classes!, c = ws.cotangents.base
        parent.forwardLogits(x.baseAddress!, rows: rows, logits: ws.logits.base, saving: true, workspace: ws.network)
        c.update(repeating: 0, count: rows * k)
        for i in 0..<rows {
            c[i * k + label] = -1
            energies?[i] = -ws.logits.base[i * k + label]
        }
        parent.backwardLogits(x.baseAddress!, rows: rows, logits: ws.logits.base, cotangents: c, parameterGradient: nil,
                              inputGradient: gradient.baseAddress!, workspace: ws.network)
    }
}
