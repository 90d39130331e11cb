/// An energy with parameters that training can move: the protocol the parameter exports of the
/// ABI (and, next, the trainer) are written against. `MLPEnergy` and `NetworkEnergy` conform.
///
/// Parameters live in one flat vector (`parameters`); evaluations hold `lock` for reading and
/// updates hold it for writing, and every update ends with `parametersDidChange()`.
public protocol TrainableEnergy: EnergyFunction, AnyObject {
    /// The flat parameter vector.
    var parameters: FloatBuffer { get }
    /// Guards `parameters` (see the type's documentation).
    var lock: ReadWriteLock { get }
    /// `grad ← ∇w (1/rows) Σ_i E(x_i, w)`, in the flat layout.
    func parameterGradientOfMean(
        _ x: UnsafeBufferPointer<Float>, rows: Int,
        into grad: UnsafeMutableBufferPointer<Float>, workspace: Workspace)
    /// Brings any state derived from the parameters up to date (called with the write lock held).
    func parametersDidChange()
    /// Writes `E(x_i)` for `rows` rows into `energies`, keeping in `workspace` what
    /// `parameterGradient` needs: the first half of a training step's gradient pass.
    func forwardForGradient(
        _ x: UnsafePointer<Float>, rows: Int, energies: UnsafeMutablePointer<Float>, workspace: Workspace)
    /// `grad ← Σ_i c_i ∇w E(x_i)` (flat layout, overwritten) for per-row cotangents `c`, after
    /// `forwardForGradient` on the same rows and workspace.
    func parameterGradient(
        _ x: UnsafePointer<Float>, rows: Int, cotangent: UnsafePointer<Float>,
        into grad: UnsafeMutablePointer<Float>, workspace: Workspace)
}

extension TrainableEnergy {
    /// Number of parameters.
    public var parameterCount: Int { parameters.count }

    public func parametersDidChange() {}

    /// Replaces every parameter by `values` (in the flat layout), under the write lock.
    public func setParameters(_ values: UnsafeBufferPointer<Float>) throws {
        try require(values.count == parameterCount, "expected \(parameterCount) parameters, got \(values.count)")
        lock.write {
            if let src = values.baseAddress { parameters.base.update(from: src, count: values.count) }
            parametersDidChange()
        }
    }

    /// Copies every parameter into `values` (in the flat layout), under the read lock.
    public func copyParameters(into values: UnsafeMutableBufferPointer<Float>) throws {
        try require(values.count == parameterCount, "expected room for \(parameterCount) parameters, got \(values.count)")
        lock.read {
            if let dst = values.baseAddress { dst.update(from: parameters.base, count: values.count) }
        }
    }
}
