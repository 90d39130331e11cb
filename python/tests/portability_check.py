"""The core checks of one build of the native library, run as a script by test_portability.py:
natively with each forced EBM_SWIFT_ISA, and under qemu-x86_64 emulating older CPUs.

Checks every activation's energy, input gradient and parameter gradient against the float64
NumPy reference (reference.py), bit-identical Langevin chains for one and two threads, and that
MALA and a few training steps run finite; prints one JSON line with the build's instruction set,
the BLAS core and a short Langevin run (so that the caller can compare builds). Exits non-zero
on the first mismatch.
"""

import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ebm_swift  # noqa: E402
from reference import forward, grad_params_of_mean, grad_x  # noqa: E402

# float32 against float64, as test_energy.py: 1e-5 of the largest entry.
RTOL = 1e-5


def close(actual, expected, what):
    scale = max(1.0, float(np.max(np.abs(expected))))
    np.testing.assert_allclose(actual, expected, rtol=0, atol=RTOL * scale, err_msg=what)


def main():
    rng = np.random.default_rng(7)
    for activation in sorted(ebm_swift.ACTIVATIONS):
        # widths of 21 and 40 leave remainders for every vector width (4, 8, 16 lanes)
        model = ebm_swift.MLPEnergy(3, (21, 40), activation, seed=3)
        x = rng.normal(scale=2.0, size=(67, 3)).astype(np.float32).astype(np.float64)
        params = model.parameters()
        close(model.energy(x), forward(params, activation, x)[0], f"{activation} energy")
        close(model.grad_x(x), grad_x(params, activation, x), f"{activation} grad_x")
        reference = grad_params_of_mean(params, activation, x)
        for name, grad in model.grad_params(x).items():
            close(grad, reference[name], f"{activation} {name}")

    model = ebm_swift.MLPEnergy(3, (32, 32), "swish", seed=0)
    x0 = rng.uniform(-2, 2, size=(200, 3))
    runs = []
    for threads in (1, 2):
        ebm_swift.set_num_threads(threads)
        runs.append(ebm_swift.langevin(model, x0, 10, 0.01, seed=5))
    assert np.array_equal(runs[0], runs[1]), "langevin differs between 1 and 2 threads"
    samples, info = ebm_swift.mala(model, x0, 10, 0.05, seed=6)
    assert np.all(np.isfinite(samples)) and 0 < info["acceptance_rate"].mean() <= 1
    trainer = ebm_swift.Trainer(ebm_swift.MLPEnergy(2, (32, 32), seed=1), n_steps=5, buffer_size=256, seed=2)
    data = ebm_swift.datasets.make_toy("8gaussians", 64, seed=0)
    stats = [trainer.step(data) for _ in range(3)]
    assert all(np.isfinite(s["loss"]) for s in stats)

    config = ebm_swift.show_config("dicts")
    print(json.dumps({
        "isa": config["instruction_set"]["selected"],
        "blas_core": config["blas"]["core"],
        "langevin": runs[0].tolist(),
        "energy": model.energy(x0).tolist(),
    }))


if __name__ == "__main__":
    main()
