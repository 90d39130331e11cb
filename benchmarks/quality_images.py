"""Unconditional image-EBM quality on Fashion-MNIST (`python benchmarks/quality_images.py`; not a test).

Trains `ebm_swift.recipes.image_ebm(--objective)` — the UvA "Deep Energy Models" CNN with the
tutorial's persistent-chain recipe (`pcd`, the default) or diffusion recovery likelihood (`drl`, the
CNN ending in a head per level) — for `--minutes` (30 by default) or `--steps`; a flag given
overrides that setting of the recipe. Then reports for the last weights and their moving average:
- Fréchet distance to the 10 000 test images and Inception-style score, in the fixed feature
  classifier of `ebm_swift.image_quality` (a NumPy perceptron built from the training split), of
  5000 buffer samples and of 1000 chains started from uniform noise (`--fresh-steps` Langevin
  steps; with DRL, the levels run down from N(0, I), and 5000 more of them stand for the buffer), beside
  the same figures for training images, a fitted Gaussian and uniform noise;
- AUROC of the energy between the 2000 first test images and uniform noise, pixel-shuffled test
  images and MNIST-style digits.
`--out DIR` writes the contract layout of `image_evaluation.py` (model, samples, figures) and plots.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

import ebm_swift
from ebm_swift import image_quality, recipes

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import image_evaluation as evaluation  # noqa: E402


def arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0, help="training wall time")
    parser.add_argument("--steps", type=int, default=None, help="train this many steps instead (busy machine)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="benchmarks/quality_images", help="folder for the contract layout")
    parser.add_argument("--objective", choices=("pcd", "drl"), default="pcd", help="the recipe")
    parser.add_argument("--fresh-steps", type=int, default=recipes.FRESH_STEPS, help="Langevin steps of the chains from noise")
    parser.add_argument("--final-noise", type=float, default=None,
                        help="noise of the last 10%% of the fresh chains' steps (default: the recipe's)")
    parser.add_argument("--curve", type=int, default=500, help="a point of the figures' curve every this many steps")
    # Overrides of the recipe's settings (default: the recipe's).
    for flag, kind in (("--n-steps", int), ("--step-size", float), ("--noise", float), ("--grad-clip", float),
                       ("--lr", float), ("--alpha", float), ("--buffer", int), ("--reinit", float),
                       ("--step-scale", float)):
        parser.add_argument(flag, type=kind, default=None)
    parser.add_argument("--sigmas", type=float, nargs="+", default=None, help="drl: the diffusion's noise levels")
    parser.add_argument("--betas", type=float, nargs=2, default=None)
    return parser.parse_args()


# Flag → the recipe setting it overrides.
SETTINGS = {"n_steps": "n_steps", "step_size": "step_size", "noise": "noise_scale", "grad_clip": "grad_clip", "lr": "lr",
            "alpha": "alpha", "buffer": "buffer_size", "reinit": "reinit_prob", "betas": "betas"}


def recipe_from(args):
    """The recipe with the flags given as overrides, and the effective settings (for the figures)."""
    given = {SETTINGS[k]: tuple(v) if k == "betas" else v for k, v in vars(args).items() if k in SETTINGS and v is not None}
    if args.objective == "drl":
        drl_fields = {k: v for k, v in (("sigmas", args.sigmas), ("n_steps", given.pop("n_steps", None)),
                                        ("step_scale", args.step_scale)) if v is not None}
        drl = ebm_swift.objectives.DRL(**drl_fields)
        effective = {**recipes.DRL_SETTINGS, **given, "sigmas": drl.sigmas, "n_steps": drl.n_steps,
                     "step_scale": drl.step_scale}
        return recipes.image_ebm("drl", seed=args.seed, drl=drl, **given), effective
    return recipes.image_ebm("pcd", seed=args.seed, **given), {**recipes.PCD_SETTINGS, **given}


def main():
    args = arguments()
    train, _ = ebm_swift.datasets.load_fashion_mnist("train")
    test, _ = ebm_swift.datasets.load_fashion_mnist("test")
    rng = np.random.default_rng(args.seed)
    classifier = image_quality.fashion_mnist_classifier()

    recipe, settings = recipe_from(args)
    trainer, drl = recipe.trainer, recipe.drl
    energy = recipe.image_energy(averaged=False)  # for DRL the first level's energy: the data's density
    sampler = {k: settings.get(k, v) for k, v in recipes.IMAGE_SAMPLER.items()}
    start, curve, diverged = time.perf_counter(), [], None
    while (trainer.n_iter < args.steps) if args.steps else (time.perf_counter() - start < 60 * args.minutes):
        try:
            trainer.step(train[rng.integers(0, len(train), 128)])
        except ebm_swift.TrainingDivergedError as error:  # the model is as before the step: judge it
            diverged = {"step": error.step, "message": str(error)}
            print(json.dumps({"diverged": diverged}), flush=True)
            break
        if args.curve and trainer.n_iter % args.curve == 0:
            curve.append(evaluation.curve_point(trainer.n_iter, time.perf_counter() - start, classifier, energy, test,
                                                args.seed, None if args.objective == "drl" else trainer.buffer))
    seconds = time.perf_counter() - start

    figures = {"training": {"recipe": {"objective": args.objective, **settings, "fresh_steps": args.fresh_steps,
                                       "final_noise": args.final_noise},
                            "steps": trainer.n_iter, "seconds": round(seconds, 1), "diverged": diverged,
                            "classifier_test_accuracy": classifier.test_accuracy, "curve": curve},
               "references": evaluation.reference_figures(classifier, train, test, rng)}
    if args.objective == "drl":  # no buffer: 5000 more samples from noise in its place
        buffer = drl.sample(trainer.averaged_energy(), 5000, seed=args.seed + 3, clamp=(-1, 1))
    else:
        buffer = trainer.buffer[rng.choice(trainer.buffer_size, min(5000, trainer.buffer_size), replace=False)]
    fresh_start = rng.uniform(-1, 1, (1000, 1, 28, 28)).astype(np.float32)
    samples = {}
    averaged = trainer.averaged_energy()
    for name, model in (("last", energy), ("average", averaged.class_energy(0) if args.objective == "drl" else averaged)):
        if args.objective == "drl":
            fresh = drl.sample(model.parent, 1000, seed=args.seed + 1, clamp=(-1, 1))
        else:
            tail = max(args.fresh_steps // 10, 1)
            fresh = ebm_swift.langevin(model, fresh_start, args.fresh_steps - tail, seed=args.seed + 1, **sampler)
            final = dict(sampler, noise_scale=sampler["noise_scale"] if args.final_noise is None else args.final_noise)
            fresh = ebm_swift.langevin(model, fresh, tail, seed=args.seed + 2, **final)
        figures[name] = {"samples": evaluation.sample_figures(classifier, {"buffer": buffer, "fresh": fresh}, test),
                         "ood_auroc": evaluation.ood_figures(model, test[:2000], args.seed)}
        samples[name] = {"buffer": buffer, "fresh": fresh}
    print(json.dumps(figures, indent=1), flush=True)
    evaluation.write_out(args.out, energy, samples["last"], figures)
    evaluation.plots(args.out, {"buffer samples": buffer, f"from noise, {args.fresh_steps} steps": samples["last"]["fresh"],
                                f"from noise, averaged weights": samples["average"]["fresh"]},
                     {"test images": energy.energy(test[:2000]), "buffer": energy.energy(buffer[:2000]),
                      "from noise": energy.energy(samples["last"]["fresh"]),
                      "uniform noise": energy.energy(rng.uniform(-1, 1, (2000, 1, 28, 28)))},
                     f"UvA CNN after {trainer.n_iter} steps ({seconds / 60:.0f} min)")


if __name__ == "__main__":
    main()
