"""The image-EBM yardsticks: the fixed Fashion-MNIST feature classifier, the Inception-style score,
the Fréchet distance in its features, and the out-of-distribution sets."""

import numpy as np
import pytest

from ebm_swift import datasets, image_quality, metrics
from ebm_swift.image_quality import FashionMNISTClassifier


def entropy(p):
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.where(p > 0, p * np.log(p), 0.0).sum(-1)


def pixel_classifier(scale):
    """Class k ↔ pixel k bright: h = relu(x[:10]) is 1 for the lit pixel (+1), 0 for dark ones (−1);
    logits = scale · h."""
    w1 = np.zeros((784, 128), np.float32)
    w1[np.arange(10), np.arange(10)] = 1
    w2 = np.zeros((128, 10), np.float32)
    w2[np.arange(10), np.arange(10)] = scale
    return FashionMNISTClassifier(w1, np.zeros(128, np.float32), w2, np.zeros(10, np.float32))


def images_lighting(pixels):
    x = -np.ones((len(pixels), 1, 28, 28), np.float32)
    x.reshape(len(x), -1)[np.arange(len(x)), pixels] = 1
    return x


def test_inception_score_is_the_exponentiated_mutual_information():
    # IS = exp(H(p(y)) − E_x H(p(y|x))) — the same quantity as exp E KL(p(y|x) ‖ p(y)), written
    # through entropies; checked on a classifier whose probabilities are known in closed form.
    rng = np.random.default_rng(0)
    for scale, pixels in ((1.5, rng.integers(0, 10, 500)), (40.0, np.arange(500) % 10), (3.0, np.zeros(50, int))):
        clf = pixel_classifier(scale)
        x = images_lighting(pixels)
        logits = np.zeros((len(x), 10))
        logits[np.arange(len(x)), pixels] = scale
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        expected = np.exp(entropy(p.mean(0)) - entropy(p).mean())
        assert image_quality.inception_score(x, clf) == pytest.approx(expected, rel=1e-9)
    # Confident and balanced: the score reaches the number of classes; one class only: 1.
    assert image_quality.inception_score(images_lighting(np.arange(500) % 10), pixel_classifier(40.0)) \
        == pytest.approx(10.0, rel=1e-6)
    assert image_quality.inception_score(images_lighting(np.zeros(50, int)), pixel_classifier(40.0)) \
        == pytest.approx(1.0, rel=1e-6)


def test_inception_score_splits_and_arguments():
    x = images_lighting(np.r_[np.arange(100) % 10, np.zeros(100, int)])
    clf = pixel_classifier(40.0)
    mean, std = image_quality.inception_score(x, clf, splits=2, return_std=True)
    assert mean == pytest.approx((10.0 + 1.0) / 2, rel=1e-6) and std == pytest.approx(4.5, rel=1e-6)
    with pytest.raises(ValueError, match="splits"):
        image_quality.inception_score(x[:3], clf, splits=4)
    with pytest.raises(TypeError, match="classifier"):
        image_quality.inception_score(x, classifier="inception")
    with pytest.raises(ValueError, match="x"):
        clf.features(np.zeros((3, 1, 27, 27)))


def test_the_classifier_recipe_is_deterministic_and_learns():
    # The recipe on a subset, twice: the same bits (seeded order and initial weights).
    (train, labels), (test, test_labels) = (datasets.load_fashion_mnist("train"), datasets.load_fashion_mnist("test"))
    recipe = dict(image_quality.RECIPE, epochs=1)
    a = image_quality._train(train[:4000], labels[:4000], **recipe)
    b = image_quality._train(train[:4000], labels[:4000], **recipe)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    full = metrics.fashion_mnist_classifier()
    assert full is metrics.fashion_mnist_classifier()  # built once per process
    assert full.test_accuracy >= 0.86  # measured 0.879 (a 784-128-10 perceptron reaches 0.87–0.89)
    assert np.mean(full.predict(test[:2000]) == test_labels[:2000]) >= 0.86


def test_frechet_distance_in_the_classifier_features_orders_the_yardsticks():
    (train, _), (test, _) = datasets.load_fashion_mnist("train"), datasets.load_fashion_mnist("test")
    held = test[:2000]
    sets = image_quality.image_ood_sets(held, seed=0)
    fd = {name: metrics.frechet_distance(x, held, features="fashion_mnist") for name, x in sets.items()}
    fd["training images"] = metrics.frechet_distance(train[:2000], held, features="fashion_mnist")
    # Measured 1.78 for training images against 16–18 for the three others.
    assert fd["training images"] < 3 and min(fd[k] for k in sets) > 3 * fd["training images"]
    clf = metrics.fashion_mnist_classifier()
    assert metrics.frechet_distance(train[:2000], held, features="fashion_mnist") == \
        metrics.frechet_distance(train[:2000], held, features=clf.features)
    # Real images score high (measured 7.5), uniform noise low (2.2).
    assert metrics.inception_score(held) > 6 > 3 > metrics.inception_score(sets["uniform noise"])
    with pytest.raises(ValueError, match="features"):
        metrics.frechet_distance(held, held, features="inception")
    with pytest.raises(TypeError, match="features"):
        metrics.frechet_distance(held, held, features=3)


def test_mnist_style_digits_upsample_the_8x8_digits_into_a_centred_box():
    small = datasets.load_digits().reshape(-1, 8, 8)
    big = datasets.mnist_style_digits()
    assert big.shape == (len(small), 1, 28, 28) and big.dtype == np.float32
    border = np.ones((28, 28), bool)
    border[4:24, 4:24] = False
    assert (big[:, 0][:, border] == -1).all()
    # Nearest-neighbour upsampling by 5/2 (output line i shows source line ⌊2i/5⌋), worked by hand
    # for a few lines: 0→0, 2→0, 3→1, 5→2, 7→2, 8→3, 19→7.
    box = big[:, 0, 4:24, 4:24]
    out_lines, source_lines = [0, 2, 3, 5, 7, 8, 19], [0, 0, 1, 2, 2, 3, 7]
    np.testing.assert_array_equal(box[:, out_lines][:, :, out_lines], small[:, source_lines][:, :, source_lines])


def test_shuffle_pixels_keeps_each_images_values_and_leaves_the_input():
    x = np.random.default_rng(0).uniform(-1, 1, (20, 1, 28, 28)).astype(np.float32)
    before = x.copy()
    y = datasets.shuffle_pixels(x, seed=3)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(np.sort(y.reshape(20, -1), 1), np.sort(x.reshape(20, -1), 1))
    assert (y != x).mean() > 0.99
    np.testing.assert_array_equal(y, datasets.shuffle_pixels(x, seed=3))
    # Each image has its own permutation: the same image twice is shuffled two ways.
    twice = datasets.shuffle_pixels(np.repeat(x[:1], 2, axis=0), seed=1)
    assert (twice[0] != twice[1]).mean() > 0.99
    with pytest.raises(ValueError, match="x"):
        datasets.shuffle_pixels(np.zeros(5))


def test_image_ood_sets():
    x = np.zeros((30, 1, 28, 28), np.float32)
    sets = metrics.image_ood_sets(x, seed=0)
    assert set(sets) == {"uniform noise", "shuffled pixels", "MNIST-style digits"}
    assert sets["uniform noise"].shape == x.shape and np.abs(sets["uniform noise"]).max() <= 1
    with pytest.raises(ValueError, match=r"\(n, 1, 28, 28\)"):
        metrics.image_ood_sets(np.zeros((3, 784)))
