"""The sampler record every kernel shares, and the one sampling path that runs any of them.

A kernel is a :class:`Sampler` subclass in its own file: its ``kind`` (the native kernel's name),
its settings (checked once, in ``__init__``) and :meth:`Sampler.settings`, the record that crosses
to the core. ``samplers/__init__.py`` registers it; everything else — the sampling functions,
``Trainer(sampler=…)``, ``ais_log_z(transition=…)``, :mod:`ebm_swift.distributed` — finds it
through :data:`REGISTRY`.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .. import _native
from .._progress import progress_bar
from .._registry import registrar
from .._validation import as_samples, flag, positive_float, positive_int, resolve_seed

#: The registered kernels by name (filled by :func:`register`).
REGISTRY: dict = {}

MAX_STEPS = 2**32 - 1

# Per-step diagnostics keep 3 doubles per step for each of up to 16 chain blocks until the call
# reduces them (in block order, so results do not depend on threads): cap the memory at ~4 GB.
MAX_DIAGNOSTIC_STEPS = 10_000_000


#: Class decorator: adds a :class:`Sampler` subclass to :data:`REGISTRY` under its ``kind``.
register = registrar(REGISTRY, "a sampler")


class Sampler:
    """A Markov kernel and its settings: what the core's kernel of the same ``kind`` reads.

    Subclasses set the class attributes and check their own settings in ``__init__``.

    Attributes
    ----------
    kind : str
        The kernel's name (the native registry's key).
    adaptable : bool
        Whether warm-up can adapt the step size (a Metropolis test is needed).
    adapts_mass : bool
        Whether warm-up can also adapt a diagonal inverse mass.
    default_target_accept : float
        The acceptance rate step-size adaptation aims at by default.
    info_keys : tuple of str
        The per-chain records the kernel's sampling function returns in ``info``.
    moves_x_alone : bool
        Whether the kernel's chains are their positions ``x`` alone, so that it can move AIS
        chains and trainer negatives, which keep nothing else between calls (replica exchange's
        hot replicas are more state: it is a sampler, not a transition).
    """

    kind: ClassVar[str]
    adaptable: ClassVar[bool] = True
    adapts_mass: ClassVar[bool] = False
    default_target_accept: ClassVar[float] = 0.5
    info_keys: ClassVar[tuple] = ("acceptance_rate", "step_size")
    moves_x_alone: ClassVar[bool] = True

    def __init__(self, step_size):
        self.step_size = positive_float(step_size, "step_size")

    def settings(self, input_shape) -> dict:
        """The record's settings for an energy of ``input_shape`` (every field the core reads)."""
        return {"step_size": self.step_size}

    def finish_info(self, info, n_counted) -> dict:
        """The info dict from the native records (``n_counted``: the steps after warm-up); a kernel
        whose reports need more than the core's per-chain values overrides this."""
        return info

    def _fields(self) -> dict:
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def __eq__(self, other):
        return type(self) is type(other) and self._fields() == other._fields()

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._fields().items())
        return f"{type(self).__name__}({args})"


def sampler_record(sampler, name="sampler") -> Sampler:
    """``sampler`` if it is a :class:`Sampler`, else a clear error."""
    if not isinstance(sampler, Sampler):
        raise TypeError(f"{name} must be a sampler record ({', '.join(c.__name__ for c in REGISTRY.values())}); "
                        f"got {type(sampler).__name__}")
    return sampler


def adaptation_record(sampler, n_steps, *, adapt_step_size, adapt_mass, n_warmup, target_accept):
    """The adaptation record of a run (``None`` without adaptation), checked against the kernel.

    ``n_warmup=None`` with adaptation is half the steps (Stan's default); ``target_accept=None`` is
    the kernel's ``default_target_accept``.
    """
    adapt_step_size, adapt_mass = flag(adapt_step_size, "adapt_step_size"), flag(adapt_mass, "adapt_mass")
    adapting = adapt_step_size or adapt_mass
    if adapting and not sampler.adaptable:
        raise ValueError(f"adaptation (adapt_step_size, adapt_mass) needs an acceptance test: use a Metropolis "
                         f"sampler, not {sampler!r}")
    if adapt_mass and not sampler.adapts_mass:
        raise ValueError(f"adapt_mass is for samplers with a mass matrix (hmc, nuts, mala, kinetic_langevin with "
                         f"metropolis=True); got {sampler!r}")
    if target_accept is None:
        target_accept = sampler.default_target_accept
    else:
        target_accept = positive_float(target_accept, "target_accept")
        if not 0 < target_accept < 1:
            raise ValueError(f"target_accept must be in (0, 1); got {target_accept!r}")
    if n_warmup is None:
        n_warmup = n_steps // 2 if adapting else 0
        if adapting and n_warmup < 1:
            raise ValueError(f"adaptation needs n_steps >= 2 (half of them warm-up); got n_steps={n_steps}")
    else:
        n_warmup = positive_int(n_warmup, "n_warmup")
        if n_warmup >= n_steps:
            raise ValueError(f"n_warmup must be below n_steps ({n_steps}): the steps after warm-up are the "
                             f"samples; got n_warmup={n_warmup}")
        if not adapting:
            raise ValueError("n_warmup is the adaptation's warm-up: pass adapt_step_size=True (or adapt_mass=True)")
    if not adapting:
        return None
    return ("", {"n_warmup": n_warmup, "target_accept": float(target_accept), "adapt_mass": int(adapt_mass)})


def check_steps(n_steps):
    n_steps = positive_int(n_steps, "n_steps")
    if n_steps >= MAX_STEPS:
        raise ValueError(f"n_steps must be below 2**32 - 1; got {n_steps}")
    return n_steps


def check_chain_offset(chain_offset):
    if isinstance(chain_offset, bool) or not isinstance(chain_offset, (int, np.integer)) or chain_offset < 0:
        raise ValueError(f"chain_offset must be a non-negative integer; got {chain_offset!r}")
    return int(chain_offset)


def _thin(n_steps, thin, return_trajectory):
    """The native ``thin`` (0: no trajectory): ``thin`` given or ``return_trajectory`` asks for one."""
    if flag(return_trajectory, "return_trajectory") and thin is None:
        return 1
    if thin is None:
        return 0
    thin = positive_int(thin, "thin")
    if thin > n_steps:
        raise ValueError(f"thin must be at most n_steps ({n_steps}); got {thin}")
    return thin


def run_native(native_call, desc, progress):
    """Runs ``native_call(report)`` with a progress bar when asked."""
    bar = progress_bar(flag(progress, "progress"), desc)
    try:
        return native_call(bar.update_to if bar else None)
    finally:
        if bar:
            bar.close()


def kernel_statistics(recorded):
    """The kernel's own per-chain statistics by name, split from the native ``(n, width)`` array as
    its layout ``"name:width,…"`` says: ``(n,)`` for width 1, else ``(n, width)``."""
    out, column, values = {}, 0, recorded["statistics"]
    for item in filter(None, recorded["statistics_layout"].split(",")):
        name, width = item.rsplit(":", 1)
        width = int(width)
        part = values[:, column:column + width]
        out[name] = part[:, 0].copy() if width == 1 else part.copy()
        column += width
    return out


def info(recorded, shape, keys):
    """The info dict: the per-chain records named in ``keys``, then whatever was recorded."""
    statistics = kernel_statistics(recorded)
    recorded = {**recorded, **statistics}
    out = {k: recorded[k] for k in (*keys, *statistics) if recorded.get(k) is not None}
    if "n_divergent" in out:  # a count per chain
        out["n_divergent"] = out["n_divergent"].astype(np.int64)
    if "inverse_mass" in out:
        out["inverse_mass"] = out["inverse_mass"].reshape((-1, *shape[1:]))
    if recorded["trajectory"] is not None:
        out["trajectory"] = recorded["trajectory"].reshape((-1, *shape))
    stats = recorded["stats"]
    if stats is not None:
        out["mean_energy"], out["mean_grad_norm"], out["step_acceptance"] = stats[:, 0], stats[:, 1], stats[:, 2]
    return out


def _energy_class():
    """:class:`ebm_swift.energies.Energy` (imported on first use: that module imports this one)."""
    global _ENERGY
    if _ENERGY is None:
        from ..energies import Energy

        _ENERGY = Energy
    return _ENERGY


_ENERGY = None


def run(sampler, energy, x0, n_steps, *, seed=None, adapt_step_size=False, adapt_mass=False, n_warmup=None,
        target_accept=None, chain_offset=0, thin=None, return_trajectory=False, diagnostics=False, progress=False):
    """The one sampling path: checks the run, sends the kernel's record to the core, samples.

    Returns ``(samples in x0's shape, info)`` with ``info`` holding the kernel's ``info_keys``
    and whatever was recorded.
    """
    sampler = sampler_record(sampler)
    if not isinstance(energy, _energy_class()):
        raise TypeError(f"energy must be an ebm_swift Energy (MLPEnergy, GaussianEnergy, NetworkEnergy, …); "
                        f"got {type(energy).__name__}")
    seed = resolve_seed(seed)
    n_steps = check_steps(n_steps)
    record = (sampler.kind, sampler.settings(energy.input_shape))
    adaptation = adaptation_record(sampler, n_steps, adapt_step_size=adapt_step_size, adapt_mass=adapt_mass,
                                   n_warmup=n_warmup, target_accept=target_accept)
    run_record = ("", {"n_steps": n_steps, "seed": seed, "chain_offset": check_chain_offset(chain_offset)})
    native_thin = _thin(n_steps, thin, return_trajectory)
    diagnostics = flag(diagnostics, "diagnostics")
    if diagnostics and n_steps > MAX_DIAGNOSTIC_STEPS:
        raise ValueError(f"diagnostics are recorded for at most {MAX_DIAGNOSTIC_STEPS} steps; got n_steps={n_steps}")
    x, shape = as_samples(x0, energy.input_shape, "x0", copy=True)
    want_mass = adaptation is not None and adaptation[1]["adapt_mass"] == 1
    recorded = run_native(lambda report: _native.sample(energy._handle, x, record, run_record, adaptation, n_steps,
                                                        native_thin, diagnostics, want_mass, report),
                          sampler.kind, progress)
    n_counted = n_steps - (adaptation[1]["n_warmup"] if adaptation is not None else 0)
    return x.reshape(shape), sampler.finish_info(info(recorded, shape, sampler.info_keys), n_counted)
