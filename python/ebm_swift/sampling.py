"""Sampling: Langevin dynamics (Bishop, *Deep Learning*, Algorithm 14.4), MALA and HMC, with
step-size adaptation, and annealed importance sampling — every sampler one native path."""

from __future__ import annotations

import numpy as np

from . import _native
from ._validation import (
    as_samples,
    count_within_limit,
    flag,
    positive_float,
    positive_int,
    real_array,
    resolve_seed,
)
from ._progress import progress_bar
from ._sampler_config import kernel_name, sampler_config
from .energies import Energy

__all__ = ["langevin", "mala", "hmc", "ais_log_z", "set_num_threads", "get_num_threads"]


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


def _info(recorded, shape, *, keys=()):
    """The info dict: the per-chain records named in ``keys``, then whatever was recorded."""
    info = {k: recorded[k] for k in keys if recorded[k] is not None}
    if "inverse_mass" in info:
        info["inverse_mass"] = info["inverse_mass"].reshape((-1, *shape[1:]))
    if recorded["trajectory"] is not None:
        info["trajectory"] = recorded["trajectory"].reshape((-1, *shape))
    stats = recorded["stats"]
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


def _sample(energy, x0, kernel, n_steps, step_size, *, seed, thin, return_trajectory, diagnostics, progress,
            **settings):
    """The one sampling path: checks, builds the kernel's config, runs it natively.

    Returns ``(samples in x0's shape, recorded dict, shape, recording requested)``.
    """
    if not isinstance(energy, Energy):
        raise TypeError(f"energy must be an ebm_swift Energy (MLPEnergy, GaussianEnergy, NetworkEnergy, …); "
                        f"got {type(energy).__name__}")
    seed = resolve_seed(seed)
    config, mass = sampler_config(kernel, n_steps, step_size, seed=seed, input_shape=energy.input_shape, **settings)
    native_thin = _recording_args(config["n_steps"], thin, return_trajectory)
    diagnostics = flag(diagnostics, "diagnostics")
    _check_diagnostics(diagnostics, config["n_steps"])
    x, shape = as_samples(x0, energy.input_shape, "x0", copy=True)
    recorded = _run(lambda report: _native.sample(energy._handle, x, config, mass, native_thin, diagnostics, report),
                    kernel, progress)
    return x.reshape(shape), recorded, shape, bool(native_thin or diagnostics)


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
        for bit when ``k`` and ``k + n`` are multiples of 16 (or ``k + n = N``); other
        boundaries can change the last bits of a few rows (OpenBLAS computes an incomplete group
        of 4 rows with another kernel). :mod:`ebm_swift.distributed` cuts runs this way.
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
    x, recorded, shape, recording = _sample(
        energy, x0, "langevin", n_steps, step_size, seed=seed, thin=thin, return_trajectory=return_trajectory,
        diagnostics=diagnostics, progress=progress, noise_scale=noise_scale, grad_clip=grad_clip, clamp=clamp,
        chain_offset=chain_offset)
    if recording or flag(return_info, "return_info"):
        return x, _info(recorded, shape)
    return x


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
    if isinstance(chain_offset, bool) or not isinstance(chain_offset, (int, np.integer)) or chain_offset < 0:
        raise ValueError(f"chain_offset must be a non-negative integer; got {chain_offset!r}")
    offset = int(chain_offset)
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


_ADAPTATION_DOC = """adapt_step_size : bool
        Tune the step size during the first ``n_warmup`` steps, then freeze it; ``step_size`` is
        the starting value (100× too large or too small is fine). The first 80 % of warm-up run
        dual averaging (Hoffman & Gelman 2014, as in Stan and BlackJAX); the last 20 % refine its
        averaged step by a Robbins–Monro search with a 1/k gain, because one chain's acceptance
        is noisy enough that dual averaging's averaged step alone overshoots the target
        acceptance by up to 0.07 (measured on a trained MLP energy); refined, the acceptance after
        warm-up lands within 0.01 of the target on the tests' targets. Each
        chain adapts its own step size from its own acceptance probabilities: a chain's numbers
        then depend only on the seed and its index — not on the thread count, the other chains,
        or how a run is split (``chain_offset``) — and chains in different modes of a
        multimodal target each get the step their region needs. The price is noise: give each
        chain a few hundred warm-up steps.
    n_warmup : int, optional
        Warm-up steps (default ``n_steps // 2``); they are part of ``n_steps`` and must be fewer.
        Acceptance rates and divergences in ``info`` count the steps after warm-up; a trajectory
        includes the warm-up.
    target_accept : float, optional
        The acceptance probability adaptation aims at, in (0, 1). Default {default}: {reason}"""


# The end of the Metropolis samplers' parameters and the head of their returns.
_RETURNS_DOC = """    seed, thin, return_trajectory, diagnostics, chain_offset, progress
        As in :func:`langevin`.
    return_info : bool, default True
        Return ``(samples, info)``; ``False`` returns the samples alone.

    Returns
    -------
    samples : ndarray, shape of x0, float32
    info : dict"""


def mala(energy, x0, n_steps, step_size, *, adapt_step_size=False, n_warmup=None, target_accept=None, seed=None,
         thin=None, return_trajectory=False, diagnostics=False, return_info=True, chain_offset=0, progress=False):
    """Run the Metropolis-adjusted Langevin algorithm (MALA) on a batch of chains."""
    x, recorded, shape, _ = _sample(
        energy, x0, "mala", n_steps, step_size, seed=seed, thin=thin, return_trajectory=return_trajectory,
        diagnostics=diagnostics, progress=progress, adapt_step_size=adapt_step_size, n_warmup=n_warmup,
        target_accept=target_accept, chain_offset=chain_offset)
    if not flag(return_info, "return_info"):
        return x
    return x, _info(recorded, shape, keys=("acceptance_rate", "step_size"))


mala.__doc__ = """Run the Metropolis-adjusted Langevin algorithm (MALA) on a batch of chains.

    Each step proposes the Langevin move ``y = x − η ∇E(x) + sqrt(2η) ε`` and accepts it with
    probability ``min(1, exp(E(x) − E(y)) · q(x|y) / q(y|x))``, where
    ``q(b|a) ∝ exp(−‖b − a + η ∇E(a)‖² / (4η))`` is the (asymmetric) proposal density. The
    chains then sample ``exp(−E)`` exactly, at any step size; the step size only sets how fast
    they mix. Energy and gradient of the current state are cached: one gradient per step.

    Reading acceptance rates: around 0.5–0.8 is efficient (the optimal rate for MALA in high
    dimension is about 0.57). Near 1 the steps are needlessly small (slow mixing, but also the
    regime where plain :func:`langevin` is nearly unbiased); near 0 they are too large and the
    chains barely move. ``adapt_step_size=True`` finds the step for you.

    Parameters
    ----------
    energy : Energy
    x0 : array_like, shape (n, dim) or (n, *energy.input_shape)
        Initial states; never modified.
    n_steps : int
        Steps, warm-up included.
    step_size : float
        ``η > 0`` (the starting value when adapted).
    """ + _ADAPTATION_DOC.format(
    default="0.574", reason="MALA's optimal acceptance rate in high dimension (Roberts & Rosenthal 1998).") + """
""" + _RETURNS_DOC + """
        ``acceptance_rate`` of shape ``(n,)`` (per chain, after warm-up), ``step_size`` ``(n,)``
        (each chain's step size: the adapted one, or ``step_size``), plus ``trajectory``,
        ``mean_energy``, ``mean_grad_norm`` and ``step_acceptance`` (per step) when requested.
    """


def hmc(energy, x0, n_steps, step_size, *, n_leapfrog=10, inverse_mass=None, adapt_step_size=False,
        adapt_mass=False, n_warmup=None, target_accept=None, divergence_threshold=1000.0, seed=None, thin=None,
        return_trajectory=False, diagnostics=False, return_info=True, chain_offset=0, progress=False):
    x, recorded, shape, _ = _sample(
        energy, x0, "hmc", n_steps, step_size, seed=seed, thin=thin, return_trajectory=return_trajectory,
        diagnostics=diagnostics, progress=progress, n_leapfrog=n_leapfrog, inverse_mass=inverse_mass,
        divergence_threshold=divergence_threshold, adapt_step_size=adapt_step_size, adapt_mass=adapt_mass,
        n_warmup=n_warmup, target_accept=target_accept, chain_offset=chain_offset)
    if not flag(return_info, "return_info"):
        return x
    return x, _info(recorded, shape, keys=("acceptance_rate", "n_divergent", "step_size", "inverse_mass"))


hmc.__doc__ = """Run Hamiltonian Monte Carlo (HMC) on a batch of chains.

    Each step draws a momentum ``p ~ N(0, M)``, follows ``n_leapfrog`` leapfrog steps of size
    ``η`` on ``H(x, p) = E(x) + ½ pᵀ M⁻¹ p`` and accepts the end point with probability
    ``min(1, exp(−ΔH))``. The chains sample ``exp(−E)`` exactly; a trajectory of ``n_leapfrog``
    steps moves a chain much further than as many MALA steps, at ``n_leapfrog`` gradient
    evaluations per step (the current state's energy and gradient are cached). A trajectory
    whose energy error ``ΔH`` is non-finite or above ``divergence_threshold`` is *divergent*:
    rejected and counted in ``info["n_divergent"]`` — many divergences mean the step is too large
    for the target's narrowest direction.

    Parameters
    ----------
    energy : Energy
    x0 : array_like, shape (n, dim) or (n, *energy.input_shape)
        Initial states; never modified.
    n_steps : int
        HMC steps (trajectories), warm-up included.
    step_size : float
        Leapfrog step ``η > 0`` (the starting value when adapted).
    n_leapfrog : int, default 10
        Leapfrog steps per trajectory.
    inverse_mass : array_like, shape (dim,) or input_shape, optional
        The diagonal of ``M⁻¹``, positive; default the identity. Set it to the target's variances
        to make every direction equally easy (fewer gradients per effective sample).
    """ + _ADAPTATION_DOC.format(
    default="0.65", reason="HMC's optimal acceptance rate in high dimension (Beskos et al. 2013); "
                           "raise it (Stan uses 0.8) for targets with sharply varying curvature.") + """
    adapt_mass : bool
        Also estimate each chain's diagonal inverse mass during warm-up, on Stan's schedule: a
        75-step buffer adapts the step size alone, then windows of 25, 50, 100, … steps each
        estimate every coordinate's variance along the chain, which becomes ``M⁻¹`` at the
        window's end (shrunk slightly towards 10⁻³ as Stan does; step-size adaptation restarts),
        and a final 50-step buffer adapts the step size to the last mass (a warm-up under 150
        steps keeps the proportions 15 % / 75 % / 10 % with one window). Simplified from Stan in
        one way: the variance is each chain's own, not pooled over chains (see
        ``adapt_step_size``), so give it ≥ 500 warm-up steps.
    divergence_threshold : float, default 1000
        The energy error above which a trajectory counts as divergent (Stan's and BlackJAX's 1000).
""" + _RETURNS_DOC + """
        ``acceptance_rate`` ``(n,)`` and ``n_divergent`` ``(n,)`` per chain after warm-up,
        ``step_size`` ``(n,)`` (adapted, or ``step_size``), ``inverse_mass`` ``(n, *input_shape)``
        with ``adapt_mass``, plus ``trajectory``, ``mean_energy``, ``mean_grad_norm`` and
        ``step_acceptance`` (per step) when requested.

    Raises
    ------
    DivergenceError
        If the energy or gradient at a starting state is NaN or infinite.
    """


def ais_log_z(energy, *, dim=None, n_chains=1000, n_temps=1000, base_mean=None, base_std=1.0, transition="mala",
              n_steps=1, step_size=0.1, n_leapfrog=5, inverse_mass=None, seed=None, return_info=False,
              chain_offset=0, progress=False):
    """Estimate ``ln Z = ln ∫ exp(−E(x)) dx`` by annealed importance sampling (Neal 2001).

    ``n_chains`` chains start from exact samples of the base ``N(base_mean, base_std² I)`` and
    move through the geometric path ``E_β = (1 − β) E_base + β E`` at ``β = t / n_temps``; each
    gains the log weight ``−(β_t − β_{t−1}) (E(x) − E_base(x))`` before ``n_steps`` transitions
    that leave ``exp(−E_β)`` invariant (MALA, HMC) or nearly so (Langevin). Then
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
    transition : {"mala", "hmc", "langevin"}
        MALA and HMC keep the estimator unbiased in ``Z``; Langevin adds its step-size bias. HMC
        moves further per transition (``n_leapfrog`` gradients each).
    step_size : float
    n_leapfrog : int, default 5
        Leapfrog steps of an HMC transition.
    inverse_mass : array_like, shape (dim,), optional
        HMC's diagonal inverse mass.
    seed : None, int or numpy.random.Generator
    return_info : bool
        Also return a dict with ``log_weights``, ``acceptance_rate`` and ``n_divergent`` (n_chains,).
    chain_offset : int
        The global index of the first chain: the chains ``[k, k + n)`` of an estimate, run alone
        with ``chain_offset=k``, have exactly its log weights ``[k, k + n)`` (for ``k`` and
        ``k + n`` multiples of 16, or ``k + n = n_chains``; see :func:`langevin`);
        :func:`ebm_swift.distributed.ais_log_z` splits an estimate this way.

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
    base_std = positive_float(base_std, "base_std")
    if base_mean is None:
        base_mean = np.zeros(energy.dim)
    base_mean = real_array(base_mean, "base_mean")
    shapes = {(energy.dim,), tuple(energy.input_shape)}
    if base_mean.shape not in shapes or not np.isfinite(base_mean).all():
        raise ValueError(f"base_mean must be finite with shape {' or '.join(map(str, sorted(shapes)))}; "
                         f"got shape {base_mean.shape}")
    base_mean = base_mean.ravel()
    kernel_name(transition, "transition", ("mala", "hmc", "langevin"))
    seed = resolve_seed(seed)
    transition_config, mass = sampler_config(transition, n_steps, step_size, seed=seed, input_shape=energy.input_shape,
                                             n_leapfrog=n_leapfrog, inverse_mass=inverse_mass, chain_offset=chain_offset)
    config = {"transition": transition_config, "n_chains": n_chains, "n_temps": n_temps, "base_std": base_std}
    log_z, std_err, log_weights, acceptance, divergent = _run(
        lambda report: _native.ais_log_z(energy._handle, config, base_mean, mass, report), "ais", progress)
    if return_info:
        return log_z, std_err, {"log_weights": log_weights, "acceptance_rate": acceptance, "n_divergent": divergent}
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
