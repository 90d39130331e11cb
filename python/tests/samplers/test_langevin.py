"""Langevin sampling: distribution, conventions, reproducibility, divergence, Ctrl-C."""

import numpy as np
import pytest

import ebm_swift
from interrupts import assert_ctrl_c_interrupts

MEAN = np.array([1.0, -1.0])
COV = np.array([[1.0, 0.6], [0.6, 2.0]])


def test_samples_correlated_gaussian():
    """Many independent chains, started at the mean, run long past mixing.

    ULA on a Gaussian target with precision P is an AR(1) process with stationary mean μ and
    covariance Σ_η = Σ (I − ηP/2)⁻¹ (solve Σ_η = (I−ηP) Σ_η (I−ηP)ᵀ + 2ηI; P and Σ commute).
    At η = 0.01 that differs from Σ by ≤ 0.4 %. From μ the covariance relaxes as
    (1 − ηλ_min)^(2T) = exp(−8.8) for T = 1000 (λ_min(P) = 0.44): negligible.
    With n = 10 000 independent chains the standard errors are sqrt(Σ_ii/n) for the means and
    sqrt((Σ_ii Σ_jj + Σ_ij²)/n) for the covariances; we allow 4 of them (two-sided p ≈ 6e-5 each).
    """
    eta, n = 0.01, 10_000
    target = ebm_swift.GaussianEnergy(MEAN, COV)
    x0 = np.tile(MEAN, (n, 1))
    samples = ebm_swift.langevin(target, x0, 1000, eta, seed=2024).astype(np.float64)

    p = np.linalg.inv(COV)
    cov_eta = COV @ np.linalg.inv(np.eye(2) - eta * p / 2)
    se_mean = np.sqrt(np.diag(COV) / n)
    se_cov = np.sqrt((np.outer(np.diag(COV), np.diag(COV)) + COV**2) / n)
    assert np.all(np.abs(samples.mean(0) - MEAN) < 4 * se_mean)
    emp = np.cov(samples.T)
    assert np.all(np.abs(emp - cov_eta) < 4 * se_cov), (emp, cov_eta)
    # And against Σ itself, allowing the known step-size bias on top.
    assert np.all(np.abs(emp - COV) < 4 * se_cov + np.abs(cov_eta - COV))


def test_x0_not_modified_and_shape_dtype(rng):
    x0 = rng.normal(size=(50, 2))
    before = x0.copy()
    out = ebm_swift.langevin(ebm_swift.GaussianEnergy(MEAN, COV), x0, 5, 0.1, seed=0)
    np.testing.assert_array_equal(x0, before)
    assert out.shape == (50, 2) and out.dtype == np.float32
    assert not np.shares_memory(out, x0)
    x32 = x0.astype(np.float32)
    out32 = ebm_swift.langevin(ebm_swift.GaussianEnergy(MEAN, COV), x32, 5, 0.1, seed=0)
    np.testing.assert_array_equal(x32, before.astype(np.float32))
    np.testing.assert_array_equal(out32, out)


def test_one_step_is_algorithm_14_4(rng):
    """One step with noise off equals x − η∇E exactly; the default noise has std sqrt(2η)."""
    g = ebm_swift.GaussianEnergy(MEAN, COV)
    x0 = rng.normal(size=(8, 2)).astype(np.float32)
    out = ebm_swift.langevin(g, x0, 1, 0.05, noise_scale=0.0)
    np.testing.assert_allclose(out, x0 - 0.05 * g.grad_x(x0), rtol=1e-6, atol=1e-6)
    # Noise only: E = const has zero gradient far away?  Use a very flat Gaussian instead:
    flat = ebm_swift.GaussianEnergy([0.0], [[1e12]])
    z = ebm_swift.langevin(flat, np.zeros((200_000, 1)), 1, 0.02, seed=5)
    # std of the sample std for n = 2e5 is σ/sqrt(2n) ≈ 0.0003; allow 5 of those.
    assert z.std() == pytest.approx(np.sqrt(2 * 0.02), abs=5 * np.sqrt(0.04) / np.sqrt(4e5))
    z2 = ebm_swift.langevin(flat, np.zeros((200_000, 1)), 1, 0.02, noise_scale=0.1, seed=5)
    assert z2.std() == pytest.approx(0.1, abs=5 * 0.1 / np.sqrt(4e5))


def test_same_seed_same_samples_and_chains_independent_of_batch():
    model = ebm_swift.MLPEnergy(2, (16, 16), seed=1)
    x0 = np.random.default_rng(0).uniform(-2, 2, size=(64, 2))
    a = ebm_swift.langevin(model, x0, 30, 0.01, seed=99)
    b = ebm_swift.langevin(model, x0, 30, 0.01, seed=99)
    c = ebm_swift.langevin(model, x0, 30, 0.01, seed=100)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # Chain i's noise depends only on (seed, i): the first 16 chains of a run of 64 match a run of 16
    # (up to BLAS blocking, which may differ with the batch size — hence allclose, not equal).
    d = ebm_swift.langevin(model, x0[:16], 30, 0.01, seed=99)
    np.testing.assert_allclose(d, a[:16], atol=1e-5)


def test_clamp_and_grad_clip():
    g = ebm_swift.GaussianEnergy(MEAN, COV)
    out = ebm_swift.langevin(g, np.full((100, 2), 5.0), 20, 0.5, clamp=(-0.5, 0.5), seed=0)
    assert out.min() >= -0.5 and out.max() <= 0.5
    far = np.full((1, 2), 1000.0)
    moved = ebm_swift.langevin(g, far, 1, 0.1, noise_scale=0.0, grad_clip=1.0)
    np.testing.assert_allclose(moved, far - 0.1, rtol=1e-6)


def test_divergence_is_reported():
    stiff = ebm_swift.GaussianEnergy([0.0], [[1e-3]])
    with pytest.raises(ebm_swift.DivergenceError, match="step") as info:
        ebm_swift.langevin(stiff, np.ones((4, 1)), 10_000, 1.0, seed=0)
    assert issubclass(ebm_swift.DivergenceError, FloatingPointError)
    # The report crosses the boundary as data: where, in what, at which step (η = 1 on a variance
    # of 1e-3 multiplies the state by −999 per step: float32 overflows within a dozen steps).
    err = info.value
    assert (err.site, err.quantity, err.chain) == ("langevin", "samples", None)
    assert 5 <= err.step <= 20 and f"step {err.step} of 10000" in str(err)


def test_mala_reports_a_non_finite_initial_energy_with_its_chain():
    x0 = np.ones((4, 1))
    x0[2] = 1e30  # finite in float32; its energy x²/2 is not
    with pytest.raises(ebm_swift.DivergenceError) as info:
        ebm_swift.mala(ebm_swift.GaussianEnergy([0.0], [[1.0]]), x0, 3, 0.1, seed=0)
    assert (info.value.site, info.value.quantity, info.value.step, info.value.chain) == ("mala", "energy", 0, 2)


def test_ctrl_c_interrupts_a_long_call():
    model = ebm_swift.MLPEnergy(2, (64, 64), seed=0)
    x0 = np.zeros((2048, 2))
    assert_ctrl_c_interrupts(lambda: ebm_swift.langevin(model, x0, 10_000_000, 1e-3, seed=0))
    # The library still works afterwards.
    assert ebm_swift.langevin(model, x0[:4], 2, 1e-3, seed=0).shape == (4, 2)
