"""Loads the native core before the shim: the BLAS it links, then its build for this CPU.

On x86-64 the Swift core is built three times (``setup.py``): for the x86-64 baseline
(``libebm_swift.so``), for x86-64-v3 — AVX2 and FMA — (``libebm_swift.avx2.so``) and for
x86-64-v4 — AVX-512 — (``libebm_swift.avx512.so``). All three carry the soname
``libebm_swift.so``, so once one is loaded the dynamic linker hands it to the shim ``_native``
(which names the baseline) instead of loading another. Importing ``_native`` by itself therefore
gets the baseline, which runs on every x86-64 CPU.

The environment variable ``EBM_SWIFT_ISA`` (``baseline``, ``avx2`` or ``avx512``) forces a build;
one the CPU cannot execute is refused with an ``ImportError`` rather than a crash.
"""

import ctypes
import os
import platform

import scipy_openblas32

from . import _cpu

ISAS = ("baseline", "avx2", "avx512")
"""The x86-64 builds of the core, weakest first."""

_REQUIRES = {"baseline": None, "avx2": "x86-64-v3", "avx512": "x86-64-v4"}
_HERE = os.path.dirname(os.path.abspath(__file__))


def library_file(isa):
    """The file (in this package) holding the core built for `isa`."""
    return "libebm_swift.so" if isa == "baseline" else f"libebm_swift.{isa}.so"


def is_x86_64():
    return platform.machine().lower() in ("x86_64", "amd64")


def supported_isas():
    """The builds of the core this CPU can execute, weakest first (``("baseline",)`` off x86-64,
    where there is one build)."""
    if not is_x86_64():
        return ("baseline",)
    features = _cpu.features()
    return tuple(isa for isa in ISAS if _REQUIRES[isa] is None or features.get(_REQUIRES[isa], False))


def select_isa():
    """The build to load: ``EBM_SWIFT_ISA`` if set (checked), else the strongest supported one."""
    supported = supported_isas()
    forced = os.environ.get("EBM_SWIFT_ISA")
    if forced is None or forced == "":
        return supported[-1], None
    if forced not in ISAS:
        raise ImportError(f"ebm_swift: EBM_SWIFT_ISA must be one of {', '.join(map(repr, ISAS))}; got {forced!r}")
    if forced not in supported:
        raise ImportError(
            f"ebm_swift: EBM_SWIFT_ISA={forced!r} needs {_REQUIRES[forced] or 'x86-64'}, which this CPU "
            f"({platform.machine()}) does not support; it supports {', '.join(map(repr, supported))}")
    return forced, "EBM_SWIFT_ISA"


def _load():
    blas_path = os.path.join(scipy_openblas32.get_lib_dir(), scipy_openblas32.get_library(fullname=True))
    blas = ctypes.CDLL(blas_path)  # satisfies the core's DT_NEEDED libscipy_openblas.so by soname
    isa, forced_by = select_isa()
    core_path = os.path.join(_HERE, library_file(isa))
    if not os.path.exists(core_path):
        raise ImportError(f"ebm_swift: the {isa} build of the native core is missing ({core_path}); reinstall")
    return blas, ctypes.CDLL(core_path), isa, forced_by, blas_path, core_path


_blas_handle, _core_handle, ISA, ISA_FORCED_BY, BLAS_PATH, CORE_PATH = _load()
