/// A layer kind: how a layer is made from its record (strictly, by name) for samples of a given
/// shape. Each layer's file conforms its type; `LayerRegistry` lists them once, so a new layer is
/// its own file plus one line there.
public protocol LayerKind {
    /// The record's kind (`"linear"`, `"conv2d"`, …).
    static var kind: String { get }
    /// The layer `record` describes for input samples of `input` shape; `reader` yields the
    /// records of layers it contains (a residual block, a wrapped layer). `name` names it in errors.
    static func make(_ record: inout SettingsRecord, input: [Int], reader: inout LayerReader, name: String) throws
        -> NetworkLayer
}

/// A network's layer records in pre-order, read one layer at a time.
public struct LayerReader {
    let records: [SettingsRecord]
    var position = 0

    /// Builds the next layer (and the records of any layers inside it) for `input` samples.
    public mutating func layer(input: [Int], name: String) throws -> NetworkLayer {
        guard position < records.count else { throw EBMError.invalidArgument("layer \(name): a layer record is missing") }
        var record = records[position]
        position += 1
        guard let kind = LayerRegistry.layers.first(where: { $0.kind == record.kind }) else {
            throw EBMError.invalidArgument(
                "layer \(name): unknown layer '\(record.kind)'; the layers are \(LayerRegistry.kinds.joined(separator: ", "))")
        }
        let layer = try kind.make(&record, input: input, reader: &self, name: name)
        try record.finish()
        return layer
    }

    /// The next `count` layers, each taking the previous one's output, named `"\(path)\(i)"`.
    public mutating func layers(_ count: Int, input: [Int], path: String) throws -> (layers: [NetworkLayer], output: [Int]) {
        var out: [NetworkLayer] = [], shape = input
        for i in 0..<count {
            let layer = try layer(input: shape, name: "\(path)\(i)")
            out.append(layer)
            shape = layer.outputShape
        }
        return (out, shape)
    }
}

/// Every layer kind, by name: the one list of them.
public enum LayerRegistry {
    public static let layers: [any LayerKind.Type] = [
        Linear.self,
        Conv2d.self,
        AvgPool2d.self,
        ActivationLayer.self,
        LeakyReLU.self,
        Flatten.self,
        Residual.self,
        SpectralNorm.self,
    ]

    public static var kinds: [String] { layers.map { $0.kind } }

    /// The layers of `records` (pre-order, every record used) for samples of `inputShape`.
    public static func network(_ records: [SettingsRecord], inputShape: [Int]) throws -> (layers: [NetworkLayer], output: [Int]) {
        var reader = LayerReader(records: records)
        var out: [NetworkLayer] = [], shape = inputShape
        while reader.position < records.count {
            let layer = try reader.layer(input: shape, name: "\(out.count)")
            out.append(layer)
            shape = layer.outputShape
        }
        try require(!out.isEmpty, "a network needs at least one layer")
        return (out, shape)
    }
}

extension SettingsRecord {
    /// An integer pair `(h, w)` given as an array of two integral values.
    public mutating func pair(_ field: String) throws -> (Int, Int) {
        let v = try array(field, count: 2)
        guard v.allSatisfy({ $0 == $0.rounded() && abs($0) < 1e15 }) else {
            throw EBMError.invalidArgument("\(role) '\(kind)': field '\(field)' must hold two integers, got \(v)")
        }
        return (Int(v[0]), Int(v[1]))
    }
}
