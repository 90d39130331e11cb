/// Jets: second-order forward mode through a network, and its reverse.
///
/// Score matching trains on `∇x E` and on `vᵀ ∇x² E v`, so its parameter gradient differentiates
/// a derivative once more. Along a path `x(ε)` (in practice `x + ε v`) every layer maps the value
/// and its first two derivatives, stacked as `order + 1` blocks of `rows` rows:
///
/// - block 0, `x₀ = x(0)`; block 1, `x₁ = x'(0)`; block 2, `x₂ = x''(0)` (order 2 only);
/// - an affine layer `y = L x + b` maps `y₀ = L x₀ + b`, `y_k = L x_k` (k ≥ 1);
/// - an elementwise `y = f(x)` maps `y₁ = f'(x₀) x₁`, `y₂ = f''(x₀) x₁² + f'(x₀) x₂`.
///
/// For an energy and `x(ε) = x + ε v`, the outputs are `E`, `⟨∇E, v⟩` and `vᵀ ∇²E v`. The reverse
/// pass back-propagates cotangents `ȳ_k` of all blocks at once (reverse over forward mode), so that
/// one pass gives the parameter gradient of any `Σ_k c_k · y_k`: `c = (0, 1)` gives
/// `∇w ⟨∇x E, v⟩` (denoising score matching), `c = (0, ½⟨∇E, v⟩, −1)`-like combinations the sliced
/// score-matching loss. For an elementwise layer:
///
/// - `x̄₀ = f' ȳ₀ + f'' x₁ ȳ₁ + (f''' x₁² + f'' x₂) ȳ₂`,
/// - `x̄₁ = f' ȳ₁ + 2 f'' x₁ ȳ₂`,
/// - `x̄₂ = f' ȳ₂`;
///
/// for an affine layer `x̄_k = Lᵀ ȳ_k`, `∂L = Σ_k ȳ_k x_kᵀ` and `∂b = Σ ȳ₀` (the bias moves the
/// value only). Nonlinear layers read `x₀` from their input in the reverse pass, so jets keep
/// nothing in a layer's saved region; a `Sequential` keeps each layer's stacked output there as
/// the next one's input, so a jet of `rows` samples uses the memory of a plain pass on
/// `(order + 1) · rows` rows (`savedCount` and `scratchCount` of that many rows).
extension LayerBuffers {
    /// The same buffers seen as one batch of `blocks · rows` rows (an affine layer's jet is its
    /// plain pass over the stacked blocks).
    func stacked(_ blocks: Int) -> LayerBuffers {
        LayerBuffers(rows: blocks * rows, input: input, output: output, parameters: parameters,
                     saved: saved, scratch: scratch)
    }
}

/// A layer that is a linear map without parameters (`Flatten`, `AvgPool2d`): its jet is its plain
/// pass over the stacked blocks.
public protocol LinearMapLayer: NetworkLayer {}

extension LinearMapLayer {
    public func forwardJet(_ b: LayerBuffers, order: Int) {
        forward(b.stacked(order + 1), saving: false)
    }

    public func backwardJet(
        _ b: LayerBuffers, order: Int, outputCotangent dy: UnsafePointer<Float>,
        inputCotangent: UnsafeMutablePointer<Float>?, parameterGradient: UnsafeMutablePointer<Float>?
    ) {
        backward(b.stacked(order + 1), outputCotangent: dy, inputCotangent: inputCotangent, parameterGradient: parameterGradient)
    }
}

/// The jet of an elementwise map `y = f(x)` on `count` values per block, with `f` given by
/// `derivatives(x₀) → (f, f', f'', f''')` (activations, leaky ReLUs).
@inline(__always)
func elementwiseJetForward(
    _ b: LayerBuffers, order: Int, count: Int, _ derivatives: (Float) -> (Float, Float, Float, Float)
) {
    let n = b.rows * count
    let x = b.input, y = b.output
    for i in 0..<n {
        let (f, f1, f2, _) = derivatives(x[i])
        let x1 = x[n + i]
        y[i] = f
        y[n + i] = f1 * x1
        if order == 2 { y[2 * n + i] = f2 * x1 * x1 + f1 * x[2 * n + i] }
    }
}

/// The reverse of `elementwiseJetForward` (see the type documentation above for the formulas).
@inline(__always)
func elementwiseJetBackward(
    _ b: LayerBuffers, order: Int, count: Int, outputCotangent dy: UnsafePointer<Float>,
    inputCotangent dx: UnsafeMutablePointer<Float>?, _ derivatives: (Float) -> (Float, Float, Float, Float)
) {
    guard let dx else { return }
    let n = b.rows * count
    let x = b.input
    for i in 0..<n {
        let (_, f1, f2, f3) = derivatives(x[i])
        let x1 = x[n + i], d0 = dy[i], d1 = dy[n + i]
        if order == 2 {
            let x2 = x[2 * n + i], d2 = dy[2 * n + i]
            dx[i] = f1 * d0 + f2 * x1 * d1 + (f3 * x1 * x1 + f2 * x2) * d2
            dx[n + i] = f1 * d1 + 2 * f2 * x1 * d2
            dx[2 * n + i] = f1 * d2
        } else {
            dx[i] = f1 * d0 + f2 * x1 * d1
            dx[n + i] = f1 * d1
        }
    }
}
