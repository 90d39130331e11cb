"""Sliced score matching — the objective ``"ssm"``."""

from .._validation import positive_int
from ._record import Objective, register

__all__ = ["SSM"]

PROJECTIONS = ("rademacher", "gaussian")


@register
class SSM(Objective):
    """Sliced score matching (Song et al. 2019): ``ℓ = E_v[−vᵀ ∇x²E v + ½ ⟨∇x E, v⟩²]`` over random
    directions ``v``; Gaussian directions use the variance-reduced form
    ``E_v[−vᵀ ∇x²E v] + ½ ‖∇x E‖²``. A step samples nothing.

    Parameters
    ----------
    n_projections : int, default 1
        Directions per data row (each costs one second-order pass); at most 1024.
    projection : {"rademacher", "gaussian"}, default "rademacher"
    """

    kind = "ssm"

    def __init__(self, n_projections=1, projection="rademacher"):
        self.n_projections = positive_int(n_projections, "n_projections", maximum=1024)
        if not isinstance(projection, str) or projection not in PROJECTIONS:
            raise ValueError(f"projection must be one of {sorted(PROJECTIONS)}; got {projection!r}")
        self.projection = projection

    def settings(self, energy) -> dict:
        return {"n_projections": self.n_projections, "projection": self.projection}
