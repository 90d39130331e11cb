"""Built-in toy datasets."""

from __future__ import annotations

import numpy as np

from ._validation import non_negative_float, positive_int, resolve_seed

__all__ = ["make_toy", "TOY_DATASETS"]


def _eight_gaussians(n: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    # Eight equal-weight modes on a circle of radius 2·sqrt(2) (the FFJORD/torchebm "8gaussians"
    # layout: unit-circle centres scaled by 4, then everything divided by sqrt(2)).
    angles = np.arange(8) * (np.pi / 4)
    centres = 2.0 * np.sqrt(2.0) * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    which = rng.integers(0, 8, size=n)
    return centres[which] + noise * rng.standard_normal((n, 2))


TOY_DATASETS = {"8gaussians": (_eight_gaussians, 0.35)}


def make_toy(name: str, n: int, *, noise=None, seed=None) -> np.ndarray:
    """Sample a 2-D toy dataset.

    Parameters
    ----------
    name : {"8gaussians"}
        ``8gaussians``: a ring of 8 Gaussians of radius ``2·sqrt(2)``.
    n : int
        Number of points.
    noise : float, optional
        Standard deviation of each mode; default 0.35.
    seed : None, int or numpy.random.Generator

    Returns
    -------
    ndarray, shape (n, 2), float32
    """
    if name not in TOY_DATASETS:
        raise ValueError(f"name must be one of {sorted(TOY_DATASETS)}; got {name!r}")
    make, default_noise = TOY_DATASETS[name]
    n = positive_int(n, "n")
    noise = default_noise if noise is None else non_negative_float(noise, "noise")
    rng = np.random.default_rng(resolve_seed(seed))
    return make(n, noise, rng).astype(np.float32)
