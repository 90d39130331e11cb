/// A trainable energy read from a classifier's logits `f(x)` (a joint energy model,
/// `NetworkEnergy` with `classes`): what JEM needs of its model, beyond `TrainableEnergy`.
public protocol ClassifierEnergy: TrainableEnergy {
    /// Number of classes, or `nil` for an energy of this type built without a classifier head.
    var classes: Int? { get }
    /// The logits `f(x)` (`rows × classes`); with `saving`, for `backwardLogits`.
    func forwardLogits(_ x: UnsafePointer<Float>, rows: Int, logits: UnsafeMutablePointer<Float>, saving: Bool,
                       workspace: Workspace)
    /// After `forwardLogits(saving: true)`: `grad ← Σ_i ⟨c_i, ∇w f(x_i)⟩` (overwriting) and the input
    /// gradient when asked, for per-row logit cotangents `c`.
    func backwardLogits(_ x: UnsafePointer<Float>, rows: Int, logits: UnsafeMutablePointer<Float>,
                        cotangents: UnsafePointer<Float>, parameterGradient: UnsafeMutablePointer<Float>?,
                        inputGradient: UnsafeMutablePointer<Float>?, workspace: Workspace)
    /// The class-conditional energy `E(x, y) = −f(x)[y]` of class `label`, a view sharing the
    /// parameters and the lock.
    func classEnergy(label: Int) throws -> ClassEnergy
}
