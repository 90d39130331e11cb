/// The instruction set this build of the core was compiled for.
///
/// On x86-64 the library is built three times — for the x86-64 baseline (SSE2), for x86-64-v3
/// (AVX2, FMA, BMI2) and for x86-64-v4 (AVX-512 F/BW/CD/DQ/VL) — and the Python package loads the
/// one the CPU supports (`EBM_SWIFT_ISA` forces one). `setup.py` passes `-target-cpu` and
/// `-D EBM_ISA_AVX2` or `-D EBM_ISA_AVX512`; a build without them is the baseline, which runs on
/// every x86-64 CPU. arm64 builds need no such split (NEON and FMA are always there).
public enum InstructionSet {
    /// `"avx512"`, `"avx2"`, `"baseline"` (x86-64) or the architecture's name elsewhere.
    public static let compiled: String = {
        #if EBM_ISA_AVX512
        return "avx512"
        #elseif EBM_ISA_AVX2
        return "avx2"
        #elseif arch(x86_64)
        return "baseline"
        #elseif arch(arm64)
        return "arm64"
        #else
        return "generic"
        #endif
    }()
}
