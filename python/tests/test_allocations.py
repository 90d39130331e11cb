"""No heap allocation per Langevin step: workspaces are sized once per call (or per trainer).

A subprocess runs with an LD_PRELOAD shim that counts malloc/calloc/realloc/memalign calls; the
same call with 10× more steps must not allocate more (a per-step allocation would add at least
one per step, i.e. hundreds).

OpenBLAS runs single-threaded here: Debian's OpenBLAS 0.3.21 mallocs a job array inside every
*multi-threaded* level-3 call (about two per Langevin step on two cores, measured with this same
shim), which is the BLAS's own allocation, not the library's."""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))

SCRIPT = textwrap.dedent(
    """
    import ctypes, json
    import numpy as np
    import ebm_swift

    count = ctypes.CDLL(None).ebm_test_allocations
    count.restype = ctypes.c_long

    def allocations(fn):
        fn()  # warm up: first-call allocations (OpenBLAS buffers, lazy initialisation)
        before = count()
        fn()
        return count() - before

    model = ebm_swift.MLPEnergy(2, (64, 64), seed=0)
    gauss = ebm_swift.GaussianEnergy([0.0, 0.0], [[1.0, 0.3], [0.3, 1.0]])
    x0 = np.zeros((256, 2), dtype=np.float32)
    data = ebm_swift.datasets.make_toy("8gaussians", 128, seed=0)
    trainers = {n: ebm_swift.Trainer(ebm_swift.MLPEnergy(2, (64, 64), seed=0), n_steps=n, buffer_size=512, seed=0)
                for n in (5, 500)}
    out = {
        "mlp": [allocations(lambda n=n: ebm_swift.langevin(model, x0, n, 0.01, seed=0)) for n in (50, 500)],
        "gauss": [allocations(lambda n=n: ebm_swift.langevin(gauss, x0, n, 0.01, seed=0)) for n in (50, 500)],
        "trainer": [allocations(lambda n=n: trainers[n].step(data)) for n in (5, 500)],
    }
    print(json.dumps(out))
    """
)


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc to build the counting shim")
def test_no_allocation_per_langevin_step(tmp_path):
    shim = tmp_path / "malloc_counter.so"
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", str(shim), os.path.join(HERE, "malloc_counter.c")], check=True)
    env = dict(os.environ, LD_PRELOAD=str(shim), OPENBLAS_NUM_THREADS="1")
    result = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    for name, (short, long) in counts.items():
        # The long run has 450 (or 495) more steps. Allow a handful of extra allocations for the
        # Ctrl-C poll, which may take the GIL and run Python's signal check a few more times.
        assert long <= short + 10, f"{name}: {short} allocations for the short run, {long} for the long one"
