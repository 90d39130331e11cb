"""The out-of-distribution AUROCs of a saved image energy under the three scores of
`metrics.ood_auroc` (`python benchmarks/ood_scores.py DIR/model.npz [--seed 0]`; not a test): the
first 2000 Fashion-MNIST test images against uniform noise, pixel-shuffled test images and
MNIST-style digits, scored by the energy, by the norm of its input gradient, and by the typicality
of both statistics against the last 5000 training images."""

import argparse
import json
import os
import sys

import ebm_swift

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import image_evaluation as evaluation  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", help="an ebm_swift.save file of an image energy (the runs' model.npz)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    energy = ebm_swift.load(args.model)
    test, _ = ebm_swift.datasets.load_fashion_mnist("test")
    reference = ebm_swift.datasets.load_fashion_mnist("train")[0][-5000:]
    figures = {score: evaluation.ood_figures(energy, test[:2000], args.seed, score=score)
               for score in ("energy", "grad_norm")}
    figures["typicality"] = evaluation.ood_figures(energy, test[:2000], args.seed, "typicality", reference)
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
