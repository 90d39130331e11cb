"""Joint energy model quality on Fashion-MNIST (`python benchmarks/quality_jem.py`; not a test).

Trains a CNN ending in 10 logits as a JEM (`Trainer(objective="jem")`) for `--minutes` (30 by
default) or `--steps`, and reports for the last weights and their moving average:
- test accuracy (10 000 images) and expected calibration error (15 bins);
- AUROC of the energy E(x) = −logsumexp f(x) between the first 2000 test images and uniform
  noise, pixel-shuffled test images and MNIST-style digits (`ebm_swift.image_quality`);
- unconditional samples (buffer; 1000 chains from uniform noise) and class-conditional samples
  (`--per-class` per class, from uniform noise by `--fresh-steps` steps on E(x, y) = −f(x)[y]):
  Fréchet distance and Inception-style score in the fixed feature classifier, the conditional
  ones per class against that class's test images, beside a full-covariance Gaussian fitted to the
  class's training images (as many samples), and the fraction the fixed classifier assigns to
  their class.
`--out DIR` writes the contract layout of `image_evaluation.py` and the plots.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

import ebm_swift
from ebm_swift import image_quality, metrics, nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import image_evaluation as evaluation  # noqa: E402

CLASSES = ("T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot")


def classifier_net(width):
    w = width
    return nn.Sequential(
        nn.Conv2d(1, w, 5, stride=2, padding=4), nn.SiLU(), nn.Conv2d(w, 2 * w, 3, 2, 1), nn.SiLU(),
        nn.Conv2d(2 * w, 4 * w, 3, 2, 1), nn.SiLU(), nn.Conv2d(4 * w, 4 * w, 3, 2, 1), nn.SiLU(),
        nn.Flatten(), nn.Linear(16 * w, 64), nn.SiLU(), nn.Linear(64, 10),
    )


def arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--steps", type=int, default=None, help="train this many steps instead (busy machine)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="benchmarks/quality_jem")
    parser.add_argument("--width", type=int, default=16, help="channels of the first convolution")
    parser.add_argument("--n-steps", type=int, default=20)
    parser.add_argument("--step-size", type=float, default=10.0)
    parser.add_argument("--noise", type=float, default=0.005)
    parser.add_argument("--grad-clip", type=float, default=0.03)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--alpha", type=float, default=0.1)
    parser.add_argument("--curve", type=int, default=1000, help="a point of the figures' curve every this many steps")
    parser.add_argument("--class-conditional", action="store_true")
    parser.add_argument("--fresh-steps", type=int, default=400)
    parser.add_argument("--per-class", type=int, default=300)
    return parser.parse_args()


def conditional_figures(classifier, samples, labels, train, train_labels, test, test_labels, rng):
    per_class = {}
    for k in range(10):
        x, ref = samples[labels == k], test[test_labels == k]
        own = train[train_labels == k].reshape(-1, 784).astype(np.float64)
        chol = np.linalg.cholesky(np.cov(own, rowvar=False) + 1e-4 * np.eye(784))
        gaussian = np.clip(own.mean(0) + rng.standard_normal((len(x), 784)) @ chol.T, -1, 1).reshape(x.shape)
        per_class[CLASSES[k]] = {"frechet_distance": evaluation.frechet(classifier, x, ref),
                                 "fitted_gaussian_frechet_distance": evaluation.frechet(classifier, gaussian, ref),
                                 "recognised": float(np.mean(classifier.predict(x) == k))}
    return {"per_class": per_class,
            "classes_below_gaussian": sum(v["frechet_distance"] < v["fitted_gaussian_frechet_distance"]
                                          for v in per_class.values()),
            "recognised": float(np.mean(classifier.predict(samples) == labels)),
            "inception_score": image_quality.inception_score(samples, classifier)}


def main():
    args = arguments()
    (train, train_labels), (test, test_labels) = (ebm_swift.datasets.load_fashion_mnist("train"),
                                                  ebm_swift.datasets.load_fashion_mnist("test"))
    rng = np.random.default_rng(args.seed)
    classifier = image_quality.fashion_mnist_classifier()
    energy = ebm_swift.NetworkEnergy(classifier_net(args.width), (1, 28, 28), seed=args.seed, n_classes=10)
    sampler = dict(step_size=args.step_size, noise_scale=args.noise, grad_clip=args.grad_clip, clamp=(-1, 1))
    trainer = ebm_swift.Trainer(energy, objective="jem", lr=args.lr, betas=(0.0, 0.999), alpha=args.alpha,
                                n_steps=args.n_steps, init_range=(-1, 1), buffer_size=8192, reinit_prob=0.05,
                                data_noise=0.005, ema_decay=0.999, class_conditional=args.class_conditional,
                                seed=args.seed, **sampler)
    start, curve = time.perf_counter(), []
    while (trainer.n_iter < args.steps) if args.steps else (time.perf_counter() - start < 60 * args.minutes):
        rows = rng.integers(0, len(train), 128)
        trainer.step(train[rows], train_labels[rows])
        if args.curve and trainer.n_iter % args.curve == 0:
            accuracy = metrics.accuracy(energy.predict_proba(test[:2000]), test_labels[:2000])
            curve.append(evaluation.curve_point(trainer.n_iter, time.perf_counter() - start, classifier, energy, test,
                                                args.seed, trainer.buffer, accuracy_2000=accuracy))
    seconds = time.perf_counter() - start

    figures = {"training": {"recipe": {k: v for k, v in vars(args).items() if k not in ("out", "minutes", "steps")},
                            "steps": trainer.n_iter, "seconds": round(seconds, 1),
                            "classifier_test_accuracy": classifier.test_accuracy, "curve": curve},
               "references": evaluation.reference_figures(classifier, train, test, rng)}
    buffer = trainer.buffer[rng.choice(trainer.buffer_size, 5000, replace=False)]
    labels = np.repeat(np.arange(10), args.per_class)
    starts = rng.uniform(-1, 1, (len(labels), 1, 28, 28)).astype(np.float32)
    out = {}
    for name, model in (("last", energy), ("average", trainer.averaged_energy())):
        probs = model.predict_proba(test)
        fresh = ebm_swift.langevin(model, starts[:1000], args.fresh_steps, seed=args.seed + 1, **sampler)
        conditional = ebm_swift.langevin(model, starts, args.fresh_steps, seed=args.seed + 2, y=labels, **sampler)
        figures[name] = {
            "accuracy": metrics.accuracy(probs, test_labels), "ece": metrics.expected_calibration_error(probs, test_labels),
            "ood_auroc": evaluation.ood_figures(model, test[:2000], args.seed),
            "samples": evaluation.sample_figures(classifier, {"buffer": buffer, "fresh": fresh}, test),
            "conditional": conditional_figures(classifier, conditional, labels, train, train_labels, test, test_labels, rng)}
        out[name] = {"buffer": buffer, "fresh": fresh, "conditional": conditional, "labels": labels}
        f = figures[name]
        print(f"{name}: accuracy {f['accuracy']:.4f}, ECE {f['ece']:.4f}, AUROC "
              + ", ".join(f"{k} {v:.3f}" for k, v in f["ood_auroc"].items())
              + f"; conditional FD below the class's Gaussian in {f['conditional']['classes_below_gaussian']}/10 classes",
              flush=True)
    print(json.dumps(figures, indent=1), flush=True)
    evaluation.write_out(args.out, energy, out["last"], figures)
    pick = (np.arange(10)[:, None] * args.per_class + np.arange(10)).ravel()  # grid row k: ten of class k
    evaluation.plots(args.out, {"conditional, last weights (rows: classes)": out["last"]["conditional"][pick],
                                "conditional, averaged weights": out["average"]["conditional"][pick],
                                "buffer": buffer},
                     {"test images": energy.energy(test[:2000]), "buffer": energy.energy(buffer[:2000]),
                      "MNIST-style digits": energy.energy(image_quality.mnist_style_digits()),
                      "uniform noise": energy.energy(rng.uniform(-1, 1, (2000, 1, 28, 28)))},
                     f"JEM after {trainer.n_iter} steps ({seconds / 60:.0f} min)")


if __name__ == "__main__":
    main()
