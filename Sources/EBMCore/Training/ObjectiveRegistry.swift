/// Every training objective, by name: the one list of them. The trainer (and through it the ABI)
/// reaches an objective only through this table, so a new objective is its own file plus one
/// line here.
public enum ObjectiveRegistry {
    /// The registered objectives.
    public static let objectives: [any ObjectiveKind.Type] = [
        MaximumLikelihoodKind.self,
        JointEnergyKind.self,
        DenoisingScoreMatchingKind.self,
        SlicedScoreMatchingKind.self,
        NoiseContrastiveEstimationKind.self,
        RecoveryLikelihoodKind.self,
    ]

    /// The objectives' names, in registration order.
    public static var kinds: [String] { objectives.map { $0.kind } }

    /// The objective an objective record names, for `model`, its negatives moved by the kernel of
    /// `sampler` (a record the objective must take exactly when it samples negatives).
    /// - Throws: `EBMError.invalidArgument` for an unknown kind, a sampler record given to an
    ///   objective without negatives (or missing for one with), or a missing, unknown or invalid field.
    public static func objective(_ record: SettingsRecord, sampler: SettingsRecord?, model: any TrainableEnergy,
                                 seed: UInt64) throws -> any TrainingObjective {
        guard let type = objectives.first(where: { $0.kind == record.kind }) else {
            throw EBMError.invalidArgument("unknown objective '\(record.kind)'; the objectives are \(kinds.joined(separator: ", "))")
        }
        let kind = record.kind
        try require(type.samplesNegatives == (sampler != nil),
                    type.samplesNegatives ? "objective '\(kind)' needs a sampler record for its negatives"
                                          : "objective '\(kind)' samples no negatives: it takes no sampler record")
        let kernel = try sampler.map { try KernelRegistry.kernel($0, dimension: model.dimension) }
        var fields = record
        return try type.make(&fields, kernel: kernel, model: model, seed: seed)
    }
}
