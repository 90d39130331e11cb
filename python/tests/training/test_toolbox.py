"""Issue-4 toolbox: fit loop, options, schedules, divergence, save/resume, estimator, datasets,
metrics, plots."""

import math
import os
import pickle

import numpy as np
import pytest

import ebm_swift
from ebm_swift import datasets, metrics

DATA = datasets.make_toy("8gaussians", 512, seed=0)


def small_trainer(**kwargs):
    model = ebm_swift.MLPEnergy(2, (32, 32), seed=0)
    args = dict(n_steps=5, buffer_size=1000, init_range=(-4, 4), seed=3)
    args.update(kwargs)
    return ebm_swift.Trainer(model, **args)


def test_fit_history_callback_and_progress(capsys):
    t = small_trainer()
    history = t.fit(DATA, epochs=2, batch_size=100, progress=True)
    steps = 2 * math.ceil(512 / 100)
    assert t.n_iter == steps and t.epochs_done == 2
    assert set(history) == {"loss", "e_data", "e_model", "grad_norm", "lr", "step_time"}
    assert all(len(v) == steps for v in history.values())
    assert all(s > 0 for s in history["step_time"])
    assert "fit" in capsys.readouterr().err
    seen = []
    t.fit(DATA, epochs=5, batch_size=100, progress=False, callback=lambda tr, rec: seen.append(rec) or len(seen) < 3)
    assert len(seen) == 3 and t.n_iter == steps + 3


def test_fit_is_reproducible_and_shuffles():
    a, b = small_trainer(), small_trainer()
    a.fit(DATA, epochs=2, batch_size=64, progress=False)
    b.fit(DATA, epochs=2, batch_size=64, progress=False)
    for k, v in a.energy.parameters().items():
        np.testing.assert_array_equal(v, b.energy.parameters()[k])
    c = small_trainer()
    c.fit(DATA, epochs=2, batch_size=64, shuffle=False, progress=False)
    assert not np.array_equal(c.energy.parameters()["layers.0.weight"], a.energy.parameters()["layers.0.weight"])


def test_short_run_chains_leave_the_buffer_alone():
    """Without persistence the negatives are fresh draws from the init box: with one tiny Langevin
    step, e_model is the mean energy of 64 uniform points on the box (within 5 standard errors of
    a 20 000-point NumPy estimate), and the buffer is untouched."""
    t = small_trainer(persistent=False, buffer_size=16, n_steps=1, step_size=1e-8, init_range=(-2, 2))
    before = t.buffer
    uniform = np.random.default_rng(9).uniform(-2, 2, size=(20_000, 2))
    reference = t.energy.energy(uniform).astype(np.float64)
    stats = t.step(DATA[:64])  # more rows than buffer_size is fine without a buffer
    np.testing.assert_array_equal(t.buffer, before)
    assert abs(stats["e_model"] - reference.mean()) < 5 * reference.std() / np.sqrt(64)


def test_data_noise_is_seeded_and_changes_the_step():
    """Data noise N(0, σ²) on the batch: seeded (the same twice), and of the stated scale. The batch
    is one point repeated, so e_data is the mean energy over 64 noisy copies of it: within 5
    standard deviations of that mean under NumPy's own N(0, σ²) noise (400 draws), and more than 5
    away from it under σ/2."""
    a, b, c = small_trainer(data_noise=0.3), small_trainer(data_noise=0.3), small_trainer()
    ra, rb, rc = a.step(DATA[:64]), b.step(DATA[:64]), c.step(DATA[:64])
    assert ra["e_data"] == rb["e_data"] and ra["e_data"] != rc["e_data"]
    point = np.tile([[1.5, -0.5]], (64, 1)).astype(np.float32)
    sigma = 2.0
    e_data = small_trainer(data_noise=sigma).step(point)["e_data"]
    fresh, rng = small_trainer(), np.random.default_rng(0)  # the same parameters as at that step

    def draws(scale):
        return np.array([fresh.energy.energy(point + scale * rng.normal(size=point.shape)).mean() for _ in range(400)])

    right, half = draws(sigma), draws(sigma / 2)
    assert abs(e_data - right.mean()) < 5 * right.std()
    assert abs(e_data - half.mean()) > 5 * half.std()


def test_mala_negatives():
    """The trainer's MALA negatives are Metropolis-adjusted. On a steep energy (the output layer
    scaled by 1000) one step of size 10 is rejected for every chain, which therefore stays where it
    was, while unadjusted Langevin moves every chain; with a tiny step MALA accepts and moves them."""
    def moved_rows(sampler, step_size):
        t = small_trainer(buffer_size=64, reinit_prob=0.0, n_steps=1, sampler=sampler, step_size=step_size)
        params = t.energy.parameters()
        params["layers.2.weight"] = params["layers.2.weight"] * 1000
        t.energy.set_parameters(params)
        before = t.buffer
        assert np.isfinite(t.step(DATA[:64])["loss"])  # draws all 64 chains
        return int((np.abs(t.buffer - before).max(axis=1) > 0).sum())

    assert moved_rows("mala", 10.0) <= 2
    assert moved_rows("langevin", 10.0) == 64
    assert moved_rows("mala", 1e-6) >= 60


def test_gradient_norm_clipping_caps_the_sgd_step():
    """Plain SGD moves w by lr · g · min(1, c/‖g‖): with a tiny c the parameter change has norm lr·c."""
    t = small_trainer(optimizer="sgd", lr=0.1, clip_grad_norm=1e-3)
    before = np.concatenate([v.ravel() for v in t.energy.parameters().values()])
    stats = t.step(DATA[:64])
    after = np.concatenate([v.ravel() for v in t.energy.parameters().values()])
    assert stats["grad_norm"] > 1e-3
    assert np.linalg.norm(after.astype(np.float64) - before) == pytest.approx(0.1 * 1e-3, rel=1e-2)


def test_schedules_follow_their_formulas_and_drive_the_trainer():
    assert ebm_swift.StepLR(10, 0.5)(25, 1.0) == 0.25
    assert ebm_swift.ExponentialLR(0.9)(3, 2.0) == pytest.approx(2 * 0.9**3)
    cos = ebm_swift.CosineLR(100, eta_min=0.1)
    assert cos(0, 1.0) == 1.0 and cos(50, 1.0) == pytest.approx(0.55) and cos(100, 1.0) == pytest.approx(0.1)
    assert cos(500, 1.0) == pytest.approx(0.1)
    t = small_trainer(lr=1e-2, lr_schedule=ebm_swift.StepLR(2, 0.1))
    for _ in range(5):
        t.step(DATA[:32])
    np.testing.assert_allclose(t.history["lr"], [1e-2, 1e-2, 1e-3, 1e-3, 1e-4])


def test_absurd_learning_rate_raises_training_diverged_and_keeps_finite_parameters():
    t = small_trainer(optimizer="sgd", lr=1e30)
    with pytest.raises(ebm_swift.TrainingDivergedError) as info:
        for _ in range(50):
            before = t.energy.parameters()
            t.step(DATA[:64])
    err = info.value
    assert isinstance(err, ebm_swift.DivergenceError)
    assert err.step == t.n_iter + 1 and err.quantity in {"samples", "energy", "gradient", "parameters"}
    assert err.site in {"langevin", "training"}  # the structured report, not parsed from the message
    for k, v in t.energy.parameters().items():
        assert np.isfinite(v).all()
        np.testing.assert_array_equal(v, before[k])


def test_save_load_continue_is_bit_identical(tmp_path):
    a = small_trainer(lr_schedule=ebm_swift.CosineLR(40), data_noise=0.05)
    a.fit(DATA, epochs=1, batch_size=64, progress=False)
    path = tmp_path / "run.npz"
    a.save(path)
    a.fit(DATA, epochs=2, batch_size=64, progress=False)
    b = ebm_swift.load(path)
    assert isinstance(b, ebm_swift.Trainer) and b.n_iter == 8 and b.epochs_done == 1
    b.fit(DATA, epochs=2, batch_size=64, progress=False)
    for k, v in a.energy.parameters().items():
        np.testing.assert_array_equal(v, b.energy.parameters()[k])
    np.testing.assert_array_equal(a.buffer, b.buffer)
    assert a.history["loss"] == b.history["loss"]
    # Pickle resumes exactly too.
    c = pickle.loads(pickle.dumps(a))
    ra, rc = a.step(DATA[:64]), c.step(DATA[:64])
    assert {k: v for k, v in ra.items() if k != "step_time"} == {k: v for k, v in rc.items() if k != "step_time"}


def test_model_save_load(tmp_path):
    m = ebm_swift.MLPEnergy(3, (8, 4), "gelu", seed=2)
    ebm_swift.save(m, tmp_path / "m.npz")
    m2 = ebm_swift.load(tmp_path / "m.npz")
    x = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_array_equal(m.energy(x), m2.energy(x))
    assert m2.activation == "gelu" and m2.hidden == (8, 4)


def test_corrupted_and_foreign_files_raise_and_failed_saves_keep_the_old_file(tmp_path, monkeypatch):
    good = tmp_path / "good.npz"
    t = small_trainer()
    t.save(good)
    content = good.read_bytes()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(content[: len(content) // 2])
    with pytest.raises(ValueError, match="not a readable ebm_swift file"):
        ebm_swift.load(truncated)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, a=np.zeros(3))
    with pytest.raises(ValueError, match="not an ebm_swift file"):
        ebm_swift.load(foreign)
    text = tmp_path / "text.npz"
    text.write_text("hello")
    with pytest.raises(ValueError):
        ebm_swift.load(text)
    with pytest.raises(FileNotFoundError):
        ebm_swift.load(tmp_path / "missing.npz")

    def broken_savez(f, **kw):
        f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        t.save(good)
    monkeypatch.undo()
    assert good.read_bytes() == content, "a failed save must not touch the existing file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["foreign.npz", "good.npz", "text.npz", "truncated.npz"]
    assert ebm_swift.load(good).n_iter == 0


def test_estimator_conventions(tmp_path):
    est = ebm_swift.EnergyBasedModel(hidden=(32,), epochs=2, batch_size=64, n_steps=5, random_state=0)
    assert est.get_params()["hidden"] == (32,) and not hasattr(est, "model_")
    with pytest.raises(RuntimeError, match="not fitted"):
        est.score_samples(DATA)
    assert est.fit(DATA) is est
    assert est.n_features_in_ == 2 and est.trainer_.n_iter == 2 * 8
    scores = est.score_samples(DATA[:10])
    np.testing.assert_allclose(scores, -est.model_.energy(DATA[:10]), rtol=1e-6)
    assert est.partial_fit(DATA) is est and est.trainer_.n_iter == 3 * 8
    assert est.sample(50, n_steps=20, seed=0).shape == (50, 2)
    assert est.set_params(epochs=1) is est and est.epochs == 1
    with pytest.raises(ValueError, match="invalid parameter"):
        est.set_params(nope=1)
    est.save(tmp_path / "est.npz")
    again = ebm_swift.load(tmp_path / "est.npz")
    np.testing.assert_array_equal(again.score_samples(DATA[:10]), scores if False else est.score_samples(DATA[:10]))
    clone = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(clone.score_samples(DATA[:10]), est.score_samples(DATA[:10]))
    # Same random_state, same fit.
    a = ebm_swift.EnergyBasedModel(hidden=(16,), epochs=1, batch_size=64, n_steps=3, random_state=5).fit(DATA)
    b = ebm_swift.EnergyBasedModel(hidden=(16,), epochs=1, batch_size=64, n_steps=3, random_state=5).fit(DATA)
    np.testing.assert_array_equal(a.score_samples(DATA), b.score_samples(DATA))


def test_estimator_with_scikit_learn():
    sklearn = pytest.importorskip("sklearn")
    from sklearn.base import clone
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    est = ebm_swift.EnergyBasedModel(hidden=(16,), epochs=1, batch_size=64, n_steps=3, random_state=1)
    c = clone(est)
    assert c.get_params() == est.get_params() and c is not est
    pipe = make_pipeline(StandardScaler(), est).fit(DATA)
    scores = pipe.score_samples(DATA[:20])
    assert scores.shape == (20,) and np.isfinite(scores).all()
    assert sklearn.__version__


@pytest.mark.parametrize("name", sorted(datasets.TOY_DATASETS))
def test_toy_datasets(name):
    x = datasets.make_toy(name, 1000, seed=0)
    assert x.shape == (1000, 2) and x.dtype == np.float32 and np.isfinite(x).all()
    assert np.abs(x).max() < 5.0
    np.testing.assert_array_equal(x, datasets.make_toy(name, 1000, seed=0))
    assert not np.array_equal(x, datasets.make_toy(name, 1000, seed=1))


def test_load_digits():
    pytest.importorskip("sklearn")
    X, y = datasets.load_digits(return_labels=True)
    assert X.shape == (1797, 64) and X.dtype == np.float32 and y.shape == (1797,)
    assert X.min() == -1.0 and X.max() == 1.0


def test_log_likelihood_2d_is_exact_for_a_gaussian():
    mean, cov = np.array([0.5, -0.3]), np.array([[1.0, 0.4], [0.4, 0.6]])
    g = ebm_swift.GaussianEnergy(mean, cov)
    x = np.random.default_rng(0).multivariate_normal(mean, cov, size=500)
    d = x - mean
    exact = np.mean(-0.5 * np.einsum("ni,ij,nj->n", d, np.linalg.inv(cov), d)) - g.log_z
    assert metrics.log_likelihood_2d(g, x, bounds=(-8, 8), grid=800) == pytest.approx(exact, abs=1e-4)
    assert metrics.log_partition_2d(g, bounds=(-8, 8), grid=800) == pytest.approx(g.log_z, abs=1e-5)


def test_mmd():
    rng = np.random.default_rng(0)
    x, y, z = rng.normal(size=(400, 2)), rng.normal(size=(400, 2)), rng.normal(size=(400, 2)) + 1.0
    same, different = metrics.mmd(x, y), metrics.mmd(x, z)
    assert abs(same) < 0.01 and different > 0.1
    with pytest.raises(ValueError):
        metrics.mmd(x, np.zeros((10, 3)))


def test_plots_draw():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ebm_swift import plots

    t = small_trainer()
    t.fit(DATA, epochs=1, batch_size=128, progress=False)
    fig, axes = plt.subplots(1, 4)
    assert plots.plot_energy_2d(t.energy, grid=50, ax=axes[0]).collections
    assert len(plots.plot_samples(DATA, DATA[::-1], ax=axes[1]).collections) == 2
    assert len(plots.plot_history(t.history, ax=axes[2]).lines) == 3
    img = plots.plot_image_grid(np.zeros((12, 64)), columns=5, ax=axes[3]).images[0].get_array()
    assert img.shape == (3 * 9, 5 * 9)
    plt.close(fig)
    # Image batches (n, 1, h, w): the tile size comes from the batch; each tile shows its image.
    fig, axes = plt.subplots(1, 2)
    batch = np.arange(3 * 5 * 4, dtype=np.float32).reshape(3, 1, 5, 4) / 60
    grid = plots.plot_image_grid(batch, columns=2, ax=axes[0]).images[0].get_array()
    assert grid.shape == (2 * 6, 2 * 5)
    np.testing.assert_array_equal(grid[6:11, 0:4], batch[2, 0])
    with pytest.raises(ValueError, match="images must be"):
        plots.plot_image_grid(np.zeros((3, 10)))
    hist = plots.plot_energy_histogram(t.energy, data=DATA[:100], noise=DATA[:50] * 3, ax=axes[1])
    assert len(hist.patches) == 2 * 50 and [x.get_text().split()[0] for x in hist.get_legend().get_texts()] == ["data", "noise"]
    plt.close(fig)


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        (dict(data_noise=-0.1), ValueError, "data_noise"),
        (dict(sampler="replica_exchange"), ValueError, "sampler"),
        (dict(sampler="gibbs"), ValueError, "sampler"),
        (dict(clip_grad_norm=0.0), ValueError, "clip_grad_norm"),
        (dict(lr_schedule="cosine"), TypeError, "lr_schedule"),
        (dict(optimizer="adamw"), ValueError, "optimizer"),
    ],
)
def test_option_validation(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        small_trainer(**kwargs)


def test_fit_validation():
    t = small_trainer(buffer_size=100)
    with pytest.raises(ValueError, match="larger than the data"):
        t.fit(DATA[:50], batch_size=64)
    with pytest.raises(ValueError, match="buffer_size"):
        t.fit(DATA, batch_size=200)
    with pytest.raises(ValueError, match="epochs"):
        t.fit(DATA, epochs=0, batch_size=64)
    with pytest.raises(TypeError, match="callback"):
        t.fit(DATA, batch_size=64, callback=3)
    with pytest.raises(ValueError, match="StepLR|step_size"):
        ebm_swift.StepLR(0)
    with pytest.raises(ValueError, match="init_range"):
        ebm_swift.EnergyBasedModel(init_range="wide").fit(DATA)
    assert t.n_iter == 0
