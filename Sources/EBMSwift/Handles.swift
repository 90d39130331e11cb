#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEBMSwift
import EBMCore

/// A visitor that runs generic code on whichever energy a handle holds.
protocol EnergyVisitor {
    associatedtype Result
    func visit<E: EnergyFunction>(_ energy: E) throws -> Result
}

/// A visitor that runs a sampler kernel on the energy: both existentials opened once, so `run`
/// is generic over the concrete energy and kernel (the sampling exports and persistent chains).
protocol KernelVisitor: EnergyVisitor where Result == Void {
    var kernel: any SamplerKernel { get }
    func run<E: EnergyFunction, K: SamplerKernel>(_ energy: E, _ kernel: K) throws
}

extension KernelVisitor {
    func visit<E: EnergyFunction>(_ energy: E) throws { try run(energy, kernel) }
}

/// The object behind an `ebm_energy *`: any energy of the core. Dispatch is open — a new energy
/// needs only its `*_create` export; every other export reaches it through `read` (generic code,
/// the existential opened once per call) or `trainable`.
final class EnergyHandle {
    let energy: any EnergyFunction
    /// A network's (or an MLP's) parameter and buffer tensors: names (C strings owned here) and shapes, in the
    /// flat vectors' order; empty for other energies.
    let parameterTensors: [(name: UnsafeMutablePointer<CChar>, shape: [Int])]
    let bufferTensors: [(name: UnsafeMutablePointer<CChar>, shape: [Int])]

    init(_ energy: any EnergyFunction) {
        self.energy = energy
        let network = energy as? NetworkEnergy
        parameterTensors = (network?.parameterTensors ?? []).map { (strdup($0.name)!, $0.shape) }
        bufferTensors = (network?.bufferTensors ?? []).map { (strdup($0.name)!, $0.shape) }
    }

    deinit { (parameterTensors + bufferTensors).forEach { free($0.name) } }

    var dimension: Int { energy.dimension }

    /// Runs `visitor` on the energy, holding a guarded energy's lock for reading.
    func read<V: EnergyVisitor>(_ visitor: V) throws -> V.Result {
        if let model = energy as? any GuardedEnergy {
            return try model.lock.read { try visitor.visit(energy) }
        }
        return try visitor.visit(energy)
    }

    /// The energy as a trainable one, or an error naming `function` for one without parameters.
    func trainable(_ function: String) throws -> any TrainableEnergy {
        guard let model = energy as? any TrainableEnergy else {
            throw EBMError.invalidArgument("\(function) needs an energy with parameters (an MLP or a network)")
        }
        return model
    }
}

/// The object behind an `ebm_trainer *`; `lock` serialises calls on one trainer. Its state
/// entries (fixed for the trainer's life) and their names as C strings are made once.
final class TrainerHandle {
    let trainer: Trainer
    let lock = ReadWriteLock()
    let state: [StateEntry]
    let names: [UnsafeMutablePointer<CChar>]

    init(_ trainer: Trainer) {
        self.trainer = trainer
        state = trainer.state
        names = state.map { strdup($0.name)! }
    }

    deinit { names.forEach { free($0) } }

    /// The entry called `name`, checked to hold `count` elements.
    func entry(_ name: UnsafePointer<CChar>, count: Int64) throws -> StateEntry {
        let entry = try state.entry(String(cString: name))
        try require(count == Int64(entry.count), "the trainer's \(entry.name) has \(entry.count) values, got count \(count)")
        return entry
    }
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
