// swift-tools-version:5.9
import PackageDescription

let package = Package(
    name: "ebm_swift",
    products: [
        // MARK: Public products
        // The shared library the Python extension links against: `libebm_swift.so`.
        .library(name: "ebm_swift", type: .dynamic, targets: ["EBMSwift"]),
        // The pure-Swift core, for Swift users.
        .library(name: "EBMCore", targets: ["EBMCore"]),
    ],
    targets: [
        // MARK: System libraries
        // OpenBLAS from the `scipy-openblas32` wheel (see Sources/COpenBLAS/shim.h): the build passes
        // its folders, e.g. `swift build -Xcc -I$INC -Xlinker -L$LIB` with INC and LIB from
        // `python -c "import scipy_openblas32 as s; print(s.get_include_dir(), s.get_lib_dir())"`.
        .systemLibrary(name: "COpenBLAS"),

        // MARK: Public API
        // Numerics: energies, gradients, Langevin, training. No C pointers cross into it.
        .target(name: "EBMCore", dependencies: ["COpenBLAS"]),
        // The C ABI: `@_cdecl("ebm_…")` exports that convert pointers and status codes only.
        .target(name: "EBMSwift", dependencies: ["EBMCore", "CEBMSwift"]),

        // MARK: Implementation details
        // The hand-written C header that declares the ABI (shared by the Swift exports and the
        // Python shim). A C target so that Swift sees the same structs the shim fills in.
        .target(name: "CEBMSwift"),

        // MARK: Tests
        .testTarget(name: "EBMCoreTests", dependencies: ["EBMCore"]),
    ]
)
