"""The No-U-Turn sampler, multinomial (Hoffman & Gelman 2014; Betancourt 2017) — the kernel ``"nuts"``."""

from __future__ import annotations

import numpy as np

from .._validation import flag, positive_float, positive_int, real_array
from ._docs import ADAPTATION_DOC, RETURNS_DOC
from ._record import Sampler, register, run
from .hmc import inverse_mass_array

__all__ = ["NUTS", "nuts"]

#: The deepest tree the core builds (2**15 - 1 leapfrog steps per draw).
MAX_TREE_DEPTH = 15


@register
class NUTS(Sampler):
    """The NUTS kernel: trajectories that double until they make a U-turn, multinomial sampling
    along them.

    Parameters
    ----------
    step_size : float
        Leapfrog step ``η > 0``.
    max_tree_depth : int, default 10
        At most this many doublings: ``2**max_tree_depth - 1`` leapfrog steps per draw (≤ 15).
    inverse_mass : array_like, shape (dim,) or input_shape, optional
        The diagonal of ``M⁻¹``, positive; default the identity.
    divergence_threshold : float, default 1000
        The energy error above which a leapfrog step is divergent (ends its trajectory).
    """

    kind = "nuts"
    adapts_mass = True
    # Stan's and BlackJAX's default target for NUTS's acceptance statistic.
    default_target_accept = 0.8
    info_keys = ("acceptance_rate", "acceptance_stat", "tree_depth", "n_leapfrog", "n_divergent", "step_size",
                 "inverse_mass")

    def __init__(self, step_size, *, max_tree_depth=10, inverse_mass=None, divergence_threshold=1000.0):
        super().__init__(step_size)
        self.max_tree_depth = positive_int(max_tree_depth, "max_tree_depth")
        if self.max_tree_depth > MAX_TREE_DEPTH:
            raise ValueError(f"max_tree_depth must be at most {MAX_TREE_DEPTH} (2**{MAX_TREE_DEPTH} - 1 gradients "
                             f"per draw); got {max_tree_depth}")
        self.inverse_mass = None if inverse_mass is None else real_array(inverse_mass, "inverse_mass")
        self.divergence_threshold = positive_float(1000.0 if divergence_threshold is None else divergence_threshold,
                                                   "divergence_threshold")

    def _fields(self):
        fields = super()._fields()
        if fields["inverse_mass"] is not None:
            fields["inverse_mass"] = tuple(np.ravel(fields["inverse_mass"]).tolist())
        return fields

    def settings(self, input_shape):
        mass = inverse_mass_array(self.inverse_mass, input_shape)
        return {"step_size": self.step_size, "max_tree_depth": self.max_tree_depth,
                "inverse_mass": None if mass is None else mass.astype(np.float64),
                "divergence_threshold": self.divergence_threshold}


def nuts(energy, x0, n_steps, step_size, *, max_tree_depth=10, inverse_mass=None, adapt_step_size=False,
         adapt_mass=False, n_warmup=None, target_accept=None, divergence_threshold=1000.0, seed=None, thin=None,
         return_trajectory=False, diagnostics=False, return_info=True, chain_offset=0, progress=False):
    x, info = run(NUTS(step_size, max_tree_depth=max_tree_depth, inverse_mass=inverse_mass,
                       divergence_threshold=divergence_threshold), energy, x0, n_steps, seed=seed,
                  adapt_step_size=adapt_step_size, adapt_mass=adapt_mass, n_warmup=n_warmup,
                  target_accept=target_accept, chain_offset=chain_offset, thin=thin,
                  return_trajectory=return_trajectory, diagnostics=diagnostics, progress=progress)
    return (x, info) if flag(return_info, "return_info") else x


nuts.__doc__ = """Run the No-U-Turn sampler (NUTS) on a batch of chains.

    Each draw takes a momentum ``p ~ N(0, M)`` and grows a leapfrog trajectory on
    ``H = E(x) + ½ pᵀ M⁻¹ p`` by doublings in random directions until it makes a U-turn (the
    generalised criterion of Betancourt 2017, checked on every balanced sub-trajectory) or reaches
    ``max_tree_depth`` doublings; the next state is drawn from the trajectory with weights
    ``exp(−H)`` (multinomial NUTS, as in Stan and BlackJAX). No trajectory length to choose: NUTS
    answers HMC's "how many leapfrog steps?" per draw; ``adapt_step_size`` answers "which step?".
    The chains sample ``exp(−E)`` exactly.

    What to look at: ``tree_depth`` at ``max_tree_depth`` means the trajectories were cut short
    (raise it, or adapt the mass); divergences (``n_divergent`` > 0) mean the step is too large for
    a region of high curvature (raise ``target_accept``, reparameterise) and the samples there
    are not to be trusted; ``n_leapfrog`` is the cost of a draw in gradients.

    Parameters
    ----------
    energy : Energy
    x0 : array_like, shape (n, dim) or (n, *energy.input_shape)
        Initial states; never modified.
    n_steps : int
        Draws per chain, warm-up included.
    step_size : float
        Leapfrog step ``η > 0`` (the starting value when adapted).
    max_tree_depth : int, default 10
        At most ``2**max_tree_depth − 1`` leapfrog steps per draw (at most 15).
    inverse_mass : array_like, shape (dim,) or input_shape, optional
        The diagonal of ``M⁻¹``, positive; default the identity.
    """ + ADAPTATION_DOC.format(
    default="0.8", reason="Stan's and BlackJAX's target for NUTS's acceptance statistic "
                          "(the mean of min(1, exp(−ΔH)) over a trajectory's points).") + """
    adapt_mass : bool
        Also estimate each chain's diagonal inverse mass during warm-up (Stan's windows; see
        :func:`hmc`).
    divergence_threshold : float, default 1000
        The energy error above which a leapfrog step is divergent (Stan's and BlackJAX's 1000).
""" + RETURNS_DOC + """
        Per chain, after warm-up: ``acceptance_rate`` (the fraction of draws that moved),
        ``acceptance_stat`` (mean of min(1, exp(−ΔH)) over each trajectory, what adaptation aims
        at), ``tree_depth`` and ``n_leapfrog`` (means per draw), ``n_divergent`` (int64, draws whose
        trajectory diverged), ``step_size`` and, with ``adapt_mass``, ``inverse_mass``; plus
        ``trajectory``, ``mean_energy``, ``mean_grad_norm`` and ``step_acceptance`` when requested.

    Raises
    ------
    DivergenceError
        If the energy or gradient at a starting state is NaN or infinite.
    """
