/// Every sampler kernel, by name: the one list of them. The sampling functions, the trainer's
/// negatives, AIS's transitions, adaptation and the ABI reach a kernel through this table, so a new
/// kernel is its own file plus one line here.
public enum KernelRegistry {
    /// The registered kernels.
    public static let kernels: [any SamplerKernel.Type] = [
        Langevin.self,
        MALA.self,
        HMC.self,
        Barker.self,
        NUTS.self,
        KineticLangevin.self,
        ReplicaExchange.self,
    ]

    /// Whether every kernel draws from a random stream of its own: the kernels' `noisePurpose`
    /// tags are distinct and none is one of the core's (`Purpose.core`).
    public static var purposesAreDistinct: Bool {
        let tags = kernels.map { $0.noisePurpose }
        return Set(tags).count == tags.count && Purpose.core.isDisjoint(with: tags)
    }

    /// The kernels' names, in registration order.
    public static var kinds: [String] { kernels.map { $0.kind } }

    /// The kernel a sampler record names, made from its fields for energies of `dimension` inputs.
    /// - Throws: `EBMError.invalidArgument` for an unknown kind or a missing, unknown or invalid field.
    public static func kernel(_ record: SettingsRecord, dimension: Int) throws -> any SamplerKernel {
        guard let type = kernels.first(where: { $0.kind == record.kind }) else {
            throw EBMError.invalidArgument("unknown sampler '\(record.kind)'; the samplers are \(kinds.joined(separator: ", "))")
        }
        return try SettingsRecord.read(record) { try type.init(settings: &$0, dimension: dimension) }
    }
}
