#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Noise-contrastive estimation (Gutmann & Hyvärinen 2010): logistic regression of data against
/// `ν` noise samples per data row from a known density `q`, with the model's log-density
/// `ln p_m(x) = −E(x) − c` and its log-normaliser `c` learned as one more parameter. With
/// `G(x) = ln p_m(x) − ln q(x) − ln ν`,
///
/// `L = (1/N) [ Σ_data softplus(−G(x)) + Σ_noise softplus(G(y)) ]`,
///
/// whose minimiser (for enough capacity) is `p_m = p_data`, normalised: `c` estimates `ln Z`.
/// `q` is a Gaussian `N(μ, Σ)` (the trainer's caller fits it to the data): noise rows are
/// `y = μ + L z` for `Σ = L Lᵀ`, `ln q(y) = −½‖z‖² − ln det L − (d/2) ln 2π`, and data rows are
/// whitened by `L⁻¹` (one matrix product per block). A row's noise is keyed by its index in the
/// batch and the step.
///
/// Gradient: `∂L/∂E = σ(−G)/N` on data rows and `−σ(G)/N` on noise rows (one gradient pass over
/// both), and `∂L/∂c` the same sums.
struct NoiseContrastiveEstimation: DataObjective {
    let dimension: Int
    let ratio: Int
    let mean: FloatBuffer
    /// `L` and `L⁻¹`, row-major lower triangular.
    let cholesky: FloatBuffer, whitening: FloatBuffer
    /// `ln det L + (d/2) ln 2π`.
    let logNormaliser: Double

    /// - Throws: `EBMError.invalidArgument` unless `covariance` (`d × d`, row-major) is symmetric
    ///   positive definite and every value finite, or for a ratio outside `[1, 1024]`.
    init(mean: [Double], covariance: [Double], ratio: Int) throws {
        let d = mean.count
        try require(d > 0 && covariance.count == d * d, "the NCE noise needs a mean of d values and a d × d covariance")
        try require(ratio >= 1 && ratio <= 1024, "noise_ratio must be in [1, 1024], got \(ratio)")
        try require(mean.allSatisfy(\.isFinite) && covariance.allSatisfy(\.isFinite), "the NCE noise must be finite")
        for i in 0..<d {
            for j in 0..<i {
                try require(abs(covariance[i * d + j] - covariance[j * d + i]) <= 1e-9 * max(1, abs(covariance[i * d + j])),
                            "the NCE noise covariance must be symmetric")
            }
        }
        let l = try Cholesky.factor(covariance, dimension: d, "the NCE noise covariance")
        let inverse = Cholesky.inverse(l, dimension: d)
        dimension = d
        self.ratio = ratio
        self.mean = try FloatBuffer(mean.map { Float($0) })
        cholesky = try FloatBuffer(l.map { Float($0) })
        whitening = try FloatBuffer(inverse.map { Float($0) })
        logNormaliser = (0..<d).reduce(0) { $0 + log(l[$1 * d + $1]) } + 0.5 * Double(d) * log(2 * Double.pi)
    }

    /// `c`, the model's log-normaliser, starts at 0.
    var initialParameters: [Float] { [0] }

    func workspaceRows(rows: Int) -> Int { (1 + ratio) * rows }

    /// `[x; y]`, then `z` (the noise's normals, then the data's whitened rows), then per point
    /// `ln q`, `E` and the cotangent.
    func scratchCount(rows: Int, dimension d: Int, parameters: Int) -> Int {
        let points = (1 + ratio) * rows
        return 2 * points * d + 3 * points
    }

    func block<Model: TrainableEnergy>(
        _ model: Model, x: UnsafePointer<Float>, rows: Int, firstRow: Int, step: Int, seed: UInt64, scale: Float,
        own: UnsafePointer<Float>, grad: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
        workspace: Model.Workspace
    ) -> ObjectiveSums {
        let d = dimension, noiseRows = ratio * rows, points = rows + noiseRows
        let xy = scratch, z = scratch + points * d, logQ = scratch + 2 * points * d
        let energies = logQ + points, cotangents = energies + points
        let white = z + noiseRows * d
        // Noise y = μ + z Lᵀ and data w = (x − μ) L⁻ᵀ, each one product.
        Philox4x32(seed: seed, purpose: Purpose.nceNoise, index: UInt64(step))
            .fillNormal(z, rows: noiseRows, dimension: d, firstRow: UInt64(firstRow * ratio), step: 0)
        let y = xy + rows * d
        BLAS.gemm(transA: false, transB: true, m: noiseRows, n: d, k: d, alpha: 1, a: z, lda: d,
                  b: cholesky.base, ldb: d, beta: 0, c: y, ldc: d)
        for r in 0..<rows {
            for j in 0..<d { xy[r * d + j] = x[r * d + j] - mean.base[j] }
        }
        BLAS.gemm(transA: false, transB: true, m: rows, n: d, k: d, alpha: 1, a: xy, lda: d,
                  b: whitening.base, ldb: d, beta: 0, c: white, ldc: d)
        xy.update(from: x, count: rows * d)
        for r in 0..<noiseRows {
            for j in 0..<d { y[r * d + j] += mean.base[j] }
        }
        for r in 0..<points {
            let v = z + r * d  // the noise's normals, then the data's whitened rows
            var sum: Float = 0
            for j in 0..<d { sum += v[j] * v[j] }
            logQ[r < noiseRows ? rows + r : r - noiseRows] = Float(-0.5 * Double(sum) - logNormaliser)
        }
        model.forwardForGradient(xy, rows: points, energies: energies, workspace: workspace)
        let c = own[0], logRatio = Float(log(Double(ratio)))
        var loss = 0.0, dataEnergy = 0.0, noiseEnergy = 0.0, gradC: Float = 0
        for r in 0..<points {
            let g = -energies[r] - c - logQ[r] - logRatio
            if r < rows {  // data: softplus(−G), ∂/∂E = ∂/∂c = σ(−G)
                let s = 1 / (1 + expf(g))
                loss += Double(max(-g, 0) + log1pf(expf(-abs(g))))
                cotangents[r] = scale * s
                gradC += s
                dataEnergy += Double(energies[r])
            } else {  // noise: softplus(G), ∂/∂E = ∂/∂c = −σ(G)
                let s = 1 / (1 + expf(-g))
                loss += Double(max(g, 0) + log1pf(expf(-abs(g))))
                cotangents[r] = -scale * s
                gradC -= s
                noiseEnergy += Double(energies[r])
            }
        }
        model.parameterGradient(xy, rows: points, cotangent: cotangents, into: grad, workspace: workspace)
        grad[model.parameterCount] = scale * gradC
        return ObjectiveSums(loss: loss, energy: dataEnergy, otherEnergy: noiseEnergy / Double(ratio))
    }
}

/// `nce`: the noise `N(noise_mean, noise_cov)` (`dim` and `dim × dim` values) and `noise_ratio`.
enum NoiseContrastiveEstimationKind: ObjectiveKind {
    static let kind = "nce"
    static let samplesNegatives = false

    static func make(_ record: inout SettingsRecord, kernel: (any SamplerKernel)?, model: any TrainableEnergy,
                     seed: UInt64) throws -> any TrainingObjective {
        let d = model.dimension
        let mean = try record.array("noise_mean", count: d), covariance = try record.array("noise_cov", count: d * d)
        let ratio = try record.integer("noise_ratio")
        try record.finish()
        return try NoiseContrastiveEstimation(mean: mean, covariance: covariance, ratio: ratio).step(on: model)
    }
}
