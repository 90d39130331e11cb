"""Issue-3 samplers against closed forms: ULA's known bias, MALA's exactness, AIS's log Z,
thread-count determinism, trajectories, diagnostics, callable energies."""

import math

import numpy as np
import pytest

import ebm_swift
from ebm_swift.samplers import HMC, MALA, REGISTRY, Barker, Langevin
from distributions import MIXTURE, check_banana, check_gaussian, check_mixture, mixture_draws

N = 20_000  # independent chains: their final states are iid, so the effective sample size is N.


def test_ula_matches_its_closed_form_bias_and_mala_is_exact():
    """On N(0, σ²) ULA is the AR(1) chain x ← (1 − η/σ²) x + sqrt(2η) ε with stationary variance
    2η / (1 − (1 − η/σ²)²) = σ² / (1 − η/(2σ²)); at η = 0.5, σ² = 1 that is 4/3, a 33 % bias the
    test cannot miss. MALA at the same step samples σ² exactly. SE of a variance estimate from N
    iid values: v·sqrt(2/N) ≈ 0.01·v; tolerance 5 SE."""
    target = ebm_swift.GaussianEnergy([0.0], [[1.0]])
    x0 = np.zeros((N, 1))
    eta = 0.5
    ula = ebm_swift.langevin(target, x0, 200, eta, seed=1).astype(np.float64)
    expected = 1.0 / (1 - eta / 2)
    assert ula.var() == pytest.approx(expected, abs=5 * expected * math.sqrt(2 / N))
    samples, info = ebm_swift.mala(target, x0, 200, eta, seed=1)
    assert samples.astype(np.float64).var() == pytest.approx(1.0, abs=5 * math.sqrt(2 / N))
    assert 0.3 < info["acceptance_rate"].mean() < 1.0


def test_mala_correlated_gaussian_moments_and_marginals():
    mean = np.array([1.0, -2.0])
    cov = np.array([[2.0, 1.2], [1.2, 1.5]])
    x, info = ebm_swift.mala(ebm_swift.GaussianEnergy(mean, cov), np.tile(mean, (N, 1)), 400, 0.4, seed=3)
    check_gaussian(x, mean, cov)


def test_mala_three_component_mixture():
    # Start every chain at an exact draw of the mixture: MALA must then stay at the mixture (its
    # mixing between well-separated modes is slow, but invariance is what exactness means).
    x, _ = ebm_swift.mala(ebm_swift.GaussianMixtureEnergy(*MIXTURE), mixture_draws(N), 300, 0.2, seed=4)
    check_mixture(x)


def test_mala_banana():
    x, _ = ebm_swift.mala(ebm_swift.BananaEnergy(2, curvature=1.0, scale=1.0), np.zeros((N, 2)), 1000, 0.1, seed=5)
    check_banana(x, 1.0, 1.0)


@pytest.mark.parametrize("dim", [2, 10])
def test_ais_gaussian_log_z(dim):
    rng = np.random.default_rng(dim)
    a = rng.normal(size=(dim, dim)) / np.sqrt(dim)
    cov = a @ a.T + 0.5 * np.eye(dim)
    target = ebm_swift.GaussianEnergy(rng.normal(size=dim) * 0.5, cov)
    log_z, se = ebm_swift.ais_log_z(target, dim=dim, n_chains=1000, n_temps=200, base_std=2.0, step_size=0.1, seed=7)
    assert abs(log_z - target.log_z) < 3 * se, (log_z, target.log_z, se)
    assert se < 0.1


def test_ais_mixture_log_z_is_zero():
    target = ebm_swift.GaussianMixtureEnergy([[-2.0, 0.0], [2.0, 1.0], [0.0, -2.0]],
                                             [np.eye(2) * 0.5, np.eye(2) * 0.7, [[0.5, 0.1], [0.1, 0.3]]],
                                             [0.3, 0.3, 0.4])
    log_z, se = ebm_swift.ais_log_z(target, n_chains=2000, n_temps=300, base_std=3.0, step_size=0.1, seed=8)
    assert abs(log_z - 0.0) < 3 * se, (log_z, se)


def test_ais_trained_mlp_matches_quadrature():
    model = ebm_swift.MLPEnergy(2, (32, 32), seed=0)
    data = ebm_swift.datasets.make_toy("8gaussians", 4000, seed=0)
    trainer = ebm_swift.Trainer(model, lr=2e-3, betas=(0.0, 0.999), init_range=(-4, 4), alpha=0.1, seed=0)
    rng = np.random.default_rng(0)
    for _ in range(300):
        trainer.step(data[rng.integers(0, len(data), 128)])
    # Quadrature of Z on a fine grid over a box that holds essentially all the mass.
    lim, k = 8.0, 801
    g = np.linspace(-lim, lim, k)
    gx, gy = np.meshgrid(g, g)
    e = model.energy(np.stack([gx.ravel(), gy.ravel()], 1)).astype(np.float64)
    top = (-e).max()
    log_z_grid = top + np.log(np.exp(-e - top).sum() * (g[1] - g[0]) ** 2)
    log_z, se = ebm_swift.ais_log_z(model, n_chains=2000, n_temps=500, base_std=3.0, step_size=0.05, seed=9)
    assert abs(log_z - log_z_grid) < 0.05, (log_z, log_z_grid, se)


def test_results_do_not_depend_on_thread_count():
    model = ebm_swift.MLPEnergy(2, (32, 32), seed=1)
    x0 = np.random.default_rng(0).uniform(-2, 2, size=(3000, 2))
    before = ebm_swift.get_num_threads()
    results = []
    try:
        for threads in (1, 2):
            ebm_swift.set_num_threads(threads)
            assert ebm_swift.get_num_threads() == threads
            results.append((
                ebm_swift.langevin(model, x0, 20, 0.01, seed=1),
                ebm_swift.mala(model, x0, 20, 0.01, seed=1),
                ebm_swift.ais_log_z(model, n_chains=500, n_temps=20, base_std=2.0, seed=1, return_info=True),
            ))
    finally:
        ebm_swift.set_num_threads(before)
    (l1, (m1, i1), a1), (l2, (m2, i2), a2) = results
    np.testing.assert_array_equal(l1, l2)
    np.testing.assert_array_equal(m1, m2)
    np.testing.assert_array_equal(i1["acceptance_rate"], i2["acceptance_rate"])
    assert a1[:2] == a2[:2]
    np.testing.assert_array_equal(a1[2]["log_weights"], a2[2]["log_weights"])


def test_trajectory_thinning_and_diagnostics():
    target = ebm_swift.GaussianEnergy([0.0, 0.0], np.eye(2))
    x0 = np.zeros((64, 2))
    final, info = ebm_swift.langevin(target, x0, 10, 0.1, seed=2, thin=3, diagnostics=True)
    assert info["trajectory"].shape == (3, 64, 2)
    plain = ebm_swift.langevin(target, x0, 9, 0.1, seed=2)
    np.testing.assert_array_equal(info["trajectory"][2], plain)  # state after step 9
    assert info["mean_energy"].shape == (10,) and info["mean_energy"][0] == 0.0
    np.testing.assert_array_equal(info["step_acceptance"], np.ones(10))
    _, full = ebm_swift.langevin(target, x0, 4, 0.1, seed=2, return_trajectory=True)
    assert full["trajectory"].shape == (4, 64, 2)
    np.testing.assert_array_equal(ebm_swift.langevin(target, x0, 10, 0.1, seed=2), final)
    # MALA's per-step acceptance is the mean of the per-chain rates.
    _, m = ebm_swift.mala(target, x0, 50, 0.8, seed=2, diagnostics=True)
    assert m["step_acceptance"].mean() == pytest.approx(m["acceptance_rate"].mean())
    g = target.grad_x(np.zeros((1, 2)))
    assert m["mean_grad_norm"][0] == pytest.approx(np.linalg.norm(g))


def test_ess_and_rhat_on_known_processes():
    rng = np.random.default_rng(0)
    iid = rng.normal(size=(1000, 8, 1))
    ess = ebm_swift.diagnostics.effective_sample_size(iid)
    assert 0.8 * 8000 < ess[0] < 1.25 * 8000
    assert ebm_swift.diagnostics.split_rhat(iid)[0] == pytest.approx(1.0, abs=0.01)
    # AR(1) with ρ = 0.9: ESS ≈ n (1 − ρ)/(1 + ρ) = 8000/19 ≈ 421.
    rho, ar = 0.9, np.zeros((4000, 8))
    eps = rng.normal(size=ar.shape) * math.sqrt(1 - rho**2)
    ar[0] = rng.normal(size=8)
    for t in range(1, 4000):
        ar[t] = rho * ar[t - 1] + eps[t]
    expected = 32000 * (1 - rho) / (1 + rho)
    assert 0.7 * expected < ebm_swift.diagnostics.effective_sample_size(ar)[0] < 1.4 * expected
    # Chains stuck at different places: R̂ far above 1.
    stuck = rng.normal(size=(500, 4, 1)) + np.arange(4)[None, :, None]
    assert ebm_swift.diagnostics.split_rhat(stuck)[0] > 1.5


def test_callable_energy_matches_native_and_propagates_errors():
    mean, cov = np.array([0.5, -0.5]), np.array([[1.0, 0.3], [0.3, 0.8]])
    p = np.linalg.inv(cov)
    calls = []

    def energy(x):
        calls.append(len(x))
        d = x - mean
        return 0.5 * np.einsum("ni,ij,nj->n", d, p, d)

    def grad(x):
        return (x - mean) @ p

    user = ebm_swift.CallableEnergy(energy, grad, dim=2)
    native = ebm_swift.GaussianEnergy(mean, cov)
    x0 = np.random.default_rng(0).normal(size=(500, 2))
    a, ia = ebm_swift.mala(user, x0, 30, 0.3, seed=3)
    b, ib = ebm_swift.mala(native, x0, 30, 0.3, seed=3)
    np.testing.assert_allclose(a, b, atol=1e-4)
    assert calls and all(c == 500 for c in calls), "called once per step for the whole batch"
    np.testing.assert_allclose(user.energy(x0[:5]), native.energy(x0[:5]), rtol=1e-5)

    class Boom(RuntimeError):
        pass

    def failing(x):
        raise Boom("inside the user's energy")

    with pytest.raises(Boom, match="inside the user's energy"):
        ebm_swift.langevin(ebm_swift.CallableEnergy(energy, failing, dim=2), x0, 10, 0.1, seed=0)
    with pytest.raises(ValueError, match=r"grad_fn must return an array of shape \(500, 2\)"):
        ebm_swift.mala(ebm_swift.CallableEnergy(energy, lambda x: grad(x)[:, :1], dim=2), x0, 5, 0.1, seed=0)
    # NaN everywhere: the starting points already are (a proposal's NaN would be a divergence).
    with pytest.raises(ebm_swift.DivergenceError, match="energy"):
        ebm_swift.mala(ebm_swift.CallableEnergy(lambda x: np.full(len(x), np.nan), grad, dim=2), x0, 5, 0.1)


def test_progress_bar_reports(capsys):
    target = ebm_swift.GaussianEnergy([0.0], [[1.0]])
    ebm_swift.langevin(target, np.zeros((10, 1)), 5, 0.1, seed=0, progress=True)
    err = capsys.readouterr().err
    assert "100%" in err or "1000/1000" in err


@pytest.mark.parametrize(
    "call,exc,match",
    [
        (lambda t, x: ebm_swift.langevin(t, x, 10, 0.1, thin=-1), ValueError, "thin"),
        (lambda t, x: ebm_swift.langevin(t, x, 10, 0.1, thin=0), ValueError, "thin"),
        (lambda t, x: ebm_swift.mala(t, x, 10, 0.1, thin=11), ValueError, "thin"),
        (lambda t, x: ebm_swift.mala(t, x, 0, 0.1), ValueError, "n_steps"),
        (lambda t, x: ebm_swift.mala(t, x, 5, -0.1), ValueError, "step_size"),
        (lambda t, x: ebm_swift.ais_log_z(t, n_chains=0), ValueError, "n_chains"),
        (lambda t, x: ebm_swift.ais_log_z(t, dim=3), ValueError, "dim"),
        (lambda t, x: ebm_swift.ais_log_z(t, base_mean=[0.0]), ValueError, "base_mean"),
        (lambda t, x: ebm_swift.ais_log_z(t, transition="replica_exchange"), ValueError, "transition"),
        (lambda t, x: ebm_swift.ais_log_z(t, transition="gibbs"), ValueError, "transition"),
        (lambda t, x: ebm_swift.ais_log_z(t, base_std=0.0), ValueError, "base_std"),
        (lambda t, x: ebm_swift.set_num_threads(0), ValueError, "n"),
        (lambda t, x: ebm_swift.mala(t, x, 10**8, 0.1, diagnostics=True), ValueError, "diagnostics"),
    ],
)
def test_sampler_arguments(call, exc, match):
    target = ebm_swift.GaussianEnergy([0.0, 0.0], np.eye(2))
    with pytest.raises(exc, match=match):
        call(target, np.zeros((4, 2)))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(means=[[0.0, 0.0]], covs=[np.eye(2)], weights=[0.5]), "sum to one"),
        (dict(means=[[0.0, 0.0], [1.0, 1.0]], covs=[np.eye(2)], weights=[0.5, 0.5]), r"covs must have shape \(2, 2, 2\)"),
        (dict(means=[[0.0, 0.0]], covs=[np.eye(2)], weights=[0.5, 0.5]), r"weights must have shape \(1,\)"),
        (dict(means=[[0.0, 0.0]], covs=[[[1.0, 2.0], [2.0, 1.0]]], weights=[1.0]), "positive definite"),
        (dict(means=[[0.0, 0.0], [1.0, 1.0]], covs=[np.eye(2)] * 2, weights=[1.5, -0.5]), "positive"),
    ],
)
def test_mixture_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ebm_swift.GaussianMixtureEnergy(**kwargs)


def test_callable_energy_arguments():
    with pytest.raises(TypeError, match="callable"):
        ebm_swift.CallableEnergy(1, lambda x: x, dim=2)
    with pytest.raises(ValueError, match="dim"):
        ebm_swift.CallableEnergy(lambda x: x, lambda x: x, dim=0)
    with pytest.raises(ValueError, match="dim must be at least 2"):
        ebm_swift.BananaEnergy(dim=1)


def test_thread_count_from_environment():
    import subprocess
    import sys

    code = "import ebm_swift; print(ebm_swift.get_num_threads())"
    out = subprocess.run([sys.executable, "-c", code], env={**__import__("os").environ, "EBM_SWIFT_NUM_THREADS": "3"},
                         capture_output=True, text=True, check=True, cwd="/")
    assert out.stdout.strip() == "3"


def test_every_registered_kernel_is_exported_at_the_top_level():
    """`samplers.FUNCTIONS` carries each registered kernel's sampling function, named as its kind,
    to `ebm_swift` and `ebm_swift.sampling` (and into `__all__`): a new kernel needs no edit there."""
    from ebm_swift import sampling, samplers

    assert set(samplers.FUNCTIONS) == set(samplers.REGISTRY) == set(ebm_swift._native.sampler_kinds().split(","))
    for kind, function in samplers.FUNCTIONS.items():
        assert function.__name__ == kind and callable(function)
        assert getattr(ebm_swift, kind) is function and getattr(sampling, kind) is function
        assert kind in ebm_swift.__all__ and kind in sampling.__all__
    assert {"langevin", "mala", "hmc", "barker"} <= set(samplers.FUNCTIONS)


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_every_registered_kernel_is_bit_identical_for_threads_and_chain_offsets(kind):
    """The shared check every kernel gets the day it is registered."""
    target = ebm_swift.BananaEnergy(3, curvature=0.5)
    x0 = np.random.default_rng(0).normal(size=(300, 3))
    record = REGISTRY[kind](0.1)
    before = ebm_swift.get_num_threads()
    try:
        ebm_swift.set_num_threads(1)
        one, info1 = ebm_swift.sample(target, x0, 20, record, seed=9, diagnostics=True)
        ebm_swift.set_num_threads(2)
        two, info2 = ebm_swift.sample(target, x0, 20, record, seed=9, diagnostics=True)
    finally:
        ebm_swift.set_num_threads(before)
    np.testing.assert_array_equal(one, two)
    for key in info1:
        np.testing.assert_array_equal(info1[key], info2[key])
    part, _ = ebm_swift.sample(target, x0[96:160], 20, record, seed=9, chain_offset=96)
    np.testing.assert_array_equal(part, one[96:160])
    assert not np.array_equal(one, x0)
    # Another seed, other numbers; the input is never modified.
    assert not np.array_equal(ebm_swift.sample(target, x0, 20, record, seed=10)[0], one)
    assert np.array_equal(x0, np.random.default_rng(0).normal(size=(300, 3)))


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_every_registered_kernel_runs_in_pieces_through_chains(kind):
    """The shared check of `Chains`: runs of 3, 1, 4 and 2 steps are one `sample` call of 10, bit
    for bit, with its acceptance and divergence counts (the noise counter continues across runs,
    and what a kernel carries from step to step besides x is handed over); a kernel whose chains
    are more than x (`moves_x_alone = False`) is refused."""
    target = ebm_swift.BananaEnergy(3, curvature=0.5)
    x0 = np.random.default_rng(0).normal(size=(300, 3))
    record = REGISTRY[kind](0.1)
    if not record.moves_x_alone:
        with pytest.raises(ValueError, match="keeps more"):
            ebm_swift.Chains(target, x0, record, seed=9)
        return
    chains = ebm_swift.Chains(target, x0, record, seed=9, chain_offset=5)
    for n in (3, 1, 4, 2):
        out = chains.run(n)
    whole, info = ebm_swift.sample(target, x0, 10, record, seed=9, chain_offset=5)
    np.testing.assert_array_equal(out, whole)
    assert chains.n_steps_taken == 10 and not np.array_equal(out, x0)
    np.testing.assert_array_equal(chains.acceptance_rate, info.get("acceptance_rate", np.ones(300)))
    if "n_divergent" in info:
        np.testing.assert_array_equal(chains.n_divergent, info["n_divergent"])


def test_the_sampling_functions_are_their_records():
    g = ebm_swift.BananaEnergy(2)
    x0 = np.random.default_rng(1).normal(size=(50, 2))
    for call, record in [(lambda: ebm_swift.barker(g, x0, 10, 0.3, seed=2), Barker(0.3)),
                         (lambda: ebm_swift.hmc(g, x0, 10, 0.1, n_leapfrog=3, seed=2), HMC(0.1, n_leapfrog=3)),
                         (lambda: ebm_swift.mala(g, x0, 10, 0.1, seed=2), MALA(0.1)),
                         (lambda: ebm_swift.langevin(g, x0, 10, 0.1, seed=2, return_info=True), Langevin(0.1))]:
        np.testing.assert_array_equal(call()[0], ebm_swift.sample(g, x0, 10, record, seed=2)[0])
