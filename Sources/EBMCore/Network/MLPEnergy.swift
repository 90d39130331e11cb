/// The fully connected energy `E: R^dim → R` of `ebm_swift.MLPEnergy`: hidden layers with one
/// activation between them, then a linear layer to a single output,
/// `E(x) = w_out · f(W_L … f(W_1 x + b_1) … + b_L) + b_out` — built as the network
/// `Sequential(Linear(dim, h_1), f, …, Linear(h_L, 1))`, so it shares every layer's forward and
/// backward pass with the other networks.
///
/// Parameters follow each other layer after layer in PyTorch `nn.Linear` layout, weight
/// (`out × in`, row-major) then bias (`out`); it names them `layers.{i}.weight` /
/// `layers.{i}.bias` with the output layer last. Initialisation is PyTorch's `nn.Linear` default
/// drawn from `seed`: weights and biases uniform on `(−1/√fan_in, 1/√fan_in)`.
extension NetworkEnergy {
    /// - Throws: `EBMError.invalidArgument` for a non-positive dimension or width, no hidden
    ///   layer (an energy linear in `x` has no normalisable density), or more than 2³¹ − 1
    ///   parameters.
    public static func multilayerPerceptron(
        dimension: Int, hidden: [Int], activation: Activation, seed: UInt64
    ) throws -> NetworkEnergy {
        try require(dimension > 0, "dim must be positive, got \(dimension)")
        try require(!hidden.isEmpty, "hidden must name at least one layer width, got none")
        try require(hidden.allSatisfy { $0 > 0 }, "hidden widths must be positive, got \(hidden)")
        var layers: [NetworkLayer] = []
        var fanIn = dimension, total = 0
        for (l, width) in (hidden + [1]).enumerated() {
            let (weights, overflow) = width.multipliedReportingOverflow(by: fanIn)
            try require(!overflow && weights <= Int(Int32.max) - total - width,
                        "the network dim \(dimension), hidden \(hidden) has more than 2^31 − 1 parameters")
            total += weights + width
            layers.append(try Linear(inFeatures: fanIn, outFeatures: width))
            if l < hidden.count { layers.append(try ActivationLayer(activation, shape: [width])) }
            fanIn = width
        }
        let energy = try NetworkEnergy(network: try Sequential(layers), seed: seed)
        energy.parameterTensors = energy.network.parameters.enumerated().map { i, t in
            ParameterShape("layers.\(i / 2).\(i % 2 == 0 ? "weight" : "bias")", t.shape)
        }
        return energy
    }
}
