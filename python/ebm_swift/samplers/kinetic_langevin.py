"""Kinetic (underdamped) Langevin dynamics, OBABO, optionally Metropolis-adjusted — the kernel
``"kinetic_langevin"``."""

from __future__ import annotations

import numpy as np

from .._validation import flag, positive_float, real_array
from ._docs import ADAPTATION_DOC, RETURNS_DOC
from ._record import Sampler, register, run
from .hmc import inverse_mass_array

__all__ = ["KineticLangevin", "kinetic_langevin"]


@register
class KineticLangevin(Sampler):
    """The kinetic Langevin kernel: a momentum with friction ``γ``, the OBABO splitting, and
    optionally a Metropolis test on each BAB move.

    Parameters
    ----------
    step_size : float
        Time step ``h > 0``.
    friction : float, default 1.0
        ``γ > 0``: the momentum keeps ``exp(−γh/2)`` of itself per half step.
    metropolis : bool, default False
        Accept each move with probability ``min(1, exp(−ΔH))`` (exact; a rejection negates the
        momentum) instead of always (bias of order ``h²``).
    inverse_mass : array_like, shape (dim,) or input_shape, optional
        The diagonal of ``M⁻¹``, positive; default the identity.
    divergence_threshold : float, default 1000
        With ``metropolis``, the energy error above which a move counts as divergent.
    """

    kind = "kinetic_langevin"
    # Higher than MALA's 0.574: a rejection negates the momentum and undoes the persistence that
    # makes the sampler fast (Riou-Durand & Vogrinc 2023 tune it high for the same reason).
    default_target_accept = 0.8
    info_keys = ("acceptance_rate", "n_divergent", "step_size", "inverse_mass")

    def __init__(self, step_size, *, friction=1.0, metropolis=False, inverse_mass=None, divergence_threshold=1000.0):
        super().__init__(step_size)
        self.friction = positive_float(friction, "friction")
        self.metropolis = flag(metropolis, "metropolis")
        self.inverse_mass = None if inverse_mass is None else real_array(inverse_mass, "inverse_mass")
        self.divergence_threshold = positive_float(1000.0 if divergence_threshold is None else divergence_threshold,
                                                   "divergence_threshold")

    @property
    def adaptable(self):
        """Only the Metropolis form has an acceptance rate to adapt the step size on."""
        return self.metropolis

    @property
    def adapts_mass(self):
        return self.metropolis

    def _fields(self):
        fields = super()._fields()
        if fields["inverse_mass"] is not None:
            fields["inverse_mass"] = tuple(np.ravel(fields["inverse_mass"]).tolist())
        return fields

    def settings(self, input_shape):
        mass = inverse_mass_array(self.inverse_mass, input_shape)
        return {"step_size": self.step_size, "friction": self.friction, "metropolis": int(self.metropolis),
                "inverse_mass": None if mass is None else mass.astype(np.float64),
                "divergence_threshold": self.divergence_threshold}


def kinetic_langevin(energy, x0, n_steps, step_size, *, friction=1.0, metropolis=False, inverse_mass=None,
                     adapt_step_size=False, adapt_mass=False, n_warmup=None, target_accept=None,
                     divergence_threshold=1000.0, seed=None, thin=None, return_trajectory=False, diagnostics=False,
                     return_info=True, chain_offset=0, progress=False):
    x, info = run(KineticLangevin(step_size, friction=friction, metropolis=metropolis, inverse_mass=inverse_mass,
                                  divergence_threshold=divergence_threshold), energy, x0, n_steps, seed=seed,
                  adapt_step_size=adapt_step_size, adapt_mass=adapt_mass, n_warmup=n_warmup,
                  target_accept=target_accept, chain_offset=chain_offset, thin=thin,
                  return_trajectory=return_trajectory, diagnostics=diagnostics, progress=progress)
    return (x, info) if flag(return_info, "return_info") else x


kinetic_langevin.__doc__ = """Run kinetic (underdamped) Langevin dynamics on a batch of chains.

    Each chain carries a momentum ``p`` besides its state: per step, the OBABO splitting
    (Bussi & Parrinello 2007) refreshes ``p ← a p + sqrt(1 − a²) M^½ ξ`` with ``a = exp(−γh/2)``,
    takes a leapfrog step ``p ← p − (h/2)∇E(x); x ← x + h M⁻¹p; p ← p − (h/2)∇E(x)`` and refreshes
    again. With little friction the chains move ballistically for a time ``~1/γ`` instead of
    diffusing — the momentum sampler image-EBM work uses to mix faster than Langevin at one
    gradient per step. The momentum starts from ``N(0, M)`` at each call.

    Unadjusted (default) every move is taken and the positions' law has a bias of order ``h²``
    (on a Gaussian of variance ``σ²``, variance ``σ²/(1 − h²/4σ²)``). With ``metropolis=True``
    each leapfrog move is accepted with probability ``min(1, exp(−ΔH))`` and a rejection negates
    the momentum (generalised HMC, Horowitz 1991): the chains sample ``exp(−E)`` exactly, and
    the step size can be adapted. OBABO is used for both forms because its middle BAB is a
    reversible leapfrog step, which the exact form needs.

    Parameters
    ----------
    energy : Energy
    x0 : array_like, shape (n, dim) or (n, *energy.input_shape)
        Initial states; never modified.
    n_steps : int
        Steps, warm-up included.
    step_size : float
        Time step ``h > 0`` (the starting value when adapted).
    friction : float, default 1.0
        ``γ > 0``. Large ``γ`` approaches overdamped Langevin (with time step ``h²/2``); small ``γ``
        approaches HMC with long trajectories. ``γ`` of the order of the target's smallest
        frequency (1/its largest standard deviation) is a good start.
    metropolis : bool, default False
        Add the Metropolis test (exact sampling; needed for adaptation).
    inverse_mass : array_like, shape (dim,) or input_shape, optional
        The diagonal of ``M⁻¹``, positive; default the identity.
    """ + ADAPTATION_DOC.format(
    default="0.8", reason="higher than MALA's, because a rejection negates the momentum and "
                          "undoes the persistence that makes the sampler fast. Only with metropolis=True.") + """
    adapt_mass : bool
        With ``metropolis=True``: also estimate each chain's diagonal inverse mass (Stan's windows;
        see :func:`hmc`).
    divergence_threshold : float, default 1000
        With ``metropolis``: the energy error above which a move counts as divergent.
""" + RETURNS_DOC + """
        ``acceptance_rate`` ``(n,)`` (1 unadjusted), ``n_divergent`` ``(n,)`` (int64), ``step_size``
        ``(n,)``, ``inverse_mass`` with ``adapt_mass``; plus ``trajectory``, ``mean_energy``,
        ``mean_grad_norm`` and ``step_acceptance`` when requested.

    Raises
    ------
    DivergenceError
        If a starting state's energy or gradient is not finite, or (unadjusted) a state becomes so.
    """
