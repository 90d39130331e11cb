#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// First-order optimisers over a flat parameter vector, with PyTorch's update rules so that
/// hyperparameters carry over from `torch.optim`.
public struct OptimizerSettings: Sendable {
    /// The update rule.
    public enum Rule: Sendable, Equatable {
        /// `b ← μ b + g`, `w ← w − lr b` (`torch.optim.SGD`; `μ = 0` is plain SGD).
        case sgd(momentum: Float)
        /// Kingma & Ba (2015) with bias correction (`torch.optim.Adam`).
        case adam(beta1: Float, beta2: Float, epsilon: Float)
    }

    /// The update rule.
    public var rule: Rule
    /// Learning rate.
    public var learningRate: Float
    /// L2 penalty added to the gradient: `g ← g + λ w`.
    public var weightDecay: Float

    /// Validated settings.
    /// - Throws: `EBMError.invalidArgument` naming the offending setting.
    public init(rule: Rule, learningRate: Float, weightDecay: Float = 0) throws {
        try require(learningRate > 0 && learningRate.isFinite, "lr must be positive and finite, got \(learningRate)")
        try require(weightDecay >= 0 && weightDecay.isFinite, "weight_decay must be non-negative, got \(weightDecay)")
        switch rule {
        case .sgd(let momentum):
            try require(momentum >= 0 && momentum < 1, "momentum must be in [0, 1), got \(momentum)")
        case .adam(let b1, let b2, let eps):
            try require(b1 >= 0 && b1 < 1, "betas[0] must be in [0, 1), got \(b1)")
            try require(b2 >= 0 && b2 < 1, "betas[1] must be in [0, 1), got \(b2)")
            try require(eps > 0 && eps.isFinite, "eps must be positive, got \(eps)")
        }
        self.rule = rule
        self.learningRate = learningRate
        self.weightDecay = weightDecay
    }
}

/// An optimiser's state for `count` parameters: the first (and for Adam second) moment and the
/// number of updates taken.
public final class Optimizer {
    /// The settings.
    public let settings: OptimizerSettings
    /// First moment (Adam) or momentum buffer (SGD).
    public let firstMoment: FloatBuffer
    /// Second moment (Adam only; unused by SGD).
    public let secondMoment: FloatBuffer
    /// Updates taken.
    public internal(set) var updates: Int = 0

    /// Zeroed state for `count` parameters.
    public init(_ settings: OptimizerSettings, count: Int) throws {
        self.settings = settings
        firstMoment = try FloatBuffer(count: count)
        secondMoment = try FloatBuffer(count: count)
    }

    /// One update of `parameters` along `gradient` (descent), with the settings' learning rate
    /// or `learningRate` (a schedule's value for this step).
    public func update(_ parameters: UnsafeMutableBufferPointer<Float>,
                       gradient: UnsafeBufferPointer<Float>, learningRate: Float? = nil) {
        precondition(parameters.count == gradient.count && parameters.count == firstMoment.count)
        updates += 1
        let lr = learningRate ?? settings.learningRate, wd = settings.weightDecay
        let m = firstMoment.base, v = secondMoment.base
        switch settings.rule {
        case .sgd(let momentum):
            for i in 0..<parameters.count {
                let g = gradient[i] + wd * parameters[i]
                m[i] = momentum * m[i] + g
                parameters[i] -= lr * m[i]
            }
        case .adam(let b1, let b2, let eps):
            // Bias corrections 1 − β^t in double: β^t underflows gracefully and t can be large.
            let t = Double(updates)
            let c1 = Float(1 - pow(Double(b1), t)), c2 = Float(1 - pow(Double(b2), t))
            let c2Root = c2.squareRoot()
            // w ← w − lr · (m / c1) / (sqrt(v / c2) + eps), as torch.optim.Adam; 16 lanes at a
            // time (the hardware square root is out of reach of Swift's SIMD types, which take
            // it lane by lane through libm; `VectorMath.squareRoot` is within an ulp, and exact at 0).
            typealias V = VectorMath.V
            let w = parameters.baseAddress!, gr = gradient.baseAddress!
            let n = parameters.count, lanes = V.scalarCount
            let step = lr / c1, scale = 1 / c2Root
            var i = 0
            while i + lanes <= n {
                let wi = UnsafeRawPointer(w + i).loadUnaligned(as: V.self)
                let g = UnsafeRawPointer(gr + i).loadUnaligned(as: V.self).multiplyAdd(wi, wd)
                let mi = (UnsafeRawPointer(m + i).loadUnaligned(as: V.self) * b1).multiplyAdd(g, 1 - b1)
                let vi = (UnsafeRawPointer(v + i).loadUnaligned(as: V.self) * b2).multiplyAdd(g * g, 1 - b2)
                UnsafeMutableRawPointer(m + i).storeBytes(of: mi, as: V.self)
                UnsafeMutableRawPointer(v + i).storeBytes(of: vi, as: V.self)
                let denominator = V(repeating: eps).multiplyAdd(VectorMath.squareRoot(vi), scale)
                UnsafeMutableRawPointer(w + i).storeBytes(of: wi - step * mi / denominator, as: V.self)
                i += lanes
            }
            while i < n {
                let g = gradient[i] + wd * parameters[i]
                m[i] = b1 * m[i] + (1 - b1) * g
                v[i] = b2 * v[i] + (1 - b2) * g * g
                parameters[i] -= step * m[i] / (v[i].squareRoot() * scale + eps)
                i += 1
            }
        }
    }
}
