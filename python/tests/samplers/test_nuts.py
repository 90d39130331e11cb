"""NUTS (issue 20) against closed forms: moments and KS marginals of the correlated 10-D Gaussian,
the 3-component mixture and the banana; Neal's funnel centred (divergences reported) and
non-centred (none); adaptation of the step and the mass to NUTS's acceptance statistic; Ctrl-C
inside long trees; clear errors."""

import math

import numpy as np
import pytest

import ebm_swift
from distributions import MIXTURE, check_banana, check_gaussian, check_mixture, ks_statistic, mixture_draws, normal_cdf
from interrupts import assert_ctrl_c_interrupts
from test_hmc import correlated_gaussian

N = 20_000  # independent chains: their final states are iid, so the effective sample size is N.


def test_nuts_correlated_gaussian_10d_moments_and_marginals():
    target, mean, cov = correlated_gaussian()
    # η = 0.25 against σ_min ≈ 0.32: leapfrog errors of order 1 in the narrowest direction, so a
    # wrong multinomial weight or U-turn test would bias the moments far beyond 5 SE.
    x, info = ebm_swift.nuts(target, np.tile(mean + 3, (N, 1)), 40, 0.25, seed=1)
    assert x.shape == (N, 10)
    for key in ("acceptance_stat", "tree_depth", "n_leapfrog", "n_divergent", "step_size"):
        assert info[key].shape == (N,), key
    assert info["n_divergent"].sum() == 0
    assert 0.6 < info["acceptance_stat"].mean() <= 1
    # Trees grow to a U-turn: about the half-period of the widest direction (π σ_max / η ≈ 40 steps).
    assert 3 <= info["tree_depth"].mean() <= 7 and np.all(info["n_leapfrog"] >= info["tree_depth"])
    check_gaussian(x, mean, cov, ks_factor=2.2)  # 10 marginals: 0.0001 each, family-wise 0.001


def test_nuts_three_component_mixture():
    x, info = ebm_swift.nuts(ebm_swift.GaussianMixtureEnergy(*MIXTURE), mixture_draws(N), 30, 0.25, seed=4)
    assert info["acceptance_stat"].mean() > 0.7
    check_mixture(x)


def test_nuts_banana():
    x, info = ebm_swift.nuts(ebm_swift.BananaEnergy(2, curvature=1.0, scale=1.0), np.zeros((N, 2)), 100, 0.15,
                             seed=5)
    assert info["n_divergent"].sum() == 0
    check_banana(x, 1.0, 1.0)


def funnel(d=10):
    """Neal's funnel: v ~ N(0, 3²), x_i | v ~ N(0, e^v), i < d − 1; the energy and its gradient."""
    def value_and_grad(z):
        v, x = z[:, 0], z[:, 1:]
        s = np.exp(-v)
        energy = v**2 / 18 + 0.5 * s * (x**2).sum(1) + 0.5 * (d - 1) * v
        grad = np.empty_like(z)
        grad[:, 0] = v / 9 - 0.5 * s * (x**2).sum(1) + 0.5 * (d - 1)
        grad[:, 1:] = s[:, None] * x
        return energy, grad
    return ebm_swift.CallableEnergy(value_and_grad=value_and_grad, dim=d)


def test_nuts_on_neals_funnel_reports_divergences_centred_and_none_non_centred():
    """Centred, the funnel's neck (v ≪ 0) needs steps far below any one step size: NUTS reports
    divergent trajectories there (what Stan users learn to look at; the print shows how many and
    the lower tail's mass). Non-centred (v = 3 z_0, x_i = e^{v/2} z_i with z ~ N(0, I)), the same sampler
    has no divergence and v's marginal passes KS against N(0, 9) at the 0.001 level."""
    n = 500
    z0 = np.random.default_rng(2).normal(size=(n, 10))
    start = np.c_[3 * z0[:, :1], np.exp(1.5 * z0[:, :1]) * z0[:, 1:]]
    centred, info = ebm_swift.nuts(funnel(), start, 300, 0.3, seed=6, return_trajectory=True, thin=10)
    assert info["n_divergent"].sum() > 0
    v = info["trajectory"][5:, :, 0].ravel()
    print(f"\ncentred funnel: {int(info['n_divergent'].sum())} divergent of {n * 300} draws "
          f"({np.mean(info['n_divergent'] > 0):.0%} of chains); P(v < -3) {np.mean(v < -3):.3f} (exact 0.159)")
    z, info = ebm_swift.nuts(ebm_swift.GaussianEnergy(np.zeros(10), np.eye(10)), z0, 300, 0.3, seed=6)
    assert info["n_divergent"].sum() == 0
    assert ks_statistic(3 * z[:, 0], lambda t: normal_cdf(t, 0, 3)) < 1.95 / math.sqrt(n)


def test_nuts_adapts_step_and_mass_to_the_acceptance_statistic():
    variances = np.logspace(-2, 2, 6)
    target = ebm_swift.GaussianEnergy(np.zeros(6), np.diag(variances))
    n = 200
    x0 = np.random.default_rng(1).normal(size=(n, 6)) * np.sqrt(variances)
    x, info = ebm_swift.nuts(target, x0, 1200, 0.01, adapt_step_size=True, adapt_mass=True, n_warmup=1000, seed=3)
    print(f"\nadapted NUTS: acceptance statistic {info['acceptance_stat'].mean():.3f} (target 0.8), "
          f"tree depth {info['tree_depth'].mean():.2f}, leapfrog steps {info['n_leapfrog'].mean():.1f}")
    assert abs(info["acceptance_stat"].mean() - 0.8) < 0.05
    assert info["inverse_mass"].shape == (n, 6)
    # The mass makes the target isotropic: short trees (≤ 3 doublings on average, against ~8 with
    # the identity mass at the step the narrowest direction allows).
    assert info["tree_depth"].mean() < 3
    assert np.all(np.abs(np.median(info["inverse_mass"], 0) / variances - 1) < 0.3)
    x = x.astype(np.float64)
    assert np.max(np.abs(x.mean(0)) / np.sqrt(variances / n)) < 5
    assert np.max(np.abs(x.var(0) / variances - 1) / math.sqrt(2 / n)) < 5


def test_nuts_keeps_image_shapes_and_networks():
    from ebm_swift import nn

    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.SiLU(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 1))
    energy = ebm_swift.NetworkEnergy(net, (1, 8, 8), seed=0)
    x0 = np.random.default_rng(0).uniform(-1, 1, (5, 1, 8, 8))
    x, info = ebm_swift.nuts(energy, x0, 6, 0.01, adapt_step_size=True, adapt_mass=True, n_warmup=3,
                             return_trajectory=True, seed=1)
    assert x.shape == x0.shape and info["trajectory"].shape == (6, 5, 1, 8, 8)
    assert info["inverse_mass"].shape == (5, 1, 8, 8) and np.all(np.isfinite(x))


def test_ctrl_c_interrupts_a_long_tree():
    """A tiny step never makes a U-turn: one draw is 2^15 − 1 leapfrog steps of a wide MLP."""
    energy = ebm_swift.MLPEnergy(64, (512, 512), seed=0)
    x0 = np.zeros((64, 64), np.float32)
    assert_ctrl_c_interrupts(lambda: ebm_swift.nuts(energy, x0, 10**6, 1e-6, max_tree_depth=15, seed=0))


@pytest.mark.parametrize("kwargs,match", [
    (dict(max_tree_depth=0), "max_tree_depth"),
    (dict(max_tree_depth=16), "max_tree_depth"),
    (dict(max_tree_depth=2.5), "max_tree_depth"),
    (dict(step_size=0.0), "step_size"),
    (dict(inverse_mass=[1.0, -1.0]), "inverse_mass"),
    (dict(inverse_mass=[1.0, 1.0, 1.0]), "inverse_mass"),
    (dict(divergence_threshold=0.0), "divergence_threshold"),
    (dict(target_accept=1.0, adapt_step_size=True), "target_accept"),
])
def test_nuts_arguments(kwargs, match):
    target = ebm_swift.GaussianEnergy([0.0, 0.0], np.eye(2))
    kwargs = {"step_size": 0.1, **kwargs}
    with pytest.raises((ValueError, TypeError), match=match):
        ebm_swift.nuts(target, np.zeros((3, 2)), 5, **kwargs)
