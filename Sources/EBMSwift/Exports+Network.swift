import CEBMSwift
import EBMCore

// The C export that builds a network energy from an array of layer descriptors (ebm_swift.h).
// The one place a descriptor becomes a layer: a new layer kind is one case here.

/// Builds the layers of `descriptors` (pre-order), threading the sample shape through them.
private func layers(_ descriptors: UnsafeBufferPointer<ebm_layer>, inputShape: [Int], path: String) throws
    -> (layers: [NetworkLayer], outputShape: [Int])
{
    var out: [NetworkLayer] = []
    var shape = inputShape
    var i = 0
    while i < descriptors.count {
        let d = descriptors[i], name = "\(path)\(out.count)"
        let layer: NetworkLayer
        switch d.kind {
        case EBM_LAYER_LINEAR:
            try require(shape == [Int(d.in_features)],
                        "layer \(name) (Linear) expects input of shape [\(d.in_features)] but receives \(shape)")
            layer = try Linear(inFeatures: Int(d.in_features), outFeatures: Int(d.out_features))
        case EBM_LAYER_CONV2D:
            try require(shape.count == 3 && shape[0] == Int(d.in_features),
                        "layer \(name) (Conv2d) expects input of shape [\(d.in_features), height, width] but receives \(shape)")
            layer = try Conv2d(inChannels: shape[0], outChannels: Int(d.out_features),
                               kernel: (Int(d.kernel.0), Int(d.kernel.1)), stride: (Int(d.stride.0), Int(d.stride.1)),
                               padding: (Int(d.padding.0), Int(d.padding.1)), inputHeight: shape[1], inputWidth: shape[2])
        case EBM_LAYER_AVGPOOL2D:
            try require(shape.count == 3, "layer \(name) (AvgPool2d) expects input of shape [channels, height, width] but receives \(shape)")
            layer = try AvgPool2d(channels: shape[0], inputHeight: shape[1], inputWidth: shape[2],
                                  kernel: (Int(d.kernel.0), Int(d.kernel.1)), stride: (Int(d.stride.0), Int(d.stride.1)))
        case EBM_LAYER_ACTIVATION:
            let activation = try Activation(abiCode: d.activation, "layer \(name): activation")
            layer = ActivationLayer(activation, shape: shape)
        case EBM_LAYER_LEAKY_RELU:
            layer = try LeakyReLU(slope: Float(d.negative_slope), shape: shape)
        case EBM_LAYER_FLATTEN:
            layer = Flatten(shape: shape)
        case EBM_LAYER_RESIDUAL:
            let n = Int(d.children)
            try require(n > 0 && i + n < descriptors.count, "layer \(name) (Residual) claims \(d.children) inner layers")
            let inner = try layers(UnsafeBufferPointer(rebasing: descriptors[(i + 1)...(i + n)]), inputShape: shape,
                                   path: "\(name).block.")
            try require(inner.outputShape == shape,
                        "layer \(name) (Residual) needs a block that keeps the shape \(shape), but it produces \(inner.outputShape)")
            layer = try Residual(try Sequential(inner.layers))
            i += n
        case EBM_LAYER_SPECTRAL_NORM:
            try require(i + 1 < descriptors.count, "layer \(name) (SpectralNorm) has no layer to wrap")
            let wrapped = try layers(UnsafeBufferPointer(rebasing: descriptors[(i + 1)...(i + 1)]), inputShape: shape,
                                     path: "\(name).")
            try require(Int(d.n_power_iterations) >= 1 && d.eps > 0 && d.eps.isFinite,
                        "layer \(name) (SpectralNorm) needs n_power_iterations >= 1 and eps > 0, got \(d.n_power_iterations), \(d.eps)")
            layer = try SpectralNorm(wrapped.layers[0], powerIterations: Int(d.n_power_iterations), epsilon: Float(d.eps))
            i += 1
        default:
            throw EBMError.invalidArgument("layer \(name): unknown layer kind \(d.kind)")
        }
        out.append(layer)
        shape = layer.outputShape
        i += 1
    }
    try require(!out.isEmpty, "a network needs at least one layer")
    return (out, shape)
}

@_cdecl("ebm_network_create")
public func ebmNetworkCreate(
    _ inputShape: UnsafePointer<Int64>?, _ rank: Int64, _ descriptors: UnsafePointer<ebm_layer>?,
    _ count: Int64, _ nClasses: Int64, _ seed: UInt64, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> ebm_status {
    withStatus {
        let out = try nonNull(out, "out")
        let shape = UnsafeBufferPointer(start: try nonNull(inputShape, "input_shape"), count: try checkedCount(rank, "rank"))
            .map { Int($0) }
        try require(shape.allSatisfy { $0 > 0 }, "input_shape must hold positive sizes, got \(shape)")
        try requireCount(shape, "input_shape \(shape)")
        let built = try layers(UnsafeBufferPointer(start: try nonNull(descriptors, "layers"), count: try checkedCount(count, "n_layers")),
                               inputShape: shape, path: "")
        try require(nClasses == 0 || (nClasses >= 2 && nClasses <= Int64(maximumCount)),
                    "n_classes must be 0 or at least 2, got \(nClasses)")
        let energy = try NetworkEnergy(network: try Sequential(built.layers), seed: seed,
                                       classes: nClasses == 0 ? nil : Int(nClasses))
        out.pointee = retainedHandle(EnergyHandle(energy))
    }
}

/// The classifier energy behind `energy`, or an error.
private func classifierEnergy(_ energy: OpaquePointer?) throws -> NetworkEnergy {
    guard let model = try object(energy, as: EnergyHandle.self).energy as? NetworkEnergy, model.classes != nil else {
        throw EBMError.invalidArgument("the energy is not a classifier (a network energy with n_classes)")
    }
    return model
}

@_cdecl("ebm_energy_num_classes")
public func ebmEnergyNumClasses(_ energy: OpaquePointer?, _ out: UnsafeMutablePointer<Int64>?) -> ebm_status {
    withStatus {
        let model = try object(energy, as: EnergyHandle.self).energy as? NetworkEnergy
        try nonNull(out, "out").pointee = Int64(model?.classes ?? 0)
    }
}

@_cdecl("ebm_energy_logits")
public func ebmEnergyLogits(
    _ energy: OpaquePointer?, _ x: UnsafePointer<Float>?, _ n: Int64, _ logits: UnsafeMutablePointer<Float>?, _ count: Int64
) -> ebm_status {
    withStatus {
        let model = try classifierEnergy(energy)
        let rows = try checkedCount(n, "n"), k = model.classes!, d = model.dimension
        try require(count == Int64(rows) * Int64(k), "count must be n * classes = \(rows * k), got \(count)")
        let input = try nonNull(x, "x"), out = try nonNull(logits, "logits")
        let chunk = min(rows, 1024)  // bounded memory for any batch, as the other evaluations
        let ws = model.makeWorkspace(capacity: chunk)
        model.lock.read {
            var start = 0
            while start < rows {
                let m = min(chunk, rows - start)
                model.forwardLogits(input + start * d, rows: m, logits: out + start * k, saving: false, workspace: ws)
                start += m
            }
        }
    }
}

@_cdecl("ebm_energy_class_create")
public func ebmEnergyClassCreate(
    _ energy: OpaquePointer?, _ label: Int64, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> ebm_status {
    withStatus {
        let view = try ClassEnergy(try classifierEnergy(energy), label: Int(clamping: label))
        try nonNull(out, "out").pointee = retainedHandle(EnergyHandle(view))
    }
}
