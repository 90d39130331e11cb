"""Evaluation: exact held-out log-likelihood in 2-D, maximum mean discrepancy, Fréchet distance and
Inception-style score (on a fixed Fashion-MNIST classifier for images), out-of-distribution AUROC,
and classifier calibration and accuracy."""

from __future__ import annotations

import numpy as np

from ._validation import as_batch, as_samples, positive_int
from .energies import Energy
from .image_quality import fashion_mnist_classifier, image_ood_sets, inception_score

__all__ = ["accuracy", "auroc", "expected_calibration_error", "fashion_mnist_classifier", "frechet_distance",
           "image_ood_sets", "inception_score", "kernel_stein_discrepancy", "log_likelihood_2d", "log_partition_2d",
           "mmd", "ood_auroc", "typicality"]


def _bounds(bounds):
    b = np.asarray(bounds, dtype=np.float64)
    if b.shape == (2,):
        b = np.stack([b, b])
    if b.shape != (2, 2) or not np.isfinite(b).all() or not (b[:, 0] < b[:, 1]).all():
        raise ValueError(f"bounds must be (low, high) or ((xlow, xhigh), (ylow, yhigh)) with low < high; got {bounds!r}")
    return b


def log_partition_2d(energy, bounds=(-4.0, 4.0), grid=512) -> float:
    """``ln Z = ln ∫ exp(−E)`` over the box ``bounds`` by the midpoint rule on ``grid × grid`` cells
    (mass outside the box is ignored: choose a box that holds it)."""
    if not isinstance(energy, Energy) or energy.dim != 2:
        raise ValueError("energy must be a 2-D ebm_swift Energy")
    b = _bounds(bounds)
    grid = positive_int(grid, "grid")
    hx, hy = (b[0, 1] - b[0, 0]) / grid, (b[1, 1] - b[1, 0]) / grid
    xs = b[0, 0] + hx * (np.arange(grid) + 0.5)
    ys = b[1, 0] + hy * (np.arange(grid) + 0.5)
    gx, gy = np.meshgrid(xs, ys)
    e = energy.energy(np.stack([gx.ravel(), gy.ravel()], axis=1)).astype(np.float64)
    top = (-e).max()
    return float(top + np.log(np.exp(-e - top).sum() * hx * hy))


def log_likelihood_2d(energy, X, bounds=(-4.0, 4.0), grid=512) -> float:
    """Mean held-out log-likelihood ``mean_i ln p(x_i) = −mean_i E(x_i) − ln Z`` of a 2-D energy,
    with ``Z`` by quadrature (:func:`log_partition_2d`): exact up to the grid and the box.

    Parameters
    ----------
    energy : Energy (dim 2)
    X : array_like, shape (n, 2)
    bounds : (low, high) or ((xlow, xhigh), (ylow, yhigh))
    grid : int
        Cells per axis.

    Returns
    -------
    float, nats per point
    """
    log_z = log_partition_2d(energy, bounds, grid)
    X = as_batch(X, 2, "X")
    return float(-energy.energy(X).astype(np.float64).mean() - log_z)


def mmd(X, Y, bandwidth=None) -> float:
    """Unbiased squared maximum mean discrepancy between samples ``X`` and ``Y`` with the
    Gaussian kernel ``k(a, b) = exp(−‖a − b‖² / (2 h²))`` (Gretton et al. 2012).

    Parameters
    ----------
    X : array_like, shape (n, d)
    Y : array_like, shape (m, d)
    bandwidth : float, optional
        ``h``; default the median pairwise distance of the pooled samples (median heuristic).

    Returns
    -------
    float
        MMD² (can be slightly negative when the distributions match).
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1] or len(X) < 2 or len(Y) < 2:
        raise ValueError(f"X and Y must be (n, d) and (m, d) with n, m ≥ 2; got {X.shape} and {Y.shape}")
    if not (np.isfinite(X).all() and np.isfinite(Y).all()):
        raise ValueError("X and Y must be finite")

    def sq(a, b):
        return np.maximum((a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T, 0)

    if bandwidth is None:
        pooled = np.concatenate([X, Y])[:1000]
        d = np.sqrt(sq(pooled, pooled))
        bandwidth = float(np.median(d[np.triu_indices(len(pooled), 1)]))
        if bandwidth == 0:
            raise ValueError("the median heuristic gives bandwidth 0 (most pooled points coincide); pass bandwidth=")
    elif not (np.isfinite(bandwidth) and bandwidth > 0):
        raise ValueError(f"bandwidth must be positive; got {bandwidth!r}")
    g = -0.5 / bandwidth**2
    kxx, kyy, kxy = np.exp(g * sq(X, X)), np.exp(g * sq(Y, Y)), np.exp(g * sq(X, Y))
    n, m = len(X), len(Y)
    return float((kxx.sum() - np.trace(kxx)) / (n * (n - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
                 - 2 * kxy.mean())


def kernel_stein_discrepancy(energy, X, *, c=1.0, beta=-0.5, block=1024) -> float:
    """The kernel Stein discrepancy of samples ``X`` from ``p ∝ exp(−E)``, with the inverse
    multiquadric kernel ``k(x, y) = (c² + ‖x − y‖²)^β`` (Gorham & Mackey 2017).

    It needs only the score ``∇ log p = −∇x E``, not the normaliser, so it measures sample quality
    for any energy: it is zero in the limit exactly when the samples' distribution is ``p`` (for
    ``−1 < β < 0``), and for exact draws it falls as ``1/√n``. Compare samplers or step sizes
    on the same ``n``. The V-statistic ``√(mean_ij k_p(x_i, x_j))``, with the Stein kernel
    ``k_p(x, y) = s(x)·s(y) k + s(x)·∇_y k + s(y)·∇_x k + tr ∇_x∇_y k``.

    Parameters
    ----------
    energy : Energy
    X : array_like, shape (n, dim) or (n, *input_shape)
        The samples (finite).
    c : float, default 1.0
        The kernel's scale (in the units of ``x``).
    beta : float, default -0.5
        The exponent, in (−1, 0).
    block : int, default 1024
        Rows per block of the ``n × n`` sum (memory ``block · n`` doubles).

    Returns
    -------
    float
    """
    if not isinstance(energy, Energy):
        raise TypeError(f"energy must be an ebm_swift Energy; got {type(energy).__name__}")
    X, shape = as_samples(X, energy.input_shape, "X")
    if not (np.isfinite(c) and c > 0):
        raise ValueError(f"c must be positive; got {c!r}")
    if not -1 < beta < 0:
        raise ValueError(f"beta must be in (-1, 0); got {beta!r}")
    block = positive_int(block, "block")
    x = np.asarray(X, np.float64).reshape(len(X), -1)
    score = -np.asarray(energy.grad_x(X.reshape(shape)), np.float64).reshape(len(X), -1)
    n, d = x.shape
    norms, score_dot_x = (x * x).sum(1), (score * x).sum(1)
    total = 0.0
    for start in range(0, n, block):
        xb, sb = x[start:start + block], score[start:start + block]
        r2 = np.maximum(norms[start:start + block, None] + norms[None, :] - 2 * xb @ x.T, 0)
        base = c * c + r2
        k = base**beta
        k1 = 2 * beta * base**(beta - 1)  # ∇_x k = k1 (x − y), ∇_y k = −k1 (x − y)
        # s(x)·∇_y k + s(y)·∇_x k = k1 [(s(y) − s(x))·(x − y)]
        cross = (sb * xb).sum(1)[:, None] - sb @ x.T - xb @ score.T + score_dot_x[None, :]
        trace = -k1 * d - 4 * beta * (beta - 1) * base**(beta - 2) * r2
        total += float((k * (sb @ score.T) - k1 * cross + trace).sum())
    return float(np.sqrt(max(total / (n * n), 0.0)))


def frechet_distance(X, Y, features=None) -> float:
    """Fréchet distance between two sets of samples, through a feature map (FID when the map is an
    Inception network; here any callable, e.g. a small classifier's penultimate layer).

    ``d² = ‖μ_X − μ_Y‖² + Tr(Σ_X + Σ_Y − 2 (Σ_X^{1/2} Σ_Y Σ_X^{1/2})^{1/2})`` with the means and
    covariances of the features: the 2-Wasserstein distance between Gaussians fitted to them.

    Parameters
    ----------
    X, Y : array_like, shape (n, ...) and (m, ...)
        The two sets (at least 2 samples each).
    features : callable or "fashion_mnist", optional
        Maps a batch to ``(n, k)`` features; by default the samples flattened. ``"fashion_mnist"``
        is the hidden layer of the fixed Fashion-MNIST classifier
        (:func:`fashion_mnist_classifier`), for 28×28 images in [−1, 1].

    Returns
    -------
    float
        ``d`` (not squared), ≥ 0.
    """
    if isinstance(features, str):
        if features != "fashion_mnist":
            raise ValueError(f"features must be a callable or 'fashion_mnist'; got {features!r}")
        features = fashion_mnist_classifier().features
    elif features is not None and not callable(features):
        raise TypeError(f"features must be a callable or 'fashion_mnist'; got {type(features).__name__}")

    def feats(Z, name):
        Z = np.asarray(Z, dtype=np.float64)
        if Z.ndim < 1 or len(Z) < 2:
            raise ValueError(f"{name} must hold at least 2 samples; got shape {Z.shape}")
        F = np.asarray(features(Z) if features is not None else Z.reshape(len(Z), -1), dtype=np.float64)
        if F.ndim != 2 or not np.isfinite(F).all():
            raise ValueError(f"the features of {name} must be a finite (n, k) array; got shape {F.shape}")
        return F

    fx, fy = feats(X, "X"), feats(Y, "Y")
    if fx.shape[1] != fy.shape[1]:
        raise ValueError(f"X and Y have {fx.shape[1]} and {fy.shape[1]} features")
    mx, my = fx.mean(0), fy.mean(0)
    cx, cy = np.atleast_2d(np.cov(fx, rowvar=False)), np.atleast_2d(np.cov(fy, rowvar=False))
    w, v = np.linalg.eigh(cx)
    root_x = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    middle = np.linalg.eigvalsh(root_x @ cy @ root_x)
    d2 = float(((mx - my) ** 2).sum() + np.trace(cx) + np.trace(cy) - 2 * np.sqrt(np.clip(middle, 0, None)).sum())
    return float(np.sqrt(max(d2, 0.0)))


def _scores(values, name):
    a = np.asarray(values)
    if a.dtype == np.bool_ or not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a):
        raise TypeError(f"{name} must be real numbers; got dtype {a.dtype}")
    a = a.astype(np.float64).ravel()
    if a.size == 0 or not np.isfinite(a).all():
        raise ValueError(f"{name} must be a non-empty array of finite numbers; got {a.size} values")
    return a


def auroc(negative, positive) -> float:
    """Area under the ROC curve of a score that should be higher on ``positive``.

    The probability that a positive scores above a negative, ties counting one half (the
    Mann–Whitney statistic, from average ranks).

    Parameters
    ----------
    negative, positive : array_like, shape (n,), (m,)

    Returns
    -------
    float in [0, 1]
    """
    neg, pos = _scores(negative, "negative"), _scores(positive, "positive")
    both = np.concatenate([neg, pos])
    order = np.argsort(both, kind="mergesort")
    ranks = np.empty(len(both))
    sorted_values = both[order]
    # Average ranks (1-based) over runs of equal values.
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], len(both)]
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    u = ranks[len(neg):].sum() - len(pos) * (len(pos) + 1) / 2.0
    return float(u / (len(neg) * len(pos)))


def _statistics(energy, X):
    """``(E(x), log ‖∇x E(x)‖)`` per row, float64."""
    g = energy.grad_x(X)
    norms = np.linalg.norm(g.reshape(len(g), -1).astype(np.float64), axis=1)
    return np.stack([energy.energy(X).astype(np.float64), np.log(np.maximum(norms, np.finfo(np.float64).tiny))], 1)


def typicality(energy, X, reference) -> np.ndarray:
    """How atypical each row of ``X`` is for data like ``reference``: the squared Mahalanobis
    distance of its two summary statistics — the energy ``E(x)`` and ``log ‖∇x E(x)‖`` — to their
    mean over ``reference``, under their covariance there. An input can be atypical by being too
    unlikely (noise: high energy) or *too likely* (simpler images: low, flat energy), which a score
    that only orders energies cannot see (the typicality test of Nalisnick et al. 2019; the
    density-of-states statistics of Morningstar et al. 2021).

    Parameters
    ----------
    energy : Energy
    X : array_like, shape (n, dim) or (n, *energy.input_shape)
    reference : array_like, shape (m, dim) or (m, *energy.input_shape)
        In-distribution inputs held out from those being judged (e.g. training images the model was
        not evaluated on), m ≥ 3, whose two statistics are not collinear.

    Returns
    -------
    ndarray, shape (n,), float64
        0 at the reference's mean statistics; larger is less typical.
    """
    if not isinstance(energy, Energy):
        raise TypeError(f"energy must be an ebm_swift Energy; got {type(energy).__name__}")
    ref = _statistics(energy, reference)
    if len(ref) < 3:
        raise ValueError(f"reference must have at least 3 rows to estimate a covariance; got {len(ref)}")
    mean, cov = ref.mean(axis=0), np.cov(ref.T)
    if not np.all(np.isfinite(cov)) or np.linalg.cond(cov) > 1e12:
        raise ValueError("reference: the energies and gradient norms of its rows are constant or collinear; "
                         "pass varied in-distribution inputs")
    d = _statistics(energy, X) - mean
    return np.einsum("ni,ij,nj->n", d, np.linalg.inv(cov), d)


def ood_auroc(energy, X_in, X_out, score="energy", reference=None) -> float:
    """How well the energy tells out-of-distribution inputs from in-distribution ones: the AUROC of
    a score with ``X_out`` as positives. 1 is perfect, 0.5 chance, below 0.5 the score ranks the
    other set as more likely (likelihood models often give simpler images — MNIST digits under a
    Fashion-MNIST model — more density than their own data; Nalisnick et al. 2019).

    Parameters
    ----------
    energy : Energy
    X_in, X_out : array_like, shape (n, dim) or (n, *energy.input_shape)
    score : {"energy", "grad_norm", "typicality"}, default "energy"
        ``"energy"``: ``E(x)`` (an EBM gives unlikely inputs high energy). ``"grad_norm"``:
        ``‖∇x E(x)‖``, the "approximate mass" of Grathwohl et al. 2019 (JEM): data sit where the
        density is high *and flat*, so a steep energy marks an input off the data's mass even
        where the energy itself is low. ``"typicality"``: :func:`typicality` against ``reference``
        (both, two-sided: too unlikely and too likely are both atypical).
    reference : array_like, optional
        Held-out in-distribution inputs, required by ``score="typicality"`` (and refused otherwise).
    """
    if not isinstance(energy, Energy):
        raise TypeError(f"energy must be an ebm_swift Energy; got {type(energy).__name__}")
    if (reference is None) != (score != "typicality"):
        raise ValueError(f"reference is for score='typicality' (and required there); got score={score!r} "
                         f"with reference {'given' if reference is not None else 'missing'}")
    if score == "typicality":
        return auroc(typicality(energy, X_in, reference), typicality(energy, X_out, reference))
    if score == "energy":
        return auroc(energy.energy(X_in), energy.energy(X_out))
    if score == "grad_norm":
        def norms(x):
            g = energy.grad_x(x)
            return np.linalg.norm(g.reshape(len(g), -1).astype(np.float64), axis=1)
        return auroc(norms(X_in), norms(X_out))
    raise ValueError(f"score must be 'energy', 'grad_norm' or 'typicality'; got {score!r}")


def _probabilities_and_labels(probs, labels):
    p = np.asarray(probs)
    if p.dtype == np.bool_ or not np.issubdtype(p.dtype, np.number) or np.iscomplexobj(p):
        raise TypeError(f"probs must be real numbers; got dtype {p.dtype}")
    p = p.astype(np.float64)
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] < 2:
        raise ValueError(f"probs must have shape (n, k) with n ≥ 1 and k ≥ 2 classes; got {p.shape}")
    y = np.asarray(labels)
    if not np.issubdtype(y.dtype, np.integer) or y.dtype == np.bool_:
        raise TypeError(f"labels must be integers; got dtype {y.dtype}")
    if y.shape != (p.shape[0],):
        raise ValueError(f"labels must have shape ({p.shape[0]},) to match probs; got {y.shape}")
    if y.min() < 0 or y.max() >= p.shape[1]:
        raise ValueError(f"labels must lie in [0, {p.shape[1]}); got values in [{y.min()}, {y.max()}]")
    return p, y


def accuracy(probs, labels) -> float:
    """The fraction of rows whose largest entry (probability or logit) is at the label.

    Parameters
    ----------
    probs : array_like, shape (n, k)
        Class probabilities or logits.
    labels : array_like of int, shape (n,)
    """
    p, y = _probabilities_and_labels(probs, labels)
    if not np.isfinite(p).all():
        raise ValueError("probs must be finite")
    return float(np.mean(p.argmax(axis=1) == y))


def expected_calibration_error(probs, labels, n_bins=15) -> float:
    """Expected calibration error (Guo et al. 2017) with equal-width confidence bins:
    ``Σ_b (n_b / n) |accuracy_b − confidence_b|`` over bins ``((b−1)/B, b/B]`` of the top-class
    probability.

    Parameters
    ----------
    probs : array_like, shape (n, k)
        Class probabilities: non-negative rows summing to one (within 1e-6).
    labels : array_like of int, shape (n,)
    n_bins : int, default 15

    Returns
    -------
    float in [0, 1]
    """
    p, y = _probabilities_and_labels(probs, labels)
    n_bins = positive_int(n_bins, "n_bins")
    if not np.isfinite(p).all() or (p < 0).any() or np.abs(p.sum(axis=1) - 1).max() > 1e-6:
        raise ValueError("probs must be finite, non-negative rows summing to one (pass probabilities, not logits)")
    confidence = p.max(axis=1)
    correct = p.argmax(axis=1) == y
    bins = np.clip(np.ceil(confidence * n_bins).astype(int) - 1, 0, n_bins - 1)
    error = 0.0
    for b in range(n_bins):
        inside = bins == b
        if inside.any():
            error += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(error)
