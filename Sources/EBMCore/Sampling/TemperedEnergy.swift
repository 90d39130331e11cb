/// An energy at a temperature per row: `β_i E(x_i)` with `β_i = 1 / T_i` read from `inverseTemperatures`
/// (one per row of every call, owned by the caller) — the tempered copies replica exchange runs
/// its inner kernel on.
public struct TemperedEnergy<Base: EnergyFunction>: EnergyFunction {
    public typealias Workspace = Base.Workspace
    public let base: Base
    /// `β` of each row of a call.
    public let inverseTemperatures: UnsafePointer<Float>

    public init(_ base: Base, inverseTemperatures: UnsafePointer<Float>) {
        self.base = base
        self.inverseTemperatures = inverseTemperatures
    }

    public var dimension: Int { base.dimension }
    public var wholeBatch: Bool { base.wholeBatch }
    public func makeWorkspace(capacity: Int) throws -> Workspace { try base.makeWorkspace(capacity: capacity) }

    public func energies(_ x: UnsafeBufferPointer<Float>, rows: Int, into energies: UnsafeMutableBufferPointer<Float>,
                         workspace: Workspace) {
        base.energies(x, rows: rows, into: energies, workspace: workspace)
        for i in 0..<rows { energies[i] *= inverseTemperatures[i] }
    }

    public func gradients(_ x: UnsafeBufferPointer<Float>, rows: Int, energies: UnsafeMutableBufferPointer<Float>?,
                          into gradient: UnsafeMutableBufferPointer<Float>, workspace: Workspace) {
        base.gradients(x, rows: rows, energies: energies, into: gradient, workspace: workspace)
        let d = dimension
        for i in 0..<rows {
            let beta = inverseTemperatures[i]
            energies?[i] *= beta
            for j in 0..<d { gradient[i * d + j] *= beta }
        }
    }
}
