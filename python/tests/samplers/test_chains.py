"""Persistent chains (`ebm_swift.Chains`): runs in pieces equal one run of the sampling functions
bit for bit (every registered kernel: `test_samplers.py`'s shared check; here on a network, with
kinetic Langevin's carried momenta, any thread count and any split of the chains); one Langevin
step against its closed form; a failed run changes nothing; bad arguments are refused by name."""

import threading

import numpy as np
import pytest

import ebm_swift
from ebm_swift.samplers import HMC, MALA, KineticLangevin, Langevin, ReplicaExchange

KERNELS = [Langevin(0.05), HMC(0.2, n_leapfrog=3), KineticLangevin(0.2, friction=0.5),
           KineticLangevin(0.6, friction=0.5, metropolis=True)]
PIECES = (3, 1, 4, 2)


@pytest.fixture(scope="module")
def model():
    return ebm_swift.MLPEnergy(2, (32, 32), "swish", seed=0)


@pytest.fixture(scope="module")
def x0():
    return np.random.default_rng(1).normal(size=(150, 2)).astype(np.float32)  # 3 blocks of chains


@pytest.fixture
def threads():
    before = ebm_swift.get_num_threads()
    yield ebm_swift.set_num_threads
    ebm_swift.set_num_threads(before)


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: repr(k)[:40])
def test_pieces_equal_one_run(model, x0, kernel):
    chains = ebm_swift.Chains(model, x0, kernel, seed=9, chain_offset=5)
    for n in PIECES:
        out = chains.run(n)
    whole, info = ebm_swift.sample(model, x0, sum(PIECES), kernel, seed=9, chain_offset=5)
    np.testing.assert_array_equal(out, whole)
    np.testing.assert_array_equal(chains.x, whole)
    assert chains.n_steps_taken == sum(PIECES)
    assert not np.array_equal(out, x0)
    if "acceptance_rate" in info:
        np.testing.assert_array_equal(chains.acceptance_rate, info["acceptance_rate"])
    if "n_divergent" in info:
        np.testing.assert_array_equal(chains.n_divergent, info["n_divergent"])
    if isinstance(kernel, KineticLangevin):
        assert chains.carried.shape == x0.shape and np.isfinite(chains.carried).all()
    else:
        assert chains.carried is None


def test_a_metropolis_kernel_rejects_and_counts_as_the_function_does(x0):
    # On N(0, I) a step large enough that many moves are rejected: the counts are then informative.
    gauss = ebm_swift.GaussianEnergy([0.0, 0.0], [[1.0, 0.0], [0.0, 1.0]])
    chains = ebm_swift.Chains(gauss, x0, MALA(1.5), seed=3)
    for _ in range(20):
        chains.run(1)
    _, info = ebm_swift.mala(gauss, x0, 20, 1.5, seed=3, return_info=True)
    np.testing.assert_array_equal(chains.acceptance_rate, info["acceptance_rate"])
    assert 0.1 < chains.acceptance_rate.mean() < 0.9


def test_any_thread_count_and_split_of_the_chains(model, x0, threads):
    threads(1)
    one = ebm_swift.Chains(model, x0, Langevin(0.05), seed=4)
    one.run(3)
    threads(2)  # more threads than the chains were made with: their workspaces grow
    one.run(4)
    two = ebm_swift.Chains(model, x0, Langevin(0.05), seed=4)
    two.run(7)
    np.testing.assert_array_equal(one.x, two.x)
    # Chains [128, 150) alone, with their global offset, are those rows of the whole.
    part = ebm_swift.Chains(model, x0[128:], Langevin(0.05), seed=4, chain_offset=128)
    part.run(2)
    part.run(5)
    np.testing.assert_array_equal(part.x, two.x[128:])


def test_one_langevin_step_is_a_gradient_step_plus_gaussian_noise():
    # On N(0, diag(1, 4)), x' = x − η Σ⁻¹ x + sqrt(2η) ε: the standardised residual of 20 000
    # chains × 2 coordinates is N(0, 1); mean within 5 SE (5 / sqrt(40 000) = 0.025), variance
    # within 5 SE (5 sqrt(2 / 40 000) ≈ 0.035). float32 arithmetic adds ~1e-7 relative error.
    gauss = ebm_swift.GaussianEnergy([0.0, 0.0], [[1.0, 0.0], [0.0, 4.0]])
    x = np.random.default_rng(0).normal(size=(20_000, 2)).astype(np.float32)
    eta = 0.1
    moved = ebm_swift.Chains(gauss, x, Langevin(eta), seed=1).run(1)
    drift = x - eta * x / np.array([1.0, 4.0])
    residual = (moved.astype(np.float64) - drift) / np.sqrt(2 * eta)
    assert abs(residual.mean()) < 0.025
    assert abs(residual.var() - 1) < 0.035
    # Without noise the step is exactly the gradient step (to float32 rounding).
    still = ebm_swift.Chains(gauss, x, Langevin(eta, noise_scale=0.0), seed=1).run(1)
    np.testing.assert_allclose(still, drift, rtol=1e-6, atol=1e-6)


def test_chains_follow_an_energy_being_trained(model, x0):
    # A copy of the model whose parameters change between runs: a noiseless step moves along the
    # new gradient.
    energy = ebm_swift.MLPEnergy(2, (32, 32), "swish", seed=0)
    chains = ebm_swift.Chains(energy, x0, Langevin(0.01, noise_scale=0.0), seed=0)
    chains.run(1)
    params = {k: v * 1.5 for k, v in energy.parameters().items()}
    energy.set_parameters(params)
    before = chains.x.copy()
    after = chains.run(1)
    np.testing.assert_allclose(after, before - 0.01 * energy.grad_x(before), rtol=1e-5, atol=1e-6)


def test_pickled_chains_continue_where_they_stopped(model, x0):
    import pickle

    chains = ebm_swift.Chains(model, x0, KineticLangevin(0.6, friction=0.5, metropolis=True), seed=2)
    chains.run(4)
    copy = pickle.loads(pickle.dumps(chains))
    assert copy.n_steps_taken == 4
    np.testing.assert_array_equal(copy.carried, chains.carried)
    np.testing.assert_array_equal(copy.run(6), chains.run(6))
    np.testing.assert_array_equal(copy.acceptance_rate, chains.acceptance_rate)


def test_a_run_reports_its_progress(model, x0, monkeypatch):
    # The bar is made, closed, and changes nothing (the core reports to it every 50 ms).
    seen = []

    class Bar:
        def update_to(self, fraction):
            seen.append(fraction)

        def close(self):
            seen.append("closed")

    monkeypatch.setattr("ebm_swift.samplers._record.progress_bar", lambda on, desc: Bar() if on else None)
    chains = ebm_swift.Chains(model, x0, Langevin(0.05), seed=0)
    quiet = ebm_swift.Chains(model, x0, Langevin(0.05), seed=0)
    np.testing.assert_array_equal(chains.run(3, progress=True), quiet.run(3))
    assert seen and seen[-1] == "closed"
    with pytest.raises(TypeError, match="progress"):
        chains.run(1, progress="yes")


def test_states_are_read_only_copies_and_x0_is_untouched(model, x0):
    x = x0.copy()
    chains = ebm_swift.Chains(model, x, Langevin(0.05), seed=0)
    first = chains.run(1)
    with pytest.raises(ValueError):
        first[0, 0] = 1.0
    kept = first.copy()
    chains.run(1)
    np.testing.assert_array_equal(first, kept)  # a later run does not write into an earlier result
    np.testing.assert_array_equal(x, x0)
    images = ebm_swift.NetworkEnergy(ebm_swift.nn.Sequential(ebm_swift.nn.Flatten(), ebm_swift.nn.Linear(16, 1)),
                                     (1, 4, 4), seed=0)
    assert ebm_swift.Chains(images, np.zeros((3, 1, 4, 4), np.float32), Langevin(0.1), seed=0).run(2).shape == \
        (3, 1, 4, 4)


def test_a_failed_run_changes_nothing(x0):
    # Langevin with an enormous step on a Gaussian overflows float32 within a few steps.
    gauss = ebm_swift.GaussianEnergy([0.0, 0.0], [[1.0, 0.0], [0.0, 1.0]])
    chains = ebm_swift.Chains(gauss, x0, Langevin(1e18), seed=0)
    with pytest.raises(ebm_swift.DivergenceError):
        chains.run(50)
    assert chains.n_steps_taken == 0
    np.testing.assert_array_equal(chains.x, x0)
    # An exception in the user's energy: raised unchanged, nothing moved, the next run works.
    calls = []

    def grad(x):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("boom")
        return x

    user = ebm_swift.CallableEnergy(lambda x: 0.5 * (x ** 2).sum(1), grad, dim=2)
    chains = ebm_swift.Chains(user, x0, Langevin(0.1), seed=0)
    chains.run(1)
    moved = chains.x.copy()
    with pytest.raises(RuntimeError, match="boom"):
        chains.run(5)
    assert chains.n_steps_taken == 1
    np.testing.assert_array_equal(chains.x, moved)
    chains.run(1)
    reference = ebm_swift.Chains(user, x0, Langevin(0.1), seed=0)
    reference.run(2)
    np.testing.assert_array_equal(chains.x, reference.x)


def test_one_run_at_a_time():
    # A run holds the chains: a second thread's run is refused, not interleaved with it.
    inside, release = threading.Event(), threading.Event()

    def grad(x):
        inside.set()
        release.wait(60)
        return x

    user = ebm_swift.CallableEnergy(lambda x: 0.5 * (x ** 2).sum(1), grad, dim=2)
    chains = ebm_swift.Chains(user, np.zeros((4, 2), np.float32), Langevin(0.1), seed=0)
    worker = threading.Thread(target=chains.run)
    worker.start()
    try:
        assert inside.wait(60)
        with pytest.raises(ValueError, match="another thread"):
            chains.run(1)
    finally:
        release.set()
        worker.join(60)
    assert chains.n_steps_taken == 1


def test_bad_arguments_are_refused_by_name(model, x0):
    with pytest.raises(TypeError, match="energy"):
        ebm_swift.Chains("model", x0, Langevin(0.1))
    with pytest.raises(TypeError, match="sampler"):
        ebm_swift.Chains(model, x0, "langevin")
    with pytest.raises(ValueError, match="ReplicaExchange"):
        ebm_swift.Chains(model, x0, ReplicaExchange(0.1, n_replicas=2))
    with pytest.raises(ValueError, match="x0"):
        ebm_swift.Chains(model, np.full((3, 2), np.nan), Langevin(0.1))
    with pytest.raises(ValueError, match="x0"):
        ebm_swift.Chains(model, np.zeros((3, 5)), Langevin(0.1))
    with pytest.raises(ValueError, match="chain_offset"):
        ebm_swift.Chains(model, x0, Langevin(0.1), chain_offset=-1)
    with pytest.raises(TypeError, match="seed"):
        ebm_swift.Chains(model, x0, Langevin(0.1), seed="one")
    chains = ebm_swift.Chains(model, x0, Langevin(0.1), seed=0)
    for bad, error in ((0, ValueError), (-2, ValueError), (1.5, TypeError), (True, TypeError), ("3", TypeError)):
        with pytest.raises(error, match="n_steps"):
            chains.run(bad)
    chains._steps = 2**32 - 3  # near the end of the noise counter
    with pytest.raises(ValueError, match="n_steps must be below 2"):
        chains.run(2)
    assert chains.n_steps_taken == 2**32 - 3
