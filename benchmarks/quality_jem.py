"""Joint energy model quality on Fashion-MNIST (`python benchmarks/quality_jem.py`; not a test).

Trains `ebm_swift.recipes.image_jem()` — the UvA CNN ending in 10 logits as a joint energy model,
with one buffer shared by the classes (`--class-conditional` for one per class) — for `--minutes` (30 by default) or `--steps` (a flag given
overrides that setting of the recipe), and reports for the last weights and their moving average:
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
from ebm_swift import image_quality, metrics, recipes

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import image_evaluation as evaluation  # noqa: E402

CLASSES = ("T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot")


def arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--steps", type=int, default=None, help="train this many steps instead (busy machine)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="benchmarks/quality_jem")
    parser.add_argument("--width", type=int, default=16, help="channels of the first convolution")
    parser.add_argument("--fresh-steps", type=int, default=recipes.FRESH_STEPS)
    parser.add_argument("--per-class", type=int, default=300)
    parser.add_argument("--curve", type=int, default=1000, help="a point of the figures' curve every this many steps")
    parser.add_argument("--class-conditional", action="store_true", help="a buffer per class")
    # Overrides of the recipe's settings (default: the recipe's).
    for flag, kind in (("--n-steps", int), ("--step-size", float), ("--noise", float), ("--grad-clip", float),
                       ("--lr", float), ("--alpha", float), ("--buffer", int)):
        parser.add_argument(flag, type=kind, default=None)
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
    names = {"n_steps": "n_steps", "step_size": "step_size", "noise": "noise_scale", "grad_clip": "grad_clip",
             "lr": "lr", "alpha": "alpha", "buffer": "buffer_size"}
    given = {names[k]: v for k, v in vars(args).items() if k in names and v is not None}
    if args.class_conditional:
        given["class_conditional"] = True
    recipe = recipes.image_jem(seed=args.seed, width=args.width, **given)
    energy, trainer, settings = recipe.energy, recipe.trainer, {**recipes.JEM_SETTINGS, **given}
    sampler = {k: settings.get(k, v) for k, v in recipes.IMAGE_SAMPLER.items()}
    start, curve, diverged = time.perf_counter(), [], None
    while (trainer.n_iter < args.steps) if args.steps else (time.perf_counter() - start < 60 * args.minutes):
        rows = rng.integers(0, len(train), 128)
        try:
            trainer.step(train[rows], train_labels[rows])
        except ebm_swift.TrainingDivergedError as error:  # the model is as before the step: judge it
            diverged = {"step": error.step, "message": str(error)}
            print(json.dumps({"diverged": diverged}), flush=True)
            break
        if args.curve and trainer.n_iter % args.curve == 0:
            accuracy = metrics.accuracy(energy.predict_proba(test[:2000]), test_labels[:2000])
            curve.append(evaluation.curve_point(trainer.n_iter, time.perf_counter() - start, classifier, energy, test,
                                                args.seed, trainer.buffer, accuracy_2000=accuracy))
    seconds = time.perf_counter() - start

    figures = {"training": {"recipe": {**settings, "width": args.width, "fresh_steps": args.fresh_steps},
                            "steps": trainer.n_iter, "seconds": round(seconds, 1), "diverged": diverged,
                            "classifier_test_accuracy": classifier.test_accuracy, "curve": curve},
               "references": evaluation.reference_figures(classifier, train, test, rng)}
    buffer = trainer.buffer[rng.choice(trainer.buffer_size, min(5000, trainer.buffer_size), replace=False)]
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
    pick = (np.arange(10)[:, None] * args.per_class + np.arange(min(10, args.per_class))).ravel()  # row k: class k
    evaluation.plots(args.out, {"conditional, last weights (rows: classes)": out["last"]["conditional"][pick],
                                "conditional, averaged weights": out["average"]["conditional"][pick],
                                "buffer": buffer},
                     {"test images": energy.energy(test[:2000]), "buffer": energy.energy(buffer[:2000]),
                      "MNIST-style digits": energy.energy(image_quality.mnist_style_digits()),
                      "uniform noise": energy.energy(rng.uniform(-1, 1, (2000, 1, 28, 28)))},
                     f"JEM after {trainer.n_iter} steps ({seconds / 60:.0f} min)")


if __name__ == "__main__":
    main()
