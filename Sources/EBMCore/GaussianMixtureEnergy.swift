#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The negative log density of a Gaussian mixture, `E(x) = −ln Σ_k w_k N(x; μ_k, Σ_k)`, so that
/// `exp(−E)` is the mixture itself and `Z = 1` (`ln Z = 0`).
///
/// `∇E(x) = Σ_k r_k(x) Σ_k⁻¹ (x − μ_k)` with responsibilities `r_k ∝ w_k N(x; μ_k, Σ_k)`.
public final class GaussianMixtureEnergy {
    /// The input dimension.
    public let dimension: Int
    /// The components as quadratic energies `½ (x − μ_k)ᵀ Σ_k⁻¹ (x − μ_k)`.
    public let components: [GaussianEnergy]
    /// `ln w_k − ln Z_k`: each component's log weight over its normaliser.
    let logScales: [Double]

    /// A mixture of `weights.count` components with the given means (`k × d`) and covariances
    /// (`k × d × d`), both row-major.
    /// - Throws: `EBMError.invalidArgument` for mismatched sizes, weights that are not positive
    ///   and summing to one (to 1e-6), or a covariance that is not symmetric positive definite.
    public init(means: [Double], covariances: [Double], weights: [Double]) throws {
        let k = weights.count
        try require(k > 0, "weights must have at least one component")
        try require(means.count % k == 0 && means.count > 0, "means must be (k, d) with k = \(k)")
        let d = means.count / k
        try require(covariances.count == k * d * d, "covs must be (\(k), \(d), \(d)), got \(covariances.count) values")
        try require(weights.allSatisfy { $0 > 0 && $0.isFinite }, "weights must be positive")
        try require(abs(weights.reduce(0, +) - 1) <= 1e-6, "weights must sum to one, got \(weights.reduce(0, +))")
        var components: [GaussianEnergy] = []
        for c in 0..<k {
            components.append(try GaussianEnergy(mean: Array(means[(c * d)..<((c + 1) * d)]),
                                                 covariance: Array(covariances[(c * d * d)..<((c + 1) * d * d)])))
        }
        dimension = d
        self.components = components
        logScales = zip(weights, components).map { log($0) - $1.logPartition }
    }
}

/// Scratch memory for `GaussianMixtureEnergy`: one Gaussian workspace per component, and the
/// per-row log terms.
public final class GaussianMixtureWorkspace {
    let gaussians: [GaussianWorkspace]
    let quadratic: FloatBuffer  // capacity × k: ½ dᵀ P d per component
    let gradients: FloatBuffer  // capacity × d per component, concatenated

    init(_ mixture: GaussianMixtureEnergy, capacity: Int) throws {
        gaussians = try mixture.components.map { try $0.makeWorkspace(capacity: capacity) }
        quadratic = try FloatBuffer(count: capacity * mixture.components.count)
        gradients = try FloatBuffer(count: capacity * mixture.dimension * mixture.components.count)
    }
}

extension GaussianMixtureEnergy: EnergyFunction {
    /// Scratch memory for batches of at most `capacity` rows.
    public func makeWorkspace(capacity: Int) throws -> GaussianMixtureWorkspace {
        try GaussianMixtureWorkspace(self, capacity: capacity)
    }

    /// `E(x_i)` per row.
    public func energies(
        _ x: UnsafeBufferPointer<Float>, rows: Int,
        into energies: UnsafeMutableBufferPointer<Float>, workspace ws: GaussianMixtureWorkspace
    ) {
        evaluate(x, rows: rows, energies: energies.baseAddress!, gradient: nil, ws)
    }

    /// `∇E(x_i)` per row, and the energies when asked.
    public func gradients(
        _ x: UnsafeBufferPointer<Float>, rows: Int, energies: UnsafeMutableBufferPointer<Float>?,
        into gradient: UnsafeMutableBufferPointer<Float>, workspace ws: GaussianMixtureWorkspace
    ) {
        evaluate(x, rows: rows, energies: energies?.baseAddress, gradient: gradient.baseAddress!, ws)
    }

    /// Log-sum-exp over components of `ln w_k − ln Z_k − q_k(x)`, shifted by the maximum term.
    private func evaluate(
        _ x: UnsafeBufferPointer<Float>, rows: Int, energies: UnsafeMutablePointer<Float>?,
        gradient: UnsafeMutablePointer<Float>?, _ ws: GaussianMixtureWorkspace
    ) {
        let k = components.count, d = dimension
        let q = ws.quadratic.base, gk = ws.gradients.base
        for c in 0..<k {
            components[c].evaluate(x, rows: rows, energies: q + c * rows, gradient: gk + c * rows * d, ws.gaussians[c])
        }
        for i in 0..<rows {
            var top = -Double.infinity
            for c in 0..<k { top = max(top, logScales[c] - Double(q[c * rows + i])) }
            var sum = 0.0
            for c in 0..<k { sum += exp(logScales[c] - Double(q[c * rows + i]) - top) }
            energies?[i] = Float(-(top + log(sum)))
            guard let g = gradient else { continue }
            for j in 0..<d { g[i * d + j] = 0 }
            for c in 0..<k {
                let r = Float(exp(logScales[c] - Double(q[c * rows + i]) - top) / sum)
                for j in 0..<d { g[i * d + j] += r * gk[(c * rows + i) * d + j] }
            }
        }
    }
}
