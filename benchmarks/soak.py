"""Soak: every entry point called many times; resident memory and open file descriptors must stay
flat (issue 14). `python benchmarks/soak.py --calls 10000` is the long run; the tests run a short
one (`python/tests/safety/test_regressions.py`). Prints JSON: per round of calls, the resident set (MB) and
the number of open descriptors after a warm-up, and at the end.

One round: create and destroy every energy type (MLP, network with a spectral norm, Gaussian,
mixture, double well, banana, callable), evaluate energies, gradients and parameter gradients,
sample with ULA and MALA, estimate log Z by AIS, take a trainer step, save and load a trainer,
pickle and unpickle an energy, and raise (and catch) a validation error and a callable's error;
then second-order derivatives, a step of each other objective (DSM, SSM, NCE, JEM with its
class-conditional buffer and a moving average), a classifier energy's logits, class energies and
conditional sampling; MALA, HMC and NUTS on a callable energy with a NaN region (divergences), and
`load` of a file with one byte flipped.
"""

import argparse
import json
import os
import pickle
import tempfile

import numpy as np

import ebm_swift
from ebm_swift import nn


def resident_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def open_descriptors():
    return len(os.listdir("/proc/self/fd"))


def _walled(z):
    """A standard Gaussian whose energy is NaN where z₀ > 1."""
    return np.where(z[:, 0] > 1, np.nan, (z.astype(np.float64) ** 2).sum(1) / 2), z.copy()


def one_round(i, folder, x, images, trainer, objective_trainers, labels):
    mlp = ebm_swift.MLPEnergy(2, (16, 16), seed=i)
    net = ebm_swift.NetworkEnergy(nn.Sequential(nn.SpectralNorm(nn.Conv2d(1, 2, 3, padding=1)), nn.SiLU(), nn.Flatten(),
                                                nn.Linear(2 * 4 * 4, 1)), (1, 4, 4), seed=i)
    gauss = ebm_swift.GaussianEnergy([0.0, 0.0], [[1.0, 0.3], [0.3, 1.0]])
    mixture = ebm_swift.GaussianMixtureEnergy([[0.0, 0.0], [2.0, 2.0]], [np.eye(2), np.eye(2)], [0.5, 0.5])
    others = [ebm_swift.DoubleWellEnergy(2), ebm_swift.BananaEnergy(2)]
    callable_energy = ebm_swift.CallableEnergy(lambda z: (z**2).sum(1) / 2, lambda z: z.copy(), 2)
    for energy in (mlp, gauss, mixture, *others, callable_energy):
        energy.energy(x)
        energy.grad_x(x)
    net.energy(images)
    net.grad_params(images)
    mlp.grad_params(x)
    ebm_swift.langevin(mlp, x, 3, 0.01, seed=i)
    ebm_swift.mala(gauss, x, 3, 0.1, seed=i)
    ebm_swift.hmc(mixture, x, 3, 0.1, n_leapfrog=2, adapt_step_size=True, adapt_mass=True, n_warmup=2, seed=i)
    ebm_swift.hmc(net, images, 2, 0.01, n_leapfrog=2, seed=i)
    ebm_swift.langevin(callable_energy, x, 2, 0.01, seed=i)
    ebm_swift.ais_log_z(gauss, n_chains=16, n_temps=3, seed=i)
    ebm_swift.ais_log_z(mixture, n_chains=16, n_temps=2, transition="hmc", n_leapfrog=2, seed=i)
    trainer.step(x)
    path = os.path.join(folder, "trainer.npz")
    ebm_swift.save(trainer, path)
    ebm_swift.load(path)
    pickle.loads(pickle.dumps(net))
    try:
        mlp.energy(np.zeros((2, 3)))
    except ValueError:
        pass
    failing = ebm_swift.CallableEnergy(lambda z: 1 / 0, lambda z: z, 2)
    try:
        failing.energy(x)
    except ZeroDivisionError:
        pass
    # A callable energy with a NaN region: proposals there are divergences, rejected.
    walled = ebm_swift.CallableEnergy(value_and_grad=_walled, dim=2)
    for sample in (ebm_swift.mala, ebm_swift.hmc, ebm_swift.nuts):
        sample(walled, 0.1 * x, 3, 0.8, seed=i)
    # A damaged file (one byte flipped): refused with ValueError, or loaded if the byte was unused.
    with open(path, "rb") as f:
        raw = bytearray(f.read())
    raw[(i * 7919) % len(raw)] ^= 0xFF
    damaged = os.path.join(folder, "damaged.npz")
    with open(damaged, "wb") as f:
        f.write(raw)
    try:
        ebm_swift.load(damaged)
    except ValueError:
        pass
    mlp.directional_derivatives(x, x)
    mlp.grad_params_of_score(x, x)
    net.grad_params_of_curvature(images, images)
    for t in objective_trainers:
        t.step(x, labels if t.objective == "jem" else None)
    objective_trainers[-1].averaged_energy()
    classifier = objective_trainers[-1].energy
    classifier.logits(x)
    classifier.energy(x, labels)
    ebm_swift.langevin(classifier, x, 2, 0.01, y=labels, seed=i)
    classifier.class_energy(i % 3).grad_x(x)
    for t in (trainer, *objective_trainers):
        for h in t.history.values():
            h.clear()  # the history grows by design (six floats a step); the library's memory is measured


def soak(calls, warmup=200):
    x = np.random.default_rng(0).normal(size=(16, 2)).astype(np.float32)
    images = np.random.default_rng(1).uniform(-1, 1, size=(8, 1, 4, 4)).astype(np.float32)
    trainer = ebm_swift.Trainer(ebm_swift.MLPEnergy(2, (16, 16), seed=0), n_steps=2, buffer_size=64, seed=0)
    labels = np.arange(16) % 3
    classifier = ebm_swift.NetworkEnergy(nn.Sequential(nn.Linear(2, 8), nn.SiLU(), nn.Linear(8, 3)), (2,), seed=0,
                                         n_classes=3)
    objective_trainers = [ebm_swift.Trainer(ebm_swift.MLPEnergy(2, (16, 16), seed=0), objective=o, seed=0)
                          for o in ("dsm", "ssm", "nce")]
    objective_trainers.append(ebm_swift.Trainer(classifier, objective="jem", class_conditional=True, n_steps=2,
                                                buffer_size=64, ema_decay=0.99, seed=0))
    with tempfile.TemporaryDirectory() as folder:
        for i in range(warmup):
            one_round(i, folder, x, images, trainer, objective_trainers, labels)
        before = {"rss_mb": resident_mb(), "fds": open_descriptors()}
        checkpoints = []
        for i in range(calls):
            one_round(warmup + i, folder, x, images, trainer, objective_trainers, labels)
            if (i + 1) % max(1, calls // 5) == 0:
                checkpoints.append({"calls": i + 1, "rss_mb": round(resident_mb(), 1), "fds": open_descriptors()})
        after = {"rss_mb": resident_mb(), "fds": open_descriptors()}
    return {"calls": calls, "warmup": warmup, "before": before, "after": after, "checkpoints": checkpoints}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args()
    print(json.dumps(soak(args.calls, args.warmup)))


if __name__ == "__main__":
    main()
