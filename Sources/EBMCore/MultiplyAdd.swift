/// `c + a·b` for the vector code: one fused multiply-add where the build targets FMA hardware,
/// else a multiply and an add.
///
/// Swift never contracts `a * b + c` by itself, and its `addingProduct` always means a fused
/// (singly rounded) operation — a libm `fmaf` call per lane on CPUs without FMA, which made a
/// generic x86-64 build 8× slower. `setup.py` defines `EBM_NO_FMA` for builds that target such
/// CPUs; the results then differ only in rounding.
extension SIMD16 where Scalar == Float {
    /// `self + a·b`.
    @_transparent
    func multiplyAdd(_ a: Self, _ b: Self) -> Self {
        #if EBM_NO_FMA
        return self + a * b
        #else
        return addingProduct(a, b)
        #endif
    }

    /// `self + a·b` with a scalar `b`.
    @_transparent
    func multiplyAdd(_ a: Self, _ b: Float) -> Self {
        #if EBM_NO_FMA
        return self + a * b
        #else
        return addingProduct(a, b)
        #endif
    }
}

extension Float {
    /// `self + a·b`, fused where the build targets FMA hardware (the scalar tails of vector loops).
    @_transparent
    func multiplyAdd(_ a: Float, _ b: Float) -> Float {
        #if EBM_NO_FMA
        return self + a * b
        #else
        return addingProduct(a, b)
        #endif
    }
}
