"""The Metropolis-adjusted Langevin algorithm (MALA; Roberts & Tweedie 1996) — the kernel ``"mala"``."""

from __future__ import annotations

import numpy as np

from .._validation import flag, real_array
from ._docs import ADAPTATION_DOC, RETURNS_DOC
from ._record import Sampler, register, run
from .hmc import inverse_mass_array

__all__ = ["MALA", "mala"]


@register
class MALA(Sampler):
    """The MALA kernel: the Langevin move as a proposal, with a Metropolis–Hastings test.

    Parameters
    ----------
    step_size : float
        ``η > 0``: the proposal is ``x − η M⁻¹ ∇E(x) + sqrt(2η) M^{−½} ε``.
    inverse_mass : array_like, shape (dim,) or input_shape, optional
        The diagonal of ``M⁻¹`` (a preconditioner), positive; default the identity.
    """

    kind = "mala"
    adapts_mass = True
    # MALA's optimal acceptance rate in high dimension (Roberts & Rosenthal 1998).
    default_target_accept = 0.574
    info_keys = ("acceptance_rate", "step_size", "inverse_mass")

    def __init__(self, step_size, *, inverse_mass=None):
        super().__init__(step_size)
        self.inverse_mass = None if inverse_mass is None else real_array(inverse_mass, "inverse_mass")

    def _fields(self):
        fields = super()._fields()
        if fields["inverse_mass"] is not None:
            fields["inverse_mass"] = tuple(np.ravel(fields["inverse_mass"]).tolist())
        return fields

    def settings(self, input_shape):
        mass = inverse_mass_array(self.inverse_mass, input_shape)
        return {"step_size": self.step_size, "inverse_mass": None if mass is None else mass.astype(np.float64)}


def mala(energy, x0, n_steps, step_size, *, inverse_mass=None, adapt_step_size=False, adapt_mass=False, n_warmup=None,
         target_accept=None, seed=None, thin=None, return_trajectory=False, diagnostics=False, return_info=True,
         chain_offset=0, progress=False):
    """Run the Metropolis-adjusted Langevin algorithm (MALA) on a batch of chains."""
    x, info = run(MALA(step_size, inverse_mass=inverse_mass), energy, x0, n_steps, seed=seed,
                  adapt_step_size=adapt_step_size, adapt_mass=adapt_mass, n_warmup=n_warmup, target_accept=target_accept, chain_offset=chain_offset, thin=thin,
                  return_trajectory=return_trajectory, diagnostics=diagnostics, progress=progress)
    return (x, info) if flag(return_info, "return_info") else x


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
    inverse_mass : array_like, shape (dim,) or input_shape, optional
        The diagonal of ``M⁻¹``, positive (default the identity): the proposal becomes
        ``x − η M⁻¹ ∇E(x) + sqrt(2η) M^{−½} ε`` with the matching Metropolis–Hastings test, so
        coordinates of very different scales move at one step size. Set it to the target's
        variances, or let ``adapt_mass`` estimate them.
    """ + ADAPTATION_DOC.format(
    default="0.574", reason="MALA's optimal acceptance rate in high dimension (Roberts & Rosenthal 1998).") + """
    adapt_mass : bool
        Also estimate each chain's diagonal inverse mass during warm-up (Stan's windows; see
        :func:`hmc`).
""" + RETURNS_DOC + """
        ``acceptance_rate`` of shape ``(n,)`` (per chain, after warm-up), ``step_size`` ``(n,)``
        (each chain's step size: the adapted one, or ``step_size``), ``inverse_mass`` with
        ``adapt_mass``, plus ``trajectory``,
        ``mean_energy``, ``mean_grad_norm`` and ``step_acceptance`` (per step) when requested.
    """
