/// Spectral normalisation of a `Linear` or `Conv2d` (Miyato et al. 2018), as PyTorch's
/// `torch.nn.utils.spectral_norm(layer)`: the layer computes with `W / σ(W)`, where `σ` is the
/// largest singular value of the weight as an `out × (in·kh·kw)` matrix, estimated by power
/// iteration: `σ = uᵀ W v` for the buffers `u` (`out`) and `v` (`in·kh·kw`).
///
/// - Parameters `weight_orig` (the unnormalised weight, the inner layer's shape) and `bias`;
///   buffers `weight_u` and `weight_v`: PyTorch's names (its `state_dict` holds the same four).
/// - `trainingStepWillBegin` runs `powerIterations` iterations, `v ← normalise(Wᵀu)`,
///   `u ← normalise(W v)`, once per training step (PyTorch runs them at every forward pass in
///   training mode); sampling and evaluation use the stored `u`, `v` (PyTorch's evaluation mode).
/// - The gradient treats `u` and `v` as constants, as PyTorch does:
///   `∂L/∂W = (G − ⟨G, W/σ⟩ u vᵀ) / σ` for `G = ∂L/∂(W/σ)`.
///
/// The normalised weight (and a copy of the bias) is derived state, rebuilt by
/// `parametersDidChange`; the inner layer always computes with it.
public final class SpectralNorm: NetworkLayer {
    public let inner: NetworkLayer
    public let powerIterations: Int
    public let epsilon: Float
    /// The weight matrix's rows (`out`) and columns (`in·kh·kw`).
    let rows: Int, columns: Int
    /// `[W / σ, bias]` in the inner layer's parameter layout.
    private let effective: FloatBuffer
    /// The current `σ = uᵀ W v`.
    public private(set) var sigma: Float = 1
    /// `W v` while `σ` is computed.
    private let product: FloatBuffer
    /// A copy of `u` and `v` as of the last `parametersDidChange`, for the backward pass.
    private let vectors: FloatBuffer

    /// - Throws: `EBMError.invalidArgument` unless `inner` is a `Linear` or a `Conv2d`, or for
    ///   fewer than one iteration or a non-positive `epsilon`.
    public init(_ inner: NetworkLayer, powerIterations: Int = 1, epsilon: Float = 1e-12) throws {
        try require(inner is Linear || inner is Conv2d,
                    "SpectralNorm wraps a Linear or a Conv2d, got \(type(of: inner))")
        try require(powerIterations >= 1, "SpectralNorm needs n_power_iterations >= 1, got \(powerIterations)")
        try require(epsilon > 0 && epsilon.isFinite, "SpectralNorm needs a positive eps, got \(epsilon)")
        self.inner = inner
        self.powerIterations = powerIterations
        self.epsilon = epsilon
        let weight = inner.parameters[0]
        rows = weight.shape[0]
        columns = weight.count / rows
        effective = try FloatBuffer(count: inner.parameterCount)
        product = try FloatBuffer(count: rows)
        vectors = try FloatBuffer(count: rows + columns)
    }

    public var inputShape: [Int] { inner.inputShape }
    public var outputShape: [Int] { inner.outputShape }
    public var multiplyAdds: Int { inner.multiplyAdds }
    public var parameters: [ParameterShape] {
        let shapes = inner.parameters
        return [ParameterShape("weight_orig", shapes[0].shape), ParameterShape("bias", shapes[1].shape)]
    }
    public var buffers: [ParameterShape] { [ParameterShape("weight_u", [rows]), ParameterShape("weight_v", [columns])] }
    public func savedCount(rows: Int) -> Int { inner.savedCount(rows: rows) }
    public func scratchCount(rows: Int) -> Int { inner.scratchCount(rows: rows) }

    public func initialise(_ p: UnsafeMutablePointer<Float>, _ stream: inout UniformStream) {
        inner.initialise(p, &stream)
    }

    /// `u` and `v` uniform on (−1, 1), normalised: random directions (PyTorch draws normals).
    public func initialiseBuffers(_ b: UnsafeMutablePointer<Float>, _ stream: inout UniformStream) {
        for i in 0..<(rows + columns) { b[i] = stream.nextUniform(-1, 1) }
        normalise(b, count: rows)
        normalise(b + rows, count: columns)
    }

    private func normalise(_ x: UnsafeMutablePointer<Float>, count: Int) {
        var sum: Float = 0
        for i in 0..<count { sum += x[i] * x[i] }
        let scale = 1 / max(sum.squareRoot(), epsilon)
        for i in 0..<count { x[i] *= scale }
    }

    /// `shouldStop` is asked before every iteration: up to `MAX_POWER_ITERATIONS` (1000) of a
    /// large weight are seconds of work.
    public func trainingStepWillBegin(
        _ p: UnsafePointer<Float>, buffers b: UnsafeMutablePointer<Float>, shouldStop: () -> Bool) throws {
        let u = b, v = b + rows
        for _ in 0..<powerIterations {
            if shouldStop() { throw EBMError.interrupted }
            BLAS.gemv(trans: true, rows: rows, cols: columns, alpha: 1, a: p, lda: columns, x: u, beta: 0, y: v)
            normalise(v, count: columns)
            BLAS.gemv(trans: false, rows: rows, cols: columns, alpha: 1, a: p, lda: columns, x: v, beta: 0, y: u)
            normalise(u, count: rows)
        }
        parametersDidChange(p, buffers: b)
    }

    public func parametersDidChange(_ p: UnsafePointer<Float>, buffers b: UnsafePointer<Float>) {
        let u = b, v = b + rows, wv = product.base
        BLAS.gemv(trans: false, rows: rows, cols: columns, alpha: 1, a: p, lda: columns, x: v, beta: 0, y: wv)
        var s: Float = 0
        for i in 0..<rows { s += u[i] * wv[i] }
        sigma = s
        let weights = rows * columns, e = effective.base
        for i in 0..<weights { e[i] = p[i] / s }
        (e + weights).update(from: p + weights, count: inner.parameterCount - weights)
        vectors.base.update(from: b, count: rows + columns)
        inner.parametersDidChange(e, buffers: b)
    }

    private func withEffective(_ b: LayerBuffers) -> LayerBuffers {
        LayerBuffers(rows: b.rows, input: b.input, output: b.output, parameters: effective.base,
                     saved: b.saved, scratch: b.scratch)
    }

    public func forward(_ b: LayerBuffers, saving: Bool) {
        inner.forward(withEffective(b), saving: saving)
    }

    public func backward(
        _ b: LayerBuffers, outputCotangent dy: UnsafePointer<Float>,
        inputCotangent: UnsafeMutablePointer<Float>?, parameterGradient g: UnsafeMutablePointer<Float>?
    ) {
        inner.backward(withEffective(b), outputCotangent: dy, inputCotangent: inputCotangent, parameterGradient: g)
        if let g { chainToOriginalWeight(g) }
    }

    public func forwardJet(_ b: LayerBuffers, order: Int) {
        inner.forwardJet(withEffective(b), order: order)
    }

    public func backwardJet(
        _ b: LayerBuffers, order: Int, outputCotangent dy: UnsafePointer<Float>,
        inputCotangent: UnsafeMutablePointer<Float>?, parameterGradient g: UnsafeMutablePointer<Float>?
    ) {
        inner.backwardJet(withEffective(b), order: order, outputCotangent: dy, inputCotangent: inputCotangent,
                          parameterGradient: g)
        if let g { chainToOriginalWeight(g) }
    }

    /// Turns the gradient with respect to `W/σ` into the gradient with respect to `W`, in place.
    private func chainToOriginalWeight(_ g: UnsafeMutablePointer<Float>) {
        // G is the gradient with respect to W/σ (the bias gradient is already right).
        let weights = rows * columns, e = effective.base
        var dot: Float = 0
        for i in 0..<weights { dot += g[i] * e[i] }
        let u = vectors.base, v = vectors.base + rows
        for r in 0..<rows {
            let gr = g + r * columns, ur = dot * u[r]
            for c in 0..<columns { gr[c] = (gr[c] - ur * v[c]) / sigma }
        }
    }
}

extension SpectralNorm: LayerKind {
    /// `spectral_norm`: `n_power_iterations`, `eps`; the wrapped layer's record follows.
    public static let kind = "spectral_norm"
    public static func make(_ r: inout SettingsRecord, input: [Int], reader: inout LayerReader, name: String) throws
        -> NetworkLayer {
        let iterations = try r.integer("n_power_iterations"), eps = try r.number("eps")
        try require(iterations >= 1 && eps > 0 && eps.isFinite,
                    "layer \(name) (SpectralNorm) needs n_power_iterations >= 1 and eps > 0, got \(iterations), \(eps)")
        try require(reader.position < reader.records.count, "layer \(name) (SpectralNorm) has no layer to wrap")
        let wrapped = try reader.layer(input: input, name: "\(name).0")
        return try SpectralNorm(wrapped, powerIterations: iterations, epsilon: Float(eps))
    }
}
