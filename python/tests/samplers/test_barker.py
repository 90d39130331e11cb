"""The Barker proposal (``ebm_swift.barker``): exactness against closed forms and exact draws,
adaptation, determinism; the checks every kernel shares are in test_samplers.py."""

import numpy as np
import pytest

import ebm_swift
from distributions import MIXTURE, check_banana, check_gaussian, check_mixture, mixture_draws
from ebm_swift.samplers import Barker, HMC, MALA

N = 20_000  # independent chains: their final states are iid, so the effective sample size is N.


def test_barker_correlated_gaussian_moments_and_marginals():
    # A large step (acceptance ≈ 0.5): exactness comes from the Hastings correction, not a small step.
    rng = np.random.default_rng(11)
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    cov = q @ np.diag([0.3, 1.0, 2.0, 3.0]) @ q.T
    mean = np.array([1.0, -1.0, 0.5, 0.0])
    x, info = ebm_swift.barker(ebm_swift.GaussianEnergy(mean, cov), np.tile(mean + 2, (N, 1)), 300, 1.0, seed=1)
    assert x.shape == (N, 4) and info["acceptance_rate"].shape == (N,) and info["step_size"].shape == (N,)
    assert 0.2 < info["acceptance_rate"].mean() < 0.8
    check_gaussian(x, mean, cov, ks_factor=2.0)


def test_barker_keeps_a_three_component_mixture_invariant():
    x, info = ebm_swift.barker(ebm_swift.GaussianMixtureEnergy(*MIXTURE), mixture_draws(N), 40, 0.8, seed=4)
    assert info["acceptance_rate"].mean() > 0.3
    check_mixture(x)


def test_barker_banana():
    x, _ = ebm_swift.barker(ebm_swift.BananaEnergy(2, curvature=1.0, scale=1.0), np.zeros((N, 2)), 600, 0.6, seed=5)
    check_banana(x, 1.0, 1.0)


def test_one_step_matches_the_kernel_integrated_by_numpy():
    """From x = 1.5 on N(0, 1), one Barker step moves with probability ∫ q(w|x) α(x, x + w) dw and
    lands on average at x + ∫ w q α dw / P(move), where q(w|x) = 2 φ_σ(w) / (1 + exp(w E'(x))) and
    α = min(1, exp(E(x) − E(y) + softplus(w E'(x)) − softplus(−w E'(y)))) — integrated in float64 on
    a fine grid, independently of the library. 40 000 chains: 5 standard errors."""
    n, x, sigma = 40_000, 1.5, 1.2
    out, _ = ebm_swift.barker(ebm_swift.GaussianEnergy([0.0], [[1.0]]), np.full((n, 1), x), 1, sigma, seed=3)
    moved = out[:, 0] != np.float32(x)
    w = np.linspace(-10 * sigma, 10 * sigma, 400_001)
    y = x + w
    q = 2 * np.exp(-0.5 * (w / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi)) / (1 + np.exp(w * x))
    alpha = np.minimum(1, np.exp(0.5 * x * x - 0.5 * y * y + np.logaddexp(0, w * x) - np.logaddexp(0, -w * y)))
    dw = w[1] - w[0]
    assert abs(q.sum() * dw - 1) < 1e-9  # the proposal density integrates to one
    p_move = (q * alpha).sum() * dw
    mean_moved = x + (w * q * alpha).sum() * dw / p_move
    assert abs(moved.mean() - p_move) < 5 * np.sqrt(p_move * (1 - p_move) / n)
    spread = np.sqrt(((x + w - mean_moved) ** 2 * q * alpha).sum() * dw / p_move)
    assert abs(out[moved, 0].mean() - mean_moved) < 5 * spread / np.sqrt(moved.sum())


def test_adaptation_reaches_the_barker_target_acceptance():
    g = ebm_swift.GaussianEnergy(np.zeros(20), np.diag(np.linspace(0.5, 2, 20)))
    _, info = ebm_swift.barker(g, np.zeros((64, 20)), 1000, 0.01, adapt_step_size=True, seed=6)
    assert abs(info["acceptance_rate"].mean() - 0.40) < 0.05
    assert info["step_size"].mean() > 0.05  # grew from the tiny start


def test_trainer_and_ais_take_barker():
    X = np.random.default_rng(0).normal(size=(256, 2)).astype(np.float32)
    runs = []
    for sampler in ("barker", Barker(0.05)):
        e = ebm_swift.MLPEnergy(2, (16,), seed=1)
        t = ebm_swift.Trainer(e, sampler=sampler, step_size=0.05, n_steps=5, buffer_size=128, seed=2)
        t.fit(X, epochs=1, batch_size=64, progress=False)
        runs.append(np.concatenate([v.ravel() for v in e.parameters().values()]))
    np.testing.assert_array_equal(*runs)
    g = ebm_swift.GaussianEnergy(np.zeros(2), np.diag([0.5, 2.0]))
    log_z, err = ebm_swift.ais_log_z(g, n_chains=512, n_temps=200, transition=Barker(0.8), seed=3)
    assert abs(log_z - np.log(2 * np.pi)) < max(4 * err, 0.05)  # ln Z = ln(2π √det Σ), det Σ = 1


def test_records_check_their_settings_once():
    assert Barker(0.5) == Barker(0.5) and Barker(0.5) != MALA(0.5)
    assert repr(HMC(0.1, n_leapfrog=3)) == "HMC(step_size=0.1, n_leapfrog=3, inverse_mass=None, divergence_threshold=1000.0, step_jitter=0.0)"
    with pytest.raises(ValueError, match="step_size"):
        Barker(-1.0)
    with pytest.raises(TypeError, match="sampler must be a sampler record"):
        ebm_swift.sample(ebm_swift.BananaEnergy(2), np.zeros((2, 2)), 3, "barker")
    with pytest.raises(ValueError, match="adapt_mass is for samplers with a mass matrix"):
        ebm_swift.sample(ebm_swift.BananaEnergy(2), np.zeros((2, 2)), 10, Barker(0.1), adapt_mass=True)
    with pytest.raises(ValueError, match="inverse_mass must have shape"):
        ebm_swift.sample(ebm_swift.BananaEnergy(2), np.zeros((2, 2)), 3, HMC(0.1, inverse_mass=[1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="sampler must be one of"):
        ebm_swift.Trainer(ebm_swift.MLPEnergy(2, (4,)), sampler="gibbs")
