"""Convergence diagnostics of MCMC trajectories: effective sample size and split-R̂.

Trajectories have shape ``(T, n_chains, dim)`` (as returned by ``langevin``/``mala`` with
``return_trajectory=True``); results are per dimension. Formulas follow Gelman et al.,
*Bayesian Data Analysis* (3rd ed., §11.4–11.5) and Stan's reference manual: autocorrelations
combined over chains, truncated by Geyer's initial monotone sequence."""

from __future__ import annotations

import numpy as np

__all__ = ["effective_sample_size", "split_rhat"]


def _trajectory(trajectory, min_steps):
    t = np.asarray(trajectory, dtype=np.float64)
    if t.ndim == 2:
        t = t[:, :, None]
    if t.ndim != 3:
        raise ValueError(f"trajectory must have shape (T, n_chains, dim); got {t.shape}")
    if t.shape[0] < min_steps or t.shape[1] < 1:
        raise ValueError(f"trajectory needs at least {min_steps} steps and one chain; got shape {t.shape}")
    if not np.isfinite(t).all():
        raise ValueError("trajectory must be finite")
    return t


def _split(t):
    half = t.shape[0] // 2
    return np.concatenate([t[:half], t[t.shape[0] - half :]], axis=1)  # (half, 2·chains, dim)


def _variances(s):
    """Mean within-chain variance W and the pooled estimate var⁺ = (n−1)/n·W + B/n."""
    n = s.shape[0]
    within = s.var(axis=0, ddof=1).mean(axis=0)
    between_over_n = s.mean(axis=0).var(axis=0, ddof=1)
    return within, (n - 1) / n * within + between_over_n


def split_rhat(trajectory) -> np.ndarray:
    """Split-R̂ per dimension: each chain is cut in two halves and
    ``R̂ = sqrt(((n−1)/n · W + B/n) / W)`` with ``W`` the mean within-half variance and ``B/n`` the
    variance of the half means. Values above about 1.01 say the chains have not mixed.

    Parameters
    ----------
    trajectory : array_like, shape (T, n_chains, dim) or (T, n_chains)

    Returns
    -------
    ndarray, shape (dim,)
    """
    within, var_plus = _variances(_split(_trajectory(trajectory, 4)))
    return np.sqrt(var_plus / within)


def effective_sample_size(trajectory) -> np.ndarray:
    """Effective sample size per dimension over all chains (split chains, as Stan).

    ``ESS = m·n / τ`` with ``τ = −1 + 2 Σ_t ρ̂_t`` summed over Geyer's initial positive, monotone
    sequence of paired autocorrelations ``ρ̂_{2k} + ρ̂_{2k+1}``, and
    ``ρ̂_t = 1 − (W − mean_chains(autocov_t)) / var⁺``.

    Parameters
    ----------
    trajectory : array_like, shape (T, n_chains, dim) or (T, n_chains)

    Returns
    -------
    ndarray, shape (dim,)
    """
    s = _split(_trajectory(trajectory, 4))
    n, m, dim = s.shape
    centred = s - s.mean(axis=0)
    size = 1 << (2 * n - 1).bit_length()
    spectrum = np.fft.rfft(centred, n=size, axis=0)
    autocov = np.fft.irfft(spectrum * np.conj(spectrum), n=size, axis=0)[:n] / n  # biased, per chain
    within, var_plus = _variances(s)
    rho = 1 - (within - autocov.mean(axis=1)) / var_plus  # (n, dim)
    ess = np.empty(dim)
    for d in range(dim):
        pairs = rho[: (n // 2) * 2, d].reshape(-1, 2).sum(axis=1)
        # Initial positive sequence, then made monotone.
        positive = np.argmax(pairs <= 0) if (pairs <= 0).any() else len(pairs)
        pairs = np.minimum.accumulate(pairs[:positive]) if positive else pairs[:0]
        tau = -1 + 2 * pairs.sum() if positive else 1.0
        ess[d] = m * n / max(tau, 1.0 / np.log10(max(m * n, 10)))
    return ess
