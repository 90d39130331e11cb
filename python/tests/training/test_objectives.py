"""Training objectives beyond contrastive divergence (Trainer(objective=...)): denoising and sliced
score matching, noise-contrastive estimation, and the moving average of the weights.

Each objective's gradient is checked against central differences of its own reported loss (the
step's random draws are keyed by the seed and the step, so trainers built from perturbed weights
see the same noise); each learns the right density (exact held-out log-likelihood on toy sets
beside maximum likelihood, a closed form for DSM on a Gaussian); and the trainer's guarantees
(determinism across threads, divergence guard, exact resume, argument checks) hold for each.
"""

import numpy as np
import pytest

import ebm_swift
from ebm_swift import datasets, metrics
from ebm_swift.objectives import DRL
from distributions import density_moments_1d
from toy_baselines import SETTINGS as ML_SETTINGS, gaussian_log_likelihood

OBJECTIVES = {
    "dsm": dict(objective="dsm", sigma=0.1),
    "dsm_multiscale": dict(objective="dsm", sigma=np.geomspace(1.0, 0.05, 5)),
    "ssm": dict(objective="ssm", n_projections=2),
    "ssm_vr": dict(objective="ssm", projection="gaussian"),
    "nce": dict(objective="nce", noise_ratio=3),
    # A Langevin step this small leaves the negatives at their anchors (moves ~1e-5), so the
    # reported loss E(y⁺) − E(y⁻) differentiates to the step's gradient (the generic check below).
    "drl": dict(objective=DRL(sigmas=(0.1, 0.3), n_steps=3, step_scale=1e-4)),
}


def toy_batch(n=256, seed=0):
    return datasets.make_toy("8gaussians", n, seed=seed).astype(np.float64)


def flat(params):
    return np.concatenate([v.ravel() for v in params.values()]).astype(np.float64)


@pytest.mark.parametrize("name", list(OBJECTIVES))
def test_the_step_descends_the_gradient_of_its_own_loss(name):
    """SGD with lr = 1 moves the weights by exactly −∇L; the loss the step reports, from trainers
    built on weights moved by ±h along a coordinate (same seed and step, so the same noise),
    differentiates to the same value. h = 3e-3: truncation h²·L'''/6 ~ 1e-6, float32 rounding of
    the reported loss ~1e-6·|L|/h ~ 1e-3·|L|; the tolerance is 2 % of the largest entry."""
    x = toy_batch()
    template = ebm_swift.MLPEnergy(2, hidden=(16, 16), seed=1)
    start = template.parameters()
    names = list(start)
    w0 = flat(start)

    def trainer_at(w):
        energy = ebm_swift.MLPEnergy(2, hidden=(16, 16), seed=1)
        energy.set_parameters(template._split(w.astype(np.float32)))
        return energy, ebm_swift.Trainer(energy, lr=1.0, optimizer="sgd", seed=4, **OBJECTIVES[name])

    energy, trainer = trainer_at(w0)
    trainer.step(x)
    g = w0 - flat(energy.parameters())
    assert np.abs(g).max() > 1e-3, "the step did not move the weights"
    rng = np.random.default_rng(0)
    picks = list(np.argsort(-np.abs(g))[:4]) + list(rng.choice(len(g), 4, replace=False))
    h = 3e-3
    for k in picks:
        step = np.zeros_like(w0)
        step[k] = h
        plus = trainer_at(w0 + step)[1].step(x)["loss"]
        minus = trainer_at(w0 - step)[1].step(x)["loss"]
        fd = (plus - minus) / (2 * h)
        assert fd == pytest.approx(g[k], abs=2e-2 * np.abs(g).max()), f"{names} coordinate {k}"


@pytest.fixture(scope="module")
def toy_results():
    """Held-out log-likelihood margins over the fitted Gaussian of the four objectives on three toy
    sets, same network (2 → 128 → 128 → 1, SiLU), seed and budget (3000 steps of 256 rows)."""
    results = {}
    for toy in ("8gaussians", "2spirals", "rings"):
        train = datasets.make_toy(toy, 20_000, seed=0).astype(np.float64)
        test = datasets.make_toy(toy, 5_000, seed=1).astype(np.float64)
        gauss = gaussian_log_likelihood(train, test)
        for objective, settings in [("ml", ML_SETTINGS), ("dsm", dict(objective="dsm", sigma=0.1)),
                                    ("ssm", dict(objective="ssm")), ("nce", dict(objective="nce"))]:
            if objective != "ml":
                settings = dict(lr=2e-3, betas=(0.0, 0.999), **settings)
            model = ebm_swift.MLPEnergy(2, (128, 128), "swish", seed=0)
            trainer = ebm_swift.Trainer(model, seed=0, **settings)
            rng = np.random.default_rng(0)
            for _ in range(3000):
                trainer.step(train[rng.integers(0, len(train), 256)])
            results[toy, objective] = metrics.log_likelihood_2d(model, test, bounds=(-6, 6), grid=600) - gauss
    return results


@pytest.mark.slow
@pytest.mark.parametrize("toy", ["8gaussians", "2spirals", "rings"])
def test_each_objective_learns_the_density(toy, toy_results):
    """Issue 12: DSM, SSM and NCE each reach at least 60 % of the margin over the fitted Gaussian
    that maximum likelihood reaches with the same network and number of steps (measured at 3000
    steps: 8gaussians ML 1.34, DSM 1.24, SSM 1.35, NCE 1.41; 2spirals 0.75, 0.77, 0.85, 0.78;
    rings 0.24, 0.46, 0.32, 0.33 nats). Score matching is blind to the relative mass of regions
    its score cannot connect: on the checkerboard (flat squares, sharp edges) SSM reached 0.14
    where ML reached 0.80, which is why that set is not among these."""
    margins = {o: toy_results[toy, o] for o in ("ml", "dsm", "ssm", "nce")}
    print(f"\n{toy:12s} margin over the fitted Gaussian (nats/point): "
          + " | ".join(f"{o.upper()} {m:.3f}" for o, m in margins.items()))
    assert margins["ml"] > 0.1
    for objective in ("dsm", "ssm", "nce"):
        assert margins[objective] >= 0.6 * margins["ml"], (objective, margins)


def test_dsm_learns_the_data_with_the_noise_variance_added():
    """The minimiser of DSM at one σ is the data convolved with N(0, σ²): on N(1.5, 0.7²) data the
    model's mean is the data's and its variance the data's plus σ² = 0.09 (by quadrature of
    exp(−E)). Measured over seeds 0–2: mean within 0.006, variance within 0.008 of that; the
    tolerances (0.02, 0.025) keep the variance 0.065 away from the unbiased 0.49."""
    rng = np.random.default_rng(0)
    X = rng.normal(1.5, 0.7, size=(20000, 1))
    sigma = 0.3
    model = ebm_swift.MLPEnergy(1, hidden=(32, 32), activation="softplus", seed=0)
    trainer = ebm_swift.Trainer(model, objective="dsm", sigma=sigma, lr=3e-3, seed=0,
                                lr_schedule=ebm_swift.CosineLR(t_max=2000, eta_min=1e-5))
    for _ in range(2000):
        trainer.step(X[rng.integers(0, len(X), 512)])
    mean, var = density_moments_1d(model)
    assert mean == pytest.approx(X.mean(), abs=0.02)
    assert var == pytest.approx(X.var() + sigma**2, abs=0.025)
    assert abs(var - X.var()) > 0.06


def test_nce_learns_the_log_normaliser():
    """NCE's c estimates ln Z of the learned exp(−E) (quadrature): measured 0.046 against 0.048."""
    rng = np.random.default_rng(0)
    X = rng.normal(1.5, 0.7, size=(4000, 1))
    model = ebm_swift.MLPEnergy(1, hidden=(32, 32), seed=0)
    trainer = ebm_swift.Trainer(model, objective="nce", noise_ratio=4, lr=3e-3, seed=0)
    assert trainer.log_normaliser is None  # the noise is fitted to the first data
    trainer.fit(X, epochs=60, batch_size=256, progress=False)
    grid = np.linspace(-4, 7, 8001)
    log_z = np.log(np.exp(-model.energy(grid[:, None]).astype(np.float64)).sum() * (grid[1] - grid[0]))
    assert trainer.log_normaliser == pytest.approx(log_z, abs=0.05)
    mean, cov = trainer.noise
    np.testing.assert_allclose(mean, X.mean(0))
    np.testing.assert_allclose(cov, np.cov(X.T) * (1 + 1e-3), rtol=1e-9)


@pytest.mark.parametrize("name", list(OBJECTIVES))
def test_steps_are_identical_for_one_and_two_threads(name):
    x = toy_batch(300)
    runs, default = [], ebm_swift.get_num_threads()
    try:
        for threads in (1, 2):
            ebm_swift.set_num_threads(threads)
            energy = ebm_swift.MLPEnergy(2, hidden=(32,), seed=0)
            trainer = ebm_swift.Trainer(energy, seed=3, **OBJECTIVES[name])
            losses = [trainer.step(x)["loss"] for _ in range(3)]
            runs.append((losses, flat(energy.parameters())))
    finally:
        ebm_swift.set_num_threads(default)
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


@pytest.mark.parametrize("name", list(OBJECTIVES))
def test_a_divergent_step_is_rolled_back(name):
    """With a learning rate near float32's largest value the weights blow up within a few steps;
    the step that meets a NaN or infinity (in the update, or in the energies or gradient of the
    blown-up model) raises and leaves the model, history and log-normaliser as they were."""
    energy = ebm_swift.MLPEnergy(2, hidden=(16,), seed=0)
    trainer = ebm_swift.Trainer(energy, optimizer="sgd", lr=1e-3, seed=0, **OBJECTIVES[name])
    trainer.step(toy_batch())
    trainer.lr = 3e38  # each step's learning rate
    for attempt in range(6):
        before, c = flat(energy.parameters()), trainer.log_normaliser
        history = {k: list(v) for k, v in trainer.history.items()}
        try:
            trainer.step(toy_batch(seed=attempt + 1))
        except ebm_swift.TrainingDivergedError as exc:
            assert exc.quantity in ("parameters", "energy", "gradient") and exc.step == attempt + 2
            break
    else:
        pytest.fail("the steps never diverged")
    np.testing.assert_array_equal(flat(energy.parameters()), before)
    assert trainer.n_iter == attempt + 1 and trainer.history == history
    assert trainer.log_normaliser == c or (np.isnan(c) and np.isnan(trainer.log_normaliser))


@pytest.mark.parametrize("name", list(OBJECTIVES) + ["ema"])
def test_save_and_resume_continue_exactly(name, tmp_path):
    settings = OBJECTIVES.get(name, dict(objective="dsm", ema_decay=0.95))
    x = toy_batch(512)

    def run(split):
        energy = ebm_swift.MLPEnergy(2, hidden=(16,), seed=0)
        trainer = ebm_swift.Trainer(energy, seed=2, **settings)
        for i in range(6):
            if i == split:
                trainer.save(tmp_path / f"{name}.npz")
                trainer = ebm_swift.load(tmp_path / f"{name}.npz")
            trainer.step(x[(i % 4) * 128:(i % 4 + 1) * 128])
        return trainer

    whole, resumed = run(None), run(3)
    np.testing.assert_array_equal(flat(whole.energy.parameters()), flat(resumed.energy.parameters()))
    assert whole.history["loss"] == resumed.history["loss"]
    assert whole.log_normaliser == resumed.log_normaliser
    if name == "ema":
        np.testing.assert_array_equal(flat(whole.averaged_parameters()), flat(resumed.averaged_parameters()))


def test_the_moving_average_follows_every_update():
    """w̄₀ = w₀, then w̄ ← β w̄ + (1 − β) w after each update (float32 arithmetic)."""
    x = toy_batch()
    energy = ebm_swift.MLPEnergy(2, hidden=(16,), seed=0)
    trainer = ebm_swift.Trainer(energy, objective="ssm", ema_decay=0.9, optimizer="sgd", lr=1e-2, seed=0)
    average = flat(energy.parameters())
    for i in range(3):
        trainer.step(x)
        average = 0.9 * average + 0.1 * flat(energy.parameters())
        np.testing.assert_allclose(flat(trainer.averaged_parameters()), average, rtol=1e-5, atol=1e-7)
    copy = trainer.averaged_energy()
    np.testing.assert_allclose(flat(copy.parameters()), average, rtol=1e-5, atol=1e-7)
    trainer.step(x)  # the copy is a snapshot
    np.testing.assert_allclose(flat(copy.parameters()), average, rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="ema_decay"):
        ebm_swift.Trainer(energy).averaged_parameters()


def test_score_objectives_sample_nothing_and_report_no_model_energy():
    energy = ebm_swift.MLPEnergy(2, hidden=(16,), seed=0)
    trainer = ebm_swift.Trainer(energy, objective="dsm", buffer_size=10, seed=0)
    record = trainer.step(toy_batch(64))  # more rows than buffer_size: no chains are drawn
    assert np.isnan(record["e_model"]) and np.isfinite(record["loss"])
    with pytest.raises(ValueError, match="samples no negatives and keeps no buffer"):
        trainer.buffer
    nce = ebm_swift.Trainer(energy, objective="nce", seed=0)
    assert np.isfinite(nce.step(toy_batch(64))["e_model"])  # NCE's noise samples


def test_network_energies_train_with_every_objective():
    net = ebm_swift.nn.Sequential(ebm_swift.nn.Conv2d(1, 4, 3, padding=1), ebm_swift.nn.SiLU(),
                                  ebm_swift.nn.AvgPool2d(2), ebm_swift.nn.Flatten(), ebm_swift.nn.Linear(16, 1))
    x = np.random.default_rng(0).uniform(-1, 1, size=(32, 1, 4, 4))
    for settings in OBJECTIVES.values():
        energy = ebm_swift.NetworkEnergy(net, (1, 4, 4), seed=0)
        trainer = ebm_swift.Trainer(energy, seed=0, **settings)
        before = flat(energy.parameters())
        record = trainer.step(x)
        assert np.isfinite(record["loss"]) and not np.array_equal(flat(energy.parameters()), before)


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(objective="cd"), ValueError, "objective must be one of"),
    (dict(objective=None), ValueError, "objective must be one of"),
    (dict(objective="dsm", sigma=0.0), ValueError, "sigma must be"),
    (dict(objective="dsm", sigma=[0.5, -1.0]), ValueError, r"sigma\[1\]"),
    (dict(objective="dsm", sigma=[]), ValueError, "sigma"),
    (dict(objective="dsm", sigma="big"), TypeError, "sigma"),
    (dict(sigma=0.1), ValueError, "sigma is the noise scale of objective='dsm'"),
    (dict(objective="ssm", n_projections=0), ValueError, "n_projections"),
    (dict(objective="ssm", n_projections=1.5), TypeError, "n_projections"),
    (dict(objective="ssm", n_projections=2000), ValueError, "n_projections"),
    (dict(objective="ssm", projection="uniform"), ValueError, "projection must be one of"),
    (dict(objective="nce", noise_ratio=0), ValueError, "noise_ratio"),
    (dict(objective="nce", noise=(np.zeros(3), np.eye(3))), ValueError, "noise must be"),
    (dict(objective="nce", noise=(np.zeros(2), -np.eye(2))), ValueError, "positive definite"),
    (dict(objective="nce", noise=(np.zeros(2), [[1, 0.5], [0, 1]])), ValueError, "symmetric"),
    (dict(objective="nce", noise=np.eye(2)), ValueError, "noise must be"),
    (dict(noise=(np.zeros(2), np.eye(2))), ValueError, "objective='nce'"),
    (dict(objective="dsm", alpha=0.1), ValueError, "alpha"),
    (dict(ema_decay=1.0), ValueError, "ema_decay"),
    (dict(ema_decay=-0.5), ValueError, "ema_decay"),
])
def test_bad_objective_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ebm_swift.Trainer(ebm_swift.MLPEnergy(2, hidden=(8,), seed=0), **kwargs)


def test_an_nce_trainer_saved_before_its_first_step_fits_its_noise_when_it_trains(tmp_path):
    trainer = ebm_swift.Trainer(ebm_swift.MLPEnergy(2, hidden=(8,), seed=0), objective="nce")
    trainer.save(tmp_path / "t.npz")
    loaded = ebm_swift.load(tmp_path / "t.npz")
    assert loaded.noise is None
    data = np.random.default_rng(0).normal(loc=3.0, size=(256, 2)).astype(np.float32)
    loaded.step(data)
    np.testing.assert_allclose(loaded.noise[0], data.mean(axis=0), rtol=1e-5)
