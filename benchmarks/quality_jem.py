"""Joint energy model quality run on Fashion-MNIST (not part of the tests; `python benchmarks/quality_jem.py`).

Trains the UvA tutorial's CNN ending in 10 logits as a JEM (`Trainer(objective="jem")`, the recipe
of python/tests/training/test_jem.py: Adam lr 1e-3, betas (0, 0.999), alpha 0.1, 20 Langevin steps of size
10 with noise 0.005, gradient clip 0.03, clamp [−1, 1], a persistent buffer with 5 %
re-initialisation, data noise 0.005, batch 128) for a fixed wall time (at most 20 minutes), and
reports for the last weights and for their moving average (`ema_decay=0.999`):

- test accuracy (10 000 images) and expected calibration error (15 bins);
- out-of-distribution AUROC of the energy E(x) = −logsumexp f(x) between the test images and
  uniform noise, pixel-shuffled test images, and MNIST-style digits (scikit-learn's 8×8 digits,
  upsampled to 20×20 by pixel repetition — 5/2 nearest neighbour — and centred on a 28×28 black
  canvas as MNIST centres its digits);
- class-conditional samples: 10 per class, from random buffer samples by 100 conditional
  Langevin steps, and from uniform noise by 400, judged by an independent classifier
  (scikit-learn's MLPClassifier, 128 ReLU units, trained on 20 000 training images).

Writes the per-class sample grids (PNG) when matplotlib is installed.
"""

import argparse
import os
import sys
import time

import numpy as np

import ebm_swift
from ebm_swift import metrics, nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from timing import save_json  # noqa: E402

CLASSES = ("T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot")
SAMPLER = dict(step_size=10.0, noise_scale=0.005, grad_clip=0.03, clamp=(-1, 1))


def classifier_net():
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, stride=2, padding=4), nn.SiLU(), nn.Conv2d(16, 32, 3, 2, 1), nn.SiLU(),
        nn.Conv2d(32, 64, 3, 2, 1), nn.SiLU(), nn.Conv2d(64, 64, 3, 2, 1), nn.SiLU(),
        nn.Flatten(), nn.Linear(256, 64), nn.SiLU(), nn.Linear(64, 10),
    )


def mnist_style_digits():
    """The 1797 8×8 digits as 28×28 images in [−1, 1]: each pixel repeated to 20×20 (index
    i·8//20), centred with a 4-pixel border of −1 (MNIST's 20×20 box in a 28×28 frame)."""
    digits = ebm_swift.datasets.load_digits().reshape(-1, 8, 8)
    index = np.arange(20) * 8 // 20
    big = digits[:, index][:, :, index]
    out = -np.ones((len(digits), 1, 28, 28), dtype=np.float32)
    out[:, 0, 4:24, 4:24] = big
    return out


def evaluate(energy, trainer, test, test_labels, judge, rng):
    probs = energy.predict_proba(test)
    held = test[:2000]
    others = {"uniform noise": rng.uniform(-1, 1, size=(2000, 1, 28, 28)).astype(np.float32),
              "shuffled test images": np.stack([rng.permutation(x.ravel()).reshape(x.shape) for x in held]),
              "MNIST-style digits": mnist_style_digits()}
    report = {"accuracy": metrics.accuracy(probs, test_labels),
              "ece": metrics.expected_calibration_error(probs, test_labels),
              "ood_auroc": {k: metrics.ood_auroc(energy, held, v) for k, v in others.items()}}
    wanted = np.repeat(np.arange(10), 10)
    starts = {"buffer": (trainer.buffer[rng.integers(0, trainer.buffer_size, 100)], 100),
              "noise": (rng.uniform(-1, 1, size=(100, 1, 28, 28)), 400)}
    grids = {}
    for name, (x0, steps) in starts.items():
        samples = ebm_swift.langevin(energy, x0, steps, seed=1, y=wanted, **SAMPLER)
        report[f"conditional_recognised_from_{name}"] = float(np.mean(judge.predict(samples.reshape(100, -1)) == wanted))
        grids[name] = samples
    return report, grids


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=15.0, help="training wall time (at most 20)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default="benchmarks/quality_jem.json")
    parser.add_argument("--grid", default="benchmarks/quality_jem.png")
    args = parser.parse_args()
    minutes = min(args.minutes, 20.0)

    from sklearn.neural_network import MLPClassifier

    (train, labels), (test, test_labels) = (ebm_swift.datasets.load_fashion_mnist("train"),
                                            ebm_swift.datasets.load_fashion_mnist("test"))
    judge = MLPClassifier(hidden_layer_sizes=(128,), max_iter=20, random_state=0)
    judge.fit(train[:20_000].reshape(20_000, -1), labels[:20_000])
    rng = np.random.default_rng(args.seed)

    energy = ebm_swift.NetworkEnergy(classifier_net(), (1, 28, 28), seed=args.seed, n_classes=10)
    trainer = ebm_swift.Trainer(energy, objective="jem", lr=1e-3, betas=(0.0, 0.999), alpha=0.1, n_steps=20,
                                init_range=(-1, 1), buffer_size=8192, reinit_prob=0.05, data_noise=0.005,
                                ema_decay=0.999, seed=args.seed, **SAMPLER)
    start = time.perf_counter()
    while time.perf_counter() - start < 60 * minutes:
        rows = rng.integers(0, len(train), 128)
        trainer.step(train[rows], labels[rows])
    seconds = time.perf_counter() - start

    results = {"steps": trainer.n_iter, "seconds": seconds, "judge_accuracy": float(judge.score(test.reshape(len(test), -1), test_labels))}
    grids = None
    for name, model in (("last", energy), ("average", trainer.averaged_energy())):
        report, model_grids = evaluate(model, trainer, test, test_labels, judge, rng)
        results[name] = report
        grids = grids or model_grids
        print(f"{name:8s} weights: accuracy {report['accuracy']:.4f}, ECE {report['ece']:.4f}; AUROC vs "
              + ", ".join(f"{k} {v:.4f}" for k, v in report["ood_auroc"].items())
              + f"; conditional samples recognised: from buffer {report['conditional_recognised_from_buffer']:.2f}, "
              f"from noise {report['conditional_recognised_from_noise']:.2f}", flush=True)
    print(f"{trainer.n_iter} steps in {seconds:.0f} s (judge's own test accuracy {results['judge_accuracy']:.4f})")
    save_json(args.json, results)

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, axes = plt.subplots(10, 20, figsize=(12, 6.6))
    for row in range(10):
        for col in range(20):
            source = grids["buffer"] if col < 10 else grids["noise"]
            axes[row, col].imshow(source[row * 10 + col % 10, 0], cmap="gray", vmin=-1, vmax=1)
            axes[row, col].axis("off")
        axes[row, 0].set_title(CLASSES[row], fontsize=6, loc="left")
    fig.suptitle(f"JEM class-conditional samples after {trainer.n_iter} steps: left from buffer samples "
                 "(100 steps), right from uniform noise (400 steps)", fontsize=8)
    fig.savefig(args.grid, dpi=110)
    print(f"wrote {args.grid}")


if __name__ == "__main__":
    main()
