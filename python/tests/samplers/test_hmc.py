"""HMC and step-size adaptation (issue 11) against closed forms: moments and KS marginals of a
correlated 10-D Gaussian, a 3-component mixture and the banana; the mass matrix's effect on
gradients per effective sample; HMC with one leapfrog step as MALA's kernel; dual averaging's
acceptance rates; determinism for every kernel; clear errors."""

import math

import numpy as np
import pytest

import ebm_swift
from distributions import MIXTURE, check_banana, check_gaussian, check_mixture, ks_two_sample, mixture_draws
from interrupts import assert_ctrl_c_interrupts

N = 20_000  # independent chains: their final states are iid, so the effective sample size is N.


def correlated_gaussian(d=10):
    """Σ = Q diag(λ) Qᵀ with λ log-spaced over [0.1, 10] (condition number 100), Q a random rotation."""
    rng = np.random.default_rng(11)
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    cov = q @ np.diag(np.logspace(-1, 1, d)) @ q.T
    mean = np.linspace(-1, 1, d)
    return ebm_swift.GaussianEnergy(mean, cov), mean, cov


def test_hmc_correlated_gaussian_10d_moments_and_marginals():
    target, mean, cov = correlated_gaussian()
    assert np.linalg.cond(cov) >= 100 - 1e-9
    # η = 0.15 and 12 leapfrog steps: acceptance ≈ 0.9, no resonance (|sin(12 θ_k)| ≥ 0.3 for
    # every eigendirection's leapfrog rotation θ_k); 60 steps from one point forget the start.
    x, info = ebm_swift.hmc(target, np.tile(mean + 3, (N, 1)), 60, 0.15, n_leapfrog=12, seed=1)
    assert x.shape == (N, 10) and info["acceptance_rate"].shape == (N,) and info["n_divergent"].shape == (N,)
    assert 0.7 < info["acceptance_rate"].mean() < 1.0
    assert info["n_divergent"].sum() == 0
    check_gaussian(x, mean, cov, ks_factor=2.2)  # 10 marginals: 0.0001 each, family-wise 0.001


def test_hmc_three_component_mixture():
    # From exact draws, HMC must stay at the mixture (invariance: exactness).
    x, info = ebm_swift.hmc(ebm_swift.GaussianMixtureEnergy(*MIXTURE), mixture_draws(N), 40, 0.25, n_leapfrog=8, seed=4)
    assert info["acceptance_rate"].mean() > 0.6
    check_mixture(x)


def test_hmc_banana():
    x, _ = ebm_swift.hmc(ebm_swift.BananaEnergy(2, curvature=1.0, scale=1.0), np.zeros((N, 2)), 200, 0.1,
                         n_leapfrog=10, seed=5)
    check_banana(x, 1.0, 1.0)


def min_ess_per_gradient(target, inverse_mass, n_leapfrog=8):
    """Adapted step (same target acceptance for both), 64 chains, 400 draws after 400 warm-up
    steps: the smallest effective sample size over coordinates, per gradient evaluation."""
    x0 = np.zeros((64, target.dim))
    _, info = ebm_swift.hmc(target, x0, 800, 0.05, n_leapfrog=n_leapfrog, inverse_mass=inverse_mass,
                            adapt_step_size=True, n_warmup=400, return_trajectory=True, seed=7)
    draws = info["trajectory"][400:]
    ess = ebm_swift.diagnostics.effective_sample_size(draws).min()
    return ess / (64 * 400 * n_leapfrog), info


def test_diagonal_mass_equal_to_variances_needs_fewer_gradients_per_effective_sample():
    variances = np.logspace(-2, 2, 6)  # standard deviations 0.1 … 10
    target = ebm_swift.GaussianEnergy(np.zeros(6), np.diag(variances))
    plain, _ = min_ess_per_gradient(target, None)
    scaled, info = min_ess_per_gradient(target, variances)
    print(f"\nmin ESS per gradient evaluation: identity mass {plain:.2e}, M⁻¹ = Σ {scaled:.2e} "
          f"({scaled / plain:.0f}×)")
    assert scaled > 5 * plain
    # …and the scaled run samples the target: variances within 5 SE of the final states' (64 chains
    # at the last step: SE v·sqrt(2/64)).
    last = info["trajectory"][-1].astype(np.float64)
    assert np.all(np.abs(last.var(0) / variances - 1) < 5 * math.sqrt(2 / 64))


def test_hmc_with_one_leapfrog_step_is_mala():
    """One leapfrog step of size η with M = I moves x to x − (η²/2)∇E(x) + η p: MALA's proposal at
    step η²/2, and the Hamiltonian acceptance equals MALA's Metropolis–Hastings ratio. From one
    fixed point, the two one-step transition laws must agree: the same acceptance probability (a
    two-proportion z-test at 5 SE) and the same distribution of accepted moves (two-sample KS at
    the 0.001 level, per coordinate)."""
    target = ebm_swift.BananaEnergy(2, curvature=1.0, scale=1.0)
    start = np.tile([1.2, -0.4], (N, 1))
    eta = 0.8
    h, hi = ebm_swift.hmc(target, start, 1, eta, n_leapfrog=1, seed=21)
    m, mi = ebm_swift.mala(target, start, 1, eta**2 / 2, seed=22)
    ph, pm = hi["acceptance_rate"].mean(), mi["acceptance_rate"].mean()
    assert 0.2 < ph < 0.95
    assert abs(ph - pm) < 5 * math.sqrt(ph * (1 - ph) / N + pm * (1 - pm) / N), (ph, pm)
    moved_h, moved_m = h[hi["acceptance_rate"] > 0], m[mi["acceptance_rate"] > 0]
    for j in range(2):
        d, bound = ks_two_sample(moved_h[:, j], moved_m[:, j])
        assert d < bound, (j, d, bound)
    # A different step size is told apart by the same test (it can fail).
    w, wi = ebm_swift.mala(target, start, 1, eta**2, seed=22)
    d, bound = ks_two_sample(moved_h[:, 0], w[wi["acceptance_rate"] > 0][:, 0])
    assert d > bound


def trained_mlp():
    model = ebm_swift.MLPEnergy(2, (32, 32), seed=0)
    data = ebm_swift.datasets.make_toy("8gaussians", 4000, seed=0)
    trainer = ebm_swift.Trainer(model, lr=2e-3, betas=(0.0, 0.999), init_range=(-4, 4), alpha=0.1, seed=0)
    rng = np.random.default_rng(0)
    for _ in range(300):
        trainer.step(data[rng.integers(0, len(data), 128)])
    return model


@pytest.fixture(scope="module")
def mlp():
    return trained_mlp()


GAUSSIAN_50 = np.linspace(0.5, 2.0, 50)  # variances of a 50-D diagonal Gaussian


@pytest.mark.parametrize("sampler,good_step", [("mala", 0.3), ("hmc", 0.35)])
@pytest.mark.parametrize("factor", [100.0, 0.01])
def test_adaptation_reaches_the_target_acceptance_on_a_50d_gaussian(sampler, good_step, factor):
    target = ebm_swift.GaussianEnergy(np.zeros(50), np.diag(GAUSSIAN_50))
    run = getattr(ebm_swift, sampler)
    kwargs = {"n_leapfrog": 5} if sampler == "hmc" else {}
    n = 400
    x0 = np.random.default_rng(1).normal(size=(n, 50)) * np.sqrt(GAUSSIAN_50)
    x, info = run(target, x0, 1300, good_step * factor, adapt_step_size=True, n_warmup=1000, seed=2, **kwargs)
    goal = {"mala": 0.574, "hmc": 0.65}[sampler]
    rate = info["acceptance_rate"].mean()
    print(f"\n{sampler} from {factor}× the step: acceptance after warm-up {rate:.3f} (target {goal}), "
          f"median adapted step {np.median(info['step_size']):.3f}")
    assert abs(rate - goal) < 0.05
    # The samples after warm-up are the target's: per coordinate, mean and variance over the n
    # iid chains within 5 SE, pooled over coordinates through the largest standardised error.
    x = x.astype(np.float64)
    assert np.max(np.abs(x.mean(0)) / np.sqrt(GAUSSIAN_50 / n)) < 5
    assert np.max(np.abs(x.var(0) / GAUSSIAN_50 - 1) / math.sqrt(2 / n)) < 5


@pytest.mark.parametrize("sampler", ["mala", "hmc"])
@pytest.mark.parametrize("factor", [100.0, 0.01])
def test_adaptation_reaches_the_target_acceptance_on_a_trained_mlp(mlp, sampler, factor):
    kwargs = {"n_leapfrog": 5} if sampler == "hmc" else {}
    x0 = ebm_swift.datasets.make_toy("8gaussians", 300, seed=3)
    _, info = getattr(ebm_swift, sampler)(mlp, x0, 1000, 0.05 * factor, adapt_step_size=True, n_warmup=700,
                                          seed=4, **kwargs)
    goal = {"mala": 0.574, "hmc": 0.65}[sampler]
    rate = info["acceptance_rate"].mean()
    print(f"\n{sampler} on the MLP from {factor}× the step: acceptance {rate:.3f} (target {goal})")
    assert abs(rate - goal) < 0.05


@pytest.mark.parametrize("call", [
    lambda e, x, s: ebm_swift.langevin(e, x, 20, 0.05, seed=s, return_info=True, diagnostics=True),
    lambda e, x, s: ebm_swift.mala(e, x, 20, 0.3, seed=s, diagnostics=True),
    lambda e, x, s: ebm_swift.mala(e, x, 30, 3.0, adapt_step_size=True, n_warmup=20, seed=s),
    lambda e, x, s: ebm_swift.hmc(e, x, 20, 0.2, n_leapfrog=4, seed=s, diagnostics=True),
    lambda e, x, s: ebm_swift.hmc(e, x, 60, 0.01, n_leapfrog=3, adapt_step_size=True, adapt_mass=True,
                                  n_warmup=40, seed=s),
], ids=["langevin", "mala", "mala-adapted", "hmc", "hmc-adapted-mass"])
def test_every_kernel_is_bit_identical_for_one_and_two_threads_and_chain_offsets(call):
    target = ebm_swift.BananaEnergy(3, curvature=0.5)
    x0 = np.random.default_rng(0).normal(size=(333, 3))
    before = ebm_swift.get_num_threads()
    try:
        ebm_swift.set_num_threads(1)
        one, info1 = call(target, x0, 9)
        ebm_swift.set_num_threads(2)
        two, info2 = call(target, x0, 9)
    finally:
        ebm_swift.set_num_threads(before)
    np.testing.assert_array_equal(one, two)
    assert info1.keys() == info2.keys()
    for key in info1:
        np.testing.assert_array_equal(info1[key], info2[key])
    assert not np.array_equal(one, x0)


@pytest.mark.parametrize("sampler", ["langevin", "mala", "hmc"])
def test_chain_offset_gives_the_rows_of_the_whole_run(sampler):
    target = ebm_swift.GaussianMixtureEnergy([[-1.0, 0.0], [1.0, 0.5]], [np.eye(2) * 0.4] * 2, [0.5, 0.5])
    x0 = np.random.default_rng(3).normal(size=(250, 2))
    run = getattr(ebm_swift, sampler)
    kwargs = {"adapt_step_size": True} if sampler != "langevin" else {"return_info": True}
    whole, info = run(target, x0, 30, 0.1, seed=5, **kwargs)
    for k, n in [(96, 64), (240, 10), (0, 250)]:
        part, part_info = run(target, x0[k:k + n], 30, 0.1, seed=5, chain_offset=k, **kwargs)
        np.testing.assert_array_equal(part, whole[k:k + n])
        for key in part_info:
            np.testing.assert_array_equal(part_info[key], info[key][k:k + n])


def test_hmc_keeps_image_shapes():
    from ebm_swift import nn

    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.SiLU(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 1))
    energy = ebm_swift.NetworkEnergy(net, (1, 8, 8), seed=0)
    x0 = np.random.default_rng(0).uniform(-1, 1, (5, 1, 8, 8))
    x, info = ebm_swift.hmc(energy, x0, 4, 0.01, n_leapfrog=3, adapt_step_size=True, adapt_mass=True, n_warmup=2,
                            return_trajectory=True, seed=1)
    assert x.shape == (5, 1, 8, 8) and info["trajectory"].shape == (4, 5, 1, 8, 8)
    assert info["inverse_mass"].shape == (5, 1, 8, 8)
    y, _ = ebm_swift.hmc(energy, x0, 2, 0.01, inverse_mass=np.ones((1, 8, 8)), seed=1)
    assert y.shape == x0.shape and np.isfinite(y).all()


def test_ais_with_hmc_transitions_on_a_10d_gaussian():
    target, mean, cov = correlated_gaussian()
    log_z, se, info = ebm_swift.ais_log_z(target, n_chains=1000, n_temps=200, base_std=2.0, transition="hmc",
                                          step_size=0.15, n_leapfrog=5, seed=7, return_info=True)
    print(f"\nAIS with HMC: ln Z {log_z:.4f} ± {se:.4f}, exact {target.log_z:.4f}")
    assert abs(log_z - target.log_z) < 3 * se, (log_z, target.log_z, se)
    assert se < 0.1
    assert info["acceptance_rate"].mean() > 0.5 and info["n_divergent"].shape == (1000,)


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(n_leapfrog=0), ValueError, "n_leapfrog"),
    (dict(n_leapfrog=-3), ValueError, "n_leapfrog"),
    (dict(n_leapfrog=2.5), TypeError, "n_leapfrog"),
    (dict(inverse_mass=np.ones(3)), ValueError, "inverse_mass must have shape"),
    (dict(inverse_mass=np.array([1.0, 0.0])), ValueError, "inverse_mass must hold positive"),
    (dict(inverse_mass=np.array([1.0, -2.0])), ValueError, "inverse_mass must hold positive"),
    (dict(inverse_mass=np.array([1.0, np.nan])), ValueError, "inverse_mass must hold positive"),
    (dict(inverse_mass="big"), TypeError, "inverse_mass"),
    (dict(adapt_step_size=True, target_accept=1.0), ValueError, "target_accept must be in"),
    (dict(adapt_step_size=True, target_accept=0.0), ValueError, "target_accept"),
    (dict(adapt_step_size=True, target_accept=-0.5), ValueError, "target_accept"),
    (dict(adapt_step_size=True, n_warmup=10), ValueError, "n_warmup must be below n_steps"),
    (dict(adapt_step_size=True, n_warmup=50), ValueError, "n_warmup must be below n_steps"),
    (dict(n_warmup=5), ValueError, "adapt_step_size=True"),
    (dict(adapt_step_size="yes"), TypeError, "adapt_step_size"),
    (dict(divergence_threshold=0.0), ValueError, "divergence_threshold"),
])
def test_hmc_arguments(kwargs, exc, match):
    target = ebm_swift.GaussianEnergy([0.0, 0.0], np.eye(2))
    with pytest.raises(exc, match=match):
        ebm_swift.hmc(target, np.zeros((3, 2)), 10, 0.1, **kwargs)


def test_adaptation_arguments_of_other_samplers():
    target = ebm_swift.GaussianEnergy([0.0, 0.0], np.eye(2))
    with pytest.raises(ValueError, match="n_steps >= 2"):
        ebm_swift.mala(target, np.zeros((3, 2)), 1, 0.1, adapt_step_size=True)
    with pytest.raises(ValueError, match="n_leapfrog"):
        ebm_swift.Trainer(ebm_swift.MLPEnergy(2, (8,), seed=0), sampler="hmc", n_leapfrog=0)
    with pytest.raises(ValueError, match="n_leapfrog"):
        ebm_swift.ais_log_z(target, transition="hmc", n_leapfrog=0)


def test_trainer_with_hmc_negatives_saves_and_resumes_bit_identically(tmp_path):
    data = ebm_swift.datasets.make_toy("8gaussians", 512, seed=0)
    a = ebm_swift.Trainer(ebm_swift.MLPEnergy(2, (16, 16), seed=0), sampler="hmc", n_steps=2, n_leapfrog=3,
                          step_size=0.05, buffer_size=256, seed=1)
    a.fit(data, epochs=1, batch_size=128, progress=False)
    a.save(tmp_path / "run.npz")
    a.fit(data, epochs=1, batch_size=128, progress=False)
    b = ebm_swift.load(tmp_path / "run.npz")
    assert (b.sampler, b.n_leapfrog, b.n_iter) == ("hmc", 3, 4)
    b.fit(data, epochs=1, batch_size=128, progress=False)
    np.testing.assert_array_equal(a.buffer, b.buffer)
    for k, v in a.energy.parameters().items():
        np.testing.assert_array_equal(v, b.energy.parameters()[k])
    # The kernel matters: the same run with MALA negatives differs.
    c = ebm_swift.Trainer(ebm_swift.MLPEnergy(2, (16, 16), seed=0), sampler="mala", n_steps=2, step_size=0.05,
                          buffer_size=256, seed=1)
    c.fit(data, epochs=2, batch_size=128, progress=False)
    assert c.n_iter == a.n_iter and not np.array_equal(c.buffer, a.buffer)


@pytest.mark.parametrize("call", [
    lambda m, x: ebm_swift.hmc(m, x, 10_000_000, 1e-3, n_leapfrog=5, adapt_step_size=True, n_warmup=5_000_000, seed=0),
    lambda m, x: ebm_swift.ais_log_z(m, n_chains=len(x), n_temps=1_000_000, transition="hmc", n_leapfrog=5, seed=0),
], ids=["hmc-adapting", "ais-hmc"])
def test_ctrl_c_interrupts_hmc_and_ais(call):
    model = ebm_swift.MLPEnergy(2, (64, 64), seed=0)
    x0 = np.zeros((2048, 2))
    assert_ctrl_c_interrupts(lambda: call(model, x0))
    assert ebm_swift.hmc(model, x0[:4], 2, 1e-3, seed=0)[0].shape == (4, 2)
