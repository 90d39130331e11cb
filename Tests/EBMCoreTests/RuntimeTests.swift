import XCTest
@testable import EBMCore

#if canImport(Glibc)
import Glibc
#endif

final class RuntimeTests: XCTestCase {
    /// A build without ISA flags (as `swift test` makes) is the x86-64 baseline, which every
    /// x86-64 CPU runs; `setup.py` makes the AVX2 and AVX-512 builds with flags.
    func testPlainBuildIsTheBaseline() {
        #if arch(x86_64)
        XCTAssertEqual(InstructionSet.compiled, "baseline")
        #elseif arch(arm64)
        XCTAssertEqual(InstructionSet.compiled, "arm64")
        #endif
    }

    /// The BLAS reports its version and the core it chose, and runs one thread per product
    /// unless the user asked otherwise.
    func testBLASDescribesItself() {
        let configuration = String(cString: BLAS.configuration)
        let core = String(cString: BLAS.coreName)
        XCTAssertTrue(configuration.hasPrefix("OpenBLAS "), configuration)
        XCTAssertFalse(core.isEmpty)
        if getenv("OPENBLAS_NUM_THREADS") == nil && getenv("OPENBLAS_CORETYPE") == nil {
            XCTAssertEqual(BLAS.threadCount, 1)
            XCTAssertTrue(configuration.contains(core), "\(core) not in \(configuration)")
        }
    }
}
