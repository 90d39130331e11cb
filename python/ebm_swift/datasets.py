"""Datasets: the standard 2-D toy densities of the EBM and flow literature (FFJORD's
``toy_data``, torchebm's datasets), and scikit-learn's 8×8 digits."""

from __future__ import annotations

import numpy as np

from ._validation import non_negative_float, positive_int, resolve_seed
from .image_datasets import FASHION_MNIST_DIR, load_fashion_mnist, load_idx, load_mnist
from .image_quality import mnist_style_digits, shuffle_pixels

__all__ = ["make_toy", "load_digits", "load_fashion_mnist", "load_idx", "load_mnist", "mnist_style_digits",
           "shuffle_pixels", "FASHION_MNIST_DIR", "TOY_DATASETS"]


def _eight_gaussians(n, noise, rng):
    # Eight equal-weight modes on a circle of radius 2·sqrt(2) (unit-circle centres scaled by 4,
    # then everything divided by sqrt(2), as FFJORD).
    angles = np.arange(8) * (np.pi / 4)
    centres = 2.0 * np.sqrt(2.0) * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return centres[rng.integers(0, 8, size=n)] + noise * rng.standard_normal((n, 2))


def _rings(n, noise, rng):
    # Four concentric circles of radii 0.75, 1.5, 2.25, 3, equally many points on each.
    radius = 0.75 * (1 + rng.integers(0, 4, size=n))
    theta = rng.uniform(0, 2 * np.pi, size=n)
    return np.stack([radius * np.cos(theta), radius * np.sin(theta)], axis=1) + noise * rng.standard_normal((n, 2))


def _moons(n, noise, rng):
    # Two interleaved half circles (scikit-learn's make_moons), centred and scaled by 2.
    upper = rng.random(n) < 0.5
    t = rng.uniform(0, np.pi, size=n)
    x = np.where(upper, np.cos(t), 1 - np.cos(t))
    y = np.where(upper, np.sin(t), 0.5 - np.sin(t))
    return 2 * (np.stack([x, y], axis=1) - [0.5, 0.25]) + noise * rng.standard_normal((n, 2))


def _swissroll(n, noise, rng):
    # A 2-D Swiss roll: (t cos t, t sin t) for t uniform in 1.5π (1, 3), scaled by 1/4.
    t = 1.5 * np.pi * (1 + 2 * rng.random(n))
    return np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / 4 + noise * rng.standard_normal((n, 2))


def _checkerboard(n, noise, rng):
    # Eight unit squares of a 4×4 checkerboard on [−4, 4]² (scaled by 2), as FFJORD.
    x1 = rng.random(n) * 4 - 2
    x2 = rng.random(n) - rng.integers(0, 2, size=n) * 2 + np.floor(x1) % 2
    return 2 * np.stack([x1, x2], axis=1) + noise * rng.standard_normal((n, 2))


def _pinwheel(n, noise, rng):
    # Five curved arms (Johnson et al. 2016): radial spread 0.3, tangential `noise`, rate 0.25.
    arms, rate = 5, 0.25
    labels = rng.integers(0, arms, size=n)
    feats = rng.standard_normal((n, 2)) * [0.3, max(noise, 1e-6)] + [1.0, 0.0]
    angle = 2 * np.pi * labels / arms + rate * np.exp(feats[:, 0])
    c, s = np.cos(angle), np.sin(angle)
    return 2 * np.stack([c * feats[:, 0] - s * feats[:, 1], s * feats[:, 0] + c * feats[:, 1]], axis=1)


def _two_spirals(n, noise, rng):
    # Two interleaved spirals (FFJORD's "2spirals").
    t = np.sqrt(rng.random(n // 2 + 1)) * 540 * (2 * np.pi) / 360
    arm = np.stack([-np.cos(t) * t + rng.random(len(t)) * 0.5, np.sin(t) * t + rng.random(len(t)) * 0.5], axis=1)
    x = np.concatenate([arm, -arm])[:n] / 3
    return x[rng.permutation(n)] + noise * rng.standard_normal((n, 2))


def _circles(n, noise, rng):
    # Two concentric circles of radii 3 and 1.5 (scikit-learn's make_circles with factor 0.5, ×3).
    radius = np.where(rng.random(n) < 0.5, 3.0, 1.5)
    theta = rng.uniform(0, 2 * np.pi, size=n)
    return np.stack([radius * np.cos(theta), radius * np.sin(theta)], axis=1) + noise * rng.standard_normal((n, 2))


#: name → (generator, default noise). All sets lie essentially inside [−4, 4]².
TOY_DATASETS = {
    "8gaussians": (_eight_gaussians, 0.35),
    "rings": (_rings, 0.08),
    "moons": (_moons, 0.1),
    "swissroll": (_swissroll, 0.1),
    "checkerboard": (_checkerboard, 0.0),
    "pinwheel": (_pinwheel, 0.1),
    "2spirals": (_two_spirals, 0.1),
    "circles": (_circles, 0.1),
}


def make_toy(name: str, n: int, *, noise=None, seed=None) -> np.ndarray:
    """Sample a 2-D toy dataset.

    Parameters
    ----------
    name : str
        One of ``8gaussians`` (ring of 8 Gaussians, radius 2√2), ``rings`` (4 concentric circles),
        ``moons``, ``swissroll``, ``checkerboard``, ``pinwheel`` (5 arms), ``2spirals``, ``circles``.
    n : int
        Number of points.
    noise : float, optional
        Standard deviation of the added Gaussian noise (``pinwheel``: of the tangential spread);
        default per dataset.
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


def load_digits(return_labels: bool = False):
    """scikit-learn's bundled 8×8 handwritten digits (1797 images), scaled to [−1, 1].

    Returns
    -------
    X : ndarray, shape (1797, 64), float32
    y : ndarray, shape (1797,), only with ``return_labels``

    Raises
    ------
    ImportError
        If scikit-learn is not installed (``pip install scikit-learn``).
    """
    try:
        from sklearn.datasets import load_digits as sk_load_digits
    except ImportError as exc:
        raise ImportError("load_digits needs scikit-learn, which ships the data: pip install scikit-learn") from exc
    digits = sk_load_digits()
    X = (digits.data / 16.0 * 2.0 - 1.0).astype(np.float32)
    return (X, digits.target) if return_labels else X
