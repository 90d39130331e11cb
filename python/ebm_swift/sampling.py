"""Langevin sampling (Bishop, *Deep Learning*, Algorithm 14.4), run natively."""

from __future__ import annotations

import numpy as np

from . import _native
from ._validation import (
    as_samples,
    count_within_limit,
    flag,
    interval,
    non_negative_float,
    optional_positive_float,
    positive_float,
    positive_int,
    real_array,
    resolve_seed,
)
from ._progress import progress_bar
from .energies import Energy

__all__ = ["langevin", "mala", "ais_log_z", "set_num_threads", "get_num_threads"]


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


def _recording_args(n_steps, thin, return_trajectory):
    """The native ``thin`` (0: no trajectory): ``thin`` given or ``return_trajectory`` asks for one."""
    if flag(return_trajectory, "return_trajectory") and thin is None:
        return 1
    if thin is None:
        return 0
    thin = positive_int(thin, "thin")
    if thin > n_steps:
        raise ValueError(f"thin must be at most n_steps ({n_steps}); got {thin}")
    return thin


# Per-step diagnostics keep 3 doubles per step for each of up to 16 chain blocks until the call
# reduces them (in block order, so results do not depend on threads): cap the memory at ~4 GB.
MAX_DIAGNOSTIC_STEPS = 10_000_000


def _check_diagnostics(diagnostics, n_steps):
    if diagnostics and n_steps > MAX_DIAGNOSTIC_STEPS:
        raise ValueError(f"diagnostics are recorded for at most {MAX_DIAGNOSTIC_STEPS} steps; got n_steps={n_steps}")


def _info(acceptance, trajectory, stats):
    info = {}
    if trajectory is not None:
        info["trajectory"] = trajectory
    if stats is not None:
        info["mean_energy"], info["mean_grad_norm"], info["step_acceptance"] = stats[:, 0], stats[:, 1], stats[:, 2]
    return info


def _run(native_call, desc, progress):
    bar = progress_bar(flag(progress, "progress"), desc)
    try:
        return native_call(bar.update_to if bar else None)
    finally:
        if bar:
            bar.close()


def langevin(energy, x0, n_steps, step_size, *, noise_scale=None, grad_clip=None, clamp=None, seed=None,
             thin=None, return_trajectory=False, diagnostics=False, progress=False):
    """Run unadjusted Langevin dynamics (ULA) on a batch of chains.

    Per step and chain: ``g = ∇x E(x)`` (clipped elementwise to ``±grad_clip`` if given), then
    ``x ← x − step_size·g + noise_scale·ε`` with ``ε ~ N(0, I)``, then ``x`` clipped to ``clamp``
    if given. With the default ``noise_scale = sqrt(2·step_size)`` this is exactly Algorithm 14.4,
    whose chains sample ``p(x) ∝ exp(−E(x))`` up to a bias that vanishes with the step size (on
    ``N(0, σ²)`` the stationary variance is ``σ² / (1 − step_size/(2σ²))``). For exact samples
    at a given step size use :func:`mala`.

    A smaller, decoupled noise (IGEBM/JEM practice, e.g. ``step_size=10, noise_scale=0.005`` on
    images) does *not* sample ``exp(−E)``: it samples a colder distribution, roughly
    ``exp(−E/T)`` with temperature ``T = noise_scale² / (2·step_size)``.

    Parameters
    ----------
    energy : Energy
        An :class:`MLPEnergy`, :class:`GaussianEnergy`, :class:`CallableEnergy`, …
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
        Chain ``i``'s noise depends only on ``(seed, i)``: the same seed gives the same samples,
        whatever the number of threads (:func:`set_num_threads`).
    thin : int, optional
        Record the states after every ``thin``-th step (implies a trajectory).
    return_trajectory : bool
        Record the states after every step (or every ``thin``-th).
    diagnostics : bool
        Record per step the mean energy and mean gradient norm at the start of the step.
    progress : bool
        Show a progress bar (tqdm when installed).

    Returns
    -------
    samples : ndarray, shape (n, dim), float32
        The final states.
    info : dict
        Only when a trajectory or diagnostics are requested: ``trajectory`` of shape
        ``(n_steps // thin, n, dim)``; ``mean_energy``, ``mean_grad_norm`` and ``step_acceptance``
        (all ones for ULA) of shape ``(n_steps,)``.

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
    native_thin = _recording_args(args[0], thin, return_trajectory)
    diagnostics = flag(diagnostics, "diagnostics")
    _check_diagnostics(diagnostics, args[0])
    seed = resolve_seed(seed)
    x, shape = as_samples(x0, energy.input_shape, "x0", copy=True)
    acceptance, trajectory, stats = _run(
        lambda report: _native.langevin(energy._handle, x, *args, seed, native_thin, diagnostics, report),
        "langevin", progress,
    )
    if native_thin or diagnostics:
        return x.reshape(shape), _info(acceptance, trajectory, stats)
    return x.reshape(shape)


def mala(energy, x0, n_steps, step_size, *, seed=None, thin=None, return_trajectory=False, diagnostics=False,
         progress=False):
    """Run the Metropolis-adjusted Langevin algorithm (MALA) on a batch of chains.

    Each step proposes the Langevin move ``y = x − η ∇E(x) + sqrt(2η) ε`` and accepts it with
    probability ``min(1, exp(E(x) − E(y)) · q(x|y) / q(y|x))``, where
    ``q(b|a) ∝ exp(−‖b − a + η ∇E(a)‖² / (4η))`` is the (asymmetric) proposal density. The
    chains then sample ``exp(−E)`` exactly, at any step size; the step size only sets how fast
    they mix. Energy and gradient of the current state are cached: one gradient per step.

    Reading acceptance rates: around 0.5–0.8 is efficient (the optimal rate for MALA in high
    dimension is about 0.57). Near 1 the steps are needlessly small (slow mixing, but also the
    regime where plain :func:`langevin` is nearly unbiased); near 0 they are too large and the
    chains barely move.

    Parameters
    ----------
    energy : Energy
    x0 : array_like, shape (n, dim)
        Initial states; never modified.
    n_steps : int
    step_size : float
        ``η > 0``.
    seed, thin, return_trajectory, diagnostics, progress
        As in :func:`langevin`.

    Returns
    -------
    samples : ndarray, shape (n, dim), float32
    info : dict
        ``acceptance_rate`` of shape ``(n,)`` (per chain), plus ``trajectory``, ``mean_energy``,
        ``mean_grad_norm`` and ``step_acceptance`` (per step) when requested.
    """
    if not isinstance(energy, Energy):
        raise TypeError(f"energy must be an ebm_swift Energy; got {type(energy).__name__}")
    n_steps = positive_int(n_steps, "n_steps")
    if n_steps >= 2**32 - 1:
        raise ValueError(f"n_steps must be below 2**32 - 1; got {n_steps}")
    step_size = positive_float(step_size, "step_size")
    native_thin = _recording_args(n_steps, thin, return_trajectory)
    diagnostics = flag(diagnostics, "diagnostics")
    _check_diagnostics(diagnostics, n_steps)
    seed = resolve_seed(seed)
    x, shape = as_samples(x0, energy.input_shape, "x0", copy=True)
    acceptance, trajectory, stats = _run(
        lambda report: _native.mala(energy._handle, x, n_steps, step_size, seed, native_thin, diagnostics, report),
        "mala", progress,
    )
    info = {"acceptance_rate": acceptance}
    info.update(_info(acceptance, trajectory, stats))
    return x.reshape(shape), info


def ais_log_z(energy, *, dim=None, n_chains=1000, n_temps=1000, base_mean=None, base_std=1.0, transition="mala",
              n_steps=1, step_size=0.1, seed=None, return_info=False, progress=False):
    """Estimate ``ln Z = ln ∫ exp(−E(x)) dx`` by annealed importance sampling (Neal 2001).

    ``n_chains`` chains start from exact samples of the base ``N(base_mean, base_std² I)`` and
    move through the geometric path ``E_β = (1 − β) E_base + β E`` at ``β = t / n_temps``; each
    gains the log weight ``−(β_t − β_{t−1}) (E(x) − E_base(x))`` before ``n_steps`` transitions
    that leave ``exp(−E_β)`` invariant (MALA) or nearly so (Langevin). Then
    ``Z = Z_base · mean(w)``.

    Parameters
    ----------
    energy : Energy
    dim : int, optional
        If given, must equal ``energy.dim``.
    n_chains, n_temps, n_steps : int
    base_mean : array_like, shape (dim,) or input_shape, optional
        Default zeros. Choose the base to cover the target: a base narrower than the target
        gives high-variance weights.
    base_std : float
    transition : {"mala", "langevin"}
        MALA keeps the estimator unbiased in ``Z``; Langevin adds its step-size bias.
    step_size : float
    seed : None, int or numpy.random.Generator
    return_info : bool
        Also return a dict with ``log_weights`` (n_chains,) and ``acceptance_rate`` (n_chains,).

    Returns
    -------
    log_z : float
    std_err : float
        Standard error of ``log_z`` (delta method on the mean weight). Unreliable when a few
        weights dominate: check ``log_weights``.
    """
    if not isinstance(energy, Energy):
        raise TypeError(f"energy must be an ebm_swift Energy; got {type(energy).__name__}")
    if dim is not None and positive_int(dim, "dim") != energy.dim:
        raise ValueError(f"dim must match energy.dim = {energy.dim}; got {dim}")
    n_chains = positive_int(n_chains, "n_chains")
    count_within_limit(n_chains * energy.dim, "n_chains × dim")
    n_temps = positive_int(n_temps, "n_temps")
    n_steps = positive_int(n_steps, "n_steps")
    if n_temps * n_steps >= 2**32 - 1:
        raise ValueError("n_temps * n_steps must be below 2**32 - 1")
    step_size = positive_float(step_size, "step_size")
    base_std = positive_float(base_std, "base_std")
    if base_mean is None:
        base_mean = np.zeros(energy.dim)
    base_mean = real_array(base_mean, "base_mean")
    shapes = {(energy.dim,), tuple(energy.input_shape)}
    if base_mean.shape not in shapes or not np.isfinite(base_mean).all():
        raise ValueError(f"base_mean must be finite with shape {' or '.join(map(str, sorted(shapes)))}; "
                         f"got shape {base_mean.shape}")
    base_mean = base_mean.ravel()
    transitions = {"mala": 0, "langevin": 1}
    if transition not in transitions:
        raise ValueError(f"transition must be one of {sorted(transitions)}; got {transition!r}")
    seed = resolve_seed(seed)
    log_z, std_err, log_weights, acceptance = _run(
        lambda report: _native.ais_log_z(energy._handle, n_chains, n_temps, n_steps, step_size, base_mean,
                                         base_std, transitions[transition], seed, report),
        "ais", progress,
    )
    if return_info:
        return log_z, std_err, {"log_weights": log_weights, "acceptance_rate": acceptance}
    return log_z, std_err


def set_num_threads(n: int) -> None:
    """Set the number of threads sampling uses (default: ``EBM_SWIFT_NUM_THREADS`` or every core).

    Chains are split into blocks that depend only on their number, so results are bit-identical
    for any thread count.
    """
    _native.set_num_threads(positive_int(n, "n", maximum=1024))


def get_num_threads() -> int:
    """The number of threads sampling uses."""
    return _native.get_num_threads()
