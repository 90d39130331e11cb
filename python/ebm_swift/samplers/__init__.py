"""Sampler kernels: one record and one sampling function per kernel, all run by one native path.

A record (``Langevin``, ``MALA``, ``HMC``, ``Barker``, ``NUTS``, ``KineticLangevin``,
``ReplicaExchange``) holds a kernel's settings, checked once; the
sampling functions, ``Trainer(sampler=…)``, ``ais_log_z(transition=…)`` and
:func:`ebm_swift.distributed.sample` take it. :func:`sample` runs any of them.

Adding a kernel: its Swift file (``Sources/EBMCore/Kernels/``) with one line in ``KernelRegistry``,
and here its file (a :class:`Sampler` subclass decorated with ``@register`` and its sampling
function, named as its kind) with one import line below; :data:`FUNCTIONS` carries the function to
``ebm_swift`` and ``ebm_swift.sampling``.
"""

from __future__ import annotations

import sys

from .. import _native
from ._record import REGISTRY, Sampler, run
from .langevin import Langevin, langevin  # noqa: F401 (registers the kernel)
from .mala import MALA, mala  # noqa: F401 (registers the kernel)
from .hmc import HMC, hmc  # noqa: F401 (registers the kernel)
from .barker import Barker, barker  # noqa: F401 (registers the kernel)
from .nuts import NUTS, nuts  # noqa: F401 (registers the kernel)
from .kinetic_langevin import KineticLangevin, kinetic_langevin  # noqa: F401 (registers the kernel)
from .replica_exchange import ReplicaExchange, replica_exchange  # noqa: F401 (registers the kernel)

if set(REGISTRY) != set(_native.sampler_kinds().split(",")):  # both sides register every kernel
    raise ImportError(f"ebm_swift: the Python samplers {sorted(REGISTRY)} differ from the core's "
                      f"{_native.sampler_kinds()}")

#: The sampling function of every registered kernel, by its kind (``"langevin"``, ``"mala"``, …):
#: the function its module defines under that name. ``ebm_swift`` and ``ebm_swift.sampling``
#: re-export these, so a new kernel reaches the top level without another edit.
FUNCTIONS = {kind: getattr(sys.modules[record.__module__], kind) for kind, record in REGISTRY.items()}

__all__ = ["REGISTRY", "FUNCTIONS", "Sampler", "sample", "from_name", *(r.__name__ for r in REGISTRY.values()),
           *FUNCTIONS]


def sample(energy, x0, n_steps, sampler, *, seed=None, adapt_step_size=False, adapt_mass=False, n_warmup=None,
           target_accept=None, chain_offset=0, thin=None, return_trajectory=False, diagnostics=False, progress=False):
    """Run any sampler kernel on a batch of chains.

    Parameters
    ----------
    energy : Energy
    x0 : array_like, shape (n, dim) or (n, *energy.input_shape)
        Initial states; never modified.
    n_steps : int
        Steps, warm-up included.
    sampler : Sampler
        The kernel and its settings, e.g. ``HMC(step_size=0.1, n_leapfrog=20)``.
    seed, adapt_step_size, adapt_mass, n_warmup, target_accept, chain_offset, thin, return_trajectory, diagnostics, progress
        As in :func:`ebm_swift.hmc` (adaptation where the kernel allows it).

    Returns
    -------
    samples : ndarray, shape of x0, float32
    info : dict
        The kernel's per-chain records (``acceptance_rate``, ``step_size``, … — see its sampling
        function) and whatever was recorded.
    """
    return run(sampler, energy, x0, n_steps, seed=seed, adapt_step_size=adapt_step_size, adapt_mass=adapt_mass,
               n_warmup=n_warmup, target_accept=target_accept, chain_offset=chain_offset, thin=thin,
               return_trajectory=return_trajectory, diagnostics=diagnostics, progress=progress)


def from_name(kind, step_size, *, name="sampler", **settings):
    """The record of the kernel named ``kind`` from flat keyword arguments (the one place the
    library's flat sampler arguments map onto records): each kernel takes the settings it knows;
    ``None`` values are left to the kernel's defaults."""
    if not isinstance(kind, str) or kind not in REGISTRY:
        raise ValueError(f"{name} must be one of {list(REGISTRY)} or a sampler record; got {kind!r}")
    import inspect

    cls = REGISTRY[kind]
    known = inspect.signature(cls.__init__).parameters
    return cls(step_size, **{k: v for k, v in settings.items() if k in known and v is not None})
