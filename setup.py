"""Build: the Swift core (`swift build -c release`, Swift runtime linked statically) and the
NumPy shim linked against it with rpath `$ORIGIN`, both shipped inside the `ebm_swift` package."""

import os
import platform
import shutil
import subprocess
import sys

import numpy
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))


# LLVM CPU names (prefixes) of x86 CPUs with FMA, for builds that name their target.
_FMA_CPUS = ("haswell", "broadwell", "skylake", "cascadelake", "cooperlake", "cannonlake", "icelake", "tigerlake",
             "rocketlake", "sapphirerapids", "alderlake", "raptorlake", "meteorlake", "arrowlake", "lunarlake",
             "pantherlake", "graniterapids", "emeraldrapids", "diamondrapids", "znver", "bdver2", "bdver3", "bdver4")


def _target_cpu_flags():
    """Optimise for the build machine's vector units: AVX-512 (LLVM CPU "skylake-avx512": Intel since
    2017, AMD Zen 4 and later) or else AVX2 + FMA ("haswell": every x86 CPU since 2013). The vectorised
    activations and noise then run 16 lanes per register, or 8. EBM_SWIFT_TARGET_CPU overrides (e.g.
    "x86-64" for a portable build). x86 builds for a CPU without FMA define EBM_NO_FMA, so that the
    vector code multiplies and adds instead of calling libm's fmaf lane by lane."""
    if platform.machine() not in ("x86_64", "AMD64"):
        return []  # arm64 always has fused multiply-add
    cpu = os.environ.get("EBM_SWIFT_TARGET_CPU")
    if cpu is None:
        try:
            with open("/proc/cpuinfo") as f:
                flags = set(next((line for line in f if line.startswith("flags")), "").split())
        except OSError:
            flags = set()
        if {"avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512cd", "fma", "bmi2"} <= flags:
            cpu = "skylake-avx512"
        elif {"avx2", "fma", "bmi2"} <= flags:
            cpu = "haswell"
    out = ["-Xswiftc", "-target-cpu", "-Xswiftc", cpu] if cpu else []
    if not (cpu and cpu.startswith(_FMA_CPUS)):
        out += ["-Xswiftc", "-DEBM_NO_FMA"]
    return out


SWIFT_BUILD = ["swift", "build", "-c", "release", "-Xswiftc", "-static-stdlib", *_target_cpu_flags(),
               "--product", "ebm_swift"]


class BuildWithSwift(build_ext):
    """Runs the Swift release build, then compiles the shim against `libebm_swift.so`."""

    def run(self):
        if shutil.which("swift") is None:
            sys.exit("ebm_swift: building needs the Swift toolchain (`swift` on PATH)")
        subprocess.check_call(SWIFT_BUILD, cwd=ROOT)
        bin_path = subprocess.check_output(SWIFT_BUILD[:-2] + ["--show-bin-path"], cwd=ROOT, text=True).strip()
        library = os.path.join(bin_path, "libebm_swift.so")
        for ext in self.extensions:
            ext.library_dirs.append(bin_path)
        super().run()
        # The shared library goes next to the extension, which finds it through rpath $ORIGIN.
        target = os.path.dirname(self.get_ext_fullpath("ebm_swift._native"))
        os.makedirs(target, exist_ok=True)
        shutil.copy2(library, os.path.join(target, "libebm_swift.so"))


setup(
    ext_modules=[
        Extension(
            "ebm_swift._native",
            sources=["python/ebm_swift/_native.c"],
            include_dirs=[numpy.get_include(), os.path.join("Sources", "CEBMSwift", "include")],
            libraries=["ebm_swift"],
            runtime_library_dirs=["$ORIGIN"],
            extra_compile_args=["-std=c11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
        )
    ],
    cmdclass={"build_ext": BuildWithSwift},
)
