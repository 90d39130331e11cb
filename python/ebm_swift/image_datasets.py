"""Image data sets read from IDX files (the format of MNIST and Fashion-MNIST), as
``(N, 1, 28, 28)`` float32 images in [−1, 1] with their labels."""

from __future__ import annotations

import gzip
import os

import numpy as np

__all__ = ["load_idx", "load_fashion_mnist", "load_mnist", "FASHION_MNIST_DIR"]

#: Where Debian's ``dataset-fashion-mnist`` package installs the data.
FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"

# IDX element types (the third byte of the magic number) and their NumPy dtypes (big-endian).
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def load_idx(path) -> np.ndarray:
    """Read an IDX file (gzip-compressed or not) into an array of its shape and type.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    ndarray
        E.g. ``(60000, 28, 28)`` uint8 for MNIST images, ``(60000,)`` for labels.

    Raises
    ------
    ValueError
        If the file is not IDX or its size does not match its header.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":  # gzip, whatever the file's name
        data = gzip.decompress(data)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number {data[:4].hex()})")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path} is truncated: its header needs {header} bytes, the file has {len(data)}")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_TYPES[data[2]])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(f"{path} has {len(data)} bytes; its header {shape} of {dtype} needs {expected}")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _load_split(path, split, what, install_hint):
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}")
    stem = "train" if split == "train" else "t10k"
    names = [f"{stem}-images-idx3-ubyte", f"{stem}-labels-idx1-ubyte"]
    found = []
    for name in names:
        candidates = [os.path.join(path, name + ext) for ext in (".gz", "")]
        existing = [c for c in candidates if os.path.exists(c)]
        if not existing:
            raise FileNotFoundError(f"{what}: no {name}(.gz) in {path}; {install_hint}")
        found.append(existing[0])
    images, labels = load_idx(found[0]), load_idx(found[1])
    if images.ndim != 3 or labels.shape != (len(images),):
        raise ValueError(f"{what}: images {images.shape} and labels {labels.shape} in {path} do not match")
    x = (images.astype(np.float32) / 127.5 - 1.0)[:, None, :, :]
    return x, labels.astype(np.int64)


def load_fashion_mnist(split="train", path=None):
    """Fashion-MNIST (Xiao et al. 2017): 60 000 training and 10 000 test 28×28 grey images of 10
    kinds of clothing.

    Parameters
    ----------
    split : {"train", "test"}
    path : str, optional
        A folder holding the four IDX files (``train-images-idx3-ubyte.gz``, …). Defaults to
        :data:`FASHION_MNIST_DIR`, where Debian's ``dataset-fashion-mnist`` package puts them
        (``make test`` installs it; ``sudo apt-get install dataset-fashion-mnist``).

    Returns
    -------
    images : ndarray, shape (N, 1, 28, 28), float32 in [−1, 1]
    labels : ndarray, shape (N,), int64 in 0..9

    Raises
    ------
    FileNotFoundError
        Naming the package and the ``path`` argument when the files are not there.
    """
    folder = FASHION_MNIST_DIR if path is None else os.fspath(path)
    hint = ("install Debian's dataset-fashion-mnist package (sudo apt-get install dataset-fashion-mnist) "
            "or pass path= a folder with the IDX files")
    return _load_split(folder, split, "Fashion-MNIST", hint)


def load_mnist(path, split="train"):
    """MNIST from a folder holding its four IDX files (``train-images-idx3-ubyte(.gz)``, …).

    Returns
    -------
    images : ndarray, shape (N, 1, 28, 28), float32 in [−1, 1]
    labels : ndarray, shape (N,), int64
    """
    return _load_split(os.fspath(path), split, "MNIST", "pass path= a folder with the IDX files")
