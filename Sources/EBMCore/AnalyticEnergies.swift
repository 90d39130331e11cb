/// A closed-form energy evaluated row by row with no scratch memory: it implements one
/// `evaluate` that fills energies and/or gradients, and gets the `EnergyFunction` methods.
public protocol RowwiseEnergy: EnergyFunction where Workspace == Void {
    /// Writes `E(x_i)` into `energies` and `∇E(x_i)` into `gradient`, each when given.
    func evaluate(_ x: UnsafeBufferPointer<Float>, rows: Int, energies: UnsafeMutablePointer<Float>?,
                  gradient: UnsafeMutablePointer<Float>?)
}

extension RowwiseEnergy {
    /// No scratch memory.
    public func makeWorkspace(capacity: Int) {}

    /// `E(x_i)` per row.
    public func energies(_ x: UnsafeBufferPointer<Float>, rows: Int,
                         into energies: UnsafeMutableBufferPointer<Float>, workspace: Void) {
        evaluate(x, rows: rows, energies: energies.baseAddress, gradient: nil)
    }

    /// `∇E(x_i)` per row, and the energies when asked.
    public func gradients(_ x: UnsafeBufferPointer<Float>, rows: Int, energies: UnsafeMutableBufferPointer<Float>?,
                          into gradient: UnsafeMutableBufferPointer<Float>, workspace: Void) {
        evaluate(x, rows: rows, energies: energies?.baseAddress, gradient: gradient.baseAddress)
    }
}

/// A double well along the first coordinate and a standard normal in the others:
/// `E(x) = h (x₀² − 1)² + ½ Σ_{i≥1} x_i²`. Modes at `x₀ = ±1`, separated by a barrier of height `h`.
public struct DoubleWellEnergy: RowwiseEnergy, Sendable {
    /// The input dimension.
    public let dimension: Int
    /// The barrier height `h`.
    public let barrier: Float

    /// - Throws: `EBMError.invalidArgument` for a non-positive dimension or barrier.
    public init(dimension: Int, barrier: Float) throws {
        try require(dimension > 0, "dim must be positive, got \(dimension)")
        try require(barrier > 0 && barrier.isFinite, "barrier must be positive, got \(barrier)")
        self.dimension = dimension
        self.barrier = barrier
    }

    /// Energies and `∇E(x_i) = (4h x₀ (x₀² − 1), x₁, …)` of each row.
    public func evaluate(_ x: UnsafeBufferPointer<Float>, rows: Int, energies: UnsafeMutablePointer<Float>?,
                          gradient: UnsafeMutablePointer<Float>?) {
        let d = dimension
        for i in 0..<rows {
            let x0 = x[i * d], w = x0 * x0 - 1
            var e = barrier * w * w
            gradient?[i * d] = 4 * barrier * x0 * w
            for j in 1..<d {
                let v = x[i * d + j]
                e += 0.5 * v * v
                gradient?[i * d + j] = v
            }
            energies?[i] = e
        }
    }
}

/// A banana-shaped ("twisted Gaussian", Haario et al. 1999; Rosenbrock-type) density:
/// `E(x) = x₀² / (2s²) + ½ (x₁ − b (x₀² − s²))² + ½ Σ_{i≥2} x_i²`.
///
/// Closed forms: `x₀ ~ N(0, s²)`, `x₁ | x₀ ~ N(b (x₀² − s²), 1)`, so `E[x] = 0`,
/// `Var x₁ = 1 + 2 b² s⁴`, and `ln Z = (d/2) ln 2π + ln s`.
public struct BananaEnergy: RowwiseEnergy, Sendable {
    /// The input dimension (at least 2).
    public let dimension: Int
    /// The curvature `b`.
    public let curvature: Float
    /// The scale `s` of the first coordinate.
    public let scale: Float

    /// - Throws: `EBMError.invalidArgument` for `dimension < 2` or a non-positive scale.
    public init(dimension: Int, curvature: Float, scale: Float) throws {
        try require(dimension >= 2, "dim must be at least 2, got \(dimension)")
        try require(curvature.isFinite, "curvature must be finite")
        try require(scale > 0 && scale.isFinite, "scale must be positive, got \(scale)")
        self.dimension = dimension
        self.curvature = curvature
        self.scale = scale
    }

    /// Energies and gradients of each row.
    public func evaluate(_ x: UnsafeBufferPointer<Float>, rows: Int, energies: UnsafeMutablePointer<Float>?,
                          gradient: UnsafeMutablePointer<Float>?) {
        let d = dimension, b = curvature, s2 = scale * scale
        for i in 0..<rows {
            let x0 = x[i * d], x1 = x[i * d + 1]
            let r = x1 - b * (x0 * x0 - s2)
            var e = x0 * x0 / (2 * s2) + 0.5 * r * r
            // ∂E/∂x₀ = x₀/s² − 2 b x₀ r, ∂E/∂x₁ = r.
            gradient?[i * d] = x0 / s2 - 2 * b * x0 * r
            gradient?[i * d + 1] = r
            for j in 2..<d {
                let v = x[i * d + j]
                e += 0.5 * v * v
                gradient?[i * d + j] = v
            }
            energies?[i] = e
        }
    }
}
