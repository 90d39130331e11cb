"""Langevin sampling (Bishop, *Deep Learning*, Algorithm 14.4), run natively."""

from __future__ import annotations

import numpy as np

from . import _native
from ._validation import (
    as_batch,
    interval,
    non_negative_float,
    optional_positive_float,
    positive_float,
    positive_int,
    resolve_seed,
)
from .energies import Energy

__all__ = ["langevin"]


def _sampler_args(n_steps, step_size, noise_scale, grad_clip, clamp):
    """Validated ``(n_steps, step_size, noise_scale, grad_clip, has_clamp, low, high)`` for the
    native layer; ``noise_scale=None`` becomes ``sqrt(2·step_size)``, no clipping becomes 0."""
    n_steps = positive_int(n_steps, "n_steps")
    if n_steps >= 2**32 - 1:
        raise ValueError(f"n_steps must be below 2**32 - 1; got {n_steps}")
    step_size = positive_float(step_size, "step_size")
    if noise_scale is None:
        noise_scale = float(np.sqrt(2.0 * step_size))
    else:
        noise_scale = non_negative_float(noise_scale, "noise_scale")
    grad_clip = optional_positive_float(grad_clip, "grad_clip")
    low, high = interval(clamp, "clamp") if clamp is not None else (0.0, 0.0)
    return n_steps, step_size, noise_scale, grad_clip or 0.0, clamp is not None, low, high


def langevin(energy, x0, n_steps, step_size, *, noise_scale=None, grad_clip=None, clamp=None, seed=None):
    """Run unadjusted Langevin dynamics on a batch of chains.

    Per step and chain: ``g = ∇x E(x)`` (clipped elementwise to ``±grad_clip`` if given), then
    ``x ← x − step_size·g + noise_scale·ε`` with ``ε ~ N(0, I)``, then ``x`` clipped to ``clamp``
    if given. With the default ``noise_scale = sqrt(2·step_size)`` this is exactly Algorithm 14.4,
    whose chains sample ``p(x) ∝ exp(−E(x))`` up to a bias that vanishes with the step size.

    A smaller, decoupled noise (IGEBM/JEM practice, e.g. ``step_size=10, noise_scale=0.005`` on
    images) does *not* sample ``exp(−E)``: it samples a colder distribution, roughly
    ``exp(−E/T)`` with temperature ``T = noise_scale² / (2·step_size)``.

    Parameters
    ----------
    energy : Energy
        An :class:`MLPEnergy`, :class:`GaussianEnergy`, …
    x0 : array_like, shape (n, dim)
        Initial states, one chain per row; never modified.
    n_steps : int
        Number of steps (≥ 1).
    step_size : float
        ``η > 0``.
    noise_scale : float, optional
        Standard deviation of the noise; default ``sqrt(2·step_size)``. 0 gives gradient descent.
    grad_clip : float, optional
        Elementwise bound on the gradient.
    clamp : (float, float), optional
        Box ``(low, high)`` the states are clipped to after every step.
    seed : None, int or numpy.random.Generator
        Chain ``i``'s noise depends only on ``(seed, i)``: the same seed gives the same samples.

    Returns
    -------
    ndarray, shape (n, dim), float32
        The final states.

    Raises
    ------
    DivergenceError
        If a gradient or state becomes NaN or infinite (the message names the step).
    KeyboardInterrupt
        On Ctrl-C, within about 50 ms of the current step.
    """
    if not isinstance(energy, Energy):
        raise TypeError(f"energy must be an ebm_swift Energy (MLPEnergy, GaussianEnergy, …); got {type(energy).__name__}")
    args = _sampler_args(n_steps, step_size, noise_scale, grad_clip, clamp)
    seed = resolve_seed(seed)
    x = as_batch(x0, energy.dim, "x0", copy=True)
    _native.langevin(energy._handle, x, *args, seed)
    return x
