import CEBMSwift
import EBMCore

// The ABI's integer codes are defined once, as macros in ebm_swift.h (the Python shim exports
// the same macros to Python). Here each Swift case is tied to its macro; nothing else in Swift
// spells a code.

/// A Swift enum whose cases cross the ABI as the header's codes.
protocol ABICoded: CaseIterable {
    var abiCode: Int32 { get }
}

extension ABICoded {
    /// The case whose code is `code`, or an error naming `what`.
    init(abiCode code: Int32, _ what: String) throws {
        guard let match = Self.allCases.first(where: { $0.abiCode == code }) else {
            throw EBMError.invalidArgument("unknown \(what) code \(code)")
        }
        self = match
    }
}

extension Activation: ABICoded {
    var abiCode: Int32 {
        switch self {
        case .swish: EBM_ACT_SWISH
        case .tanh: EBM_ACT_TANH
        case .softplus: EBM_ACT_SOFTPLUS
        case .elu: EBM_ACT_ELU
        case .leakyReLU: EBM_ACT_LEAKY_RELU
        case .gelu: EBM_ACT_GELU
        case .geluErf: EBM_ACT_GELU_ERF
        }
    }
}
