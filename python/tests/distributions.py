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
