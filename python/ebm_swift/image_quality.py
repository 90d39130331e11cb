"""Image-EBM evaluation on Fashion-MNIST: the fixed feature classifier, Fréchet distance and an
Inception-style score in its features, and the three out-of-distribution sets.

The classifier is not shipped: it is built deterministically from Fashion-MNIST's training split
the first time it is needed (a few seconds; kept for the rest of the process). It is NumPy only,
independent of the Swift core, so the yardstick does not share the numerics of what it measures.
"""

from __future__ import annotations

import functools

import numpy as np

from ._validation import as_samples, positive_int, resolve_seed

__all__ = ["FashionMNISTClassifier", "fashion_mnist_classifier", "inception_score", "image_ood_sets",
           "mnist_style_digits", "shuffle_pixels"]

#: The recipe of the feature classifier: a 784 → 128 (ReLU) → 10 (softmax) perceptron, He-normal
#: initial weights from seed 0, Adam (lr 1e-3, β = (0.9, 0.999)) on the cross-entropy, batches of
#: 200 in a seeded order, 10 epochs over all 60 000 training images, float32.
RECIPE = {"hidden": 128, "seed": 0, "lr": 1e-3, "batch": 200, "epochs": 10}


class FashionMNISTClassifier:
    """A fixed image classifier for Fréchet distances and Inception-style scores (the
    Inception network's role for natural images): its 128 hidden ReLU units are the features, its
    softmax the class probabilities. Build it with :func:`fashion_mnist_classifier`.

    Attributes
    ----------
    w1 : ndarray, shape (784, 128)
    b1 : ndarray, shape (128,)
    w2 : ndarray, shape (128, 10)
    b2 : ndarray, shape (10,)
    test_accuracy : float
        Its accuracy on the 10 000 test images.
    """

    def __init__(self, w1, b1, w2, b2, test_accuracy=float("nan")):
        self.w1, self.b1, self.w2, self.b2 = w1, b1, w2, b2
        self.test_accuracy = float(test_accuracy)

    def _flat(self, x, name):
        flat, _ = as_samples(x, (1, 28, 28), name)
        return flat

    def features(self, x) -> np.ndarray:
        """The hidden layer's activations.

        Parameters
        ----------
        x : array_like, shape (n, 1, 28, 28) or (n, 784), in [−1, 1]

        Returns
        -------
        ndarray, shape (n, 128), float64
        """
        return np.maximum(self._flat(x, "x") @ self.w1 + self.b1, 0).astype(np.float64)

    def predict_proba(self, x) -> np.ndarray:
        """Class probabilities, shape ``(n, 10)``, float64, rows summing to one."""
        logits = self.features(x) @ self.w2.astype(np.float64) + self.b2
        logits -= logits.max(1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(1, keepdims=True)

    def predict(self, x) -> np.ndarray:
        """The most probable class of each image, shape ``(n,)``."""
        return self.predict_proba(x).argmax(1)

    def __repr__(self):
        return f"FashionMNISTClassifier(test_accuracy={self.test_accuracy:.4f})"


def _train(images, labels, hidden, seed, lr, batch, epochs):
    rng = np.random.default_rng(seed)
    x = images.reshape(len(images), -1).astype(np.float32)
    params = [(rng.standard_normal((x.shape[1], hidden)) * np.sqrt(2 / x.shape[1])).astype(np.float32),
              np.zeros(hidden, np.float32),
              (rng.standard_normal((hidden, 10)) * np.sqrt(1 / hidden)).astype(np.float32),
              np.zeros(10, np.float32)]
    first, second = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
    step = 0
    for _ in range(epochs):
        for rows in np.array_split(rng.permutation(len(x)), len(x) // batch):
            xb, yb = x[rows], labels[rows]
            h = np.maximum(xb @ params[0] + params[1], 0)
            logits = h @ params[2] + params[3]
            logits -= logits.max(1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(1, keepdims=True)
            p[np.arange(len(rows)), yb] -= 1
            p /= len(rows)
            dh = (p @ params[2].T) * (h > 0)
            grads = [xb.T @ dh, dh.sum(0), h.T @ p, p.sum(0)]
            step += 1
            for i, g in enumerate(grads):
                first[i] = 0.9 * first[i] + 0.1 * g
                second[i] = 0.999 * second[i] + 0.001 * g * g
                corrected = lr * np.sqrt(1 - 0.999 ** step) / (1 - 0.9 ** step)
                params[i] -= (corrected * first[i] / (np.sqrt(second[i]) + 1e-8)).astype(np.float32)
    return params


@functools.lru_cache(maxsize=4)
def _built(path):
    from .image_datasets import load_fashion_mnist

    train, labels = load_fashion_mnist("train", path)
    model = FashionMNISTClassifier(*_train(train, labels, **RECIPE))
    test, test_labels = load_fashion_mnist("test", path)
    model.test_accuracy = float(np.mean(model.predict(test) == test_labels))
    return model


def fashion_mnist_classifier(path=None) -> FashionMNISTClassifier:
    """The fixed Fashion-MNIST feature classifier (:data:`RECIPE`), trained on the first call in
    a process (about 5 s on two cores) and reused after; the same on every call and every run.

    Parameters
    ----------
    path : str, optional
        Where the Fashion-MNIST files are (see :func:`ebm_swift.datasets.load_fashion_mnist`).

    Returns
    -------
    FashionMNISTClassifier
        Test accuracy about 0.88.
    """
    return _built(None if path is None else str(path))


def inception_score(x, classifier=None, splits=1, return_std=False):
    """Inception-style score of a set of images on the fixed classifier (Salimans et al. 2016):
    ``exp(E_x KL(p(y|x) ‖ p(y)))`` with ``p(y)`` the mean of ``p(y|x)`` over the set (or each split).
    High when every image is confidently one class and the classes are balanced: at most 10 here,
    1 for images the classifier cannot tell apart.

    Parameters
    ----------
    x : array_like, shape (n, 1, 28, 28) or (n, 784), in [−1, 1]
    classifier : FashionMNISTClassifier, optional
        Defaults to :func:`fashion_mnist_classifier`.
    splits : int, default 1
        Score each of ``splits`` consecutive parts and average (the original recipe uses 10).
    return_std : bool, default False
        Also return the standard deviation over the splits.

    Returns
    -------
    float, or (float, float) with ``return_std``
    """
    splits = positive_int(splits, "splits")
    classifier = fashion_mnist_classifier() if classifier is None else classifier
    if not isinstance(classifier, FashionMNISTClassifier):
        raise TypeError(f"classifier must be a FashionMNISTClassifier; got {type(classifier).__name__}")
    p = classifier.predict_proba(x)
    if splits > len(p):
        raise ValueError(f"splits must be at most the number of images ({len(p)}); got {splits}")
    scores = []
    for part in np.array_split(p, splits):
        marginal = part.mean(0)
        with np.errstate(divide="ignore", invalid="ignore"):
            kl = np.where(part > 0, part * (np.log(part) - np.log(marginal)), 0.0).sum(1)
        scores.append(float(np.exp(kl.mean())))
    mean = float(np.mean(scores))
    return (mean, float(np.std(scores))) if return_std else mean


def mnist_style_digits() -> np.ndarray:
    """scikit-learn's 1797 8×8 digits as MNIST-style 28×28 images in [−1, 1]: each pixel repeated
    into a 20×20 box (row/column ``i·8 // 20``), centred in a frame of −1 (MNIST's layout).

    Returns
    -------
    ndarray, shape (1797, 1, 28, 28), float32
    """
    from .datasets import load_digits

    digits = load_digits().reshape(-1, 8, 8)
    index = np.arange(20) * 8 // 20
    out = -np.ones((len(digits), 1, 28, 28), dtype=np.float32)
    out[:, 0, 4:24, 4:24] = digits[:, index][:, :, index]
    return out


def shuffle_pixels(x, seed=None) -> np.ndarray:
    """Each image with its pixels randomly permuted (its own permutation): the same grey levels,
    no shape. A copy; ``x`` is not changed.

    Parameters
    ----------
    x : array_like, shape (n, ...)
    seed : int or numpy.random.Generator, optional
    """
    a = np.array(x, dtype=np.float32)
    if a.ndim < 2 or len(a) == 0:
        raise ValueError(f"x must be a non-empty batch of images, shape (n, ...); got shape {a.shape}")
    rng = np.random.default_rng(resolve_seed(seed))
    flat = a.reshape(len(a), -1)
    return np.take_along_axis(flat, rng.random(flat.shape).argsort(1), 1).reshape(a.shape)


def image_ood_sets(x, seed=None) -> dict:
    """The out-of-distribution sets an image EBM is judged against, for test images ``x``:
    ``"uniform noise"`` (as many images, U(−1, 1)), ``"shuffled pixels"`` (:func:`shuffle_pixels`
    of ``x``) and ``"MNIST-style digits"`` (:func:`mnist_style_digits`).

    Parameters
    ----------
    x : array_like, shape (n, 1, 28, 28)
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    dict of str to ndarray, each shape (m, 1, 28, 28), float32
    """
    a = np.asarray(x, dtype=np.float32)
    if a.ndim != 4 or a.shape[1:] != (1, 28, 28) or len(a) == 0:
        raise ValueError(f"x must be 28×28 grey images, shape (n, 1, 28, 28); got shape {a.shape}")
    rng = np.random.default_rng(resolve_seed(seed))
    return {"uniform noise": rng.uniform(-1, 1, a.shape).astype(np.float32),
            "shuffled pixels": shuffle_pixels(a, rng), "MNIST-style digits": mnist_style_digits()}
