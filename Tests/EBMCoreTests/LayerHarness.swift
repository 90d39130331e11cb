@testable import EBMCore

/// One forward pass (saving) and one backward pass of `layer` on `rows` samples, with buffers of
/// the sizes the layer asks for: its outputs, input cotangents and parameter gradient of
/// `⟨cotangent, output⟩`.
func runLayer(_ layer: NetworkLayer, rows: Int, x: [Float], parameters: [Float], cotangent: [Float])
    throws -> (y: [Float], dx: [Float], dp: [Float]) {
    let nP = layer.parameterCount
    var y = [Float](repeating: 0, count: rows * layer.outputCount)
    var dx = [Float](repeating: 0, count: rows * layer.inputCount)
    var dp = [Float](repeating: .nan, count: max(nP, 1))
    let saved = try FloatBuffer(count: layer.savedCount(rows: rows))
    let scratch = try FloatBuffer(count: layer.scratchCount(rows: rows))
    x.withUnsafeBufferPointer { xb in parameters.withUnsafeBufferPointer { pb in cotangent.withUnsafeBufferPointer { rb in
        y.withUnsafeMutableBufferPointer { yb in dx.withUnsafeMutableBufferPointer { dxb in dp.withUnsafeMutableBufferPointer { dpb in
            let b = LayerBuffers(rows: rows, input: xb.baseAddress!, output: yb.baseAddress!,
                                 parameters: pb.baseAddress ?? UnsafePointer(dpb.baseAddress!),
                                 saved: saved.base, scratch: scratch.base)
            layer.forward(b, saving: true)
            layer.backward(b, outputCotangent: rb.baseAddress!, inputCotangent: dxb.baseAddress!,
                           parameterGradient: nP > 0 ? dpb.baseAddress! : nil)
        } } }
    } } }
    return (y, dx, Array(dp.prefix(nP)))
}
