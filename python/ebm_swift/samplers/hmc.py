"""Hamiltonian Monte Carlo with a diagonal mass (Duane et al. 1987; Neal 2011) — the kernel ``"hmc"``."""

from __future__ import annotations

import numpy as np

from .._validation import flag, positive_float, positive_int, real_array
from ._docs import ADAPTATION_DOC, RETURNS_DOC
from ._record import Sampler, register, run

__all__ = ["HMC", "hmc"]


def inverse_mass_array(inverse_mass, input_shape, name="inverse_mass"):
    """``None``, or ``inverse_mass`` as float32 ``(dim,)``: positive and finite, of shape
    ``(dim,)`` or the energy's input shape."""
    if inverse_mass is None:
        return None
    mass = real_array(inverse_mass, name)
    dim = int(np.prod(input_shape))
    shapes = {(dim,), tuple(input_shape)}
    if mass.shape not in shapes:
        raise ValueError(f"{name} must have shape {' or '.join(map(str, sorted(shapes)))} (a diagonal); "
                         f"got shape {mass.shape}")
    with np.errstate(over="ignore"):
        mass = np.ascontiguousarray(mass, dtype=np.float32).ravel()
    if not (np.isfinite(mass).all() and (mass > 0).all()):
        raise ValueError(f"{name} must hold positive finite values (float32); got min {mass.min()!r}")
    return mass


def jitter(step_jitter):
    """``step_jitter`` as a float in [0, 1)."""
    value = 0.0 if step_jitter is None else step_jitter
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not 0 <= value < 1:
        raise ValueError(f"step_jitter must be a number in [0, 1); got {step_jitter!r}")
    return float(value)


@register
class HMC(Sampler):
    """The HMC kernel: ``n_leapfrog`` leapfrog steps on ``E(x) + ½ pᵀ M⁻¹ p`` and a Metropolis test.

    Parameters
    ----------
    step_size : float
        Leapfrog step ``η > 0``.
    n_leapfrog : int, default 10
        Leapfrog steps per trajectory.
    inverse_mass : array_like, shape (dim,) or input_shape, optional
        The diagonal of ``M⁻¹``, positive; default the identity (checked against the energy when sampling).
    divergence_threshold : float, default 1000
        The energy error above which a trajectory counts as divergent.
    step_jitter : float, default 0
        Draw each chain's step at each step uniformly from ``step_size · (1 ± step_jitter)``, in [0, 1).
    """

    kind = "hmc"
    adapts_mass = True
    # HMC's optimal acceptance rate in high dimension (Beskos et al. 2013); Stan's default is 0.8.
    default_target_accept = 0.65
    info_keys = ("acceptance_rate", "n_divergent", "step_size", "inverse_mass")

    def __init__(self, step_size, *, n_leapfrog=10, inverse_mass=None, divergence_threshold=1000.0, step_jitter=0.0):
        super().__init__(step_size)
        self.n_leapfrog = positive_int(n_leapfrog, "n_leapfrog")
        self.inverse_mass = None if inverse_mass is None else real_array(inverse_mass, "inverse_mass")
        self.divergence_threshold = positive_float(1000.0 if divergence_threshold is None else divergence_threshold,
                                                   "divergence_threshold")
        self.step_jitter = jitter(step_jitter)

    def _fields(self):
        fields = super()._fields()
        if fields["inverse_mass"] is not None:
            fields["inverse_mass"] = tuple(np.ravel(fields["inverse_mass"]).tolist())
        return fields

    def settings(self, input_shape):
        mass = inverse_mass_array(self.inverse_mass, input_shape)
        return {"step_size": self.step_size, "n_leapfrog": self.n_leapfrog,
                "inverse_mass": None if mass is None else mass.astype(np.float64),
                "divergence_threshold": self.divergence_threshold, "step_jitter": self.step_jitter}


def hmc(energy, x0, n_steps, step_size, *, n_leapfrog=10, inverse_mass=None, adapt_step_size=False,
        adapt_mass=False, n_warmup=None, target_accept=None, divergence_threshold=1000.0, step_jitter=0.0, seed=None,
        thin=None, return_trajectory=False, diagnostics=False, return_info=True, chain_offset=0, progress=False):
    x, info = run(HMC(step_size, n_leapfrog=n_leapfrog, inverse_mass=inverse_mass,
                      divergence_threshold=divergence_threshold, step_jitter=step_jitter), energy, x0, n_steps, seed=seed,
                  adapt_step_size=adapt_step_size, adapt_mass=adapt_mass, n_warmup=n_warmup,
                  target_accept=target_accept, chain_offset=chain_offset, thin=thin,
                  return_trajectory=return_trajectory, diagnostics=diagnostics, progress=progress)
    return (x, info) if flag(return_info, "return_info") else x


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
    """ + ADAPTATION_DOC.format(
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
    step_jitter : float, default 0
        Each chain's step at each step is drawn uniformly from ``η (1 ± step_jitter)`` (Stan's
        ``stepsize_jitter``), in [0, 1). A fixed trajectory length ``η · n_leapfrog`` near a
        multiple of a period of the target makes trajectories return where they started (a
        coordinate whose effective sample size collapses); 0.2–0.5 breaks the resonance.
""" + RETURNS_DOC + """
        ``acceptance_rate`` ``(n,)`` and ``n_divergent`` ``(n,)`` (int64) per chain after warm-up,
        ``step_size`` ``(n,)`` (adapted, or ``step_size``), ``inverse_mass`` ``(n, *input_shape)``
        with ``adapt_mass``, plus ``trajectory``, ``mean_energy``, ``mean_grad_norm`` and
        ``step_acceptance`` (per step) when requested.

    Raises
    ------
    DivergenceError
        If the energy or gradient at a starting state is NaN or infinite.
    """
