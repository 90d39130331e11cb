import XCTest
@testable import EBMCore

/// The layer registry builds from records exactly the network built directly, and reads each
/// record strictly.
final class LayerRegistryTests: XCTestCase {
    func record(_ kind: String, _ fields: [String: SettingValue] = [:]) -> SettingsRecord {
        SettingsRecord(role: "layer", kind: kind, fields: fields)
    }

    func testRecordsBuildTheNetworkBuiltDirectly() throws {
        let records = [
            record("spectral_norm", ["n_power_iterations": .integer(2), "eps": .number(1e-12)]),
            record("conv2d", ["in_channels": .integer(1), "out_channels": .integer(2), "kernel_size": .array([3, 3]),
                              "stride": .array([1, 1]), "padding": .array([1, 1])]),
            record("activation", ["function": .text("swish")]),
            record("residual", ["layers": .integer(1)]),
            record("leaky_relu", ["negative_slope": .number(0.1)]),
            record("avgpool2d", ["kernel_size": .array([2, 2]), "stride": .array([2, 2])]),
            record("flatten"),
            record("linear", ["in_features": .integer(8), "out_features": .integer(1)]),
        ]
        let built = try LayerRegistry.network(records, inputShape: [1, 4, 4])
        let direct: [NetworkLayer] = [
            try SpectralNorm(try Conv2d(inChannels: 1, outChannels: 2, kernel: (3, 3), stride: (1, 1), padding: (1, 1),
                                        inputHeight: 4, inputWidth: 4), powerIterations: 2, epsilon: 1e-12),
            try ActivationLayer(.swish, shape: [2, 4, 4]),
            try Residual(try Sequential([try LeakyReLU(slope: 0.1, shape: [2, 4, 4])])),
            try AvgPool2d(channels: 2, inputHeight: 4, inputWidth: 4, kernel: (2, 2), stride: (2, 2)),
            Flatten(shape: [2, 2, 2]),
            try Linear(inFeatures: 8, outFeatures: 1),
        ]
        let a = try NetworkEnergy(network: try Sequential(built.layers), seed: 5)
        let b = try NetworkEnergy(network: try Sequential(direct), seed: 5)
        XCTAssertEqual(built.output, [1])
        XCTAssertEqual(a.network.parameters.map(\.name), b.network.parameters.map(\.name))
        XCTAssertEqual(a.network.parameters.map(\.name), ["0.weight_orig", "0.bias", "5.weight", "5.bias"])
        XCTAssertEqual(a.parameters.array, b.parameters.array)
        XCTAssertEqual(a.buffers.array, b.buffers.array)
    }

    func testRecordsAreReadStrictly() {
        let cases: [([SettingsRecord], String)] = [
            ([record("linear", ["in_features": .integer(2), "out_features": .integer(1), "bias": .integer(0)])], "no field 'bias'"),
            ([record("linear", ["in_features": .integer(2)])], "out_features"),
            ([record("pool")], "unknown layer 'pool'"),
            ([record("spectral_norm", ["n_power_iterations": .integer(1), "eps": .number(1e-12)])], "no layer to wrap"),
            ([], "at least one layer"),
        ]
        for (records, message) in cases {
            XCTAssertThrowsError(try LayerRegistry.network(records, inputShape: [2])) { error in
                guard case EBMError.invalidArgument(let text) = error else { return XCTFail("\(error)") }
                XCTAssertTrue(text.contains(message), "\(text) should mention \(message)")
            }
        }
    }
}
