"""Closed-form distribution functions and Kolmogorov–Smirnov tests shared by the sampler tests."""

import math

import numpy as np

SQRT2 = math.sqrt(2.0)


def normal_cdf(x, mean=0.0, std=1.0):
    return 0.5 * (1 + np.vectorize(math.erf)((np.asarray(x) - mean) / (std * SQRT2)))


def ks_statistic(samples, cdf):
    x = np.sort(np.asarray(samples, dtype=np.float64))
    n = len(x)
    f = cdf(x)
    return max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n))


# Kolmogorov–Smirnov: P(√n D > 1.95) ≈ 0.001 for iid samples from the stated law.
def ks_bound(n):
    return 1.95 / math.sqrt(n)


def ks_two_sample(a, b):
    """The two-sample statistic sup |F_a − F_b| and its 0.001-level bound 1.95·sqrt((n + m)/(n m))."""
    a, b = np.sort(np.asarray(a, np.float64)), np.sort(np.asarray(b, np.float64))
    grid = np.concatenate([a, b])
    d = np.max(np.abs(np.searchsorted(a, grid, "right") / len(a) - np.searchsorted(b, grid, "right") / len(b)))
    return d, 1.95 * math.sqrt((len(a) + len(b)) / (len(a) * len(b)))


def check_gaussian(x, mean, cov, ks_factor=1.95):
    """Rows `x` as iid draws of N(mean, cov): means and covariances within 5 SE; each marginal's KS
    statistic below `ks_factor / √n` (1.95: the 0.001 level; 2.2: 0.0001, for many marginals)."""
    x = np.asarray(x, np.float64)
    n, var = len(x), np.diag(cov)
    assert np.all(np.abs(x.mean(0) - mean) < 5 * np.sqrt(var / n)), x.mean(0) - mean
    se_cov = np.sqrt((np.outer(var, var) + cov**2) / n)
    assert np.all(np.abs(np.cov(x.T) - cov) < 5 * se_cov), np.max(np.abs(np.cov(x.T) - cov) / se_cov)
    for j in range(len(mean)):
        d = ks_statistic(x[:, j], lambda v: normal_cdf(v, mean[j], math.sqrt(var[j])))
        assert d < ks_factor / math.sqrt(n), (j, d)


# The 3-component mixture of the sampler tests: means (3, 2), covariances (3, 2, 2), weights (3,).
MIXTURE = (np.array([[-3.0, 0.0], [2.0, 2.0], [2.0, -2.0]]),
           np.array([np.eye(2) * 0.5, [[0.6, 0.2], [0.2, 0.4]], np.eye(2) * 0.3]),
           np.array([0.5, 0.3, 0.2]))


def mixture_draws(n, seed=0):
    """`n` exact draws of `MIXTURE`."""
    means, covs, weights = MIXTURE
    rng = np.random.default_rng(seed)
    comp = rng.choice(3, size=n, p=weights)
    return means[comp] + np.einsum("nij,nj->ni", np.linalg.cholesky(covs)[comp], rng.normal(size=(n, 2)))


def check_mixture(x):
    """Rows `x` as iid draws of `MIXTURE`: mean within 5 SE, both marginals' KS at the 0.001 level."""
    means, covs, weights = MIXTURE
    x = np.asarray(x, np.float64)
    n = len(x)
    mix_mean = weights @ means
    mix_cov = sum(w * (c + np.outer(m - mix_mean, m - mix_mean)) for w, m, c in zip(weights, means, covs))
    assert np.all(np.abs(x.mean(0) - mix_mean) < 5 * np.sqrt(np.diag(mix_cov) / n))
    for j in range(2):
        cdf = lambda v, j=j: sum(w * normal_cdf(v, m[j], math.sqrt(c[j, j])) for w, m, c in zip(weights, means, covs))
        assert ks_statistic(x[:, j], cdf) < ks_bound(n)


def check_banana(x, b, s, seed=6):
    """Rows `x` as iid draws of the 2-D banana E = x0²/(2s²) + ½(x1 − b(x0² − s²))²: means and
    variances within 5 SE (Var x1 = 1 + 2b²s⁴; its SE from E x1⁴ = 3 + 24b²s⁴ + 60b⁴s⁸), x0's KS
    against N(0, s²), x1's two-sample KS against exact draws x1 = b(x0² − s²) + N(0, 1)."""
    x = np.asarray(x, np.float64)
    n = len(x)
    var1 = 1 + 2 * b**2 * s**4
    e4 = 3 + 24 * b**2 * s**4 + 60 * b**4 * s**8
    assert abs(x[:, 0].mean()) < 5 * s / math.sqrt(n)
    assert abs(x[:, 1].mean()) < 5 * math.sqrt(var1 / n)
    assert abs(x[:, 0].var() - s**2) < 5 * s**2 * math.sqrt(2 / n)
    assert abs(x[:, 1].var() - var1) < 5 * math.sqrt((e4 - var1**2) / n)
    assert ks_statistic(x[:, 0], lambda v: normal_cdf(v, 0, s)) < ks_bound(n)
    rng = np.random.default_rng(seed)
    x0 = rng.normal(0, s, n)
    d, bound = ks_two_sample(x[:, 1], b * (x0**2 - s**2) + rng.normal(size=n))
    assert d < bound


def density_moments_1d(energy, low=-4.0, high=7.0, points=8001):
    """Mean and variance of the 1-D density ``exp(−E)`` by quadrature on ``points`` equally spaced
    points of ``[low, high]`` (the mass outside is taken as nil: choose a box that holds it)."""
    grid = np.linspace(low, high, points)
    e = energy.energy(grid[:, None]).astype(np.float64)
    p = np.exp(-(e - e.min()))
    p /= p.sum()
    mean = (p * grid).sum()
    return mean, (p * (grid - mean) ** 2).sum()
