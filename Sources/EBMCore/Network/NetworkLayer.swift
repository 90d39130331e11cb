/// One parameter tensor of a layer: its name within the layer (PyTorch's, e.g. `"weight"`,
/// `"bias"`, `"0.weight"` inside a `Sequential`) and its shape.
public struct ParameterShape: Equatable, Sendable {
    public let name: String
    public let shape: [Int]
    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }

    public init(_ name: String, _ shape: [Int]) {
        self.name = name
        self.shape = shape
    }
}

/// The buffers of one layer call on a block of `rows` samples, each sample a flattened
/// row-major tensor (`NCHW` for images).
///
/// - `input`: `rows × inputCount`; `output`: `rows × outputCount`.
/// - `parameters`: the layer's slice of the network's flat parameter vector, in the order of
///   `NetworkLayer.parameters`.
/// - `saved`: `savedCount(rows:)` floats the forward pass leaves for the backward pass (activation
///   derivatives, im2col columns, inner layers' outputs).
/// - `scratch`: `scratchCount(rows:)` floats valid during one call only.
public struct LayerBuffers {
    public let rows: Int
    public let input: UnsafePointer<Float>
    public let output: UnsafeMutablePointer<Float>
    public let parameters: UnsafePointer<Float>
    public let saved: UnsafeMutablePointer<Float>
    public let scratch: UnsafeMutablePointer<Float>

    public init(rows: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                parameters: UnsafePointer<Float>, saved: UnsafeMutablePointer<Float>,
                scratch: UnsafeMutablePointer<Float>) {
        self.rows = rows
        self.input = input
        self.output = output
        self.parameters = parameters
        self.saved = saved
        self.scratch = scratch
    }
}

/// A layer of a feed-forward network: a differentiable map from one sample shape to another,
/// applied to every row of a batch. Layers hold configuration only; their parameters live in the
/// network's flat vector and every buffer comes from the caller (`LayerBuffers`), so that a
/// forward or backward pass allocates nothing.
///
/// A new layer is one type conforming to this protocol (and one entry in the layer descriptor
/// the ABI reads).
public protocol NetworkLayer: AnyObject {
    /// The shape of one input sample, e.g. `[channels, height, width]` or `[features]`.
    var inputShape: [Int] { get }
    /// The shape of one output sample.
    var outputShape: [Int] { get }
    /// The parameter tensors, in the order they follow each other in the flat vector.
    var parameters: [ParameterShape] { get }
    /// State tensors that are not trained (PyTorch's buffers, e.g. a spectral norm's
    /// `weight_u`), in the order they follow each other in the network's flat buffer vector.
    var buffers: [ParameterShape] { get }
    /// Multiply-adds of the forward pass of one sample, roughly (what sizes the chunks of a batch
    /// evaluation, not a speed model). Defaults to `parameterCount + inputCount`, exact for a
    /// `Linear` up to its bias and of the right order for elementwise layers.
    var multiplyAdds: Int { get }
    /// Floats the forward pass keeps for the backward pass, for a block of `rows` samples:
    /// proportional to `rows` (`Sequential` lays the regions out from `savedCount(rows: 1)`).
    func savedCount(rows: Int) -> Int
    /// Floats of scratch memory one call needs for a block of `rows` samples.
    func scratchCount(rows: Int) -> Int
    /// Writes PyTorch's default initialisation of the parameters, drawn from `stream`.
    func initialise(_ parameters: UnsafeMutablePointer<Float>, _ stream: inout UniformStream)
    /// Writes the buffers' initial values, drawn from `stream` (after every parameter is drawn).
    func initialiseBuffers(_ buffers: UnsafeMutablePointer<Float>, _ stream: inout UniformStream)
    /// Brings state the layer derives from its parameters and buffers (a transposed weight copy,
    /// a spectrally normalised weight) up to date after they changed. Called with the energy's
    /// write lock held, never during a forward or backward pass.
    func parametersDidChange(_ parameters: UnsafePointer<Float>, buffers: UnsafePointer<Float>)
    /// Called once at the start of every training step, with the write lock held: a spectral
    /// norm's power iteration updates its buffers here (and then its derived weight), calling
    /// `shouldStop` between iterations.
    /// - Throws: `EBMError.interrupted` when `shouldStop` returns `true` (the caller restores the
    ///   buffers).
    func trainingStepWillBegin(
        _ parameters: UnsafePointer<Float>, buffers: UnsafeMutablePointer<Float>, shouldStop: () -> Bool) throws
    /// `output ← layer(input)`; with `saving`, also fills `saved` for `backward`.
    func forward(_ b: LayerBuffers, saving: Bool)
    /// Back-propagates `outputCotangent` (`rows × outputCount`) after `forward(b, saving: true)`:
    /// writes `inputCotangent` (`rows × inputCount`) when given, and when `parameterGradient`
    /// is given writes `Σ_rows` of the parameter gradient of `⟨outputCotangent, output⟩`
    /// (overwriting, in the flat layout of `parameters`).
    func backward(
        _ b: LayerBuffers, outputCotangent: UnsafePointer<Float>,
        inputCotangent: UnsafeMutablePointer<Float>?, parameterGradient: UnsafeMutablePointer<Float>?)
    /// The jet forward pass to `order` (1 or 2) on `b.rows` samples: input and output hold
    /// `order + 1` stacked blocks of `b.rows` rows, the value and its first (and second)
    /// derivative along a path (see `NetworkLayer+Jet.swift`).
    func forwardJet(_ b: LayerBuffers, order: Int)
    /// The reverse of `forwardJet` (after it, on the same buffers): for the stacked output
    /// cotangents `ȳ_k` writes the stacked input cotangents `∂Φ/∂x_k` (when given) and the
    /// parameter gradient of `Φ = Σ_k ⟨ȳ_k, y_k⟩` (overwriting, when given).
    func backwardJet(
        _ b: LayerBuffers, order: Int, outputCotangent: UnsafePointer<Float>,
        inputCotangent: UnsafeMutablePointer<Float>?, parameterGradient: UnsafeMutablePointer<Float>?)
}

extension NetworkLayer {
    /// Elements of one input sample.
    public var inputCount: Int { inputShape.reduce(1, *) }
    /// Elements of one output sample.
    public var outputCount: Int { outputShape.reduce(1, *) }
    /// Number of parameters.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }
    public var multiplyAdds: Int { parameterCount + inputCount }
    public var parameters: [ParameterShape] { [] }
    public var buffers: [ParameterShape] { [] }
    /// Number of buffer values.
    public var bufferCount: Int { buffers.reduce(0) { $0 + $1.count } }
    public func savedCount(rows: Int) -> Int { 0 }
    public func scratchCount(rows: Int) -> Int { 0 }
    public func initialise(_ parameters: UnsafeMutablePointer<Float>, _ stream: inout UniformStream) {}
    public func initialiseBuffers(_ buffers: UnsafeMutablePointer<Float>, _ stream: inout UniformStream) {}
    public func parametersDidChange(_ parameters: UnsafePointer<Float>, buffers: UnsafePointer<Float>) {}
    public func trainingStepWillBegin(
        _ parameters: UnsafePointer<Float>, buffers: UnsafeMutablePointer<Float>, shouldStop: () -> Bool) throws {}
}

/// `a + b`, or `Int.max` where it would overflow (cost estimates of hostile architectures).
func saturatingSum(_ a: Int, _ b: Int) -> Int {
    let (sum, overflow) = a.addingReportingOverflow(b)
    return overflow ? Int.max : sum
}

/// Fills `count` values uniform on `(−bound, bound)`: PyTorch's default for `nn.Linear` and
/// `nn.Conv2d` weights and biases, `bound = 1/√fan_in` (Kaiming-uniform with `a = √5`).
func initialiseUniform(_ p: UnsafeMutablePointer<Float>, count: Int, fanIn: Int, _ stream: inout UniformStream) {
    let bound = 1 / Float(fanIn).squareRoot()
    for i in 0..<count { p[i] = stream.nextUniform(-bound, bound) }
}
