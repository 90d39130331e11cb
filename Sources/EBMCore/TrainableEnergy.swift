/// An energy whose evaluations must hold a lock for reading (its parameters may change between
/// calls): trainable energies, and views of them such as `ClassEnergy`.
public protocol GuardedEnergy: EnergyFunction, AnyObject {
    /// Held for reading by evaluations, for writing by updates.
    var lock: ReadWriteLock { get }
}

/// An energy with parameters that training can move: the protocol the parameter exports of the
/// ABI and the trainer are written against. `NetworkEnergy` (an MLP is one) conforms.
///
/// Parameters live in one flat vector (`parameters`); evaluations hold `lock` for reading and
/// updates hold it for writing, and every update ends with `parametersDidChange()`.
public protocol TrainableEnergy: GuardedEnergy {
    /// The flat parameter vector.
    var parameters: FloatBuffer { get }
    /// State that is not trained but changes in training (a spectral norm's power-iteration
    /// vectors), saved with the parameters; may be empty.
    var buffers: FloatBuffer { get }
    /// `grad ← ∇w (1/rows) Σ_i E(x_i, w)`, in the flat layout.
    func parameterGradientOfMean(
        _ x: UnsafeBufferPointer<Float>, rows: Int,
        into grad: UnsafeMutableBufferPointer<Float>, workspace: Workspace)
    /// Brings any state derived from the parameters up to date (called with the write lock held).
    func parametersDidChange()
    /// Called with the write lock held at the start of every training step, before the negatives
    /// are sampled (a spectral norm's power iteration, asking `shouldStop` between iterations);
    /// the trainer restores `buffers` if the step fails or is interrupted.
    func trainingStepWillBegin(shouldStop: () -> Bool) throws
    /// Writes `E(x_i)` for `rows` rows into `energies`, keeping in `workspace` what
    /// `parameterGradient` needs: the first half of a training step's gradient pass.
    func forwardForGradient(
        _ x: UnsafePointer<Float>, rows: Int, energies: UnsafeMutablePointer<Float>, workspace: Workspace)
    /// `grad ← Σ_i c_i ∇w E(x_i)` (flat layout, overwritten) for per-row cotangents `c`, after
    /// `forwardForGradient` on the same rows and workspace.
    func parameterGradient(
        _ x: UnsafePointer<Float>, rows: Int, cotangent: UnsafePointer<Float>,
        into grad: UnsafeMutablePointer<Float>, workspace: Workspace)
    /// The jet of the energy along `x + ε v` to `order` (1 or 2; see `NetworkLayer+Jet.swift`):
    /// `jet` holds `order + 1` stacked blocks of `rows × dim` — `x`, `v` and (order 2) zeros —
    /// and `outputs` receives `order + 1` blocks of `rows` values: `E(x_i)`, `⟨∇E(x_i), v_i⟩` and
    /// `v_iᵀ ∇²E(x_i) v_i`. The workspace needs a capacity of `(order + 1) · rows`.
    func forwardJet(
        _ jet: UnsafePointer<Float>, rows: Int, order: Int, outputs: UnsafeMutablePointer<Float>, workspace: Workspace)
    /// After `forwardJet` on the same arguments and workspace: `grad ← ∇w Σ_k Σ_i c_{k,i} · outputs_{k,i}`
    /// for cotangents `c` in the layout of `outputs` (overwriting, flat layout).
    func parameterGradientOfJet(
        _ jet: UnsafePointer<Float>, rows: Int, order: Int, outputs: UnsafeMutablePointer<Float>,
        cotangents: UnsafePointer<Float>, into grad: UnsafeMutablePointer<Float>, workspace: Workspace)
}

extension TrainableEnergy {
    /// Number of parameters.
    public var parameterCount: Int { parameters.count }

    public func parametersDidChange() {}
    public func trainingStepWillBegin(shouldStop: () -> Bool) throws {}

    /// The flat vector `vector` names: the parameters or the buffers.
    public func storage(_ vector: StateVector) -> FloatBuffer {
        switch vector {
        case .parameters: parameters
        case .buffers: buffers
        }
    }

    /// Replaces every value of `vector` by `values` (in the flat layout), under the write lock.
    public func set(_ vector: StateVector, from values: UnsafeBufferPointer<Float>) throws {
        let target = storage(vector)
        try require(values.count == target.count, "expected \(target.count) \(vector.rawValue), got \(values.count)")
        lock.write {
            if let src = values.baseAddress { target.base.update(from: src, count: values.count) }
            parametersDidChange()
        }
    }

    /// Copies every value of `vector` into `values` (in the flat layout), under the read lock.
    public func copy(_ vector: StateVector, into values: UnsafeMutableBufferPointer<Float>) throws {
        let source = storage(vector)
        try require(values.count == source.count, "expected room for \(source.count) \(vector.rawValue), got \(values.count)")
        lock.read {
            if let dst = values.baseAddress { dst.update(from: source.base, count: values.count) }
        }
    }

    /// Replaces every parameter by `values` (in the flat layout), under the write lock.
    public func setParameters(_ values: UnsafeBufferPointer<Float>) throws { try set(.parameters, from: values) }

    /// Copies every parameter into `values` (in the flat layout), under the read lock.
    public func copyParameters(into values: UnsafeMutableBufferPointer<Float>) throws { try copy(.parameters, into: values) }
}

/// The two flat vectors of a trainable energy that cross the ABI.
public enum StateVector: String, Sendable {
    case parameters
    case buffers = "buffer values"
}
