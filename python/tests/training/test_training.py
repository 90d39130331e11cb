"""Trainer: the update is the seed's gradient, runs are reproducible, and training learns."""

import numpy as np
import pytest

import ebm_swift
from reference import backward, forward

CENTRES = 2 * np.sqrt(2) * np.stack([np.cos(np.arange(8) * np.pi / 4), np.sin(np.arange(8) * np.pi / 4)], axis=1)


@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_sgd_update_is_minus_lr_times_loss_gradient(alpha, rng):
    """With buffer_size == batch size and no re-initialisation every chain is drawn, so after the
    step the buffer holds exactly the negatives (in some order; the loss is order-free). Plain SGD
    moves w by −lr ∇w L, with L = mean E(x⁺) − mean E(x⁻) + α (mean E(x⁺)² + mean E(x⁻)²),
    computed here by the NumPy reference from the parameters before the step."""
    model = ebm_swift.MLPEnergy(2, (16, 8), "tanh", seed=3)
    before = model.parameters()
    x = rng.normal(size=(32, 2)).astype(np.float32)
    lr = 1e-2
    trainer = ebm_swift.Trainer(model, optimizer="sgd", lr=lr, buffer_size=32, reinit_prob=0.0,
                                n_steps=3, init_range=(-2, 2), alpha=alpha, seed=1)
    stats = trainer.step(x)
    neg = trainer.buffer.astype(np.float64)
    e_pos, _ = forward(before, "tanh", x)
    e_neg, _ = forward(before, "tanh", neg)
    n = len(x)
    _, g_pos = backward(before, "tanh", x, (1 + 2 * alpha * e_pos) / n)
    _, g_neg = backward(before, "tanh", neg, (-1 + 2 * alpha * e_neg) / n)
    after = model.parameters()
    norm = 0.0
    for name in before:
        grad = g_pos[name] + g_neg[name]
        norm += float((grad**2).sum())
        step = after[name].astype(np.float64) - before[name]
        np.testing.assert_allclose(step, -lr * grad, rtol=0, atol=1e-3 * lr * max(1.0, np.abs(grad).max()), err_msg=name)
    assert stats["e_data"] == pytest.approx(e_pos.mean(), abs=1e-5)
    assert stats["e_model"] == pytest.approx(e_neg.mean(), abs=1e-5)
    loss = e_pos.mean() - e_neg.mean() + alpha * ((e_pos**2).mean() + (e_neg**2).mean())
    assert stats["loss"] == pytest.approx(loss, abs=1e-5)
    assert stats["grad_norm"] == pytest.approx(np.sqrt(norm), rel=1e-4)


def test_same_seed_same_run():
    data = ebm_swift.datasets.make_toy("8gaussians", 512, seed=0)

    def run(seed):
        model = ebm_swift.MLPEnergy(2, (32, 32), seed=0)
        trainer = ebm_swift.Trainer(model, buffer_size=1000, init_range=(-4, 4), seed=seed)
        history = [{k: v for k, v in trainer.step(data[i * 64 : (i + 1) * 64]).items() if k != "step_time"}
                   for i in range(8)]
        return history, model.parameters(), trainer.buffer

    h1, p1, b1 = run(7)
    h2, p2, b2 = run(7)
    h3, _, _ = run(8)
    assert h1 == h2 and h1 != h3
    for k in p1:
        np.testing.assert_array_equal(p1[k], p2[k])
    np.testing.assert_array_equal(b1, b2)


def test_buffer_starts_uniform_and_is_a_copy():
    trainer = ebm_swift.Trainer(ebm_swift.MLPEnergy(3, (8,), seed=0), buffer_size=5000, init_range=(-2, 3), seed=0)
    buf = trainer.buffer
    assert buf.shape == (5000, 3) and buf.dtype == np.float32
    assert buf.min() > -2 and buf.max() < 3
    # Uniform on (−2, 3): mean 0.5, sd 5/sqrt(12); 15 000 values → SE of the mean 0.012.
    assert buf.mean() == pytest.approx(0.5, abs=0.06)
    buf[:] = 0
    assert trainer.buffer.max() > 0
    assert trainer.n_iter == 0


def test_divergent_learning_rate_is_reported_and_parameters_stay_finite():
    model = ebm_swift.MLPEnergy(2, (16,), seed=0)
    trainer = ebm_swift.Trainer(model, lr=1e30, optimizer="sgd", buffer_size=64, init_range=(-3, 3), seed=0)
    x = ebm_swift.datasets.make_toy("8gaussians", 64, seed=0)
    with pytest.raises(ebm_swift.DivergenceError, match="step"):
        for _ in range(50):
            before = model.parameters()
            trainer.step(x)
    for k, v in model.parameters().items():
        assert np.isfinite(v).all()
        np.testing.assert_array_equal(v, before[k])


def test_training_learns_the_ring_of_gaussians():
    """A short run on 8 Gaussians: held-out data gets lower energy than uniform points in the box,
    and Langevin samples from the trained model cover every mode (each ≥ 5 % of samples)."""
    data = ebm_swift.datasets.make_toy("8gaussians", 20_000, seed=0)
    held_out = ebm_swift.datasets.make_toy("8gaussians", 2_000, seed=1)
    model = ebm_swift.MLPEnergy(2, (128, 128), "swish", seed=0)
    trainer = ebm_swift.Trainer(model, lr=1e-3, betas=(0.0, 0.999), n_steps=20, step_size=0.01,
                                init_range=(-4, 4), alpha=0.1, seed=0)
    rng = np.random.default_rng(0)
    for _ in range(1200):
        trainer.step(data[rng.integers(0, len(data), 256)])

    uniform = rng.uniform(-4, 4, size=(2_000, 2))
    e_held, e_uniform = model.energy(held_out).mean(), model.energy(uniform).mean()
    print(f"mean energy: held-out {e_held:.3f}, uniform {e_uniform:.3f}")
    assert e_held < e_uniform - 1.0

    samples = ebm_swift.langevin(model, rng.uniform(-4, 4, size=(4_000, 2)), 1_000, 0.01, seed=3)
    dist = np.linalg.norm(samples[:, None, :] - CENTRES[None], axis=2)
    nearest = dist.argmin(1)
    near = dist.min(1) < 1.0
    share = np.bincount(nearest[near], minlength=8) / len(samples)
    print("share of samples near each mode:", np.round(share, 3))
    assert near.mean() > 0.6
    assert share.min() >= 0.05, share


def test_training_does_not_depend_on_thread_count():
    """Chain blocks and the gradient pass's row blocks depend only on the batch size, and partial
    gradients are added in block order: 1 and 2 threads give bit-identical runs."""
    data = ebm_swift.datasets.make_toy("8gaussians", 1024, seed=0)
    before = ebm_swift.get_num_threads()
    params = []
    try:
        for threads in (1, 2):
            ebm_swift.set_num_threads(threads)
            model = ebm_swift.MLPEnergy(2, (64, 64), seed=0)
            trainer = ebm_swift.Trainer(model, buffer_size=2000, init_range=(-4, 4), seed=1)
            for i in range(10):
                trainer.step(data[i * 100 : i * 100 + 256])
            params.append(np.concatenate([v.ravel() for v in model.parameters().values()]))
    finally:
        ebm_swift.set_num_threads(before)
    np.testing.assert_array_equal(params[0], params[1])
