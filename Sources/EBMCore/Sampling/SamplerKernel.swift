/// One block of chains as a kernel sees it: the positions and, for kernels that keep it, the
/// energy and gradient at each position (valid on entry to `step`, and kept valid by it).
public struct ChainBlockState {
    /// `rows × dimension` positions, row-major.
    public let x: UnsafeMutablePointer<Float>
    /// `E(x_i)` per row.
    public let energies: UnsafeMutablePointer<Float>
    /// `∇x E(x_i)` per row.
    public let gradient: UnsafeMutablePointer<Float>
    public let rows: Int
    /// The global index of the first chain (the run's chain offset included): random streams are
    /// keyed by it, so a chain's numbers never depend on the block it falls in.
    public let firstChain: Int
    public let dimension: Int
}

/// What adaptation tunes, per chain of a block; `nil` means the kernel's own setting.
public struct BlockTuning {
    /// One step size per row.
    public var stepSizes: UnsafePointer<Float>?
    /// One diagonal inverse mass per row (`rows × dimension`), for kernels with momenta.
    public var inverseMass: UnsafePointer<Float>?

    public static let none = BlockTuning(stepSizes: nil, inverseMass: nil)
}

/// Where a kernel's step stands in its run: the random stream, the noise counter and the step
/// index, the warm-up length, and per-chain tuning.
public struct StepContext {
    /// The per-chain step sizes and masses of adaptation (`.none`: the kernel's own).
    public var tuning: BlockTuning
    /// The run's noise key (the kernel's purpose, the seed).
    public var noise: Philox4x32
    /// The noise counter of this step.
    public var counter: UInt32
    /// The step (0-based) and the run's number of steps.
    public var step: Int, steps: Int
    /// The run's warm-up steps (0 without adaptation).
    public var warmup: Int
}

/// A per-chain statistic a kernel reports (NUTS's tree depth, replica exchange's swap rates):
/// `width` doubles per chain, written by the kernel at every step into the workspace's
/// `statistics`.
public struct ChainStatistic: Equatable, Sendable {
    /// How the driver turns the per-step values into the reported one.
    public enum Reduction: Sendable { case meanAfterWarmup, last }
    public let name: String
    public let width: Int
    public let reduction: Reduction

    public init(_ name: String, width: Int = 1, _ reduction: Reduction = .meanAfterWarmup) {
        self.name = name
        self.width = width
        self.reduction = reduction
    }

    /// `"name:width,…"`: the layout of a kernel's statistics as it crosses the ABI.
    public static func layout(_ statistics: [ChainStatistic]) -> String {
        statistics.map { "\($0.name):\($0.width)" }.joined(separator: ",")
    }
}

/// How a chain's step ended.
public enum StepOutcome: UInt8 {
    case rejected = 0, accepted = 1, divergent = 2
}

/// A Markov transition kernel over a block of chains (BlackJAX's `init`/`step`): the sampling
/// driver (`Sampling`) owns the state, the loop, the random keys, recording and adaptation; a
/// kernel only moves a block by one step.
///
/// Per row the step writes its outcome and the log of its Metropolis acceptance probability (0
/// for a kernel without a test; −∞ for a divergent trajectory) into the workspace, where the driver reads
/// them for counts, statistics and step-size adaptation.
///
/// A kernel is one file: it declares its name, its settings (read from a `SettingsRecord` by
/// name), its random stream and its divergence site, and `KernelRegistry` lists it once. Nothing
/// else in the library names a kernel.
public protocol SamplerKernel {
    /// The kernel's name: its key in `KernelRegistry`, its sampler record's kind across the ABI
    /// and in Python, and where its divergences are reported.
    static var kind: String { get }
    /// The purpose tag of the random stream a sampling call draws from (`Purpose`); distinct per
    /// kernel, so two kernels run with one seed never share their noise.
    static var noisePurpose: UInt64 { get }
    /// Whether warm-up can also adapt a diagonal inverse mass (kernels with momenta).
    static var adaptsMass: Bool { get }

    /// The kernel from its record's fields, for energies of `dimension` inputs.
    /// - Throws: `EBMError.invalidArgument` naming a missing, unknown or invalid setting.
    init(settings: inout SettingsRecord, dimension: Int) throws

    /// The step size (per chain, the starting value of adaptation).
    var stepSize: Float { get }
    /// The diagonal inverse mass (`dimension` values), for kernels with momenta; `nil`: identity.
    var inverseMass: FloatBuffer? { get }
    /// Where a NaN or infinity is reported.
    var site: Divergence.Site { get }
    /// Whether the kernel keeps the state's energies and gradients valid across steps (Metropolis
    /// kernels: a rejected move keeps them). If not, the driver evaluates the gradient at the
    /// start of every step (and the energies only when statistics are recorded).
    var keepsCache: Bool { get }
    /// Whether a Metropolis test makes the step size tunable by adaptation.
    var adaptable: Bool { get }
    /// The number of gradient evaluations of one step (for speed reports).
    var gradientsPerStep: Int { get }
    /// Whether the kernel evaluates the energy on the block's rows one for one (every kernel but
    /// those that compact their rows, like NUTS): what a tempered inner kernel needs.
    static var rowsInPlace: Bool { get }
    /// The per-chain statistics the kernel writes at every step (none by default).
    var statistics: [ChainStatistic] { get }

    /// Called once per block before its first step, after the driver filled the state's energies
    /// and gradients: a kernel with state of its own across steps (momenta, replicas) makes it here,
    /// in `workspace.kernelState` (allocated once per thread and reused).
    func prepare<E: EnergyFunction>(_ energy: E, _ state: ChainBlockState, _ context: StepContext,
                                    workspace: SamplerWorkspace<E>) throws

    /// The floats per chain the kernel carries from one step to the next besides the state
    /// (kinetic Langevin's momenta; none by default), held in the workspace from `prepare` on at
    /// `carried(in:)`, row-major, the block's rows first. A caller that keeps them between runs
    /// (`CarriedValues`) continues a run exactly; other runs start from `prepare`'s.
    func carriedWidth(dimension: Int) -> Int
    /// Where the block's carried values live in `workspace` (`nil` when the width is 0).
    func carried<E: EnergyFunction>(in workspace: SamplerWorkspace<E>) -> UnsafeMutablePointer<Float>?

    /// Moves the block by one step. Random numbers of row `i` come from `context.noise` at
    /// `(state.firstChain + i, context.counter)`. A kernel whose step can take long (many
    /// gradient evaluations) calls `interrupted` between them and throws `.interrupted` on `true`.
    /// - Throws: `.diverged` for a kernel that cannot reject (ULA) when a state becomes non-finite.
    func step<E: EnergyFunction>(
        _ energy: E, _ state: ChainBlockState, _ context: StepContext, workspace: SamplerWorkspace<E>,
        interrupted: () -> Bool
    ) throws
}

extension SamplerKernel {
    public static var adaptsMass: Bool { false }
    public var inverseMass: FloatBuffer? { nil }
    public var site: Divergence.Site { Divergence.Site(rawValue: Self.kind) }
    public var adaptable: Bool { true }
    public var keepsCache: Bool { true }
    public var gradientsPerStep: Int { 1 }
    public static var rowsInPlace: Bool { true }
    public var statistics: [ChainStatistic] { [] }
    public func prepare<E: EnergyFunction>(_ energy: E, _ state: ChainBlockState, _ context: StepContext,
                                           workspace: SamplerWorkspace<E>) throws {}
    public func carriedWidth(dimension: Int) -> Int { 0 }
    public func carried<E: EnergyFunction>(in workspace: SamplerWorkspace<E>) -> UnsafeMutablePointer<Float>? { nil }

    /// A generator of the kernel's own, derived from the run's noise key and `tag`.
    @inline(__always)
    static func derivedKey(_ noise: Philox4x32, tag: UInt64) -> Philox4x32 {
        Philox4x32(key: SplitMix64.mix(UInt64(noise.key.0) | UInt64(noise.key.1) << 32 ^ tag))
    }

    /// The uniform in (0, 1) number `index` of `chain` at `counter` from `key`: a pure function of
    /// its coordinates (word `index mod 4` of Philox block `(index / 4, counter, chain)`).
    @inline(__always)
    static func uniform(_ key: Philox4x32, index: Int, counter: UInt32, chain: Int) -> Float {
        let c = UInt64(chain)
        let w = key.block(UInt32(truncatingIfNeeded: index / 4), counter, UInt32(truncatingIfNeeded: c),
                          UInt32(truncatingIfNeeded: c >> 32))
        let r = index % 4
        return Philox4x32.openUnit(r == 0 ? w.0 : r == 1 ? w.1 : r == 2 ? w.2 : w.3)
    }

    /// Fills the workspace's `logUniforms` with the logs of the acceptance uniforms of the block's
    /// chains at `counter`, from a key of the kernel's own derived from the noise key and `tag`.
    @inline(__always)
    static func drawLogUniforms<E>(_ noise: Philox4x32, tag: UInt64, _ s: ChainBlockState, counter: UInt32,
                                   into ws: SamplerWorkspace<E>) {
        let key = derivedKey(noise, tag: tag)
        key.fillLogUniform(ws.logUniforms.base, rows: s.rows, firstRow: UInt64(s.firstChain), counter: counter)
    }
}

extension SamplerWorkspace {
    /// Energies and gradients of the first `rows` proposals, into `proposalEnergies` and
    /// `proposalGradient`.
    @inline(__always)
    func evaluateProposals(_ energy: E, rows n: Int) {
        let d = energy.dimension
        energy.gradients(UnsafeBufferPointer(start: proposal.base, count: n * d), rows: n,
                         energies: proposalEnergies.slice(0, n), into: proposalGradient.slice(0, n * d),
                         workspace: energyWorkspace)
    }

    /// The Metropolis test of chain `i` of block `s` on the proposal held in this workspace
    /// (`proposal`, `proposalEnergies`, `proposalGradient`): with log acceptance probability
    /// `logAlpha` (NaN or −∞ rejects), the chain moves when the log of its uniform is below it,
    /// taking the proposal's energy and gradient into the cache; records the outcome and
    /// `min(0, logAlpha)`.
    @inline(__always)
    func metropolis(_ s: ChainBlockState, chain i: Int, logAlpha: Double) {
        let d = s.dimension
        logAcceptance[i] = logAlpha.isNaN ? -.infinity : min(0, logAlpha)
        if Double(logUniforms.base[i]) < logAlpha {
            (s.x + i * d).update(from: proposal.base + i * d, count: d)
            (s.gradient + i * d).update(from: proposalGradient.base + i * d, count: d)
            s.energies[i] = proposalEnergies.base[i]
            outcome[i] = StepOutcome.accepted.rawValue
        } else {
            outcome[i] = StepOutcome.rejected.rawValue
        }
    }
}
