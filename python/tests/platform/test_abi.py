"""The hand-written header and the built library agree: every declared function is exported,
and nothing undeclared with the ebm_ prefix is."""

import ctypes
import os
import re
import subprocess

import ebm_swift

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
HEADER = os.path.join(ROOT, "Sources", "CEBMSwift", "include", "ebm_swift.h")
LIBRARY = os.path.join(os.path.dirname(ebm_swift.__file__), "libebm_swift.so")


def declared():
    text = open(HEADER).read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    names = set(re.findall(r"\b(ebm_[a-z0-9_]+)\s*\(", text))
    return {n for n in names if not n.endswith("_fn")}


def exported():
    out = subprocess.run(["nm", "-D", "--defined-only", LIBRARY], capture_output=True, text=True, check=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.split() and line.split()[-1].startswith("ebm_")}


def test_every_declared_function_is_exported():
    names = declared()
    assert len(names) >= 18
    lib = ctypes.CDLL(LIBRARY)
    for name in sorted(names):
        assert hasattr(lib, name), f"{name} is declared in ebm_swift.h but not exported"
    assert exported() == names


def test_error_message_round_trip():
    lib = ctypes.CDLL(LIBRARY)
    lib.ebm_last_error.restype = ctypes.c_char_p
    lib.ebm_energy_dim.restype = ctypes.c_int32
    status = lib.ebm_energy_dim(None, None)
    assert status == -1
    assert b"NULL" in lib.ebm_last_error()
    lib.ebm_version.restype = ctypes.c_char_p
    assert lib.ebm_version().decode() == ebm_swift.__version__
