"""An image EBM trains (issue 10): the UvA "Deep Energy Models" CNN on Fashion-MNIST with the
tutorial's recipe — `recipes.image_ebm("pcd")`, the short version of `benchmarks/quality_images.py`
— about 3 minutes on a 2-core machine, then the scores and the samples are judged against held-out
test images.

Recipe (`recipes.PCD_SETTINGS`): Adam lr 1e-4, betas (0, 0.999), alpha 0.1, 40 Langevin steps per
training step from a persistent buffer with 5 % re-initialisation from U(−1, 1), Langevin step 10
with noise 0.005, gradient clip 0.03, clamp to [−1, 1], and the tutorial's 0.005 noise on the data
images. The test's budget: a 1024-image buffer, batch 128, 500 steps (a fixed count keeps the run
deterministic).

The scores are those of the Polyak average of the weights over the run (the trainer's exponential
moving average, decay 0.99): the persistent-chain model itself oscillates from step to
step — measured every 20 s over 4-minute runs, its AUROC against pixel-shuffled images wanders
between 0.83 and 0.99 while the average's stays within 0.947–0.967.

The issue's goal for pixel-shuffled test images, AUROC ≥ 0.99, is not reached within this budget;
what the tests require is what the runs support with a margin (see the README and the closing note
of issue 10 for the measurements): uniform noise ≥ 0.99 (measured 1.000 in every run), shuffled
images ≥ 0.93 (measured 0.947–0.967 for the average), and buffer samples closer to the test images
than noise and shuffled images are, by Fréchet distance in a classifier's feature space.

The budget was 800 steps until issue 19 (`make test` in 15 minutes). Measured along one 800-step
run of this recipe (`python benchmarks/quality_budget.py uva 0`; averaged-weights AUROC against
uniform noise / shuffled images, Fréchet distance of the buffer, against 18.97 for noise and 15.53
for shuffled images):
step 300: 1.000 / 0.938, FD 7.42; 400: 1.000 / 0.957, 5.96; 500: 1.000 / 0.963, 5.71; 600: 1.000 /
0.958, 5.32; 800: 1.000 / 0.952, 4.30. The averaged score plateaus from step 400 on, so 500 steps
meet every requirement with the margin 800 had (seed 1 at 500 steps: 1.000 / 0.962, FD 5.85).
"""

import time

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # a long run: `make test-fast` skips it

import ebm_swift
from ebm_swift import metrics, recipes

STEPS, BATCH, BUFFER = 500, 128, 1024


auroc = ebm_swift.metrics.auroc  # P(a score of `lower` is below one of `higher`; ties half)


@pytest.fixture(scope="session")
def classifier_features(fashion_classifier):
    """The hidden layer of the independent classifier (conftest.py), as the feature map of the
    Fréchet distance."""
    weights, bias = fashion_classifier.coefs_[0], fashion_classifier.intercepts_[0]
    return lambda z: np.maximum(np.asarray(z, dtype=np.float64).reshape(len(z), -1) @ weights + bias, 0)


def test_uva_cnn_learns_fashion_mnist(fashion_mnist, classifier_features):
    (train, _), (test, _) = fashion_mnist
    recipe = recipes.image_ebm("pcd", seed=0, buffer_size=BUFFER)
    energy, trainer = recipe.energy, recipe.trainer
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(STEPS):
        trainer.step(train[rng.integers(0, len(train), BATCH)])
    seconds = time.perf_counter() - start
    averaged = recipe.image_energy()

    held = test[:1000]
    noise = rng.uniform(-1, 1, size=held.shape).astype(np.float32)
    shuffled = np.stack([rng.permutation(img.ravel()).reshape(img.shape) for img in held])
    report = {}
    for label, model in (("average", averaged), ("last", energy)):
        e_held = model.energy(held)
        report[label] = (auroc(e_held, model.energy(noise)), auroc(e_held, model.energy(shuffled)))
    samples = trainer.buffer
    fd = {name: metrics.frechet_distance(x, held, classifier_features)
          for name, x in (("buffer samples", samples), ("uniform noise", noise), ("shuffled test", shuffled))}
    print(f"\n{STEPS} steps in {seconds:.0f} s; AUROC test vs noise / shuffled: averaged weights "
          f"{report['average'][0]:.4f} / {report['average'][1]:.4f}, last weights {report['last'][0]:.4f} / "
          f"{report['last'][1]:.4f}; Fréchet distance to the test images: "
          + ", ".join(f"{k} {v:.2f}" for k, v in fd.items()))

    assert report["average"][0] >= 0.99 and report["last"][0] >= 0.99
    assert report["average"][1] >= 0.93
    assert fd["buffer samples"] < fd["uniform noise"] and fd["buffer samples"] < fd["shuffled test"]
    assert samples.shape == (BUFFER, 1, 28, 28) and samples.min() >= -1 and samples.max() <= 1
