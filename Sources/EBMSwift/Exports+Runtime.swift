#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEBMSwift
import EBMCore

// C exports describing the library itself: its version, instruction set and BLAS.

@_cdecl("ebm_version")
public func ebmVersion() -> UnsafePointer<CChar> { versionString }
private let versionString = UnsafePointer(strdup("0.1.0")!)
private let isaString = UnsafePointer(strdup(InstructionSet.compiled)!)

@_cdecl("ebm_runtime_info_get")
public func ebmRuntimeInfoGet(_ out: UnsafeMutablePointer<ebm_runtime_info>?) -> ebm_status {
    withStatus {
        let out = try nonNull(out, "out")
        out.pointee = ebm_runtime_info(
            isa: isaString, blas_config: BLAS.configuration, blas_core: BLAS.coreName,
            blas_num_threads: Int64(BLAS.threadCount), chain_alignment: Int64(ChainBlocks.alignment))
    }
}
