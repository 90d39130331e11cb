"""Energies written in NumPy by the user, sampled by the native loops."""

from __future__ import annotations

import numpy as np

from . import _native
from ._validation import as_samples, positive_int
from .energies import Energy

__all__ = ["CallableEnergy"]


class CallableEnergy(Energy):
    """An energy given by the user's own vectorised functions.

    The native samplers call them once per step for the whole batch (so sampling a
    ``CallableEnergy`` uses one thread); everything else stays native. Give either ``energy_fn``
    and ``grad_fn``, or one ``value_and_grad`` function (what ``jax.value_and_grad`` or one
    PyTorch backward pass computes) that a sampler calls once where it needs both, as every
    leapfrog step of HMC and NUTS does. An exception raised inside a function propagates
    unchanged out of the sampling call. The pending exception is kept per energy object: sample
    one ``CallableEnergy`` from one Python thread at a time (make one object per thread otherwise).

    Parameters
    ----------
    energy_fn : callable, optional
        ``energy_fn(x) -> (n,)`` for ``x`` of shape ``(n, dim)`` (float32, a fresh copy).
    grad_fn : callable, optional
        ``grad_fn(x) -> (n, dim)``, the gradient ``∇x E`` per row.
    dim : int
    value_and_grad : callable, optional
        ``value_and_grad(x) -> (energies (n,), gradient (n, dim))``, instead of the two above.

    Raises
    ------
    ValueError
        If a function returns the wrong shape, or a NaN/Inf value to :meth:`energy` or
        :meth:`grad_x`. Inside a sampler a non-finite energy or gradient at a proposal is a
        divergence: the proposal is rejected and counted in ``info["n_divergent"]`` (kernels with
        a Metropolis step); a non-finite value at the starting points, or one the kernel would
        accept (unadjusted Langevin), stops the run with :class:`DivergenceError`.
    TypeError
        If a function returns something that is not a real array, or the functions given are not
        exactly one of the two forms.
    Exception
        Whatever a function raises, unchanged (from :meth:`energy`, :meth:`grad_x` and the
        samplers).
    """

    def __init__(self, energy_fn=None, grad_fn=None, dim=None, *, value_and_grad=None):
        if value_and_grad is not None:
            if energy_fn is not None or grad_fn is not None:
                raise TypeError("give value_and_grad or energy_fn and grad_fn, not both")
            if not callable(value_and_grad):
                raise TypeError(f"value_and_grad must be callable; got {type(value_and_grad).__name__}")
        elif not callable(energy_fn) or not callable(grad_fn):
            raise TypeError("energy_fn and grad_fn must be callable (or give one value_and_grad function)")
        if dim is None:
            raise TypeError("dim is required: the number of coordinates of a row")
        self.dim = positive_int(dim, "dim")
        self.energy_fn, self.grad_fn, self.value_and_grad = energy_fn, grad_fn, value_and_grad
        # The native handle keeps the evaluator alive; it must not reach back to `self` (a cycle
        # through a capsule, which the garbage collector cannot see, would never be freed).
        evaluate = _joint_evaluator(value_and_grad, self.dim) if value_and_grad is not None else \
            _evaluator(energy_fn, grad_fn, self.dim)
        self._handle = _native.callable_create(self.dim, evaluate)

    def energy(self, x) -> np.ndarray:
        """Energies of a batch, as :meth:`Energy.energy`; a NaN or infinite value is an error."""
        return _finite(super().energy(x), "energy_fn" if self.value_and_grad is None else "value_and_grad's energies")

    def grad_x(self, x) -> np.ndarray:
        """Input gradients of a batch, as :meth:`Energy.grad_x`; a NaN or infinite value (of the
        gradient, or of the energies evaluated with it) is an error."""
        flat, shape = as_samples(x, self.input_shape)
        energies, grad = _native.energy_grad_x(self._handle, flat)
        joint = self.value_and_grad is not None
        _finite(energies, "value_and_grad's energies" if joint else "energy_fn")
        return _finite(grad, "value_and_grad's gradient" if joint else "grad_fn").reshape(shape)

    def __reduce__(self):
        # Pickled as its functions (picklable ones: module-level functions, or any with cloudpickle,
        # as Dask and Ray use), so that it can be shipped to workers.
        if self.value_and_grad is not None:
            return (_from_value_and_grad, (self.value_and_grad, self.dim))
        return (CallableEnergy, (self.energy_fn, self.grad_fn, self.dim))


def _evaluator(energy_fn, grad_fn, dim):
    """``evaluate(x, need_energy, need_grad) -> (energies | None, grad | None)``, checked."""

    def evaluate(x, need_energy, need_grad):
        n = x.shape[0]
        energies = _checked(energy_fn(x), (n,), "energy_fn") if need_energy else None
        grad = _checked(grad_fn(x), (n, dim), "grad_fn") if need_grad else None
        return energies, grad

    return evaluate


def _joint_evaluator(value_and_grad, dim):
    """The evaluator of one ``value_and_grad`` function: one call whatever is needed."""

    def evaluate(x, need_energy, need_grad):
        n = x.shape[0]
        out = value_and_grad(x)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise TypeError(f"value_and_grad must return a pair (energies, gradient); got {type(out).__name__}")
        energies = _checked(out[0], (n,), "value_and_grad's energies") if need_energy else None
        grad = _checked(out[1], (n, dim), "value_and_grad's gradient") if need_grad else None
        return energies, grad

    return evaluate


def _from_value_and_grad(value_and_grad, dim):
    return CallableEnergy(value_and_grad=value_and_grad, dim=dim)


def _checked(value, shape, name):
    try:
        with np.errstate(over="ignore"):  # beyond float32's range is ±inf, by design
            arr = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must return a real array of shape {shape}; got {type(value).__name__}") from exc
    if arr.shape != shape:
        raise ValueError(f"{name} must return an array of shape {shape}; got shape {arr.shape}")
    # Non-finite values pass: inside a sampler's proposal they are a divergence, rejected and
    # counted; `energy` and `grad_x` called directly refuse them (below).
    return arr


def _finite(values, name):
    if not np.isfinite(values).all():
        raise ValueError(f"{name} returned NaN or infinite values")
    return values
