"""show_config(): what the library runs with, checked against independent sources."""

import os
import platform
import subprocess
import sys
import warnings

import pytest

import ebm_swift
from ebm_swift import config as cfg


def test_blas_core_is_as_strong_as_the_cpu():
    """The BLAS kernels in use are as strong as the CPU runs: an OpenBLAS that does not know the
    CPU falls back to SSE kernels several times slower. Not checked when OPENBLAS_CORETYPE was
    set on purpose."""
    if os.environ.get("OPENBLAS_CORETYPE"):
        pytest.skip(f"OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']} chooses the core for this run")
    blas = ebm_swift.show_config("dicts")["blas"]
    if "cpu_level" not in blas:
        pytest.skip("x86-64 only: OpenBLAS's other architectures have one kernel level")
    assert not blas["weaker_than_cpu"], cfg.weak_core_message(blas)


def cpuinfo_flags():
    with open("/proc/cpuinfo") as f:
        return set(next(line for line in f if line.startswith("flags")).split(":", 1)[1].split())


@pytest.mark.skipif(not os.path.exists("/proc/cpuinfo") or platform.machine() != "x86_64", reason="Linux x86-64")
def test_cpu_level_agrees_with_proc_cpuinfo():
    flags = cpuinfo_flags()
    if {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"} <= flags:
        expected = "avx512"
    elif {"avx2", "fma"} <= flags:
        expected = "avx2"
    else:
        expected = "avx" if "avx" in flags else "sse"
    assert cfg.cpu_blas_level() == expected
    supported = ebm_swift.show_config("dicts")["instruction_set"]["supported"]
    assert ("avx512" in supported) == (expected == "avx512")
    assert ("avx2" in supported) == (expected in ("avx2", "avx512"))


def test_runtime_info_reports_the_blas_and_the_build():
    config = ebm_swift.show_config("dicts")
    blas = config["blas"]
    assert blas["config"].startswith("OpenBLAS ") and blas["version"] in blas["config"]
    assert blas["core"]
    if "OPENBLAS_CORETYPE" not in os.environ:  # the build string names the core it detected
        assert blas["core"] in blas["config"]
    if "OPENBLAS_NUM_THREADS" not in os.environ:  # the library keeps OpenBLAS single-threaded
        assert blas["num_threads"] == 1
    assert config["ebm_swift"]["num_threads"] == ebm_swift.get_num_threads()
    assert config["ebm_swift"]["version"] == ebm_swift.__version__
    assert config["instruction_set"]["selected"] in config["instruction_set"]["supported"]


def test_explicit_openblas_coretype_is_respected():
    code = "import ebm_swift; print(ebm_swift.show_config('dicts')['blas']['core'])"
    env = dict(os.environ, OPENBLAS_CORETYPE="Haswell")
    result = subprocess.run([sys.executable, "-W", "error", "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr  # chosen on purpose: no warning
    assert result.stdout.strip() == "Haswell"


def test_core_levels():
    assert cfg.blas_core_level("SkylakeX") == "avx512"
    assert cfg.blas_core_level("Cooperlake") == "avx512"
    assert cfg.blas_core_level("Haswell") == "avx2"
    assert cfg.blas_core_level("Zen") == "avx2"
    assert cfg.blas_core_level("Sandybridge") == "avx"
    assert cfg.blas_core_level("Prescott") == "sse"
    assert cfg.blas_core_level("Nehalem") == "sse"
    assert cfg.cpu_blas_level({"x86-64-v4": True}) in ("avx512", None)


def test_weak_core_warns_at_import(monkeypatch):
    """The import-time check warns when the core is weaker than the CPU, unless chosen on purpose."""
    weak = {"core": "Prescott", "core_level": "sse", "cpu_level": "avx2", "weaker_than_cpu": True}
    monkeypatch.setattr(cfg, "_config", lambda: {"blas": weak})
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    with pytest.warns(RuntimeWarning, match="OPENBLAS_CORETYPE=Haswell"):
        cfg.warn_if_weak_core()
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Prescott")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cfg.warn_if_weak_core()


def test_show_config_notes_a_weak_core_chosen_on_purpose():
    code = "import ebm_swift; ebm_swift.show_config()"
    env = dict(os.environ, OPENBLAS_CORETYPE="Nehalem")
    result = subprocess.run([sys.executable, "-W", "error", "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    if cfg.cpu_blas_level() not in (None, "sse"):
        assert "note: OPENBLAS_CORETYPE chose sse kernels" in result.stdout and "WARNING" not in result.stdout


def test_show_config_prints(capsys):
    assert ebm_swift.show_config() is None
    out = capsys.readouterr().out
    config = ebm_swift.show_config("dicts")
    assert f"{config['instruction_set']['selected']} build" in out
    assert f"core {config['blas']['core']}" in out


def test_show_config_rejects_unknown_mode():
    with pytest.raises(ValueError, match="mode must be 'stdout' or 'dicts'; got 'json'"):
        ebm_swift.show_config("json")
