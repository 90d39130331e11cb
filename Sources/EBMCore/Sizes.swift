/// Size arithmetic that cannot trap: every product of user-given sizes (batch × dimension, layer
/// widths, channels × kernel) goes through here before anything is allocated.

/// The product of `values`, or `nil` if it overflows `Int` or any value is negative.
public func checkedProduct<S: Sequence>(_ values: S) -> Int? where S.Element == Int {
    var product = 1
    for v in values {
        guard v >= 0 else { return nil }
        let (p, overflow) = product.multipliedReportingOverflow(by: v)
        if overflow { return nil }
        product = p
    }
    return product
}

/// The largest count of floats in one tensor, parameter vector or sample: 2³¹ − 1, the bound the
/// C ABI and the BLAS (32-bit integers) share.
public let maximumCount = Int(Int32.max)

/// Throws `EBMError.invalidArgument` naming `what` unless the product of `values` is at most
/// `maximumCount`; returns it.
@discardableResult
public func requireCount<S: Sequence>(_ values: S, _ what: @autoclosure () -> String) throws -> Int where S.Element == Int {
    guard let n = checkedProduct(values), n <= maximumCount else {
        throw EBMError.invalidArgument("\(what()) has more than 2^31 − 1 elements")
    }
    return n
}

/// The most floats one sample may need in a layer's scratch (a convolution's column matrix):
/// 2²⁸ (1 GiB). Larger per-sample work (an image padded to tens of thousands of pixels a side)
/// is refused when the layer is built, before its index tables or workspaces are allocated.
public let maximumSampleScratch = 1 << 28
