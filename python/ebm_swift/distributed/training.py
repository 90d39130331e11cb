"""Training one model on a cluster: every step's negatives spread over the workers, the rest of the
step on this process, bit for bit the run of :meth:`ebm_swift.Trainer.fit`.

A contrastive step (``"ml"`` with any kernel, ``"jem"``) spends nearly all its time moving its
negatives — ``n_steps`` network passes per chain against one pass for the gradient. So each step
runs here as always (draws from the persistent buffer, data noise, spectral norm, gradient,
clipping, optimiser, EMA, rollback) except that its drawn chains go out in pieces of whole chain
blocks, one task per piece, to replicas of the trainer on the workers, which move them with the
step's parameters and buffers and send them back. A chain's noise is keyed by the seed, the step
and its index, and the pieces keep the local blocks' shapes, so the moved chains — and therefore
everything after — are the local run's, for any number of workers and however the scheduler
places (or, after a lost worker, re-runs) the tasks.

The buffer, optimiser and history live here only: a checkpoint is ``ebm_swift.save(trainer, …)``
as for any trainer, and a resumed trainer continues on a cluster or alone. Objectives that sample
nothing (``"dsm"``, ``"ssm"``, ``"nce"``, ``"drl"``) run their steps here.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict

import numpy as np

from ._backends import _backend

# Replicas of the trainers being fitted, on each worker process, by the fit's token (a few kept).
_REPLICAS: "OrderedDict[str, tuple]" = OrderedDict()
_REPLICAS_KEPT = 4
_REPLICAS_LOCK = threading.Lock()


def _replica(token, spec):
    """This worker's replica of the fit ``token``'s trainer (built once) and its lock."""
    with _REPLICAS_LOCK:
        if token not in _REPLICAS:
            from ..training import Trainer

            _REPLICAS[token] = (Trainer._replica(*spec), threading.Lock())
            while len(_REPLICAS) > _REPLICAS_KEPT:
                _REPLICAS.popitem(last=False)
        return _REPLICAS[token]


def _negatives_task(version, token, spec, parameters, buffers, x, chain_offset, class_index, step):
    """Moves one piece of a step's negatives on this worker's replica set to the step's model."""
    from .. import __version__, _native

    if version != __version__:
        raise RuntimeError(f"this worker runs ebm_swift {__version__} but the driver runs {version}: "
                           "install the same version everywhere")
    replica, lock = _replica(token, spec)
    energy = replica.energy
    with lock:  # the tasks of one step set the same values; the lock keeps set-then-sample whole
        _native.energy_set_parameters(energy._handle, parameters)
        if buffers.size:
            _native.energy_set_buffers(energy._handle, buffers)
        return _native.trainer_sample_negatives(replica._native_trainer(), x, energy.dim, chain_offset, class_index,
                                                step)


def _pieces(segments, block_rows, workers):
    """``(first row, rows, class)`` of each task: every segment cut into ``workers`` runs of whole
    blocks (fewer when it has fewer blocks)."""
    pieces = []
    for start, count, label in np.asarray(segments, dtype=np.int64).tolist():
        blocks = -(-count // block_rows)
        rows = -(-blocks // workers) * block_rows
        pieces += [(start + k, min(rows, count - k), label) for k in range(0, count, rows)]
    return pieces


class _StepNegatives:
    """The negatives function a step calls (see ``Trainer._step``): the chains out in pieces, one
    task each, and back into place."""

    def __init__(self, backend, trainer):
        from .. import __version__

        self.backend, self.version, self.token = backend, __version__, uuid.uuid4().hex
        others = {w: v for w, v in backend.worker_versions().items() if v != __version__}
        if others:
            listed = ", ".join(f"{w} runs {v}" for w, v in sorted(others.items()))
            raise RuntimeError(f"workers run another ebm_swift version than this process ({__version__}): {listed}; "
                               "install the same version everywhere")
        self.spec = backend.broadcast(trainer._replica_spec())
        self.workers = backend.n_workers()

    def __call__(self, x, segments, block_rows, step, parameters, buffers):
        pieces = _pieces(segments, block_rows, self.workers)
        futures = [self.backend.submit(_negatives_task, self.version, self.token, self.spec, parameters, buffers,
                                       x[a:a + n], a, label, step) for a, n, label in pieces]
        moved = np.empty_like(x)
        for i, rows in self.backend.completed(futures):
            a, n, _ = pieces[i]
            moved[a:a + n] = rows
        return moved


def fit(trainer, X, y=None, *, client=None, epochs=1, batch_size=128, shuffle=True, progress=True, callback=None):
    """Train ``trainer`` in place on a cluster: exactly what ``trainer.fit(X, y, epochs=…,
    batch_size=…, shuffle=…)`` does on one machine — the same parameters, buffer and history, bit
    for bit, for any number of workers.

    Each step's negatives are cut into pieces of whole chain blocks (at most one piece per worker
    and segment) and moved by replicas of the trainer on the workers; everything else of the step
    runs here. A lost worker's piece is re-run elsewhere to the same bits. Objectives without
    negatives (``"dsm"``, ``"ssm"``, ``"nce"``, ``"drl"``) train here, as ``trainer.fit`` would.

    Parameters
    ----------
    trainer : Trainer
        Trained in place; may have trained before (locally or here) or been loaded from a file.
    X : array_like, shape (n, dim) or (n, *energy.input_shape)
    y : array_like of int, shape (n,), optional
        Class labels (``objective="jem"`` only, and required there).
    client : dask.distributed.Client, the ray module, or None
        ``None`` uses the default Dask client.
    epochs, batch_size, shuffle, progress, callback
        As in :meth:`Trainer.fit`. Any batch size works: a batch is never cut inside a chain
        block, so a batch of fewer blocks than workers leaves workers idle.

    Returns
    -------
    dict of lists
        ``trainer.history`` (every step so far, this call's included).

    Raises
    ------
    ValueError
        For a closed client, and for what :meth:`Trainer.fit` refuses.
    RuntimeError
        If a worker runs another version of ebm_swift (both named).
    TrainingDivergedError
        As locally: the step that failed changed nothing.
    """
    from ..training import Trainer
    from ..training_loop import fit as fit_here

    if not isinstance(trainer, Trainer):
        raise TypeError(f"trainer must be an ebm_swift.Trainer; got {type(trainer).__name__}")
    backend = _backend(client)
    step = None
    if trainer.objective_record.samples_negatives:
        negatives = _StepNegatives(backend, trainer)
        step = lambda x_batch, y_batch: trainer._step(x_batch, y_batch, negatives)  # noqa: E731
    return fit_here(trainer, X, y, epochs=epochs, batch_size=batch_size, shuffle=shuffle, progress=progress,
                    callback=callback, step=step)
