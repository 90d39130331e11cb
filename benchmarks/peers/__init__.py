"""The frameworks ebm_swift is measured against, each defined once, in a module of its own.

Every module here builds the workloads of `workloads.py` in one framework: `Sampler(network,
params, langevin, training, threads)` with `langevin(x, steps)` and `train_step(pos)`, and, where
the framework has it, `ScoreTrainer(network, params, objective, sigma, lr, threads)` with
`step(x)` and `hmc(target, settings, repeats)`. A suite runs each peer in a process of its own
(`run.py` does that), so that one framework's thread pools cannot take cores from the next one.
"""

import importlib
import importlib.util
import sys

# name → (module, the package it needs, how to get it)
PEERS = {
    "ebm_swift": ("peers.ebm_swift", "ebm_swift", "make build"),
    "numpy": ("peers.numpy", "numpy", "make build"),
    "jax": ("peers.jax", "jax", "make bench installs it"),
    "torch": ("peers.torch", "torch", "make bench installs it"),
    "torch_compile": ("peers.torch", "torch", "make bench installs it"),
    "blackjax": ("peers.blackjax", "blackjax", "make bench installs it"),
}


def installed(name):
    """Whether peer `name` can run here."""
    return importlib.util.find_spec(PEERS[name][1]) is not None


def available(names):
    """The peers of `names` that can run here, in order; the others are named on stderr."""
    out = []
    for name in names:
        if installed(name):
            out.append(name)
        else:
            print(f"{name} not installed: skipped ({PEERS[name][2]})", file=sys.stderr)
    return out


def options(name):
    """The keyword arguments of peer `name`'s `Sampler` that make it that peer (`torch_compile`
    is `peers.torch` with `compiled=True`)."""
    return {"compiled": True} if name == "torch_compile" else {}


def load(name):
    """The module of peer `name` (imports its framework)."""
    return importlib.import_module(PEERS[name][0])
