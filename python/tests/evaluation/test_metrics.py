"""Issue 12's evaluation helpers against independent references: AUROC against scikit-learn's
`roc_auc_score` (ties included) and the normal closed form, ECE against hand-computed cases and
its zero on perfectly calibrated data, accuracy."""

import math

import numpy as np
import pytest

import ebm_swift
from ebm_swift import metrics


def test_auroc_matches_scikit_learn_with_ties():
    roc_auc_score = pytest.importorskip("sklearn.metrics").roc_auc_score
    rng = np.random.default_rng(0)
    for trial in range(5):
        neg = np.round(rng.normal(size=300), 1)  # rounded: many ties
        pos = np.round(rng.normal(0.7, 1.2, size=200), 1)
        expected = roc_auc_score(np.r_[np.zeros(300), np.ones(200)], np.r_[neg, pos])
        assert metrics.auroc(neg, pos) == pytest.approx(expected, abs=1e-12)
    assert metrics.auroc([0, 1], [2, 3]) == 1.0 and metrics.auroc([2, 3], [0, 1]) == 0.0
    assert metrics.auroc([1, 1], [1, 1]) == 0.5


@pytest.mark.parametrize("score", ["energy", "grad_norm"])
def test_ood_auroc_of_a_gaussian_energy_matches_the_closed_form(score):
    """In: N(0, 1); out: N(0, 9). E(x) = x²/2 under the in-distribution model, ‖∇E(x)‖ = |x|; both
    rank by |x|, so the AUROC is P(|x_out| > |x_in|) = (2/π)·atan(3) for the half-normal ratio of
    scales 3."""
    energy = ebm_swift.GaussianEnergy([0.0], [[1.0]])
    rng = np.random.default_rng(1)
    n = 20_000
    value = metrics.ood_auroc(energy, rng.normal(size=(n, 1)), rng.normal(0, 3, size=(n, 1)), score=score)
    exact = 2 / math.pi * math.atan(3)
    assert value == pytest.approx(exact, abs=5 * math.sqrt(exact * (1 - exact) / n))


def test_gradient_norm_score_against_numpy():
    """‖Σ⁻¹(x − μ)‖ computed in NumPy ranks the sets as `score="grad_norm"` does (to float32's
    rounding of the gradient: a few near-ties may swap)."""
    mean, cov = np.array([1.0, -1.0]), np.array([[1.0, 0.0], [0.0, 25.0]])
    energy = ebm_swift.GaussianEnergy(mean, cov)
    rng = np.random.default_rng(2)
    x_in = rng.multivariate_normal(mean, cov, size=3000)
    x_out = mean + np.c_[rng.normal(0, 0.1, 3000), rng.normal(0, 2.0, 3000)]
    norms = [np.linalg.norm((x - mean) @ np.linalg.inv(cov), axis=1) for x in (x_in, x_out)]
    assert metrics.ood_auroc(energy, x_in, x_out, score="grad_norm") == pytest.approx(metrics.auroc(*norms), abs=1e-3)


def test_typicality_against_numpy_and_where_the_energy_score_fails():
    """N(0, I₁₀): E = ‖x‖²/2, ‖∇E‖ = ‖x‖. Points near the mode are the most likely and yet
    atypical (‖x‖² ~ χ²₁₀ sits near 10, not 0): the energy score ranks them as *more* in-
    distribution (AUROC near 0), typicality flags them (near 1); a fresh in-distribution sample
    is as typical as the data (AUROC near 0.5). The scores equal a NumPy re-implementation."""
    d = 10
    energy = ebm_swift.GaussianEnergy(np.zeros(d), np.eye(d))
    rng = np.random.default_rng(3)
    reference, x_in, same = (rng.normal(size=(4000, d)) for _ in range(3))
    near_mode = 0.3 * rng.normal(size=(4000, d))

    def statistics(x):
        r = np.linalg.norm(x, axis=1)
        return np.c_[0.5 * r ** 2, np.log(r)]  # the energy up to its constant, which cancels

    ref = statistics(reference)
    diff = statistics(near_mode) - ref.mean(0)
    expected = np.einsum("ni,ij,nj->n", diff, np.linalg.inv(np.cov(ref.T)), diff)
    np.testing.assert_allclose(metrics.typicality(energy, near_mode, reference), expected, rtol=1e-4)
    assert metrics.ood_auroc(energy, x_in, near_mode) < 0.01
    assert metrics.ood_auroc(energy, x_in, near_mode, score="typicality", reference=reference) > 0.99
    # Two samples of the same law: AUROC 0.5 within 5 standard errors (σ ≈ sqrt(1/(6n)) for n = 4000).
    assert abs(metrics.ood_auroc(energy, x_in, same, score="typicality", reference=reference) - 0.5) < 5 * math.sqrt(
        1 / (6 * 4000))


def test_expected_calibration_error():
    # Hand-computed: two bins used; bin (0.6, 0.667]: conf 0.65 (x2), one correct -> |0.5 - 0.65|;
    # bin (0.933, 1]: conf 0.95 (x2), both correct -> |1 - 0.95|. ECE = 0.5·0.15 + 0.5·0.05 = 0.1.
    probs = np.array([[0.65, 0.35], [0.35, 0.65], [0.95, 0.05], [0.05, 0.95]])
    labels = np.array([0, 0, 0, 1])
    assert metrics.expected_calibration_error(probs, labels) == pytest.approx(0.1)
    # Calibrated by construction: labels drawn from the stated probabilities -> ECE near 0
    # (sampling error ~ sqrt(p(1-p)/n_b) per bin; 5 SE over 10 bins with 40 000 rows).
    rng = np.random.default_rng(2)
    n = 40_000
    p1 = rng.uniform(0, 1, n)
    labels = (rng.uniform(size=n) < p1).astype(int)
    probs = np.stack([1 - p1, p1], 1)
    assert metrics.expected_calibration_error(probs, labels, n_bins=10) < 5 * math.sqrt(0.25 / (n / 10))
    # Overconfident: predictions at 0.99 right half the time -> ECE ≈ 0.49.
    probs = np.tile([0.99, 0.01], (1000, 1))
    labels = np.r_[np.zeros(500, int), np.ones(500, int)]
    assert metrics.expected_calibration_error(probs, labels) == pytest.approx(0.49)


def test_accuracy():
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 5.0], [4.0, 0.0, 0.0]])
    assert metrics.accuracy(logits, np.array([0, 1, 2, 1])) == 0.75


@pytest.mark.parametrize("call,exc,match", [
    (lambda: metrics.auroc([], [1.0]), ValueError, "negative"),
    (lambda: metrics.auroc([1.0, np.nan], [1.0]), ValueError, "negative"),
    (lambda: metrics.auroc(["a"], [1.0]), TypeError, "negative"),
    (lambda: metrics.expected_calibration_error([[0.5, 0.6]], [0]), ValueError, "summing to one"),
    (lambda: metrics.expected_calibration_error([[0.5, 0.5]], [2]), ValueError, "labels must lie"),
    (lambda: metrics.expected_calibration_error([[0.5, 0.5]], [0.0]), TypeError, "labels must be integers"),
    (lambda: metrics.expected_calibration_error([0.5, 0.5], [0]), ValueError, "shape"),
    (lambda: metrics.expected_calibration_error([[0.5, 0.5]], [0], n_bins=0), ValueError, "n_bins"),
    (lambda: metrics.accuracy([[1.0, 0.0]], [0, 1]), ValueError, "labels must have shape"),
    (lambda: metrics.ood_auroc("energy", [[0.0]], [[1.0]]), TypeError, "energy"),
    (lambda: metrics.ood_auroc(ebm_swift.GaussianEnergy([0.0], [[1.0]]), [[0.0]], [[1.0]], score="mass"), ValueError,
     "score must be 'energy', 'grad_norm' or 'typicality'; got 'mass'"),
    (lambda: metrics.ood_auroc(ebm_swift.GaussianEnergy([0.0], [[1.0]]), [[0.0]], [[1.0]], score="typicality"),
     ValueError, "reference is for score='typicality' .and required there.; got score='typicality' with reference missing"),
    (lambda: metrics.ood_auroc(ebm_swift.GaussianEnergy([0.0], [[1.0]]), [[0.0]], [[1.0]], reference=[[0.0]]),
     ValueError, "reference is for score='typicality'"),
    (lambda: metrics.typicality(ebm_swift.GaussianEnergy([0.0], [[1.0]]), [[0.0]], [[0.0], [1.0]]), ValueError,
     "at least 3 rows"),
    (lambda: metrics.typicality(ebm_swift.GaussianEnergy([0.0], [[1.0]]), [[0.0]], [[1.0]] * 5), ValueError,
     "constant or collinear"),
])
def test_bad_arguments(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def stein_kernel_reference(score, x, y, c=1.0, beta=-0.5, h=1e-4):
    """k_p(x, y) for one pair, the kernel's derivatives by central differences (independent of
    the closed forms the library uses)."""
    k = lambda a, b: (c * c + np.sum((a - b) ** 2)) ** beta
    d = len(x)
    e = np.eye(d) * h
    grad_x = np.array([(k(x + e[i], y) - k(x - e[i], y)) / (2 * h) for i in range(d)])
    grad_y = np.array([(k(x, y + e[i]) - k(x, y - e[i])) / (2 * h) for i in range(d)])
    trace = sum((k(x + e[i], y + e[i]) - k(x + e[i], y - e[i]) - k(x - e[i], y + e[i]) + k(x - e[i], y - e[i]))
                / (4 * h * h) for i in range(d))
    sx, sy = score(x), score(y)
    return sx @ sy * k(x, y) + sx @ grad_y + sy @ grad_x + trace


def test_kernel_stein_discrepancy_matches_a_finite_difference_reference():
    cov = np.array([[1.5, 0.4, 0.0], [0.4, 1.0, -0.2], [0.0, -0.2, 0.7]])
    mean = np.array([0.3, -0.2, 0.1])
    energy = ebm_swift.GaussianEnergy(mean, cov)
    precision = np.linalg.inv(cov)
    score = lambda v: -precision @ (v - mean)
    X = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32).astype(np.float64)
    reference = np.sqrt(np.mean([[stein_kernel_reference(score, a, b) for b in X] for a in X]))
    got = metrics.kernel_stein_discrepancy(energy, X, block=7)
    assert abs(got - reference) < 1e-4 * reference, (got, reference)


def test_kernel_stein_discrepancy_tells_exact_samples_from_wrong_ones():
    """Exact draws of N(0, I₂): the discrepancy falls as 1/√n (4× the draws, about half). Draws of
    N(0, 1.5² I) or shifted by 0.5 stay far above at every n (a sampler's step-size bias)."""
    energy = ebm_swift.GaussianEnergy(np.zeros(2), np.eye(2))
    rng = np.random.default_rng(1)
    exact = [metrics.kernel_stein_discrepancy(energy, rng.normal(size=(n, 2))) for n in (500, 2000)]
    wide = metrics.kernel_stein_discrepancy(energy, 1.5 * rng.normal(size=(2000, 2)))
    shifted = metrics.kernel_stein_discrepancy(energy, rng.normal(size=(2000, 2)) + 0.5)
    print(f"\nKSD exact n=500 {exact[0]:.4f}, n=2000 {exact[1]:.4f}; wide {wide:.4f}; shifted {shifted:.4f}")
    assert 0.3 < exact[1] / exact[0] < 0.8
    assert wide > 4 * exact[1] and shifted > 4 * exact[1]


def test_kernel_stein_discrepancy_arguments():
    energy = ebm_swift.GaussianEnergy(np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="X"):
        metrics.kernel_stein_discrepancy(energy, np.zeros((5, 3)))
    with pytest.raises(ValueError, match="X"):
        metrics.kernel_stein_discrepancy(energy, np.full((5, 2), np.nan))
    with pytest.raises(ValueError, match="beta"):
        metrics.kernel_stein_discrepancy(energy, np.zeros((5, 2)), beta=0.5)
    with pytest.raises(ValueError, match="c must"):
        metrics.kernel_stein_discrepancy(energy, np.zeros((5, 2)), c=0.0)
    with pytest.raises(TypeError, match="energy"):
        metrics.kernel_stein_discrepancy(lambda x: x, np.zeros((5, 2)))
