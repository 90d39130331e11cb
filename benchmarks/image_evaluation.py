"""What the image-quality runs (`quality_images.py`, `quality_jem.py`) measure and write.

The `--out DIR` layout is a contract (outside checks read it):
- `model.npz`: `ebm_swift.save` of the trained energy (`.energy(x)` scores images, lower = more likely);
- `samples.npz`: arrays of shape (n, 1, 28, 28) in [−1, 1] — `buffer` (persistent chains) and
  `fresh` (chains started from uniform noise); for JEM also `conditional` with its `labels`;
- `figures.json`: the figures printed.
Beside them: `samples.png` (grids), `energy_histogram.png` when matplotlib is installed.
"""

import json
import os

import numpy as np

import ebm_swift
from ebm_swift import image_quality, metrics


def frechet(classifier, samples, reference):
    return metrics.frechet_distance(samples, reference, features=classifier.features)


def sample_figures(classifier, samples, test):
    """Fréchet distance to the test images and Inception-style score of each set of samples; also
    the distance of its first 2000 to the first 2000 test images (`frechet_distance_2000`: smaller
    sets add more estimation bias — the protocol of the issue's first figures)."""
    return {name: {"frechet_distance": frechet(classifier, x, test),
                   "frechet_distance_2000": frechet(classifier, x[:2000], test[:2000]),
                   "inception_score": image_quality.inception_score(x, classifier)}
            for name, x in samples.items()}


def reference_figures(classifier, train, test, rng):
    """The same figures for the yardsticks: training images (as many as the test set), a
    full-covariance Gaussian fitted to the training images (clipped to [−1, 1]), uniform noise."""
    flat = train.reshape(len(train), -1).astype(np.float64)
    chol = np.linalg.cholesky(np.cov(flat, rowvar=False) + 1e-4 * np.eye(flat.shape[1]))
    n = len(test)
    gaussian = np.clip(flat.mean(0) + rng.standard_normal((n, flat.shape[1])) @ chol.T, -1, 1)
    sets = {"training images": train[rng.choice(len(train), n, replace=False)],
            "fitted Gaussian": gaussian.reshape(test.shape).astype(np.float32),
            "uniform noise": rng.uniform(-1, 1, test.shape).astype(np.float32)}
    return sample_figures(classifier, sets, test)


def ood_figures(energy, test, seed, score="energy", reference=None):
    """AUROC of the energy (or of `score`, see `metrics.ood_auroc`; `reference` for typicality)
    between the test images and each out-of-distribution set."""
    return {name: metrics.ood_auroc(energy, test, x, score=score, reference=reference)
            for name, x in image_quality.image_ood_sets(test, seed).items()}


def curve_point(step, seconds, classifier, energy, test, seed, buffer=None, **extra):
    """One point of the figures-against-training curve, cheap enough to take every few hundred
    steps: the energy's AUROCs on the first 2000 test images and, given the persistent buffer, the
    Fréchet distance of 2000 of its samples to the first 2000 test images; printed as it is taken."""
    point = {"step": step, "minutes": round(seconds / 60, 2), **extra,
             "ood_auroc": ood_figures(energy, test[:2000], seed)}
    if buffer is not None:
        point["buffer_frechet_distance_2000"] = frechet(classifier, buffer[:2000], test[:2000])
    print(json.dumps(point), flush=True)
    return point


def write_out(out, energy, samples, figures):
    """The contract layout in `out` (created if needed)."""
    os.makedirs(out, exist_ok=True)
    ebm_swift.save(energy, os.path.join(out, "model.npz"))
    arrays = {k: np.asarray(v, dtype=np.int64) if k == "labels" else np.clip(np.asarray(v, dtype=np.float32), -1, 1)
              for k, v in samples.items()}
    np.savez_compressed(os.path.join(out, "samples.npz"), **arrays)
    with open(os.path.join(out, "figures.json"), "w") as f:
        json.dump(figures, f, indent=1)


def plots(out, grids, energies, title):
    """`samples.png`: one row of grids (name → (n, 1, 28, 28) images, up to 100 each);
    `energy_histogram.png`: energies per set (name → (n,))."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, axes = plt.subplots(1, len(grids), figsize=(4.2 * len(grids), 4.6))
    for ax, (name, x) in zip(np.atleast_1d(axes), grids.items()):
        x = np.asarray(x)[:100, 0]
        side = int(np.ceil(np.sqrt(len(x))))
        canvas = -np.ones((side * 29 + 1, side * 29 + 1))
        for i, img in enumerate(x):
            r, c = divmod(i, side)
            canvas[1 + 29 * r:29 * (r + 1), 1 + 29 * c:29 * (c + 1)] = img
        ax.imshow(canvas, cmap="gray", vmin=-1, vmax=1)
        ax.set_title(name, fontsize=9)
        ax.axis("off")
    fig.suptitle(title, fontsize=9)
    fig.savefig(os.path.join(out, "samples.png"), dpi=110, bbox_inches="tight")
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    finite = np.concatenate([np.asarray(e)[np.isfinite(e)] for e in energies.values()])
    bins = np.linspace(np.percentile(finite, 0.5), np.percentile(finite, 99.5), 80)
    for name, e in energies.items():
        ax.hist(np.clip(e, bins[0], bins[-1]), bins=bins, histtype="step", density=True, label=name)
    ax.set_xlabel("energy E(x)")
    ax.legend(fontsize=7)
    fig.savefig(os.path.join(out, "energy_histogram.png"), dpi=110, bbox_inches="tight")
    plt.close(fig)
