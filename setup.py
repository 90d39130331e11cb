"""Build: the Swift core (`swift build -c release`, Swift runtime linked statically) and the
NumPy shim linked against it with rpath `$ORIGIN`, all shipped inside the `ebm_swift` package.

On x86-64 the core is built once per instruction-set level — the x86-64 baseline, x86-64-v3
(AVX2, FMA) and x86-64-v4 (AVX-512) — as `libebm_swift.so`, `libebm_swift.avx2.so` and
`libebm_swift.avx512.so`, all with the soname `libebm_swift.so`. The package loads the level the
CPU supports (`ebm_swift/_loading.py`); the shim links the baseline, so nothing depends on the
machine that built the wheel. Matrix products come from the `scipy-openblas32` wheel."""

import glob
import os
import platform
import shutil
import subprocess
import sys

import numpy
import scipy_openblas32
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))

# (name, scratch folder, extra `swift build` flags) of each build of the core. The levels are the
# x86-64 psABI's, which `__builtin_cpu_supports` tests at load time (python/ebm_swift/_cpu.c).
if platform.machine() in ("x86_64", "AMD64"):
    VARIANTS = (
        ("baseline", ".build", []),
        ("avx2", ".build-avx2", ["-Xcc", "-march=x86-64-v3", "-Xswiftc", "-DEBM_ISA_AVX2"]),
        ("avx512", ".build-avx512", ["-Xcc", "-march=x86-64-v4", "-Xswiftc", "-DEBM_ISA_AVX512"]),
    )
else:
    VARIANTS = (("baseline", ".build", []),)  # arm64: NEON and FMA are always there

# `make sanitize`: EBM_SWIFT_SANITIZE=address builds the baseline core with AddressSanitizer (Swift
# has no UBSan on Linux; its arithmetic is checked and traps instead) and the shim with clang's
# AddressSanitizer and UndefinedBehaviorSanitizer (one runtime) into a folder of its own; load it with EBM_SWIFT_ISA=baseline
# and clang's libclang_rt.asan preloaded into an uninstrumented Python.
SANITIZE = os.environ.get("EBM_SWIFT_SANITIZE")
if SANITIZE:
    if SANITIZE != "address":
        sys.exit(f"ebm_swift: EBM_SWIFT_SANITIZE must be 'address'; got {SANITIZE!r}")
    VARIANTS = (("baseline", ".build-sanitize-python", ["--sanitize=address"]),)


def library_file(isa):
    """The file name of the core built for `isa` inside the package."""
    return "libebm_swift.so" if isa == "baseline" else f"libebm_swift.{isa}.so"


def swift_build(scratch, flags):
    blas_flags = ["-Xcc", "-I" + scipy_openblas32.get_include_dir(), "-Xlinker", "-L" + scipy_openblas32.get_lib_dir()]
    return ["swift", "build", "-c", "release", "--scratch-path", scratch, "-Xswiftc", "-static-stdlib",
            "-Xlinker", "-soname=libebm_swift.so", *blas_flags, *flags, "--product", "ebm_swift"]


class BuildWithSwift(build_ext):
    """Runs the Swift release builds, then compiles the shim against the baseline build."""

    def run(self):
        if shutil.which("swift") is None:
            sys.exit("ebm_swift: building needs the Swift toolchain (`swift` on PATH)")
        built = {}
        for isa, scratch, flags in VARIANTS:
            command = swift_build(os.path.join(ROOT, scratch), flags)
            subprocess.check_call(command, cwd=ROOT)
            bin_path = subprocess.check_output(command[:-2] + ["--show-bin-path"], cwd=ROOT, text=True).strip()
            built[isa] = os.path.join(bin_path, "libebm_swift.so")
        if SANITIZE:
            self.force = True  # flags are not part of setuptools' up-to-date check
        for ext in self.extensions:
            if ext.name == "ebm_swift._native":
                ext.library_dirs.append(os.path.dirname(built["baseline"]))
        super().run()
        # The libraries go next to the extension, which finds the baseline through rpath $ORIGIN.
        target = os.path.dirname(self.get_ext_fullpath("ebm_swift._native"))
        os.makedirs(target, exist_ok=True)
        for isa, library in built.items():
            shutil.copy2(library, os.path.join(target, library_file(isa)))


C_FLAGS = ["-std=c11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
LINK_FLAGS = []
if SANITIZE:
    C_FLAGS += ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined", "-fno-omit-frame-pointer", "-O1"]
    LINK_FLAGS += ["-fsanitize=address,undefined", "-shared-libasan"]

setup(
    ext_modules=[
        Extension(
            "ebm_swift._native",
            sources=sorted(glob.glob("python/shim/*.c")),
            include_dirs=[numpy.get_include(), os.path.join("Sources", "CEBMSwift", "include")],
            libraries=["ebm_swift"],
            runtime_library_dirs=["$ORIGIN"],
            extra_compile_args=C_FLAGS,
            extra_link_args=LINK_FLAGS,
        ),
        Extension("ebm_swift._cpu", sources=["python/ebm_swift/_cpu.c"], extra_compile_args=C_FLAGS,
                  extra_link_args=LINK_FLAGS),
    ],
    cmdclass={"build_ext": BuildWithSwift},
)
