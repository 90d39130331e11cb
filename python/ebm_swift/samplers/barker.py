"""The Barker proposal, Metropolis-adjusted (Livingstone & Zanella 2022) — the kernel ``"barker"``."""

from __future__ import annotations

from .._validation import flag
from ._docs import ADAPTATION_DOC, RETURNS_DOC
from ._record import Sampler, register, run

__all__ = ["Barker", "barker"]


@register
class Barker(Sampler):
    """The Barker kernel: per coordinate an increment ``z ~ N(0, σ²)`` whose sign is skewed towards
    lower energy, ``w = ±z`` with ``P(w = z) = 1 / (1 + exp(z ∂ⱼE(x)))``, and a Metropolis–Hastings test.

    Parameters
    ----------
    step_size : float
        ``σ > 0``, the scale of the increments (BlackJAX's convention).
    """

    kind = "barker"
    # The asymptotically optimal acceptance rate of the Barker proposal (Vogrinc, Livingstone &
    # Zanella 2023).
    default_target_accept = 0.40


def barker(energy, x0, n_steps, step_size, *, adapt_step_size=False, n_warmup=None, target_accept=None, seed=None,
           thin=None, return_trajectory=False, diagnostics=False, return_info=True, chain_offset=0, progress=False):
    x, info = run(Barker(step_size), energy, x0, n_steps, seed=seed, adapt_step_size=adapt_step_size,
                  n_warmup=n_warmup, target_accept=target_accept, chain_offset=chain_offset, thin=thin,
                  return_trajectory=return_trajectory, diagnostics=diagnostics, progress=progress)
    return (x, info) if flag(return_info, "return_info") else x


barker.__doc__ = """Run the Barker proposal with a Metropolis–Hastings test on a batch of chains.

    Each step proposes, coordinate by coordinate, ``yⱼ = xⱼ + wⱼ`` with ``wⱼ = ±zⱼ``,
    ``zⱼ ~ N(0, step_size²)``, keeping the sign with probability ``1 / (1 + exp(zⱼ ∂ⱼE(x)))`` — a
    move skewed downhill whose size, unlike MALA's ``η ∇E``, does not grow with the gradient — and
    accepts ``y`` with probability ``min(1, exp(E(x) − E(y)) · q(x|y) / q(y|x))``. The chains sample
    ``exp(−E)`` exactly. The kernel is robust to a badly chosen step size and to heterogeneous
    scales (Livingstone & Zanella 2022), at one gradient per step.

    Parameters
    ----------
    energy : Energy
    x0 : array_like, shape (n, dim) or (n, *energy.input_shape)
        Initial states; never modified.
    n_steps : int
        Steps, warm-up included.
    step_size : float
        ``σ > 0``, the scale of the increments (the starting value when adapted).
    """ + ADAPTATION_DOC.format(
    default="0.40", reason="the Barker proposal's asymptotically optimal acceptance rate "
                           "(Vogrinc, Livingstone & Zanella 2023).") + """
""" + RETURNS_DOC + """
        ``acceptance_rate`` ``(n,)`` (per chain, after warm-up), ``step_size`` ``(n,)``, plus
        ``trajectory``, ``mean_energy``, ``mean_grad_norm`` and ``step_acceptance`` when requested.

    Raises
    ------
    DivergenceError
        If the energy or gradient at a starting state is NaN or infinite.
    """
