"""What ebm_swift runs with: the BLAS and its kernels, the build of the Swift core, the threads.

:func:`show_config` prints it (as ``numpy.show_config()``); ``show_config(mode="dicts")`` returns
it. Two checks a user should not have to make by hand:

- the instruction set of the Swift core's build (chosen at import from the CPU, see
  ``EBM_SWIFT_ISA``), and
- whether OpenBLAS chose kernels as strong as the CPU allows. An OpenBLAS older than the CPU
  falls back to old SSE kernels (``Prescott``), several times slower; ebm_swift then warns at
  import, unless ``OPENBLAS_CORETYPE`` was set on purpose.
"""

import os
import platform

from . import _cpu, _loading, _native

__all__ = ["show_config", "blas_core_level", "cpu_blas_level", "recommended_blas_core"]

BLAS_LEVELS = ("sse", "avx", "avx2", "avx512")
"""Vector levels of OpenBLAS's x86-64 kernels, weakest first."""

# OpenBLAS core names (openblas_get_corename) whose kernels use more than SSE; every other x86-64
# core (Prescott, Core2, Penryn, Dunnington, Nehalem, Atom, Opteron, Barcelona, Nano, Bobcat, …)
# has SSE kernels only.
_CORE_LEVELS = {
    "sandybridge": "avx", "bulldozer": "avx", "piledriver": "avx", "steamroller": "avx",
    "haswell": "avx2", "zen": "avx2", "excavator": "avx2",
    "skylakex": "avx512", "cooperlake": "avx512", "sapphirerapids": "avx512",
}
_RECOMMENDED = {"sse": "Nehalem", "avx": "Sandybridge", "avx2": "Haswell", "avx512": "SkylakeX"}


def blas_core_level(core):
    """The vector level (one of :data:`BLAS_LEVELS`) of an OpenBLAS x86-64 core name."""
    return _CORE_LEVELS.get(core.strip().lower(), "sse")


def cpu_blas_level(features=None):
    """The strongest OpenBLAS kernel level this CPU executes (``None`` off x86-64)."""
    if not _loading.is_x86_64():
        return None
    f = _cpu.features() if features is None else features
    if f.get("x86-64-v4"):
        return "avx512"
    if f.get("avx2") and f.get("fma"):
        return "avx2"
    return "avx" if f.get("avx") else "sse"


def recommended_blas_core():
    """An ``OPENBLAS_CORETYPE`` value with the strongest kernels this CPU executes (x86-64)."""
    level = cpu_blas_level()
    return None if level is None else _RECOMMENDED[level]


def _config():
    from .sampling import get_num_threads

    info = _native.runtime_info()
    words = info["blas_config"].split()
    blas = {
        "name": "OpenBLAS (scipy-openblas32)",
        "version": words[1] if len(words) > 1 and words[0] == "OpenBLAS" else "unknown",
        "config": info["blas_config"].strip(),
        "library": _loading.BLAS_PATH,
        "core": info["blas_core"],
        "num_threads": info["blas_num_threads"],
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
    }
    cpu_level = cpu_blas_level()
    if cpu_level is not None:
        blas["core_level"] = blas_core_level(info["blas_core"])
        blas["cpu_level"] = cpu_level
        blas["weaker_than_cpu"] = BLAS_LEVELS.index(blas["core_level"]) < BLAS_LEVELS.index(cpu_level)
    return {
        "ebm_swift": {"version": _native.version(), "num_threads": get_num_threads()},
        "instruction_set": {
            "selected": info["isa"],
            "supported": list(_loading.supported_isas()),
            "forced_by": _loading.ISA_FORCED_BY,
            "library": _loading.CORE_PATH,
        },
        "blas": blas,
        "cpu": {"machine": platform.machine(), "features": _cpu.features()},
    }


def show_config(mode="stdout"):
    """Print or return the configuration ebm_swift runs with.

    Parameters
    ----------
    mode : {"stdout", "dicts"}, default "stdout"
        ``"stdout"`` prints a readable summary; ``"dicts"`` returns it as nested dictionaries
        with the keys ``"ebm_swift"`` (``version``, ``num_threads``), ``"instruction_set"``
        (``selected``, ``supported``, ``forced_by``, ``library``), ``"blas"`` (``name``,
        ``version``, ``config``, ``library``, ``core``, ``num_threads``, ``OPENBLAS_CORETYPE``, and
        on x86-64 ``core_level``, ``cpu_level``, ``weaker_than_cpu``) and ``"cpu"``.

    Returns
    -------
    dict or None
        The configuration for ``mode="dicts"``, else ``None``.
    """
    if mode not in ("stdout", "dicts"):
        raise ValueError(f"mode must be 'stdout' or 'dicts'; got {mode!r}")
    config = _config()
    if mode == "dicts":
        return config
    blas, isa = config["blas"], config["instruction_set"]
    forced = f" (forced by {isa['forced_by']})" if isa["forced_by"] else ""
    level = f" [{blas['core_level']} kernels; the CPU supports {blas['cpu_level']}]" if "core_level" in blas else ""
    coretype = f" (OPENBLAS_CORETYPE={blas['OPENBLAS_CORETYPE']})" if blas["OPENBLAS_CORETYPE"] else ""
    print(f"ebm_swift {config['ebm_swift']['version']}, {config['ebm_swift']['num_threads']} sampling threads")
    print(f"  Swift core: {isa['selected']} build{forced}; this CPU runs {', '.join(isa['supported'])}")
    print(f"  BLAS: {blas['name']} {blas['version']}, core {blas['core']}{coretype}{level}, "
          f"{blas['num_threads']} thread(s) per product")
    if blas.get("weaker_than_cpu"):
        if blas["OPENBLAS_CORETYPE"]:
            print(f"  note: OPENBLAS_CORETYPE chose {blas['core_level']} kernels on a CPU that runs {blas['cpu_level']} ones")
        else:
            print(f"  WARNING: {weak_core_message(blas)}")
    return None


def weak_core_message(blas):
    """The advice printed when OpenBLAS chose kernels weaker than the CPU's."""
    return (f"OpenBLAS chose {blas['core']} ({blas['core_level']}) kernels, but this CPU runs "
            f"{blas['cpu_level']} ones: matrix products run several times slower. Upgrade scipy-openblas32 "
            f"(pip install -U scipy-openblas32) or set OPENBLAS_CORETYPE={_RECOMMENDED[blas['cpu_level']]} "
            f"before importing ebm_swift.")


def warn_if_weak_core():
    """At import: a RuntimeWarning when OpenBLAS's kernels are weaker than the CPU's, unless the
    user chose them with OPENBLAS_CORETYPE."""
    import warnings

    if os.environ.get("OPENBLAS_CORETYPE"):
        return
    blas = _config()["blas"]
    if blas.get("weaker_than_cpu"):
        warnings.warn(f"ebm_swift: {weak_core_message(blas)}", RuntimeWarning, stacklevel=3)
