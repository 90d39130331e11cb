"""Noise-contrastive estimation — the objective ``"nce"``."""

import numpy as np

from .._validation import positive_int, real_array
from ._record import Objective, register

__all__ = ["NCE", "fit_gaussian_noise"]


def fit_gaussian_noise(X) -> tuple:
    """NCE's default noise: the Gaussian fitted to ``X`` ``(n, d)``, its covariance with a ridge of
    1e-3 × the mean variance (positive definite also for data on a subspace, e.g. images with
    constant border pixels).

    Returns
    -------
    mean : ndarray, shape (d,), float64
    cov : ndarray, shape (d, d), float64
    """
    X = np.asarray(X, dtype=np.float64)
    mean = X.mean(0)
    cov = np.atleast_2d(np.cov(X.T)) if len(X) > 1 else np.zeros((X.shape[1], X.shape[1]))
    ridge = 1e-3 * max(float(np.trace(cov)) / len(mean), 1e-6)
    return mean, cov + ridge * np.eye(len(mean))


def _noise(value):
    """``noise=(mean, cov)`` as float64 arrays, finite, symmetric and positive definite."""
    try:
        mean, cov = value
    except (TypeError, ValueError):
        raise TypeError(f"noise must be a pair (mean, cov); got {type(value).__name__}") from None
    mean = real_array(mean, "noise mean").astype(np.float64)
    cov = real_array(cov, "noise cov").astype(np.float64)
    d = mean.shape[0] if mean.ndim == 1 else -1
    if mean.ndim != 1 or cov.shape != (d, d):
        raise ValueError(f"noise must be (mean of shape (d,), cov of shape (d, d)); got shapes {mean.shape} and {cov.shape}")
    if not (np.isfinite(mean).all() and np.isfinite(cov).all()):
        raise ValueError("noise mean and cov must be finite")
    if not np.allclose(cov, cov.T, rtol=1e-9, atol=0):
        raise ValueError("noise cov must be symmetric")
    try:
        np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise ValueError("noise cov must be positive definite") from None
    return mean, cov


@register
class NCE(Objective):
    """Noise-contrastive estimation (Gutmann & Hyvärinen 2010): a step classifies the batch against
    ``noise_ratio`` samples per row of a Gaussian ``noise`` by logistic regression on
    ``G(x) = −E(x) − c − ln q(x) − ln ν``, learning the log-normaliser ``c`` (an estimate of
    ``ln Z``) with the network.

    Parameters
    ----------
    noise : (mean, cov), optional
        The noise ``N(mean, cov)`` (shapes ``(dim,)``, ``(dim, dim)``); by default the Gaussian
        :func:`fit_gaussian_noise` fits to the trainer's first data.
    noise_ratio : int, default 1
        Noise samples per data row; at most 1024.
    """

    kind = "nce"

    def __init__(self, noise=None, noise_ratio=1):
        self.noise = None if noise is None else _noise(noise)
        self.noise_ratio = positive_int(noise_ratio, "noise_ratio", maximum=1024)

    def check(self, energy) -> None:
        if self.noise is not None and self.noise[0].shape != (energy.dim,):
            d = energy.dim
            raise ValueError(f"noise must be (mean of shape ({d},), cov of shape ({d}, {d})); "
                             f"got shapes {self.noise[0].shape} and {self.noise[1].shape}")

    def settings(self, energy) -> dict:
        if self.noise is None:
            raise ValueError("this NCE objective fits its noise to the first data it trains on: pass noise=(mean, cov)")
        return {"noise_mean": self.noise[0], "noise_cov": self.noise[1].ravel(), "noise_ratio": self.noise_ratio}

    def __eq__(self, other):
        same = lambda a, b: (a is None) == (b is None) and (a is None or all(np.array_equal(u, v) for u, v in zip(a, b)))
        return type(self) is type(other) and same(self.noise, other.noise) and self.noise_ratio == other.noise_ratio
