/// What the C ABI needs of a trainer, whatever its model type: the trainer handle holds an
/// `any TrainerInterface`, so a new trainable energy needs no change there.
public protocol TrainerInterface: AnyObject {
    /// Elements of one sample.
    var dimension: Int { get }
    /// Number of the model's parameters.
    var parameterCount: Int { get }
    var buffer: ReplayBuffer { get }
    var optimizer: Optimizer { get }
    var stepCount: Int { get }
    /// The objective's own parameters (NCE's log-normaliser) and their optimiser.
    var objectiveParameters: FloatBuffer { get }
    var objectiveOptimizer: Optimizer { get }
    /// The moving average of the parameters (empty without one).
    var averagedParameters: FloatBuffer { get }
    func restoreAveragedParameters(_ values: UnsafeBufferPointer<Float>) throws
    func step(_ data: UnsafeBufferPointer<Float>, rows: Int, labels: UnsafePointer<Int32>?, learningRate: Float?,
              shouldStop: () -> Bool) throws -> TrainingStepStatistics
    func copyObjectiveState(into out: UnsafeMutableBufferPointer<Float>) throws
    func restoreObjectiveState(_ state: UnsafeBufferPointer<Float>) throws
    func restore(stepCount: Int, updates: Int, firstMoment: UnsafeBufferPointer<Float>,
                 secondMoment: UnsafeBufferPointer<Float>, bufferStates: UnsafeBufferPointer<Float>,
                 permutation: UnsafeBufferPointer<Int64>) throws
}

extension Trainer: TrainerInterface {
    public var dimension: Int { model.dimension }
    public var parameterCount: Int { model.parameterCount }
}

/// A trainer for whichever trainable energy `model` is (the existential opened once).
public func makeTrainer(model: any TrainableEnergy, settings: TrainerSettings) throws -> any TrainerInterface {
    func make<M: TrainableEnergy>(_ m: M) throws -> any TrainerInterface { try Trainer(model: m, settings: settings) }
    return try make(model)
}
