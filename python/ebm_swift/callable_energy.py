"""Energies written in NumPy by the user, sampled by the native loops."""

from __future__ import annotations

import numpy as np

from . import _native
from ._validation import positive_int
from .energies import Energy

__all__ = ["CallableEnergy"]


class CallableEnergy(Energy):
    """An energy given by the user's own vectorised functions.

    The native samplers call ``energy_fn`` and ``grad_fn`` once per step for the whole batch (so
    sampling a ``CallableEnergy`` uses one thread); everything else stays native. An exception
    raised inside either function propagates unchanged out of the sampling call. The pending
    exception is kept per energy object: sample one ``CallableEnergy`` from one Python thread at a
    time (make one object per thread otherwise).

    Parameters
    ----------
    energy_fn : callable
        ``energy_fn(x) -> (n,)`` for ``x`` of shape ``(n, dim)`` (float32, a fresh copy).
    grad_fn : callable
        ``grad_fn(x) -> (n, dim)``, the gradient ``∇x E`` per row.
    dim : int

    Raises
    ------
    ValueError
        If a function returns the wrong shape or a NaN/Inf value.
    TypeError
        If a function returns something that is not a real array.
    Exception
        Whatever ``energy_fn`` or ``grad_fn`` raises, unchanged (from :meth:`energy`,
        :meth:`grad_x` and the samplers).
    """

    def __init__(self, energy_fn, grad_fn, dim):
        if not callable(energy_fn) or not callable(grad_fn):
            raise TypeError("energy_fn and grad_fn must be callable")
        self.dim = positive_int(dim, "dim")
        self.energy_fn, self.grad_fn = energy_fn, grad_fn
        # The native handle keeps the evaluator alive; it must not reach back to `self` (a cycle
        # through a capsule, which the garbage collector cannot see, would never be freed).
        self._handle = _native.callable_create(self.dim, _evaluator(energy_fn, grad_fn, self.dim))

    def __reduce__(self):
        # Pickled as its functions (picklable ones: module-level functions, or any with cloudpickle,
        # as Dask and Ray use), so that it can be shipped to workers.
        return (CallableEnergy, (self.energy_fn, self.grad_fn, self.dim))


def _evaluator(energy_fn, grad_fn, dim):
    """``evaluate(x, need_energy, need_grad) -> (energies | None, grad | None)``, checked."""

    def evaluate(x, need_energy, need_grad):
        n = x.shape[0]
        energies = _checked(energy_fn(x), (n,), "energy_fn") if need_energy else None
        grad = _checked(grad_fn(x), (n, dim), "grad_fn") if need_grad else None
        return energies, grad

    return evaluate


def _checked(value, shape, name):
    try:
        arr = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must return a real array of shape {shape}; got {type(value).__name__}") from exc
    if arr.shape != shape:
        raise ValueError(f"{name} must return an array of shape {shape}; got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} returned NaN or infinite values")
    return arr
