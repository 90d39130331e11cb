"""The builds of the native core for each x86-64 instruction-set level, and their choice at import.

- Each build, forced with EBM_SWIFT_ISA, matches the NumPy reference (portability_check.py), and
  the builds agree with each other within float32 rounding.
- No build executes an instruction above its level: statically (the disassembly of the baseline
  build has no VEX/EVEX instruction, the AVX2 build no AVX-512 register), and dynamically, by
  running the checks under qemu-x86_64 emulating a Nehalem (SSE4.2) and a Haswell (AVX2) CPU,
  where the package must pick the build the CPU supports. A control shows that the emulator
  does stop an instruction above its CPU (SIGILL), so these runs can fail.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import ebm_swift
from ebm_swift import _loading
from hangs import HANG_SECONDS

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # python/tests, the helpers' folder
CHECK = os.path.join(HERE, "portability_check.py")
PACKAGE = os.path.dirname(ebm_swift.__file__)

pytestmark = [pytest.mark.skipif(not _loading.is_x86_64(), reason="the instruction-set builds exist on x86-64 only"),
              pytest.mark.slow]  # emulated CPUs: `make test-fast` skips them

# (qemu CPU model, the build the package must choose on it)
EMULATED = [("Nehalem", "baseline"), ("Haswell", "avx2")]


def run(command, env=None, timeout=HANG_SECONDS):
    full_env = {k: v for k, v in os.environ.items() if k not in ("EBM_SWIFT_ISA", "OPENBLAS_CORETYPE")}
    full_env.update(env or {})
    return subprocess.run(command, env=full_env, capture_output=True, text=True, timeout=timeout)


def check_output(result):
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def qemu(cpu):
    path = shutil.which("qemu-x86_64")
    if path is None:
        pytest.fail("qemu-x86_64 not found: install qemu-user (`make test` does, as root)")
    return [path, "-cpu", cpu]


@pytest.fixture(scope="module")
def native_runs():
    """The check script's output for every build this CPU supports, each forced."""
    return {isa: check_output(run([sys.executable, CHECK], {"EBM_SWIFT_ISA": isa})) for isa in _loading.supported_isas()}


def test_default_is_the_strongest_supported_build():
    config = ebm_swift.show_config("dicts")["instruction_set"]
    if os.environ.get("EBM_SWIFT_ISA"):
        pytest.skip("EBM_SWIFT_ISA is set for this run")
    assert config["selected"] == _loading.supported_isas()[-1]
    assert config["library"].endswith(_loading.library_file(config["selected"]))


def test_every_supported_build_matches_the_reference(native_runs):
    for isa, out in native_runs.items():
        assert out["isa"] == isa


def test_builds_agree_with_each_other(native_runs):
    # Ten Langevin steps from the same seed: the builds differ only in rounding (fused or separate
    # multiply-adds, vector widths in the reductions), ~1e-6 relative per step.
    first = next(iter(native_runs.values()))
    for isa, out in native_runs.items():
        np.testing.assert_allclose(out["energy"], first["energy"], rtol=1e-5, atol=1e-5, err_msg=isa)
        np.testing.assert_allclose(out["langevin"], first["langevin"], rtol=1e-4, atol=1e-4, err_msg=isa)


def test_unknown_isa_is_refused():
    result = run([sys.executable, "-c", "import ebm_swift"], {"EBM_SWIFT_ISA": "sse9"})
    assert result.returncode == 1
    assert "EBM_SWIFT_ISA must be one of 'baseline', 'avx2', 'avx512'; got 'sse9'" in result.stderr


def disassembly(isa):
    path = os.path.join(PACKAGE, _loading.library_file(isa))
    return subprocess.run(["objdump", "-d", "--no-show-raw-insn", path], capture_output=True, text=True, check=True).stdout


# A VEX- or EVEX-encoded instruction (AVX and later) has a mnemonic starting with "v".
VEX = re.compile(r"^\s*[0-9a-f]+:\s+v[a-z0-9]+\s", re.MULTILINE)


def test_baseline_build_has_no_avx_instruction():
    text = disassembly("baseline")
    assert len(VEX.findall(text)) == 0, VEX.findall(text)[:5]
    assert "%ymm" not in text and "%zmm" not in text


def test_avx2_build_has_no_avx512_instruction():
    text = disassembly("avx2")
    assert "%zmm" not in text and not re.search(r"%k[0-7]\b", text)
    assert "%ymm" in text and "vfmadd" in text  # control: it is an AVX2 + FMA build


def test_avx512_build_uses_avx512():
    text = disassembly("avx512")
    assert "%zmm" in text


@pytest.mark.parametrize("cpu,isa", EMULATED)
def test_emulated_cpu_runs_its_build(cpu, isa):
    out = check_output(run(qemu(cpu) + [sys.executable, CHECK]))
    assert out["isa"] == isa


@pytest.mark.parametrize("cpu,forced", [("Nehalem", "avx2"), ("Haswell", "avx512")])
def test_emulated_cpu_refuses_a_stronger_build(cpu, forced):
    result = run(qemu(cpu) + [sys.executable, "-c", "import ebm_swift"], {"EBM_SWIFT_ISA": forced})
    assert result.returncode == 1, result.stderr[-2000:]
    assert f"EBM_SWIFT_ISA='{forced}' needs" in result.stderr and "does not support" in result.stderr


# Loads one build directly (bypassing the package's choice) and evaluates an MLP energy.
DIRECT = textwrap.dedent(
    """
    import ctypes, os, sys
    import scipy_openblas32 as s
    ctypes.CDLL(os.path.join(s.get_lib_dir(), s.get_library(fullname=True)))
    lib = ctypes.CDLL(sys.argv[1])
    handle = ctypes.c_void_p()
    hidden = (ctypes.c_int64 * 2)(64, 64)
    assert lib.ebm_mlp_create(ctypes.c_int64(4), hidden, ctypes.c_int64(2), ctypes.c_int32(0),
                              ctypes.c_uint64(0), ctypes.byref(handle)) == 0
    x = (ctypes.c_float * 400)(*([0.5] * 400))
    out = (ctypes.c_float * 100)()
    assert lib.ebm_energy_eval(handle, x, ctypes.c_int64(100), out) == 0
    print("ran", out[0])
    """
)


@pytest.mark.parametrize("cpu,isa", [("Nehalem", "avx2"), ("Haswell", "avx512")])
def test_emulator_stops_instructions_above_its_cpu(cpu, isa):
    """Control for the emulated runs: the same emulator kills a build above its CPU with SIGILL."""
    path = os.path.join(PACKAGE, _loading.library_file(isa))
    result = run(qemu(cpu) + [sys.executable, "-c", DIRECT, path])
    assert result.returncode == -signal.SIGILL, (result.returncode, result.stdout, result.stderr[-2000:])
    # The script itself is sound: it runs natively on a build this CPU supports (the same build
    # when the CPU has `isa`; otherwise the strongest it has, and `isa`'s build dies here too).
    sound = path
    if isa not in _loading.supported_isas():
        sound = os.path.join(PACKAGE, _loading.library_file(_loading.supported_isas()[-1]))
        here = run([sys.executable, "-c", DIRECT, path])
        assert here.returncode == -signal.SIGILL, (here.returncode, here.stdout, here.stderr[-2000:])
    native = run([sys.executable, "-c", DIRECT, sound])
    assert native.returncode == 0 and native.stdout.startswith("ran"), native.stderr[-2000:]


def test_blas_kernels_on_an_unknown_new_cpu_model():
    """The issue's machine: an Intel family 6, model 207 CPU, newer than Debian 12's OpenBLAS
    0.3.21, which fell back to Prescott (SSE3) kernels on it. Emulated here with Haswell's
    features under that model number, the OpenBLAS ebm_swift loads picks AVX2 kernels, and
    show_config() finds them as strong as the CPU."""
    code = "import json, ebm_swift; print(json.dumps(ebm_swift.show_config('dicts')['blas']))"
    blas = check_output(run(qemu("Haswell,model=207,vendor=GenuineIntel") + [sys.executable, "-c", code]))
    assert blas["core"] == "Haswell" and blas["cpu_level"] == "avx2"
    assert not blas["weaker_than_cpu"]
