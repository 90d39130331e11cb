/// A fully connected energy network `E: R^dim → R`: hidden layers with an activation between
/// them, then a linear layer to a single output,
/// `E(x) = w_out · f(W_L … f(W_1 x + b_1) … + b_L) + b_out`.
///
/// Parameters live in one flat buffer in PyTorch `nn.Linear` layout, layer after layer:
/// weight (`out × in`, row-major) then bias (`out`), named `layers.{i}.weight` / `layers.{i}.bias`
/// with the output layer last. That order is the ABI's and the Python package's.
public final class MLPEnergy {
    /// The input dimension.
    public let dimension: Int
    /// The hidden layer widths (at least one).
    public let hidden: [Int]
    /// The nonlinearity between layers.
    public let activation: Activation
    /// The flat parameter vector (see the type's documentation for its layout).
    public let parameters: FloatBuffer
    /// `(out, in)` of every layer, the output layer `(1, hidden.last)` included.
    public let layerShapes: [(out: Int, in: Int)]
    /// Guards `parameters`: evaluations and sampling hold it for reading, updates for writing.
    /// The core's evaluation methods do not take it themselves; `setParameters`,
    /// `copyParameters` and `Trainer.step` do.
    public let lock = ReadWriteLock()
    /// Offsets of each layer's weight and bias in `parameters`.
    let weightOffsets: [Int]
    let biasOffsets: [Int]
    /// Rows per chain block, and for small networks the hidden layers' weights transposed
    /// (`in × out`, at `weightOffsets`), kept equal to `parameters` by `parametersDidChange()`.
    /// See `MLPEnergy+Blocking.swift`.
    let blockRows: Int?
    let transposedWeights: FloatBuffer?

    /// A network with PyTorch's default `nn.Linear` initialisation drawn from `seed`:
    /// weights and biases uniform on `(−1/√fan_in, 1/√fan_in)` (Kaiming-uniform with `a = √5`).
    /// - Throws: `EBMError.invalidArgument` for a non-positive dimension or width, or no hidden
    ///   layer (an energy linear in `x` has no normalisable density).
    public init(dimension: Int, hidden: [Int], activation: Activation, seed: UInt64) throws {
        try require(dimension > 0, "dim must be positive, got \(dimension)")
        try require(!hidden.isEmpty, "hidden must name at least one layer width, got none")
        try require(hidden.allSatisfy { $0 > 0 }, "hidden widths must be positive, got \(hidden)")
        var shapes: [(out: Int, in: Int)] = []
        var fanIn = dimension
        for width in hidden + [1] {
            shapes.append((width, fanIn))
            fanIn = width
        }
        var weightOffsets: [Int] = [], biasOffsets: [Int] = []
        var offset = 0
        for shape in shapes {
            weightOffsets.append(offset)
            offset += shape.out * shape.in
            biasOffsets.append(offset)
            offset += shape.out
        }
        try require(offset < Int(Int32.max), "the network has \(offset) parameters; at most 2^31 − 1 are supported")
        self.dimension = dimension
        self.hidden = hidden
        self.activation = activation
        self.layerShapes = shapes
        self.weightOffsets = weightOffsets
        self.biasOffsets = biasOffsets
        self.parameters = FloatBuffer(count: offset)
        self.blockRows = Self.directBlockRows(shapes: shapes.dropLast())
        self.transposedWeights = blockRows == nil ? nil : FloatBuffer(count: offset)

        var stream = UniformStream(Philox4x32(seed: seed, purpose: Purpose.initialisation))
        for (l, shape) in shapes.enumerated() {
            let bound = 1 / Float(shape.in).squareRoot()
            for i in 0..<(shape.out * shape.in) {
                parameters.base[weightOffsets[l] + i] = stream.nextUniform(-bound, bound)
            }
            for i in 0..<shape.out {
                parameters.base[biasOffsets[l] + i] = stream.nextUniform(-bound, bound)
            }
        }
        parametersDidChange()
    }

    /// Pointer to layer `l`'s weight (`out × in`, row-major).
    @inline(__always)
    func weight(_ l: Int) -> UnsafeMutablePointer<Float> { parameters.base + weightOffsets[l] }

    /// Pointer to layer `l`'s bias (`out`).
    @inline(__always)
    func bias(_ l: Int) -> UnsafeMutablePointer<Float> { parameters.base + biasOffsets[l] }
}

extension MLPEnergy: TrainableEnergy {}
