"""Closed-form energies with known moments or normalisers: targets for checking samplers and
log Z estimates. All are evaluated natively."""

from __future__ import annotations

import numpy as np

from . import _native
from ._validation import _real, float32_gaussian, positive_float, positive_int, real_array
from .energies import Energy

__all__ = ["GaussianMixtureEnergy", "DoubleWellEnergy", "BananaEnergy"]


class GaussianMixtureEnergy(Energy):
    """``E(x) = −ln Σ_k w_k N(x; μ_k, Σ_k)``: ``exp(−E)`` is the mixture itself, so ``log_z = 0``.

    Parameters
    ----------
    means : array_like, shape (k, d)
    covs : array_like, shape (k, d, d)
        Each symmetric positive definite.
    weights : array_like, shape (k,)
        Positive, summing to one (within 1e-6).
    """

    log_z = 0.0

    def __init__(self, means, covs, weights):
        means, covs, weights = real_array(means, "means"), real_array(covs, "covs"), real_array(weights, "weights")
        if means.ndim != 2 or means.shape[0] == 0 or means.shape[1] == 0:
            raise ValueError(f"means must have shape (k, d) with k, d ≥ 1; got {means.shape}")
        k, d = means.shape
        if covs.shape != (k, d, d):
            raise ValueError(f"covs must have shape ({k}, {d}, {d}) to match means; got {covs.shape}")
        if weights.shape != (k,):
            raise ValueError(f"weights must have shape ({k},) to match means; got {weights.shape}")
        if not (np.isfinite(means).all() and np.isfinite(covs).all() and np.isfinite(weights).all()):
            raise ValueError("means, covs and weights must be finite")
        if (weights <= 0).any() or abs(weights.sum() - 1.0) > 1e-6:
            raise ValueError(f"weights must be positive and sum to one; got sum {weights.sum()!r}")
        for i in range(k):
            if not np.allclose(covs[i], covs[i].T, rtol=1e-10, atol=0.0):
                raise ValueError(f"covs[{i}] must be symmetric")
            try:
                np.linalg.cholesky(covs[i])
            except np.linalg.LinAlgError:
                raise ValueError(f"covs[{i}] must be positive definite") from None
            float32_gaussian(means[i], covs[i], f"means[{i}]", f"covs[{i}]")
        self.dim, self.means, self.covs, self.weights = d, means, covs, weights
        self._handle = _native.gaussian_mixture_create(means, covs, weights)

    def __reduce__(self):
        return (GaussianMixtureEnergy, (self.means, self.covs, self.weights))


class DoubleWellEnergy(Energy):
    """``E(x) = barrier · (x₀² − 1)² + ½ Σ_{i≥1} x_i²``: two modes at ``x₀ = ±1`` separated by
    a barrier of height ``barrier``, standard normal in the other coordinates.

    Parameters
    ----------
    dim : int, default 2
    barrier : float, default 2.0
    """

    def __init__(self, dim=2, barrier=2.0):
        self.dim = positive_int(dim, "dim")
        self.barrier = positive_float(barrier, "barrier")
        self._handle = _native.double_well_create(self.dim, self.barrier)

    def __reduce__(self):
        return (DoubleWellEnergy, (self.dim, self.barrier))


class BananaEnergy(Energy):
    """A banana-shaped (Rosenbrock-type, "twisted Gaussian") density:
    ``E(x) = x₀² / (2s²) + ½ (x₁ − b (x₀² − s²))² + ½ Σ_{i≥2} x_i²``.

    Closed forms: ``E[x] = 0``, ``Var x₀ = s²``, ``Var x₁ = 1 + 2 b² s⁴``,
    ``log_z = (d/2) ln 2π + ln s``.

    Parameters
    ----------
    dim : int, default 2
        At least 2.
    curvature : float, default 1.0
        ``b``.
    scale : float, default 1.0
        ``s``.
    """

    def __init__(self, dim=2, curvature=1.0, scale=1.0):
        self.dim = positive_int(dim, "dim")
        if self.dim < 2:
            raise ValueError(f"dim must be at least 2; got {self.dim}")
        self.curvature = _real(curvature, "curvature")
        if not np.isfinite(self.curvature):
            raise ValueError(f"curvature must be a finite number; got {curvature!r}")
        self.scale = positive_float(scale, "scale")
        self.log_z = 0.5 * self.dim * np.log(2 * np.pi) + np.log(self.scale)
        self._handle = _native.banana_create(self.dim, self.curvature, self.scale)

    def __reduce__(self):
        return (BananaEnergy, (self.dim, self.curvature, self.scale))
