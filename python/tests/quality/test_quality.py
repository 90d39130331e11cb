"""Training quality measured exactly (issue 4): held-out log-likelihood of trained models on 2-D
toy sets by quadrature, beside a full-covariance Gaussian and a Gaussian KDE; and digits against
noise and pixel-shuffled digits by AUROC. These are the slowest tests (about 4 minutes)."""

import time

import numpy as np
import pytest

import ebm_swift
from ebm_swift import datasets, metrics

from toy_baselines import SETTINGS, gaussian_log_likelihood

pytestmark = pytest.mark.slow  # a long run: `make test-fast` skips it

# A fixed number of steps (about 45 s each on a 2-core machine) keeps the test deterministic.
STEPS = 8000

# The best any model can do here is the true density's log-likelihood. Its margin over the fitted
# Gaussian is 0.97 nats for `rings` (computed with the exact ring density, Bessel I0) and
# log 2 + log(2πe/12) = 1.05 nats for `checkerboard`. The margin a persistent-chain EBM reaches
# after a fixed number of steps varies with the seed (the model at the last step is one point of
# a fluctuating trajectory); measured with these settings for seeds 0, 1, 2 (model, trainer and
# batches): 8gaussians 1.35 / 1.36 / 1.37, 2spirals 0.97 / 0.89 / 0.74, checkerboard 0.87 / 0.82 /
# 0.86, rings 0.53 / 0.46 / 0.86. The required margins sit below the worst of those seeds.
REQUIRED_MARGIN = {"8gaussians": 1.0, "2spirals": 0.65, "rings": 0.4, "checkerboard": 0.75}


@pytest.mark.parametrize("name", ["8gaussians", "rings", "2spirals", "checkerboard"])
def test_toy_log_likelihood_beats_gaussian_and_kde(name):
    scipy_stats = pytest.importorskip("scipy.stats")
    train = datasets.make_toy(name, 20_000, seed=0).astype(np.float64)
    test = datasets.make_toy(name, 5_000, seed=1).astype(np.float64)
    model = ebm_swift.MLPEnergy(2, (128, 128), "swish", seed=0)
    trainer = ebm_swift.Trainer(model, seed=0, **SETTINGS)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(STEPS):
        trainer.step(train[rng.integers(0, len(train), 256)])
    seconds = time.perf_counter() - start
    ll = metrics.log_likelihood_2d(model, test, bounds=(-6, 6), grid=600)
    gauss = gaussian_log_likelihood(train, test)
    kde = float(np.mean(np.log(scipy_stats.gaussian_kde(train[:5000].T)(test.T))))  # Scott's rule
    print(f"\n{name:12s} held-out log-likelihood (nats/point): model {ll:.3f} | Gaussian {gauss:.3f} | "
          f"KDE {kde:.3f} | margin over Gaussian {ll - gauss:.3f} | {STEPS} steps in {seconds:.0f} s")
    assert ll > gauss + REQUIRED_MARGIN[name]
    assert ll > kde


def test_trainer_with_hmc_negatives_trains_the_8_gaussians():
    """Issue 11: the trainer with HMC negatives (2 trajectories of 10 leapfrog steps per training
    step: the 20 gradients of the default Langevin setting) meets the same criterion as above on
    the 8-Gaussian ring: margin over the Gaussian ≥ 1.0 nats and above the KDE (measured: 1.26 at
    2000 steps for step sizes 0.05 and 0.1)."""
    scipy_stats = pytest.importorskip("scipy.stats")
    train = datasets.make_toy("8gaussians", 20_000, seed=0).astype(np.float64)
    test = datasets.make_toy("8gaussians", 5_000, seed=1).astype(np.float64)
    model = ebm_swift.MLPEnergy(2, (128, 128), "swish", seed=0)
    settings = {**SETTINGS, "n_steps": 2, "step_size": 0.1}
    trainer = ebm_swift.Trainer(model, seed=0, sampler="hmc", n_leapfrog=10, **settings)
    rng = np.random.default_rng(0)
    for _ in range(2500):
        trainer.step(train[rng.integers(0, len(train), 256)])
    ll = metrics.log_likelihood_2d(model, test, bounds=(-6, 6), grid=600)
    gauss = gaussian_log_likelihood(train, test)
    kde = float(np.mean(np.log(scipy_stats.gaussian_kde(train[:5000].T)(test.T))))
    print(f"\n8gaussians with HMC negatives: model {ll:.3f} | Gaussian {gauss:.3f} | KDE {kde:.3f} | "
          f"margin {ll - gauss:.3f}")
    assert ll > gauss + REQUIRED_MARGIN["8gaussians"]
    assert ll > kde


def test_trainer_with_kinetic_langevin_negatives_trains_the_8_gaussians():
    """Issue 20: kinetic Langevin negatives (OBABO, unadjusted, friction 1; 10 steps of h = 0.1:
    half the gradients of the default Langevin setting) meet the same criterion (measured: margin
    1.34 at 2500 steps; 1.34 with 20 steps of 0.05, 1.35 with 10 of 0.2 at friction 2)."""
    scipy_stats = pytest.importorskip("scipy.stats")
    train = datasets.make_toy("8gaussians", 20_000, seed=0).astype(np.float64)
    test = datasets.make_toy("8gaussians", 5_000, seed=1).astype(np.float64)
    model = ebm_swift.MLPEnergy(2, (128, 128), "swish", seed=0)
    settings = {**SETTINGS, "n_steps": 10, "step_size": 0.1}
    trainer = ebm_swift.Trainer(model, seed=0, sampler="kinetic_langevin", **settings)
    rng = np.random.default_rng(0)
    for _ in range(2500):
        trainer.step(train[rng.integers(0, len(train), 256)])
    ll = metrics.log_likelihood_2d(model, test, bounds=(-6, 6), grid=600)
    gauss = gaussian_log_likelihood(train, test)
    kde = float(np.mean(np.log(scipy_stats.gaussian_kde(train[:5000].T)(test.T))))
    print(f"\n8gaussians with kinetic Langevin negatives: model {ll:.3f} | Gaussian {gauss:.3f} | KDE {kde:.3f} | "
          f"margin {ll - gauss:.3f}")
    assert ll > gauss + REQUIRED_MARGIN["8gaussians"]
    assert ll > kde


def test_digits_scores_separate_digits_from_noise_and_shuffled_digits():
    roc_auc_score = pytest.importorskip("sklearn.metrics").roc_auc_score
    X = datasets.load_digits()
    rng = np.random.default_rng(0)
    order = rng.permutation(len(X))
    train, test = X[order[:1500]], X[order[1500:]]
    est = ebm_swift.EnergyBasedModel(hidden=(256, 256), epochs=200, batch_size=128, n_steps=20, step_size=0.01,
                                     lr=1e-4, alpha=1.0, data_noise=0.03, init_range=(-1, 1), buffer_size=5000,
                                     random_state=0)
    start = time.perf_counter()
    est.fit(train)
    seconds = time.perf_counter() - start
    noise = rng.uniform(-1, 1, size=test.shape)
    shuffled = np.array([row[rng.permutation(64)] for row in test])
    labels = np.r_[np.ones(len(test)), np.zeros(len(test))]
    results = {}
    for name, negatives in [("uniform noise", noise), ("shuffled pixels", shuffled)]:
        results[name] = roc_auc_score(labels, np.r_[est.score_samples(test), est.score_samples(negatives)])
    print(f"\ndigits: {est.trainer_.n_iter} steps in {seconds:.0f} s; AUROC " +
          ", ".join(f"{k} {v:.4f}" for k, v in results.items()))
    assert all(v >= 0.99 for v in results.values()), results
