"""How the two Fashion-MNIST quality tests' scores grow with their step budgets (not a test;
`python benchmarks/quality_budget.py uva|jem [seed]`).

Runs the recipe of `python/tests/quality/test_image_quality.py` (`uva`: 800 steps) or of
`test_jem_learns_fashion_mnist` in `python/tests/training/test_jem.py` (`jem`: 1500 steps, with
`ema_decay=0.99` tracked beside, which does not change the trained weights), with the tests' seeds
and batches for `seed` 0, and prints at checkpoints what the tests assert: for `uva` the AUROCs of
the averaged and last weights against uniform noise and pixel-shuffled test images and the
Fréchet distances of the buffer, noise and shuffled images to the test images; for `jem` test
accuracy, OOD AUROC against uniform noise and the fraction of class-conditional samples the
independent classifier recognises, for the last and the averaged weights. The test budgets are
chosen from these trajectories (their docstrings quote them).
"""

import sys
import time
import warnings

import numpy as np

import ebm_swift
from ebm_swift import metrics, nn

UVA_CHECKPOINTS, JEM_CHECKPOINTS = (300, 400, 500, 600, 800), (600, 800, 1000, 1200, 1500)
SAMPLER = dict(step_size=10.0, noise_scale=0.005, grad_clip=0.03, clamp=(-1, 1))


def cnn(outputs):
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, stride=2, padding=4), nn.SiLU(), nn.Conv2d(16, 32, 3, 2, 1), nn.SiLU(),
        nn.Conv2d(32, 64, 3, 2, 1), nn.SiLU(), nn.Conv2d(64, 64, 3, 2, 1), nn.SiLU(),
        nn.Flatten(), nn.Linear(256, 64), nn.SiLU(), nn.Linear(64, outputs))


def judge(train, labels):
    """The tests' independent classifier (conftest.py): 128 ReLU units on 10 000 images."""
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(hidden_layer_sizes=(128,), max_iter=15, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(train[:10_000].reshape(10_000, -1), labels[:10_000])
    return clf


def uva(seed, train, test, clf):
    w, b = clf.coefs_[0], clf.intercepts_[0]
    features = lambda z: np.maximum(np.asarray(z, dtype=np.float64).reshape(len(z), -1) @ w + b, 0)  # noqa: E731
    energy = ebm_swift.NetworkEnergy(cnn(1), (1, 28, 28), seed=seed)
    trainer = ebm_swift.Trainer(energy, lr=1e-4, betas=(0.0, 0.999), alpha=0.1, n_steps=40, init_range=(-1, 1),
                                buffer_size=1024, reinit_prob=0.05, data_noise=0.005, seed=seed, **SAMPLER)
    average = {k: v.astype(np.float64) for k, v in energy.parameters().items()}
    rng, eval_rng = np.random.default_rng(seed), np.random.default_rng(99)
    held = test[:1000]
    noise = eval_rng.uniform(-1, 1, size=held.shape).astype(np.float32)
    shuffled = np.stack([eval_rng.permutation(img.ravel()).reshape(img.shape) for img in held])
    start = time.perf_counter()
    for step in range(1, UVA_CHECKPOINTS[-1] + 1):
        trainer.step(train[rng.integers(0, len(train), 128)])
        for name, value in energy.parameters().items():
            average[name] += 0.01 * (value - average[name])
        if step in UVA_CHECKPOINTS:
            averaged = ebm_swift.NetworkEnergy(cnn(1), (1, 28, 28), seed=0)
            averaged.set_parameters(average)
            scores = []
            for model in (averaged, energy):
                e = model.energy(held)
                scores.append(f"{metrics.auroc(e, model.energy(noise)):.4f} / {metrics.auroc(e, model.energy(shuffled)):.4f}")
            fd = [metrics.frechet_distance(x, held, features) for x in (trainer.buffer, noise, shuffled)]
            print(f"uva seed {seed} step {step} ({time.perf_counter() - start:.0f} s): AUROC noise / shuffled, "
                  f"averaged {scores[0]}, last {scores[1]}; FD buffer / noise / shuffled "
                  f"{fd[0]:.2f} / {fd[1]:.2f} / {fd[2]:.2f}", flush=True)


def jem(seed, train, labels, test, test_labels, clf):
    energy = ebm_swift.NetworkEnergy(cnn(10), (1, 28, 28), seed=seed, n_classes=10)
    trainer = ebm_swift.Trainer(energy, objective="jem", lr=1e-3, betas=(0.0, 0.999), alpha=0.1, n_steps=20,
                                init_range=(-1, 1), buffer_size=1024, reinit_prob=0.05, data_noise=0.005,
                                seed=seed, ema_decay=0.99, **SAMPLER)
    rng, eval_rng = np.random.default_rng(seed), np.random.default_rng(99)
    noise = eval_rng.uniform(-1, 1, size=(1000, 1, 28, 28)).astype(np.float32)
    wanted = np.repeat(np.arange(10), 20)
    start = time.perf_counter()
    for step in range(1, JEM_CHECKPOINTS[-1] + 1):
        rows = rng.integers(0, len(train), 128)
        trainer.step(train[rows], labels[rows])
        if step in JEM_CHECKPOINTS:
            out = []
            for label, model in (("last", energy), ("averaged", trainer.averaged_energy())):
                accuracy = metrics.accuracy(model.predict_proba(test), test_labels)
                ood = metrics.ood_auroc(model, test[:1000], noise)
                x0 = trainer.buffer[eval_rng.integers(0, 1024, len(wanted))]
                samples = ebm_swift.langevin(model, x0, 100, seed=1, y=wanted, **SAMPLER)
                recognised = float(np.mean(clf.predict(samples.reshape(len(samples), -1)) == wanted))
                out.append(f"{label} accuracy {accuracy:.4f} OOD AUROC {ood:.4f} recognised {recognised:.2f}")
            print(f"jem seed {seed} step {step} ({time.perf_counter() - start:.0f} s): " + " | ".join(out), flush=True)


def main():
    which, seed = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0
    (train, labels), (test, test_labels) = (ebm_swift.datasets.load_fashion_mnist(part) for part in ("train", "test"))
    clf = judge(train, labels)
    if which == "uva":
        uva(seed, train, test, clf)
    else:
        jem(seed, train, labels, test, test_labels, clf)


if __name__ == "__main__":
    main()
