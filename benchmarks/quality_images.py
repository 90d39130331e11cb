"""Image-EBM quality run on Fashion-MNIST (not part of the tests; `python benchmarks/quality_images.py`).

Trains the UvA "Deep Energy Models" tutorial's CNN with its recipe (Adam lr 1e-4, betas (0, 0.999),
alpha 0.1, persistent buffer of 8192 with 5 % re-initialisation, Langevin step 10, noise 0.005,
gradient clip 0.03, clamp to [-1, 1], noise 0.005 on the data images; 40 Langevin steps per
training step here) for a fixed wall time, then reports:

- AUROC of the energy between held-out test images and uniform noise, and pixel-shuffled test
  images, for the last weights and for their running average (exponential, decay 0.99: the
  persistent-chain model oscillates from step to step);
- Fréchet distances to 2000 test images, in the feature space of the hidden layer of a small
  classifier (scikit-learn's MLPClassifier, 128 ReLU units, trained on 20 000 training images),
  of: the model's buffer samples, samples of a full-covariance Gaussian fitted to the training
  images (clipped to [-1, 1]), 2000 training images, uniform noise, and shuffled test images.

Writes a sample grid (PNG) when matplotlib is installed.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

import ebm_swift

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from peers.ebm_swift import sequential  # noqa: E402
from suites.cnn import NETWORK  # noqa: E402  (the same UvA CNN as the benchmark)
from timing import save_json  # noqa: E402


def uva_cnn():
    """The UvA CNN of the cnn suite, as an `ebm_swift.nn.Sequential`."""
    return sequential(NETWORK)


def auroc(lower, higher):
    return float((np.asarray(lower)[:, None] < np.asarray(higher)[None, :]).mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=15.0, help="training wall time (at most 20)")
    parser.add_argument("--steps", type=int, default=None,
                        help="train for this many steps instead of a wall time (comparisons on a busy machine)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default="benchmarks/quality_images.json")
    parser.add_argument("--grid", default="benchmarks/quality_images.png")
    parser.add_argument("--sampler", choices=("langevin", "kinetic_langevin"), default="langevin",
                        help="the negatives' sampler: the recipe's Langevin (step 10, noise 0.005) or kinetic "
                             "Langevin (OBABO at temperature 1, --kinetic-step, --friction)")
    parser.add_argument("--kinetic-step", type=float, default=0.01)
    parser.add_argument("--friction", type=float, default=1.0)
    args = parser.parse_args()
    minutes = min(args.minutes, 20.0)

    from sklearn.neural_network import MLPClassifier

    train, train_labels = ebm_swift.datasets.load_fashion_mnist("train")
    test, test_labels = ebm_swift.datasets.load_fashion_mnist("test")
    rng = np.random.default_rng(args.seed)
    clf = MLPClassifier(hidden_layer_sizes=(128,), max_iter=20, random_state=0)
    clf.fit(train[:20_000].reshape(20_000, -1), train_labels[:20_000])
    weights, bias = clf.coefs_[0], clf.intercepts_[0]
    features = lambda z: np.maximum(np.asarray(z).reshape(len(z), -1) @ weights + bias, 0)  # noqa: E731

    energy = ebm_swift.NetworkEnergy(uva_cnn(), (1, 28, 28), seed=args.seed)
    if args.sampler == "langevin":
        negatives = dict(step_size=10.0, noise_scale=0.005, grad_clip=0.03, clamp=(-1, 1))
    else:
        negatives = dict(sampler=ebm_swift.samplers.KineticLangevin(args.kinetic_step, friction=args.friction))
    trainer = ebm_swift.Trainer(energy, lr=1e-4, betas=(0.0, 0.999), alpha=0.1, n_steps=40, init_range=(-1, 1),
                                buffer_size=8192, reinit_prob=0.05, data_noise=0.005, seed=args.seed, **negatives)
    average = {k: v.astype(np.float64) for k, v in energy.parameters().items()}
    start, steps = time.perf_counter(), 0
    while (steps < args.steps) if args.steps else (time.perf_counter() - start < 60 * minutes):
        trainer.step(train[rng.integers(0, len(train), 128)])
        for name, value in energy.parameters().items():
            average[name] += 0.01 * (value - average[name])
        steps += 1
    seconds = time.perf_counter() - start
    averaged = ebm_swift.NetworkEnergy(uva_cnn(), (1, 28, 28), seed=args.seed)
    averaged.set_parameters(average)

    held = test[:2000]
    noise = rng.uniform(-1, 1, size=held.shape)
    shuffled = np.stack([rng.permutation(img.ravel()).reshape(img.shape) for img in held])
    flat = train.reshape(len(train), -1).astype(np.float64)
    mean, cov = flat.mean(0), np.cov(flat, rowvar=False)
    chol = np.linalg.cholesky(cov + 1e-4 * np.eye(cov.shape[0]))
    gaussian = np.clip(mean + rng.normal(size=(2000, flat.shape[1])) @ chol.T, -1, 1).reshape(held.shape)
    samples = trainer.buffer[rng.choice(trainer.buffer_size, 2000, replace=False)]
    fd = lambda x: ebm_swift.metrics.frechet_distance(x, held, features)  # noqa: E731
    e_held = energy.energy(held)
    report = {
        "training": {"sampler": args.sampler, "negatives": {k: v for k, v in vars(args).items()
                                                             if k in ("kinetic_step", "friction")}
                     if args.sampler == "kinetic_langevin" else negatives,
                     "steps": steps, "seconds": round(seconds, 1), "steps_per_s": round(steps / seconds, 2),
                     "classifier_test_accuracy": float(clf.score(test.reshape(len(test), -1), test_labels))},
        "auroc": {"test_vs_noise": auroc(e_held, energy.energy(noise)),
                  "test_vs_shuffled": auroc(e_held, energy.energy(shuffled)),
                  "averaged_weights_test_vs_noise": auroc(averaged.energy(held), averaged.energy(noise)),
                  "averaged_weights_test_vs_shuffled": auroc(averaged.energy(held), averaged.energy(shuffled))},
        "frechet_distance_to_test": {"ebm_samples": fd(samples), "fitted_gaussian": fd(gaussian),
                                     "training_images": fd(train[2000:4000]), "uniform_noise": fd(noise),
                                     "shuffled_test": fd(shuffled)},
    }
    print(json.dumps(report, indent=1))
    save_json(args.json, report)
    try:
        import matplotlib

        matplotlib.use("Agg")
        ax = ebm_swift.plots.plot_image_grid(samples[:64], shape=(28, 28), columns=8)
        ax.figure.savefig(args.grid, dpi=100, bbox_inches="tight")
    except ImportError:
        pass


if __name__ == "__main__":
    main()
