"""Denoising score matching — the objective ``"dsm"``."""

import numpy as np

from .._validation import positive_float
from ._record import Objective, register

__all__ = ["DSM"]


@register
class DSM(Objective):
    """Denoising score matching (Vincent 2011): ``x̃ = x + σ ε`` and ``ℓ = ½ ‖ε − σ ∇x E(x̃)‖²``
    (weight ``σ²``, Song & Ermon 2019); with several ``sigma`` the rows of a batch take them in
    turn. The model learns the data smoothed by ``N(0, σ²I)``; a step samples nothing.

    Parameters
    ----------
    sigma : float or sequence of float, default 0.1
        The noise scale(s); a geometric list (largest first, e.g. ``np.geomspace(1, 0.01, 10)``)
        for multi-scale training. At most 1024.
    """

    kind = "dsm"

    def __init__(self, sigma=0.1):
        items = sigma if isinstance(sigma, (list, tuple, np.ndarray)) else (sigma,)
        if len(items) == 0:
            raise ValueError("sigma must be a positive float or a non-empty sequence of them; got an empty sequence")
        if len(items) > 1024:
            raise ValueError(f"sigma may hold at most 1024 noise scales; got {len(items)}")
        self.sigma = tuple(positive_float(v, "sigma" if len(items) == 1 else f"sigma[{i}]") for i, v in enumerate(items))

    def settings(self, energy) -> dict:
        return {"sigmas": np.asarray(self.sigma, dtype=np.float64)}
