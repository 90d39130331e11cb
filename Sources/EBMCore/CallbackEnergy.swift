/// An energy evaluated by a caller-supplied function on the whole batch (for example a user's
/// NumPy code reached through the C ABI), while the sampling loop stays native.
///
/// The function fills energies and/or gradients and returns `false` on failure; the energy then
/// writes NaN, which the samplers report (and the caller, who knows why, can explain).
public struct CallbackEnergy: EnergyFunction {
    /// `(x, rows, energies?, gradient?) -> succeeded`.
    public typealias Function = (UnsafeBufferPointer<Float>, Int, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?) -> Bool

    /// The input dimension.
    public let dimension: Int
    let function: Function

    /// An energy of dimension `dimension` evaluated by `function`.
    public init(dimension: Int, function: @escaping Function) throws {
        try require(dimension > 0, "dim must be positive, got \(dimension)")
        self.dimension = dimension
        self.function = function
    }

    /// The function sees every chain at once: one block, one thread.
    public var wholeBatch: Bool { true }

    /// No scratch memory.
    public func makeWorkspace(capacity: Int) {}

    /// `E(x_i)` per row (NaN if the function failed).
    public func energies(_ x: UnsafeBufferPointer<Float>, rows: Int,
                         into energies: UnsafeMutableBufferPointer<Float>, workspace: Void) {
        if !function(x, rows, energies.baseAddress, nil) { energies.update(repeating: .nan) }
    }

    /// `∇E(x_i)` per row, and the energies when asked (NaN if the function failed).
    public func gradients(_ x: UnsafeBufferPointer<Float>, rows: Int, energies: UnsafeMutableBufferPointer<Float>?,
                          into gradient: UnsafeMutableBufferPointer<Float>, workspace: Void) {
        if !function(x, rows, energies?.baseAddress, gradient.baseAddress) {
            gradient.update(repeating: .nan)
            energies?.update(repeating: .nan)
        }
    }
}
