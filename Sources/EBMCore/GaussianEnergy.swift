#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The quadratic energy of a multivariate normal, `E(x) = ½ (x − μ)ᵀ Σ⁻¹ (x − μ)`, so that
/// `exp(−E)` is `N(μ, Σ)` up to `Z = (2π)^{d/2} |Σ|^{1/2}`. The closed-form target for tests.
public final class GaussianEnergy {
    /// The input dimension.
    public let dimension: Int
    /// `μ` (`dimension` floats).
    public let mean: FloatBuffer
    /// `P = Σ⁻¹` (`dimension × dimension`, row-major, symmetric).
    public let precision: FloatBuffer
    /// `ln |Σ|`, from the Cholesky factor.
    public let logDeterminant: Double
    /// `ln Z = (d/2) ln 2π + ½ ln |Σ|`: the normaliser of `exp(−E)`.
    public var logPartition: Double { 0.5 * Double(dimension) * log(2 * Double.pi) + 0.5 * logDeterminant }

    /// A Gaussian energy with mean `mean` and covariance `covariance` (row-major `d × d`).
    /// The precision is computed in double precision from the Cholesky factor `Σ = L Lᵀ`:
    /// `Σ⁻¹ = L⁻ᵀ L⁻¹`.
    /// - Throws: `EBMError.invalidArgument` if the sizes disagree or `Σ` is not symmetric
    ///   positive definite.
    public init(mean: [Double], covariance: [Double]) throws {
        let d = mean.count
        try require(d > 0, "mean must have at least one element")
        try require(covariance.count == d * d,
                    "cov must have \(d * d) elements (\(d) × \(d)), got \(covariance.count)")
        try require(mean.allSatisfy(\.isFinite) && covariance.allSatisfy(\.isFinite),
                    "mean and cov must be finite")
        for i in 0..<d {
            for j in 0..<i {
                let a = covariance[i * d + j], b = covariance[j * d + i]
                try require(abs(a - b) <= 1e-8 * max(1, abs(a), abs(b)),
                            "cov must be symmetric: cov[\(i), \(j)] = \(a) but cov[\(j), \(i)] = \(b)")
            }
        }
        // Σ = L Lᵀ, then the precision P = (L⁻¹)ᵀ L⁻¹.
        let l = try Cholesky.factor(covariance, dimension: d, "cov")
        let inv = Cholesky.inverse(l, dimension: d)
        var p = [Float](repeating: 0, count: d * d)
        for i in 0..<d {
            for j in 0..<d {
                var s = 0.0
                for k in max(i, j)..<d { s += inv[k * d + i] * inv[k * d + j] }
                p[i * d + j] = Float(s)
            }
        }
        dimension = d
        logDeterminant = (0..<d).reduce(0.0) { $0 + 2 * log(l[$1 * d + $1]) }
        self.mean = try FloatBuffer(mean.map { Float($0) })
        precision = try FloatBuffer(p)
    }
}

/// Scratch memory for `GaussianEnergy`: the centred batch and its product with `P`.
public final class GaussianWorkspace {
    let capacity: Int
    let centred: FloatBuffer
    let product: FloatBuffer

    init(dimension: Int, capacity: Int) throws {
        self.capacity = capacity
        centred = try FloatBuffer(count: capacity * dimension)
        product = try FloatBuffer(count: capacity * dimension)
    }
}

extension GaussianEnergy: EnergyFunction {
    /// Scratch memory for batches of at most `capacity` rows.
    public func makeWorkspace(capacity: Int) throws -> GaussianWorkspace {
        try GaussianWorkspace(dimension: dimension, capacity: capacity)
    }

    /// `E(x_i) = ½ (x_i − μ)ᵀ P (x_i − μ)` per row.
    public func energies(
        _ x: UnsafeBufferPointer<Float>, rows: Int,
        into energies: UnsafeMutableBufferPointer<Float>, workspace ws: GaussianWorkspace
    ) {
        evaluate(x, rows: rows, energies: energies.baseAddress, gradient: ws.product.base, ws)
    }

    /// `∇x E(x_i) = P (x_i − μ)` per row, and the energies when asked.
    public func gradients(
        _ x: UnsafeBufferPointer<Float>, rows: Int,
        energies: UnsafeMutableBufferPointer<Float>?,
        into gradient: UnsafeMutableBufferPointer<Float>, workspace ws: GaussianWorkspace
    ) {
        evaluate(x, rows: rows, energies: energies?.baseAddress, gradient: gradient.baseAddress!, ws)
    }

    /// `D = X − μ`, `G = D P` (one `sgemm`; `P` is symmetric), `E_i = ½ D_i · G_i`.
    func evaluate(
        _ x: UnsafeBufferPointer<Float>, rows: Int, energies: UnsafeMutablePointer<Float>?,
        gradient: UnsafeMutablePointer<Float>, _ ws: GaussianWorkspace
    ) {
        precondition(rows <= ws.capacity && x.count == rows * dimension, "workspace too small")
        let d = dimension
        let centred = ws.centred.base
        for i in 0..<rows {
            for j in 0..<d { centred[i * d + j] = x[i * d + j] - mean.base[j] }
        }
        BLAS.gemm(transA: false, transB: false, m: rows, n: d, k: d, alpha: 1,
                  a: centred, lda: d, b: precision.base, ldb: d, beta: 0, c: gradient, ldc: d)
        guard let e = energies else { return }
        for i in 0..<rows {
            var s: Float = 0
            for j in 0..<d { s += centred[i * d + j] * gradient[i * d + j] }
            e[i] = 0.5 * s
        }
    }
}
