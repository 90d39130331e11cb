"""The epoch loop of :meth:`ebm_swift.Trainer.fit`: batches in a seeded order, one step each."""

from __future__ import annotations

import numpy as np

from ._progress import progress_bar
from ._validation import as_samples, flag, positive_int


def batches(n, batch_size, seed, epoch, shuffle):
    """The row indices of each batch of epoch ``epoch``: a permutation seeded by ``(seed, epoch)``
    (or ``0..n-1`` without ``shuffle``), cut into batches of ``batch_size`` (the last may be smaller).

    Returns
    -------
    list of ndarray of int, each of shape (≤ batch_size,)
    """
    order = np.random.default_rng([seed, epoch]).permutation(n) if shuffle else np.arange(n)
    return [order[start : start + batch_size] for start in range(0, n, batch_size)]


def fit(trainer, X, y=None, *, epochs=1, batch_size=128, shuffle=True, progress=True, callback=None, step=None):
    """Train ``trainer`` on ``X`` (and labels ``y``) for ``epochs`` epochs; see :meth:`Trainer.fit`.
    ``step(x_batch, y_batch)`` takes each step (default ``trainer.step``; the distributed one).

    Returns
    -------
    dict of lists
        The trainer's history.
    """
    data = as_samples(X, trainer.energy.input_shape, "X")[0]
    labels = trainer._labels(y, data.shape[0], "y")
    epochs = positive_int(epochs, "epochs")
    batch_size = positive_int(batch_size, "batch_size")
    n = data.shape[0]
    if batch_size > n:
        raise ValueError(f"batch_size ({batch_size}) is larger than the data ({n} rows)")
    if trainer._uses_buffer and batch_size > trainer.buffer_size:
        raise ValueError(f"batch_size ({batch_size}) is larger than buffer_size ({trainer.buffer_size})")
    if callback is not None and not callable(callback):
        raise TypeError("callback must be callable")
    trainer._native_trainer(data)
    step = trainer.step if step is None else step
    per_epoch = -(-n // batch_size)
    shuffle = flag(shuffle, "shuffle")
    bar = progress_bar(flag(progress, "progress"), "fit", total=epochs * per_epoch, steps=True)
    try:
        for _ in range(epochs):
            for rows in batches(n, batch_size, trainer.seed, trainer.epochs_done, shuffle):
                record = step(data[rows], None if labels is None else labels[rows])
                if bar:
                    bar.advance(record)
                if callback is not None and callback(trainer, record) is False:
                    return trainer.history
            trainer.epochs_done += 1
    finally:
        if bar:
            bar.close()
    return trainer.history
