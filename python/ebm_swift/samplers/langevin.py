"""Unadjusted Langevin dynamics (ULA; Bishop, *Deep Learning*, Algorithm 14.4) — the kernel
``"langevin"``."""

from __future__ import annotations

import numpy as np

from .._validation import as_samples, flag, interval, non_negative_float, optional_positive_float, resolve_seed
from ._record import Sampler, check_chain_offset, register, run

__all__ = ["Langevin", "langevin"]


@register
class Langevin(Sampler):
    """The ULA kernel: ``x ← clamp(x − η·clip(∇E(x)) + σ ε)``, every move taken.

    Parameters
    ----------
    step_size : float
        ``η > 0``.
    noise_scale : float, optional
        ``σ ≥ 0``; default ``sqrt(2η)`` (Algorithm 14.4). A smaller one samples a colder distribution.
    grad_clip : float, optional
        Elementwise bound on the gradient.
    clamp : (float, float), optional
        Box ``(low, high)`` the states are clipped to after every step.
    """

    kind = "langevin"
    adaptable = False
    info_keys = ()

    def __init__(self, step_size, *, noise_scale=None, grad_clip=None, clamp=None):
        super().__init__(step_size)
        self.noise_scale = None if noise_scale is None else non_negative_float(noise_scale, "noise_scale")
        self.grad_clip = optional_positive_float(grad_clip, "grad_clip")
        self.clamp = None if clamp is None else interval(clamp, "clamp")

    def settings(self, input_shape):
        return {"step_size": self.step_size, "noise_scale": self.noise_scale, "grad_clip": self.grad_clip,
                "clamp": None if self.clamp is None else np.asarray(self.clamp, dtype=np.float64)}


def langevin(energy, x0, n_steps, step_size, *, noise_scale=None, grad_clip=None, clamp=None, seed=None,
             thin=None, return_trajectory=False, diagnostics=False, return_info=False, chain_offset=0,
             progress=False, y=None):
    """Run unadjusted Langevin dynamics (ULA) on a batch of chains.

    Per step and chain: ``g = ∇x E(x)`` (clipped elementwise to ``±grad_clip`` if given), then
    ``x ← x − step_size·g + noise_scale·ε`` with ``ε ~ N(0, I)``, then ``x`` clipped to ``clamp``
    if given. With the default ``noise_scale = sqrt(2·step_size)`` this is exactly Algorithm 14.4,
    whose chains sample ``p(x) ∝ exp(−E(x))`` up to a bias that vanishes with the step size (on
    ``N(0, σ²)`` the stationary variance is ``σ² / (1 − step_size/(2σ²))``). For exact samples
    at a given step size use :func:`mala` or :func:`hmc`.

    A smaller, decoupled noise (IGEBM/JEM practice, e.g. ``step_size=10, noise_scale=0.005`` on
    images) does *not* sample ``exp(−E)``: it samples a colder distribution, roughly
    ``exp(−E/T)`` with temperature ``T = noise_scale² / (2·step_size)``.

    Parameters
    ----------
    energy : Energy
        An :class:`MLPEnergy`, :class:`GaussianEnergy`, :class:`NetworkEnergy`, :class:`CallableEnergy`, …
    x0 : array_like, shape (n, dim) or (n, *energy.input_shape)
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
        Chain ``i``'s noise depends only on ``(seed, chain_offset + i)``: the same seed gives the
        same samples, whatever the number of threads (:func:`set_num_threads`).
    thin : int, optional
        Record the states after every ``thin``-th step (implies a trajectory).
    return_trajectory : bool
        Record the states after every step (or every ``thin``-th).
    diagnostics : bool
        Record per step the mean energy and mean gradient norm at the start of the step.
    return_info : bool
        Return ``(samples, info)`` even when nothing is recorded.
    chain_offset : int
        The global index of the first chain: chains ``[k, k + n)`` of a larger run of ``N``
        chains, computed on their own with ``chain_offset=k``, equal its rows ``[k, k + n)`` bit
        for bit when ``k`` and ``k + n`` are multiples of 128 (or ``k + n = N``); other
        boundaries can change the last bits of a few rows (chains go in blocks of 64, and
        OpenBLAS computes an incomplete group of rows with another kernel).
        :mod:`ebm_swift.distributed` cuts runs this way.
    progress : bool
        Show a progress bar (tqdm when installed).
    y : array_like of int, shape (n,), optional
        Class labels, for a classifier energy (``NetworkEnergy(..., n_classes=K)``): chain ``i``
        samples ``p(x | y_i) ∝ exp(f(x)[y_i])`` (the class-conditional energy
        ``E(x, y) = −f(x)[y]``). The chains of each class run together, class by class; chain
        ``i``'s noise depends on the seed and its rank among the chains sorted by class. Not
        combined with recording (``thin``, ``return_trajectory``, ``diagnostics``).

    Returns
    -------
    samples : ndarray, shape of x0, float32
        The final states.
    info : dict
        Only when something is recorded or ``return_info``: ``trajectory`` of shape
        ``(n_steps // thin, *x0.shape)``; ``mean_energy``, ``mean_grad_norm`` and ``step_acceptance``
        (all ones for ULA) of shape ``(n_steps,)``.

    Raises
    ------
    DivergenceError
        If a gradient or state becomes NaN or infinite (the message names the step).
    KeyboardInterrupt
        On Ctrl-C, within about 50 ms of the current step.
    """
    if y is not None:
        return _langevin_by_class(energy, x0, y, n_steps, step_size, noise_scale=noise_scale, grad_clip=grad_clip,
                                  clamp=clamp, seed=seed, thin=thin, return_trajectory=return_trajectory,
                                  diagnostics=diagnostics, return_info=return_info, chain_offset=chain_offset,
                                  progress=progress)
    x, info = run(Langevin(step_size, noise_scale=noise_scale, grad_clip=grad_clip, clamp=clamp), energy, x0,
                  n_steps, seed=seed, chain_offset=chain_offset, thin=thin, return_trajectory=return_trajectory,
                  diagnostics=diagnostics, progress=progress)
    return (x, info) if info or flag(return_info, "return_info") else x


def _langevin_by_class(energy, x0, y, n_steps, step_size, *, thin, return_trajectory, diagnostics, return_info,
                       chain_offset, progress, seed, **options):
    """`langevin` with labels: each class's chains on its class-conditional energy, with chain
    offsets that keep every chain's noise distinct."""
    if getattr(energy, "n_classes", None) is None:
        raise ValueError("y needs a classifier energy (NetworkEnergy with n_classes); this energy has no classes")
    if thin is not None or flag(return_trajectory, "return_trajectory") or flag(diagnostics, "diagnostics"):
        raise ValueError("y (class-conditional sampling) is not combined with thin, return_trajectory or diagnostics")
    flat, shape = as_samples(x0, energy.input_shape, "x0")
    labels = energy.labels(y, flat.shape[0], "y")
    offset = check_chain_offset(chain_offset)
    seed = resolve_seed(seed)
    out = np.empty_like(flat)
    order = np.argsort(labels, kind="stable")
    start = 0
    for label in np.unique(labels):
        rows = order[labels[order] == label]
        out[rows] = langevin(energy.class_energy(int(label)), flat[rows], n_steps, step_size, seed=seed,
                             chain_offset=offset + start, progress=progress, **options)
        start += len(rows)
    out = out.reshape(shape)
    return (out, {}) if flag(return_info, "return_info") else out
