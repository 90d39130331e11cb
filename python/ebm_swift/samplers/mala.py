"""The Metropolis-adjusted Langevin algorithm (MALA; Roberts & Tweedie 1996) — the kernel ``"mala"``."""

from __future__ import annotations

from .._validation import flag
from ._docs import ADAPTATION_DOC, RETURNS_DOC
from ._record import Sampler, register, run

__all__ = ["MALA", "mala"]


@register
class MALA(Sampler):
    """The MALA kernel: the Langevin move as a proposal, with a Metropolis–Hastings test.

    Parameters
    ----------
    step_size : float
        ``η > 0``: the proposal is ``x − η ∇E(x) + sqrt(2η) ε``.
    """

    kind = "mala"
    # MALA's optimal acceptance rate in high dimension (Roberts & Rosenthal 1998).
    default_target_accept = 0.574


def mala(energy, x0, n_steps, step_size, *, adapt_step_size=False, n_warmup=None, target_accept=None, seed=None,
         thin=None, return_trajectory=False, diagnostics=False, return_info=True, chain_offset=0, progress=False):
    """Run the Metropolis-adjusted Langevin algorithm (MALA) on a batch of chains."""
    x, info = run(MALA(step_size), energy, x0, n_steps, seed=seed, adapt_step_size=adapt_step_size,
                  n_warmup=n_warmup, target_accept=target_accept, chain_offset=chain_offset, thin=thin,
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
    """ + ADAPTATION_DOC.format(
    default="0.574", reason="MALA's optimal acceptance rate in high dimension (Roberts & Rosenthal 1998).") + """
""" + RETURNS_DOC + """
        ``acceptance_rate`` of shape ``(n,)`` (per chain, after warm-up), ``step_size`` ``(n,)``
        (each chain's step size: the adapted one, or ``step_size``), plus ``trajectory``,
        ``mean_energy``, ``mean_grad_norm`` and ``step_acceptance`` (per step) when requested.
    """
