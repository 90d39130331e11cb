"""IDX reading, Fashion-MNIST from Debian's package, and the Fréchet distance."""

import gzip

import numpy as np
import pytest

from ebm_swift import datasets, metrics


def write_idx(path, array, code=0x08, compress=False):
    header = bytes([0, 0, code, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    data = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    with (gzip.open if compress else open)(path, "wb") as f:
        f.write(data)


@pytest.mark.parametrize("compress", [False, True])
def test_load_idx_round_trip(tmp_path, compress):
    images = np.random.default_rng(0).integers(0, 256, size=(7, 5, 4)).astype(np.uint8)
    floats = np.random.default_rng(1).normal(size=(3, 2)).astype(np.float32)
    suffix = ".gz" if compress else ""
    write_idx(tmp_path / f"a{suffix}", images, compress=compress)
    write_idx(tmp_path / f"b{suffix}", floats, code=0x0D, compress=compress)
    np.testing.assert_array_equal(datasets.load_idx(tmp_path / f"a{suffix}"), images)
    np.testing.assert_array_equal(datasets.load_idx(tmp_path / f"b{suffix}"), floats)


def test_load_idx_rejects_bad_files(tmp_path):
    (tmp_path / "x").write_bytes(b"PK\x03\x04 not idx")
    with pytest.raises(ValueError, match="is not an IDX file"):
        datasets.load_idx(tmp_path / "x")
    write_idx(tmp_path / "y", np.zeros((4, 3), dtype=np.uint8))
    (tmp_path / "y").write_bytes((tmp_path / "y").read_bytes()[:-2])
    with pytest.raises(ValueError, match="needs 24"):
        datasets.load_idx(tmp_path / "y")


def test_load_mnist_layout_from_a_folder(tmp_path):
    images = np.random.default_rng(2).integers(0, 256, size=(6, 28, 28)).astype(np.uint8)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", images, compress=True)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.arange(6, dtype=np.uint8))
    x, y = datasets.load_mnist(tmp_path, split="test")
    assert x.shape == (6, 1, 28, 28) and x.dtype == np.float32
    np.testing.assert_allclose(x[:, 0], images / 127.5 - 1, atol=1e-6)
    np.testing.assert_array_equal(y, np.arange(6))
    with pytest.raises(FileNotFoundError, match="no train-images-idx3-ubyte"):
        datasets.load_mnist(tmp_path, split="train")
    with pytest.raises(ValueError, match="split must be 'train' or 'test'; got 'val'"):
        datasets.load_mnist(tmp_path, split="val")


def test_fashion_mnist_from_the_debian_package():
    """`make test` installs dataset-fashion-mnist (apt); the standard split sizes and classes."""
    x, y = datasets.load_fashion_mnist("test")
    assert x.shape == (10_000, 1, 28, 28) and x.dtype == np.float32
    assert x.min() == -1.0 and x.max() == 1.0
    assert np.array_equal(np.bincount(y), np.full(10, 1000))


def test_fashion_mnist_missing_files_name_the_package(tmp_path):
    with pytest.raises(FileNotFoundError, match="dataset-fashion-mnist.*path="):
        datasets.load_fashion_mnist("train", path=tmp_path)


def test_frechet_distance_against_the_gaussian_closed_form():
    """For N(μ1, diag σ1²) and N(μ2, diag σ2²): d² = ‖μ1 − μ2‖² + Σ (σ1 − σ2)². With 200 000
    samples in 3 dimensions the estimate is within 1 % of the closed form."""
    rng = np.random.default_rng(0)
    mu1, mu2, s1, s2 = np.array([0.0, 1, 2]), np.array([1.0, 1, 0]), np.array([1.0, 2, 0.5]), np.array([2.0, 1, 0.5])
    X = mu1 + s1 * rng.normal(size=(200_000, 3))
    Y = mu2 + s2 * rng.normal(size=(200_000, 3))
    exact = np.sqrt(((mu1 - mu2) ** 2).sum() + ((s1 - s2) ** 2).sum())
    assert metrics.frechet_distance(X, Y) == pytest.approx(exact, rel=0.01)
    assert metrics.frechet_distance(X, X) == pytest.approx(0.0, abs=1e-6)
    # a feature map: the distance of the first coordinates only
    assert metrics.frechet_distance(X, Y, features=lambda Z: Z[:, :1]) == pytest.approx(np.sqrt(1 + 1), rel=0.02)
    with pytest.raises(ValueError, match="X and Y have 3 and 2 features"):
        metrics.frechet_distance(X, Y[:, :2])
