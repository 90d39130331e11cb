#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import EBMCore

/// The object behind an `ebm_chains *`: a kernel checked once and the workspaces of `rows` chains
/// on one energy, kept between calls, so that a call of one step parses no record and makes no
/// workspace. The chains' states, step count and counts stay with the caller (they cross as arrays
/// and integers on every call); the handle is a cache, and a run through it equals the same steps
/// of `ebm_sample` bit for bit.
final class ChainsHandle {
    let energy: EnergyHandle
    let kernel: any SamplerKernel
    let rows: Int
    /// The floats per chain the kernel carries from run to run (kinetic Langevin's momenta).
    let carriedWidth: Int
    /// `Workspaces<E>` for the energy's concrete type, grown when the thread count grows.
    private let workspaces: AnyObject
    /// Held for a run; a second thread finds it taken and gets an error, not a shared workspace.
    private let busy: UnsafeMutablePointer<pthread_mutex_t>

    init(energy: EnergyHandle, kernel: any SamplerKernel, rows: Int) throws {
        self.energy = energy
        self.kernel = kernel
        self.rows = rows
        carriedWidth = kernel.carriedWidth(dimension: energy.dimension)
        workspaces = try energy.read(MakeWorkspaces(rows: rows))
        busy = .allocate(capacity: 1)
        busy.initialize(to: pthread_mutex_t())
        pthread_mutex_init(busy, nil)
    }

    deinit {
        pthread_mutex_destroy(busy)
        busy.deallocate()
    }

    /// Runs `steps` steps on the caller's `x` (`rows × dimension`), whose chains have taken
    /// `stepOffset` steps already, adding to `counts`; `carried` (`rows × carriedWidth`) keeps the
    /// kernel's carried values from run to run.
    func run(x: UnsafeMutableBufferPointer<Float>, steps: Int, seed: UInt64, chainOffset: Int, stepOffset: Int,
             counts: ChainCounts, carried: UnsafeMutablePointer<Float>?, poll: @escaping (Double) -> Bool) throws {
        guard pthread_mutex_trylock(busy) == 0 else {
            throw EBMError.invalidArgument("these chains are running in another thread: one run at a time")
        }
        defer { pthread_mutex_unlock(busy) }
        try energy.read(RunChains(handle: self, x: x, steps: steps, seed: seed, chainOffset: chainOffset,
                                  stepOffset: stepOffset, counts: counts,
                                  carried: carried.map { CarriedValues($0, resume: stepOffset > 0) }, poll: poll))
    }

    /// The workspaces for `threads` threads (more are made when the thread count has grown).
    fileprivate func workspaces<E: EnergyFunction>(for energy: E, blocks: ChainBlocks, threads: Int) throws
        -> [SamplerWorkspace<E>]
    {
        guard let made = workspaces as? Workspaces<E> else {
            throw EBMError.invalidArgument("these chains were made for another energy")
        }
        let wanted = max(1, min(threads, blocks.count))
        while made.list.count < wanted {
            made.list.append(try SamplerWorkspace(energy, capacity: blocks.blockRows))
        }
        return made.list.count == wanted ? made.list : Array(made.list.prefix(wanted))
    }
}

/// The workspaces, one per thread, for one energy type.
private final class Workspaces<E: EnergyFunction> {
    var list: [SamplerWorkspace<E>]
    init(_ list: [SamplerWorkspace<E>]) { self.list = list }
}

private struct MakeWorkspaces: EnergyVisitor {
    let rows: Int

    func visit<E: EnergyFunction>(_ energy: E) throws -> AnyObject {
        Workspaces(try SamplerWorkspace.perThread(energy, blocks: energy.blocks(rows: rows),
                                                  threads: threads(for: energy)))
    }
}

private struct RunChains: KernelVisitor {
    let handle: ChainsHandle
    let x: UnsafeMutableBufferPointer<Float>
    let steps: Int
    let seed: UInt64
    let chainOffset: Int
    let stepOffset: Int
    let counts: ChainCounts
    let carried: CarriedValues?
    let poll: (Double) -> Bool

    var kernel: any SamplerKernel { handle.kernel }

    func run<E: EnergyFunction, K: SamplerKernel>(_ energy: E, _ kernel: K) throws {
        let blocks = energy.blocks(rows: handle.rows)
        let workspaces = try handle.workspaces(for: energy, blocks: blocks, threads: threads(for: energy))
        try Sampling.run(energy, kernel: kernel, x: x, blocks: blocks, steps: steps,
                         noise: Philox4x32(seed: seed, purpose: K.noisePurpose), chainOffset: chainOffset,
                         counterOffset: stepOffset, counts: counts, workspaces: workspaces, carried: carried,
                         poll: poll)
    }
}
