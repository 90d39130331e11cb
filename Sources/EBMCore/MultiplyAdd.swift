/// `c + a·b` for the vector code: one fused multiply-add where the build targets FMA hardware,
/// else a multiply and an add.
///
/// Swift never contracts `a * b + c` by itself, and its `addingProduct` always means a fused
/// (singly rounded) operation — a libm `fmaf` call per lane on CPUs without FMA, which made a
/// generic x86-64 build 8× slower. The x86-64 baseline build (see `InstructionSet`) therefore
/// multiplies and adds; the results then differ only in rounding.
protocol MultiplyAdd {
    static func + (a: Self, b: Self) -> Self
    static func * (a: Self, b: Self) -> Self
    func addingProduct(_ a: Self, _ b: Self) -> Self
}

extension MultiplyAdd {
    /// `self + a·b`.
    @_transparent
    func multiplyAdd(_ a: Self, _ b: Self) -> Self {
        #if arch(x86_64) && !EBM_ISA_AVX2 && !EBM_ISA_AVX512
        return self + a * b
        #else
        return addingProduct(a, b)
        #endif
    }
}

extension Float: MultiplyAdd {}

extension SIMD16: MultiplyAdd where Scalar == Float {
    /// `self + a·b` with `b` in every lane.
    @_transparent
    func multiplyAdd(_ a: Self, _ b: Float) -> Self { multiplyAdd(a, Self(repeating: b)) }
}
