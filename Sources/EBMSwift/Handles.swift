import CEBMSwift
import EBMCore

/// The energies the ABI can hold behind an `ebm_energy *`.
enum AnyEnergy {
    case mlp(MLPEnergy)
    case gaussian(GaussianEnergy)
    case mixture(GaussianMixtureEnergy)
    case doubleWell(DoubleWellEnergy)
    case banana(BananaEnergy)
    case callback(CallbackEnergy)

    var dimension: Int {
        switch self {
        case .mlp(let e): return e.dimension
        case .gaussian(let e): return e.dimension
        case .mixture(let e): return e.dimension
        case .doubleWell(let e): return e.dimension
        case .banana(let e): return e.dimension
        case .callback(let e): return e.dimension
        }
    }
}

/// A visitor that runs generic code on whichever energy a handle holds.
protocol EnergyVisitor {
    associatedtype Result
    func visit<E: EnergyFunction>(_ energy: E) throws -> Result
}

extension AnyEnergy {
    /// Runs `visitor` on the energy, holding the MLP's parameter lock for reading.
    func read<V: EnergyVisitor>(_ visitor: V) throws -> V.Result {
        switch self {
        case .mlp(let e): return try e.lock.read { try visitor.visit(e) }
        case .gaussian(let e): return try visitor.visit(e)
        case .mixture(let e): return try visitor.visit(e)
        case .doubleWell(let e): return try visitor.visit(e)
        case .banana(let e): return try visitor.visit(e)
        case .callback(let e): return try visitor.visit(e)
        }
    }

    /// The MLP, or an error for an energy that is not one.
    func mlp(_ function: String) throws -> MLPEnergy {
        guard case .mlp(let e) = self else {
            throw EBMError.invalidArgument("\(function) needs an MLP energy")
        }
        return e
    }
}

/// The object behind an `ebm_energy *`.
final class EnergyHandle {
    let energy: AnyEnergy
    init(_ energy: AnyEnergy) { self.energy = energy }
}

/// The object behind an `ebm_trainer *`; `lock` serialises calls on one trainer.
final class TrainerHandle {
    let trainer: Trainer
    let lock = ReadWriteLock()
    init(_ trainer: Trainer) { self.trainer = trainer }
}

// MARK: Opaque pointers ↔ objects (the only place handles are converted)

/// A new +1 reference to `object` as an opaque pointer, for a `*_create` out-parameter.
func retainedHandle<T: AnyObject>(_ object: T) -> OpaquePointer {
    OpaquePointer(Unmanaged.passRetained(object).toOpaque())
}

/// The object behind `pointer` (not retained), or an error for NULL.
func object<T: AnyObject>(_ pointer: OpaquePointer?, as: T.Type) throws -> T {
    guard let p = pointer else { throw EBMError.invalidArgument("handle must not be NULL") }
    return Unmanaged<T>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
}

/// Drops the reference a `*_create` made.
func releaseHandle<T: AnyObject>(_ pointer: OpaquePointer?, as: T.Type) {
    guard let p = pointer else { return }
    Unmanaged<T>.fromOpaque(UnsafeRawPointer(p)).release()
}

/// The poll callback as a Swift closure.
func pollFunction(_ poll: ebm_poll_fn?, _ context: UnsafeMutableRawPointer?) -> (Double) -> Bool {
    guard let poll else { return { _ in false } }
    return { poll(context, $0) != 0 }
}
