/// Where and in what a NaN or infinity appeared: what samplers, AIS and the trainer report when
/// they stop, carried across the C ABI as data (`ebm_last_divergence`), never as prose to parse.
public struct Divergence: Equatable, Sendable {
    /// The computation that diverged.
    /// A sampler kernel's `kind`, or one of the other computations below.
    public struct Site: RawRepresentable, Hashable, Sendable {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let ais = Site(rawValue: "ais")
        public static let training = Site(rawValue: "training")
        /// Every site: the registered kernels' and the others.
        public static var allCases: [Site] { KernelRegistry.kinds.map(Site.init) + [.ais, .training] }
    }
    /// The quantity that became NaN or infinite.
    public enum Quantity: String, CaseIterable, Sendable {
        case samples, energy, gradient, parameters
        case logWeight = "log_weight"
    }

    public let site: Site
    public let quantity: Quantity
    /// The 1-based step of the sampler or the trainer, 0 where none applies.
    public let step: Int
    /// The chain, or −1 when the failure is not one chain's.
    public let chain: Int
    /// A sentence for people: what happened and what to try.
    public let message: String

    public init(_ site: Site, _ quantity: Quantity, step: Int, chain: Int = -1, _ message: String) {
        self.site = site
        self.quantity = quantity
        self.step = step
        self.chain = chain
        self.message = message
    }
}
