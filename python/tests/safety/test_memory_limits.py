"""Sizes that no process can hold, from arguments or from small files: each is a Python
``ValueError`` or ``MemoryError`` naming what was too large — never an abort of the interpreter.

Every reproducer runs in a subprocess under a 4 GiB address-space limit (``RLIMIT_AS``), where an
allocation the core failed to check would end the process with SIGABRT ("failed to allocate")
instead of raising. These cases aborted on the main branch before issue 23's fixes."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from hangs import HANG_SECONDS

LIMIT = 4 << 30


def run_limited(code):
    """Runs `code` in a fresh interpreter limited to 4 GiB of address space; (exit code, output)."""
    prologue = f"import resource\nresource.setrlimit(resource.RLIMIT_AS, ({LIMIT}, {LIMIT}))\n"
    done = subprocess.run([sys.executable, "-c", prologue + textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=HANG_SECONDS)
    return done.returncode, done.stdout + done.stderr


def expect_error(code, error, match):
    """`code` raises `error` whose message contains `match`, and the interpreter survives."""
    rc, out = run_limited(f"""
import numpy as np, ebm_swift
nn = ebm_swift.nn
try:
{textwrap.indent(textwrap.dedent(code), '    ')}
    print("NO ERROR")
except {error} as exc:
    print("RAISED:", exc)
""")
    assert rc == 0, f"exit {rc}:\n{out[-3000:]}"
    assert "RAISED:" in out and match in out, out[-3000:]


def test_a_padded_convolution_too_large_for_one_sample_is_refused_when_built():
    # 4 parameters, but a 46001 × 46001 column matrix per sample (8 GB of index tables before).
    expect_error("""
        ebm_swift.NetworkEnergy(nn.Sequential(nn.Conv2d(1, 1, 1, padding=23000), nn.AvgPool2d(46001), nn.Flatten()),
                                (1, 1, 1))
    """, "ValueError", "Conv2d's column matrix for one sample")


def test_the_same_architecture_in_a_small_file_is_refused(tmp_path):
    import ebm_swift

    nn = ebm_swift.nn
    small = nn.Sequential(nn.Conv2d(1, 1, 1, padding=3), nn.AvgPool2d(7), nn.Flatten())
    path = tmp_path / "small.npz"
    ebm_swift.save(ebm_swift.NetworkEnergy(small, (1, 1, 1)), path)
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(str(arrays["__meta__"]))
    meta["net"]["layers"][0]["padding"] = [23000, 23000]
    meta["net"]["layers"][1].update(kernel_size=[46001, 46001], stride=[46001, 46001])
    arrays["__meta__"] = np.array(json.dumps(meta))
    hostile = tmp_path / "hostile.npz"
    np.savez(hostile, **arrays)
    assert hostile.stat().st_size < 10_000
    rc, out = run_limited(f"""
        import ebm_swift
        try:
            ebm_swift.load({str(hostile)!r})
        except ValueError as exc:
            print("RAISED:", exc)
    """)
    assert rc == 0 and "Conv2d's column matrix for one sample" in out, out[-3000:]


def test_a_classifier_head_too_wide_to_evaluate_is_a_memory_error():
    # 2**28 classes: the logits of one block of rows alone need tens of gigabytes.
    expect_error("""
        e = ebm_swift.NetworkEnergy(nn.Sequential(nn.Linear(1, 2**28)), 1, n_classes=2**28)
        e.energy(np.zeros((1, 1), np.float32))
    """, "MemoryError", "cannot allocate")


def test_a_replay_buffer_too_large_is_a_memory_error():
    expect_error("ebm_swift.Trainer(ebm_swift.MLPEnergy(1, (4,)), buffer_size=2**31 - 1)",
                 "MemoryError", "replay buffer")


def test_a_small_trainer_file_claiming_a_huge_buffer_is_refused_before_building(tmp_path):
    import ebm_swift

    trainer = ebm_swift.Trainer(ebm_swift.MLPEnergy(2, (4,), seed=0), buffer_size=16, seed=0)
    trainer.step(np.zeros((8, 2), np.float32))
    path = tmp_path / "trainer.npz"
    ebm_swift.save(trainer, path)
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(str(arrays["__meta__"]))
    meta["trainer"]["config"]["buffer_size"] = 2**31 - 1
    arrays["__meta__"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "claim.npz", **arrays)
    rc, out = run_limited(f"""
        import ebm_swift
        try:
            ebm_swift.load({str(tmp_path / "claim.npz")!r})
        except ValueError as exc:
            print("RAISED:", exc)
    """)
    assert rc == 0 and "buffer_size is 2147483647 but its buffer holds shape (16, 2)" in out, out[-3000:]
