"""Unconditional image-EBM quality on Fashion-MNIST (`python benchmarks/quality_images.py`; not a test).

Trains the UvA "Deep Energy Models" CNN for `--minutes` (30 by default) or `--steps` with the
objective and sampler the flags give (defaults: the tutorial's persistent-chain recipe;
`--objective drl` for diffusion recovery likelihood, the CNN ending in a head per level), then
reports for the last weights and their moving average:
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
from ebm_swift import image_quality

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import image_evaluation as evaluation  # noqa: E402
from peers.ebm_swift import sequential  # noqa: E402
from suites.cnn import NETWORK  # noqa: E402  (the same UvA CNN as the benchmark)


def uva_cnn(outputs):
    """The UvA CNN ending in `outputs` values (one per level for diffusion recovery likelihood)."""
    from ebm_swift import nn

    return nn.Sequential(nn.Conv2d(1, 16, 5, 2, 4), nn.SiLU(), nn.Conv2d(16, 32, 3, 2, 1), nn.SiLU(),
                         nn.Conv2d(32, 64, 3, 2, 1), nn.SiLU(), nn.Conv2d(64, 64, 3, 2, 1), nn.SiLU(),
                         nn.Flatten(), nn.Linear(256, 64), nn.SiLU(), nn.Linear(64, outputs))


def arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0, help="training wall time")
    parser.add_argument("--steps", type=int, default=None, help="train this many steps instead (busy machine)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="benchmarks/quality_images", help="folder for the contract layout")
    parser.add_argument("--n-steps", type=int, default=40, help="Langevin steps per training step")
    parser.add_argument("--step-size", type=float, default=10.0)
    parser.add_argument("--noise", type=float, default=0.005)
    parser.add_argument("--grad-clip", type=float, default=0.03)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--alpha", type=float, default=0.1)
    parser.add_argument("--buffer", type=int, default=8192)
    parser.add_argument("--reinit", type=float, default=0.05)
    parser.add_argument("--fresh-steps", type=int, default=400, help="Langevin steps of the chains from noise")
    parser.add_argument("--final-noise", type=float, default=None,
                        help="noise of the last 10%% of the fresh chains' steps (default: --noise)")
    parser.add_argument("--curve", type=int, default=500, help="a point of the figures' curve every this many steps")
    parser.add_argument("--objective", choices=("ml", "drl"), default="ml")
    parser.add_argument("--sigmas", type=float, nargs="+", default=None, help="drl: the diffusion's noise levels")
    parser.add_argument("--step-scale", type=float, default=0.5, help="drl: Langevin step per unit of sigma")
    parser.add_argument("--betas", type=float, nargs=2, default=(0.0, 0.999))
    return parser.parse_args()


def main():
    args = arguments()
    train, _ = ebm_swift.datasets.load_fashion_mnist("train")
    test, _ = ebm_swift.datasets.load_fashion_mnist("test")
    rng = np.random.default_rng(args.seed)
    classifier = image_quality.fashion_mnist_classifier()

    sampler = dict(step_size=args.step_size, noise_scale=args.noise, grad_clip=args.grad_clip, clamp=(-1, 1))
    if args.objective == "drl":
        drl = ebm_swift.objectives.DRL(**({"sigmas": args.sigmas} if args.sigmas else {}), n_steps=args.n_steps,
                                       step_scale=args.step_scale)
        network = ebm_swift.NetworkEnergy(uva_cnn(len(drl.sigmas)), (1, 28, 28), seed=args.seed,
                                          n_classes=len(drl.sigmas))
        trainer = ebm_swift.Trainer(network, objective=drl, lr=args.lr, betas=tuple(args.betas), ema_decay=0.99,
                                    seed=args.seed)
        energy = network.class_energy(0)  # the first level's energy: the data's density
    else:
        energy = ebm_swift.NetworkEnergy(sequential(NETWORK), (1, 28, 28), seed=args.seed)
        trainer = ebm_swift.Trainer(energy, lr=args.lr, betas=tuple(args.betas), alpha=args.alpha,
                                    n_steps=args.n_steps, init_range=(-1, 1), buffer_size=args.buffer,
                                    reinit_prob=args.reinit, data_noise=0.005, ema_decay=0.99, seed=args.seed, **sampler)
    start, curve = time.perf_counter(), []
    while (trainer.n_iter < args.steps) if args.steps else (time.perf_counter() - start < 60 * args.minutes):
        trainer.step(train[rng.integers(0, len(train), 128)])
        if args.curve and trainer.n_iter % args.curve == 0:
            curve.append(evaluation.curve_point(trainer.n_iter, time.perf_counter() - start, classifier, energy, test,
                                                args.seed, None if args.objective == "drl" else trainer.buffer))
    seconds = time.perf_counter() - start

    figures = {"training": {"recipe": {k: v for k, v in vars(args).items() if k not in ("out", "minutes", "steps")},
                            "steps": trainer.n_iter, "seconds": round(seconds, 1),
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
            final = dict(sampler, noise_scale=args.noise if args.final_noise is None else args.final_noise)
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
