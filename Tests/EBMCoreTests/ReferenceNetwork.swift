import Foundation
@testable import EBMCore

/// An independent double-precision forward pass of a network's layers, written with direct loops
/// from the definitions (no im2col, no BLAS): the reference for the layer tests.
enum ReferenceNetwork {
    /// `layer(x)` for one sample `x`, with the layer's parameters `p` (flat, its order) and its
    /// buffers `buffers` (needed by spectral norms only: `σ = uᵀ W v` for the stored `u`, `v`).
    static func forward(_ layer: NetworkLayer, _ x: [Double], _ p: ArraySlice<Double>,
                        buffers: ArraySlice<Double> = []) -> [Double] {
        let p = Array(p), buffers = Array(buffers)
        switch layer {
        case let l as SpectralNorm:
            let m = l.rows, n = l.columns
            var sigma = 0.0
            for r in 0..<m { for c in 0..<n { sigma += buffers[r] * p[r * n + c] * buffers[m + c] } }
            return forward(l.inner, x, p.enumerated().map { $0.offset < m * n ? $0.element / sigma : $0.element }[...])
        case let l as Linear:
            return (0..<l.outFeatures).map { o in
                (0..<l.inFeatures).reduce(p[l.outFeatures * l.inFeatures + o]) { $0 + p[o * l.inFeatures + $1] * x[$1] }
            }
        case let l as Conv2d:
            var y = [Double](repeating: 0, count: l.outputCount)
            let k = l.inChannels * l.kernel.h * l.kernel.w
            for o in 0..<l.outChannels {
                for oy in 0..<l.outputHeight {
                    for ox in 0..<l.outputWidth {
                        var s = p[l.outChannels * k + o]
                        for c in 0..<l.inChannels {
                            for i in 0..<l.kernel.h {
                                for j in 0..<l.kernel.w {
                                    let yy = oy * l.stride.h - l.padding.h + i, xx = ox * l.stride.w - l.padding.w + j
                                    guard yy >= 0, yy < l.inputHeight, xx >= 0, xx < l.inputWidth else { continue }
                                    s += p[((o * l.inChannels + c) * l.kernel.h + i) * l.kernel.w + j]
                                        * x[(c * l.inputHeight + yy) * l.inputWidth + xx]
                                }
                            }
                        }
                        y[(o * l.outputHeight + oy) * l.outputWidth + ox] = s
                    }
                }
            }
            return y
        case let l as AvgPool2d:
            var y = [Double](repeating: 0, count: l.outputCount)
            for c in 0..<l.channels {
                for oy in 0..<l.outputHeight {
                    for ox in 0..<l.outputWidth {
                        var s = 0.0
                        for i in 0..<l.kernel.h {
                            for j in 0..<l.kernel.w {
                                s += x[(c * l.inputHeight + oy * l.stride.h + i) * l.inputWidth + ox * l.stride.w + j]
                            }
                        }
                        y[(c * l.outputHeight + oy) * l.outputWidth + ox] = s / Double(l.kernel.h * l.kernel.w)
                    }
                }
            }
            return y
        case let l as ActivationLayer:
            return x.map { ReferenceMLP.f(l.activation, $0) }
        case let l as LeakyReLU:
            return x.map { $0 > 0 ? $0 : Double(l.slope) * $0 }
        case is Flatten:
            return x
        case is NegativeLogSumExp:
            let m = x.max()!
            return [-(m + log(x.reduce(0) { $0 + exp($1 - m) }))]
        case let l as Residual:
            return zip(x, forward(l.block, x, p[...], buffers: buffers[...])).map { $0 + $1 }
        case let l as Sequential:
            var a = x
            for (i, inner) in l.layers.enumerated() {
                let start = l.parameterOffsets[i], b = l.bufferOffsets[i]
                a = forward(inner, a, p[start..<(start + inner.parameterCount)],
                            buffers: buffers[b..<(b + inner.bufferCount)])
            }
            return a
        default:
            fatalError("no reference for \(type(of: layer))")
        }
    }
}
