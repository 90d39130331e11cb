#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `y = −log Σ_k exp(z_k)`: the energy of a classifier's logits `z` read as a joint energy model
/// (Grathwohl et al. 2020), `E(x) = −logsumexp_y f(x)[y]`, so that `p(x) ∝ Σ_y exp(f(x)[y])` and
/// `p(y|x)` is the softmax. `NetworkEnergy` appends it to a classifier; it has no parameters.
///
/// With `p = softmax(z)`: `∂y/∂z = −p`. Jets (`NetworkLayer+Jet.swift`), with `m₁ = Σ p z₁`:
/// `y₁ = −m₁`, `y₂ = −(Σ p z₂ + Σ p z₁² − m₁²)` (the softmax's covariance), and in reverse
/// - `z̄₂ = −ȳ₂ p`,
/// - `z̄₁ = −ȳ₁ p − 2 ȳ₂ p (z₁ − m₁)`,
/// - `z̄₀ = −ȳ₀ p − ȳ₁ p (z₁ − m₁) − ȳ₂ [p (z₂ − a) + p (z₁² − b) − 2 m₁ p (z₁ − m₁)]`
///   for `a = Σ p z₂`, `b = Σ p z₁²`.
public final class NegativeLogSumExp: NetworkLayer {
    public let classes: Int
    public let inputShape: [Int]
    public let outputShape = [1]

    /// - Throws: `EBMError.invalidArgument` for fewer than two classes.
    public init(classes: Int) throws {
        try require(classes >= 2, "a classifier energy needs at least 2 classes, got \(classes)")
        self.classes = classes
        self.inputShape = [classes]
    }

    /// The softmax of each row.
    public func savedCount(rows: Int) -> Int { rows * classes }

    /// `p ← softmax(z)` of one row; returns `logsumexp(z)`.
    @inline(__always)
    private func softmax(_ z: UnsafePointer<Float>, into p: UnsafeMutablePointer<Float>) -> Float {
        var m = z[0]
        for k in 1..<classes { m = max(m, z[k]) }
        var s: Float = 0
        for k in 0..<classes {
            p[k] = expf(z[k] - m)
            s += p[k]
        }
        for k in 0..<classes { p[k] /= s }
        return m + logf(s)
    }

    public func forward(_ b: LayerBuffers, saving: Bool) {
        for r in 0..<b.rows {
            // Without saving, the softmax goes to this layer's scratch.
            let p = saving ? b.saved + r * classes : b.scratch
            b.output[r] = -softmax(b.input + r * classes, into: p)
        }
    }

    public func scratchCount(rows: Int) -> Int { classes }

    public func backward(
        _ b: LayerBuffers, outputCotangent dy: UnsafePointer<Float>,
        inputCotangent: UnsafeMutablePointer<Float>?, parameterGradient: UnsafeMutablePointer<Float>?
    ) {
        guard let dx = inputCotangent else { return }
        for r in 0..<b.rows {
            let p = b.saved + r * classes, d = dx + r * classes
            for k in 0..<classes { d[k] = -dy[r] * p[k] }
        }
    }

    public func forwardJet(_ b: LayerBuffers, order: Int) {
        let n = b.rows, k = classes, p = b.scratch
        for r in 0..<n {
            let z0 = b.input + r * k, z1 = b.input + (n + r) * k
            b.output[r] = -softmax(z0, into: p)
            var m1: Float = 0
            for j in 0..<k { m1 += p[j] * z1[j] }
            b.output[n + r] = -m1
            if order == 2 {
                let z2 = b.input + (2 * n + r) * k
                var a: Float = 0, second: Float = 0
                for j in 0..<k {
                    a += p[j] * z2[j]
                    second += p[j] * z1[j] * z1[j]
                }
                b.output[2 * n + r] = -(a + second - m1 * m1)
            }
        }
    }

    public func backwardJet(
        _ b: LayerBuffers, order: Int, outputCotangent dy: UnsafePointer<Float>,
        inputCotangent: UnsafeMutablePointer<Float>?, parameterGradient: UnsafeMutablePointer<Float>?
    ) {
        guard let dx = inputCotangent else { return }
        let n = b.rows, k = classes, p = b.scratch
        for r in 0..<n {
            let z0 = b.input + r * k, z1 = b.input + (n + r) * k
            _ = softmax(z0, into: p)
            var m1: Float = 0
            for j in 0..<k { m1 += p[j] * z1[j] }
            let d0 = dy[r], d1 = dy[n + r]
            let x0 = dx + r * k, x1 = dx + (n + r) * k
            if order == 2 {
                let z2 = b.input + (2 * n + r) * k, x2 = dx + (2 * n + r) * k, d2 = dy[2 * n + r]
                var a: Float = 0, second: Float = 0
                for j in 0..<k {
                    a += p[j] * z2[j]
                    second += p[j] * z1[j] * z1[j]
                }
                for j in 0..<k {
                    let c = z1[j] - m1
                    x0[j] = -d0 * p[j] - d1 * p[j] * c
                        - d2 * (p[j] * (z2[j] - a) + p[j] * (z1[j] * z1[j] - second) - 2 * m1 * p[j] * c)
                    x1[j] = -d1 * p[j] - 2 * d2 * p[j] * c
                    x2[j] = -d2 * p[j]
                }
            } else {
                for j in 0..<k {
                    x0[j] = -d0 * p[j] - d1 * p[j] * (z1[j] - m1)
                    x1[j] = -d1 * p[j]
                }
            }
        }
    }
}
