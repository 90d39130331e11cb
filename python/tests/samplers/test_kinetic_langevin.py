"""Kinetic (underdamped) Langevin, OBABO (issue 20) against closed forms: the Metropolis-adjusted
form is exact on the correlated 10-D Gaussian, the mixture and the banana; the unadjusted form's
stationary variance on a Gaussian is σ²/(1 − h²/4σ²), so its bias falls as h²; friction's
limits; adaptation; Trainer negatives; clear errors."""

import math

import numpy as np
import pytest

import ebm_swift
from distributions import MIXTURE, check_banana, check_gaussian, check_mixture, mixture_draws
from interrupts import assert_ctrl_c_interrupts
from test_hmc import correlated_gaussian

N = 20_000  # independent chains: their final states are iid, so the effective sample size is N.


def test_metropolis_form_is_exact_on_the_correlated_gaussian():
    target, mean, cov = correlated_gaussian()
    # h = 0.25: the narrowest direction's leapfrog error is of order 1 (unadjusted, its variance
    # would be 1.5 % too large, 4 SE at this N); friction 0.5 keeps momentum over ~8 steps.
    x, info = ebm_swift.kinetic_langevin(target, np.tile(mean + 3, (N, 1)), 200, 0.25, friction=0.5,
                                         metropolis=True, seed=1)
    assert 0.6 < info["acceptance_rate"].mean() < 1
    assert info["n_divergent"].sum() == 0
    check_gaussian(x, mean, cov, ks_factor=2.2)


def test_metropolis_form_on_the_mixture_and_the_banana():
    x, info = ebm_swift.kinetic_langevin(ebm_swift.GaussianMixtureEnergy(*MIXTURE), mixture_draws(N), 60, 0.3,
                                         metropolis=True, seed=4)
    assert info["acceptance_rate"].mean() > 0.6
    check_mixture(x)
    x, _ = ebm_swift.kinetic_langevin(ebm_swift.BananaEnergy(2, curvature=1.0, scale=1.0), np.zeros((N, 2)), 400,
                                      0.2, metropolis=True, seed=5)
    check_banana(x, 1.0, 1.0)


@pytest.mark.parametrize("sigma", [1.0, 2.0])
def test_unadjusted_bias_matches_its_closed_form_and_falls_as_h_squared(sigma):
    """OBABO on N(0, σ²): the leapfrog keeps H̃ = p²/2 + (1 − h²/4σ²) q²/2σ² and the O steps keep
    p ~ N(0, 1), so the stationary variance is σ²/(1 − h²/4σ²) — each measured within 5 SE of
    that (SE v·√(2/N)), and halving h divides the bias by ≈ 4."""
    target = ebm_swift.GaussianEnergy([0.0], [[sigma**2]])
    bias = []
    for h in (0.8 * sigma, 0.4 * sigma):
        x, info = ebm_swift.kinetic_langevin(target, np.zeros((N, 1)), 400, h, friction=1.0 / sigma, seed=2)
        v = float(np.var(x.astype(np.float64)))
        exact = sigma**2 / (1 - h**2 / (4 * sigma**2))
        assert abs(v - exact) < 5 * exact * math.sqrt(2 / N), (h, v, exact)
        assert np.all(info["acceptance_rate"] == 1)
        bias.append(v / sigma**2 - 1)
    print(f"\nσ = {sigma}: relative bias {bias[0]:.4f} at h = 0.8σ, {bias[1]:.4f} at 0.4σ "
          f"(closed form {0.16 / 0.84:.4f}, {0.04 / 0.96:.4f}); ratio {bias[0] / bias[1]:.1f}")
    assert 2.5 < bias[0] / bias[1] < 8


def test_high_friction_is_overdamped_and_moderate_friction_keeps_momentum():
    """Friction γ: with γh ≫ 1 the momentum is redrawn every step and the chain diffuses (ULA with
    step h²/2); at γ ~ 1/σ it moves ballistically. Effective sample size of the position on a 1-D
    Gaussian: several times larger at γ = 1 than at γ = 50."""
    target = ebm_swift.GaussianEnergy([0.0], [[1.0]])
    ess = {}
    for gamma in (1.0, 50.0):
        _, info = ebm_swift.kinetic_langevin(target, np.zeros((64, 1)), 3000, 0.2, friction=gamma, seed=3,
                                             return_trajectory=True)
        ess[gamma] = float(ebm_swift.diagnostics.effective_sample_size(info["trajectory"][500:])[0])
    print(f"\nESS of 64 × 2500 draws: γ = 1 {ess[1.0]:.0f}, γ = 50 {ess[50.0]:.0f}")
    assert ess[1.0] > 3 * ess[50.0]


def test_adaptation_with_the_metropolis_form():
    variances = np.logspace(-1, 1, 5)
    target = ebm_swift.GaussianEnergy(np.zeros(5), np.diag(variances))
    n = 200
    x, info = ebm_swift.kinetic_langevin(target, np.zeros((n, 5)), 1500, 0.01, metropolis=True, adapt_step_size=True,
                                         adapt_mass=True, n_warmup=1200, seed=3)
    assert abs(info["acceptance_rate"].mean() - 0.8) < 0.05
    assert np.all(np.abs(np.median(info["inverse_mass"], 0) / variances - 1) < 0.3)
    x = x.astype(np.float64)
    assert np.max(np.abs(x.var(0) / variances - 1) / math.sqrt(2 / n)) < 5
    with pytest.raises(ValueError, match="acceptance"):
        ebm_swift.kinetic_langevin(target, np.zeros((4, 5)), 10, 0.1, adapt_step_size=True)


def test_ctrl_c_interrupts_kinetic_langevin():
    energy = ebm_swift.MLPEnergy(64, (512, 512), seed=0)
    assert_ctrl_c_interrupts(lambda: ebm_swift.kinetic_langevin(energy, np.zeros((64, 64)), 10**8, 1e-3, seed=0))


def test_trainer_with_kinetic_langevin_negatives_keeps_its_record():
    """A record with its own friction survives the Trainer and save/load (not rebuilt from the
    Trainer's flat arguments); training moves the model."""
    import os
    import tempfile

    record = ebm_swift.samplers.KineticLangevin(0.05, friction=3.0)
    data = ebm_swift.datasets.make_toy("8gaussians", 1000, seed=0)
    trainer = ebm_swift.Trainer(ebm_swift.MLPEnergy(2, (16,), seed=0), sampler=record, n_steps=5, buffer_size=256,
                                seed=1)
    assert trainer.sampler == "kinetic_langevin" and trainer.sampler_record == record
    trainer.fit(data, epochs=1, batch_size=100, progress=False)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "t.npz")
        trainer.save(path)
        again = ebm_swift.load(path)
    assert again.sampler_record == record
    a, b = trainer.step(data[:100]), again.step(data[:100])
    assert {k: v for k, v in a.items() if k != "step_time"} == {k: v for k, v in b.items() if k != "step_time"}
    for (k, v), (k2, v2) in zip(trainer.energy.parameters().items(), again.energy.parameters().items()):
        assert k == k2
        np.testing.assert_array_equal(v, v2)


@pytest.mark.parametrize("kwargs,match", [
    (dict(friction=0.0), "friction"),
    (dict(friction=-1.0), "friction"),
    (dict(friction=float("inf")), "friction"),
    (dict(step_size=-0.1), "step_size"),
    (dict(metropolis="yes"), "metropolis"),
    (dict(inverse_mass=[0.0]), "inverse_mass"),
    (dict(adapt_mass=True), "adapt_mass"),
])
def test_kinetic_langevin_arguments(kwargs, match):
    target = ebm_swift.GaussianEnergy([0.0], [[1.0]])
    kwargs = {"step_size": 0.1, **kwargs}
    with pytest.raises((ValueError, TypeError), match=match):
        ebm_swift.kinetic_langevin(target, np.zeros((3, 1)), 5, **kwargs)
