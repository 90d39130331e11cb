import CEBMSwift
import EBMCore

// C exports for creating, destroying and evaluating energies. See ebm_swift.h for ownership.

@_cdecl("ebm_last_error")
public func ebmLastError() -> UnsafePointer<CChar> { LastError.message }

@_cdecl("ebm_last_divergence")
public func ebmLastDivergence(_ out: UnsafeMutablePointer<ebm_divergence>?) {
    out?.pointee = LastError.divergence
}

@_cdecl("ebm_mlp_create")
public func ebmMLPCreate(
    _ dim: Int64, _ hidden: UnsafePointer<Int64>?, _ nHidden: Int64, _ activation: Int32,
    _ seed: UInt64, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> ebm_status {
    withStatus {
        let out = try nonNull(out, "out")
        let count = try checkedCount(nHidden, "n_hidden")
        let widths = UnsafeBufferPointer(start: try nonNull(hidden, "hidden"), count: count).map { Int($0) }
        let act = try Activation(abiCode: activation, "activation")
        let mlp = try NetworkEnergy.multilayerPerceptron(dimension: Int(dim), hidden: widths, activation: act, seed: seed)
        out.pointee = retainedHandle(EnergyHandle(mlp))
    }
}

@_cdecl("ebm_gaussian_create")
public func ebmGaussianCreate(
    _ dim: Int64, _ mean: UnsafePointer<Double>?, _ cov: UnsafePointer<Double>?,
    _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> ebm_status {
    withStatus {
        let out = try nonNull(out, "out")
        let d = try checkedCount(dim, "dim")
        let mu = Array(UnsafeBufferPointer(start: try nonNull(mean, "mean"), count: d))
        let sigma = Array(UnsafeBufferPointer(start: try nonNull(cov, "cov"), count: d * d))
        out.pointee = retainedHandle(EnergyHandle(try GaussianEnergy(mean: mu, covariance: sigma)))
    }
}

@_cdecl("ebm_gaussian_mixture_create")
public func ebmGaussianMixtureCreate(
    _ dim: Int64, _ k: Int64, _ means: UnsafePointer<Double>?, _ covs: UnsafePointer<Double>?,
    _ weights: UnsafePointer<Double>?, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> ebm_status {
    withStatus {
        let out = try nonNull(out, "out")
        let d = try checkedCount(dim, "dim"), count = try checkedCount(k, "k")
        let mixture = try GaussianMixtureEnergy(
            means: Array(UnsafeBufferPointer(start: try nonNull(means, "means"), count: count * d)),
            covariances: Array(UnsafeBufferPointer(start: try nonNull(covs, "covs"), count: count * d * d)),
            weights: Array(UnsafeBufferPointer(start: try nonNull(weights, "weights"), count: count)))
        out.pointee = retainedHandle(EnergyHandle(mixture))
    }
}

@_cdecl("ebm_double_well_create")
public func ebmDoubleWellCreate(_ dim: Int64, _ barrier: Double, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> ebm_status {
    withStatus {
        let energy = try DoubleWellEnergy(dimension: try checkedCount(dim, "dim"), barrier: Float(barrier))
        try nonNull(out, "out").pointee = retainedHandle(EnergyHandle(energy))
    }
}

@_cdecl("ebm_banana_create")
public func ebmBananaCreate(
    _ dim: Int64, _ curvature: Double, _ scale: Double, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> ebm_status {
    withStatus {
        let energy = try BananaEnergy(dimension: try checkedCount(dim, "dim"), curvature: Float(curvature), scale: Float(scale))
        try nonNull(out, "out").pointee = retainedHandle(EnergyHandle(energy))
    }
}

@_cdecl("ebm_callable_create")
public func ebmCallableCreate(
    _ dim: Int64, _ fn: ebm_energy_fn?, _ context: UnsafeMutableRawPointer?,
    _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> ebm_status {
    withStatus {
        let function = try nonNull(fn, "fn")
        let d = try checkedCount(dim, "dim")
        let energy = try CallbackEnergy(dimension: d) { x, rows, energies, gradient in
            function(context, x.baseAddress, Int64(rows), Int64(d), energies, gradient) == 0
        }
        try nonNull(out, "out").pointee = retainedHandle(EnergyHandle(energy))
    }
}

@_cdecl("ebm_energy_destroy")
public func ebmEnergyDestroy(_ energy: OpaquePointer?) {
    releaseHandle(energy, as: EnergyHandle.self)
}

@_cdecl("ebm_energy_dim")
public func ebmEnergyDim(_ energy: OpaquePointer?, _ out: UnsafeMutablePointer<Int64>?) -> ebm_status {
    withStatus {
        try nonNull(out, "out").pointee = Int64(try object(energy, as: EnergyHandle.self).dimension)
    }
}

/// Evaluates energies (and optionally gradients) of a batch in `RowChunks`, with one workspace for
/// a chunk. An energy that must see the whole batch (a Python callback) gets it in one call.
private struct Evaluate: EnergyVisitor {
    let x: UnsafeBufferPointer<Float>
    let rows: Int
    let energies: UnsafeMutableBufferPointer<Float>?
    let gradient: UnsafeMutableBufferPointer<Float>?

    func visit<E: EnergyFunction>(_ energy: E) throws {
        let d = energy.dimension
        let chunks = RowChunks(rows: rows, limit: energy.wholeBatch ? max(rows, 1) : energy.evaluationChunkRows)
        let ws = try energy.makeWorkspace(capacity: chunks.size)
        for c in chunks {
            try ThreadPoll.check(done: Double(c.start) / Double(rows))
            let start = c.start, n = c.count
            let xs = UnsafeBufferPointer(rebasing: x[(start * d)..<((start + n) * d)])
            let es = energies.map { UnsafeMutableBufferPointer(rebasing: $0[start..<(start + n)]) }
            if let g = gradient {
                energy.gradients(xs, rows: n, energies: es,
                                 into: UnsafeMutableBufferPointer(rebasing: g[(start * d)..<((start + n) * d)]), workspace: ws)
            } else if let e = es {
                energy.energies(xs, rows: n, into: e, workspace: ws)
            }
        }
    }
}

/// The shared body of `ebm_energy_eval` and `ebm_energy_grad_x`.
private func evaluate(
    _ energy: OpaquePointer?, _ x: UnsafePointer<Float>?, _ n: Int64,
    energies: UnsafeMutablePointer<Float>?, gradient: UnsafeMutablePointer<Float>?
) throws {
    let h = try object(energy, as: EnergyHandle.self)
    let rows = try checkedCount(n, "n")
    let d = h.dimension
    try h.read(Evaluate(
        x: UnsafeBufferPointer(start: try nonNull(x, "x"), count: rows * d), rows: rows,
        energies: energies.map { UnsafeMutableBufferPointer(start: $0, count: rows) },
        gradient: gradient.map { UnsafeMutableBufferPointer(start: $0, count: rows * d) }))
}

@_cdecl("ebm_energy_eval")
public func ebmEnergyEval(
    _ energy: OpaquePointer?, _ x: UnsafePointer<Float>?, _ n: Int64,
    _ energies: UnsafeMutablePointer<Float>?
) -> ebm_status {
    withStatus { try evaluate(energy, x, n, energies: try nonNull(energies, "energies"), gradient: nil) }
}

@_cdecl("ebm_energy_grad_x")
public func ebmEnergyGradX(
    _ energy: OpaquePointer?, _ x: UnsafePointer<Float>?, _ n: Int64,
    _ energies: UnsafeMutablePointer<Float>?, _ grad: UnsafeMutablePointer<Float>?
) -> ebm_status {
    withStatus { try evaluate(energy, x, n, energies: energies, gradient: try nonNull(grad, "grad")) }
}
