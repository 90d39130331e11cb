"""Train an MLP energy on a ring of 8 Gaussians, sample it by Langevin dynamics, and plot
data, samples and the learned energy landscape side by side (``make demo``)."""

import argparse
import os
import time

import numpy as np

import ebm_swift


def train(seconds: float, seed: int):
    data = ebm_swift.datasets.make_toy("8gaussians", 20_000, seed=seed)
    model = ebm_swift.MLPEnergy(2, (128, 128), "swish", seed=seed)
    trainer = ebm_swift.Trainer(
        model, lr=1e-3, betas=(0.0, 0.999), n_steps=20, step_size=0.01,
        buffer_size=10_000, reinit_prob=0.05, init_range=(-4, 4), alpha=0.1, seed=seed,
    )
    rng = np.random.default_rng(seed)
    start = last = time.monotonic()
    step = 0
    print(f"training {model} for up to {seconds:.0f} s (batch 256, 20 Langevin steps per update)")
    while time.monotonic() - start < seconds and step < 3000:
        stats = trainer.step(data[rng.integers(0, len(data), 256)])
        step += 1
        now = time.monotonic()
        if now - last >= 2.0 or step == 1:
            last = now
            print(f"  step {step:5d}  loss {stats['loss']:+.3f}  E(data) {stats['e_data']:+.3f}  "
                  f"E(model) {stats['e_model']:+.3f}  |grad| {stats['grad_norm']:.3f}  "
                  f"({step / (now - start):.0f} steps/s)", flush=True)
    print(f"trained {step} steps in {time.monotonic() - start:.1f} s")
    return model, data


def evaluate(model, seed: int):
    rng = np.random.default_rng(seed + 1)
    held_out = ebm_swift.datasets.make_toy("8gaussians", 2_000, seed=seed + 1)
    uniform = rng.uniform(-4, 4, size=(2_000, 2))
    print(f"mean energy: held-out data {model.energy(held_out).mean():+.3f}, "
          f"uniform points {model.energy(uniform).mean():+.3f} (lower is more likely)")
    samples = ebm_swift.langevin(model, rng.uniform(-4, 4, size=(4_000, 2)), 1_000, 0.01, seed=seed + 2)
    angles = np.arange(8) * np.pi / 4
    centres = 2 * np.sqrt(2) * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    dist = np.linalg.norm(samples[:, None, :] - centres[None], axis=2)
    near = dist.min(1) < 1.0
    share = np.bincount(dist.argmin(1)[near], minlength=8) / len(samples)
    print("share of Langevin samples near each of the 8 modes:", " ".join(f"{s:.1%}" for s in share))
    return samples


def plot(model, data, samples, path: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lim = 4.0
    grid = np.linspace(-lim, lim, 200)
    gx, gy = np.meshgrid(grid, grid)
    energy = model.energy(np.stack([gx.ravel(), gy.ravel()], axis=1)).reshape(gx.shape)
    fig, axes = plt.subplots(1, 3, figsize=(15, 5))
    axes[0].scatter(data[:4000, 0], data[:4000, 1], s=2, alpha=0.5)
    axes[0].set_title("data: ring of 8 Gaussians")
    axes[1].scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.5, color="tab:orange")
    axes[1].set_title("Langevin samples from the model")
    im = axes[2].contourf(gx, gy, energy, levels=40, cmap="viridis")
    fig.colorbar(im, ax=axes[2], label="E(x)")
    axes[2].set_title("learned energy E(x)")
    for ax in axes:
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=45.0, help="training time budget")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="demo.png")
    args = parser.parse_args()
    model, data = train(args.seconds, args.seed)
    samples = evaluate(model, args.seed)
    plot(model, data, samples, args.out)
    print(f"wrote {os.path.abspath(args.out)}")


if __name__ == "__main__":
    main()
