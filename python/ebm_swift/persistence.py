"""Saving and loading models, trainers and estimators as ``.npz`` files.

Layout (all entries are NumPy arrays; no pickles, so loading runs no code):

- ``__format__``: the string ``"ebm_swift"``; ``__version__``: 1; ``__kind__``: ``"MLPEnergy"``,
  ``"Trainer"`` or ``"EnergyBasedModel"``; ``__meta__``: a JSON string (architecture, settings,
  counters).
- ``model.params``: the flat float32 parameter vector (``MLPEnergy.parameters()`` order).
- for trainers: ``trainer.first_moment``, ``trainer.second_moment`` (optimiser moments),
  ``trainer.buffer`` (persistent chains), ``trainer.permutation`` (the buffer's draw order) and
  ``trainer.history.*`` (per-step history).

Files are written to a temporary file in the same folder, flushed to disk and renamed over the
target: a crash never leaves a half-written file, and an existing file is replaced whole or not
at all.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile

import numpy as np

__all__ = ["save", "load"]

FORMAT, VERSION = "ebm_swift", 1


def _model_state(model):
    meta = {"dim": model.dim, "hidden": list(model.hidden), "activation": model.activation}
    return {"model.params": _flat(model)}, meta


def _flat(model):
    from . import _native

    return _native.energy_get_parameters(model._handle)


def _model_from(arrays, meta):
    from . import _native
    from .energies import MLPEnergy

    model = MLPEnergy(meta["dim"], tuple(meta["hidden"]), meta["activation"], seed=0)
    flat = np.asarray(arrays["model.params"], dtype=np.float32)
    if flat.shape != (model.num_parameters,) or not np.isfinite(flat).all():
        raise ValueError("model.params does not match the architecture or is not finite")
    _native.energy_set_parameters(model._handle, flat)
    return model


def save(obj, path) -> None:
    """Save an :class:`MLPEnergy`, :class:`Trainer` or :class:`EnergyBasedModel` to ``path``."""
    from .energies import MLPEnergy
    from .estimator import EnergyBasedModel
    from .training import Trainer

    if isinstance(obj, MLPEnergy):
        kind, (arrays, meta) = "MLPEnergy", _model_state(obj)
    elif isinstance(obj, Trainer):
        kind, (arrays, meta) = "Trainer", _trainer_state(obj)
    elif isinstance(obj, EnergyBasedModel):
        kind = "EnergyBasedModel"
        arrays, meta = ({}, {}) if obj.trainer_ is None else _trainer_state(obj.trainer_)
        params = obj.get_params()
        if not (params["random_state"] is None or isinstance(params["random_state"], (int, np.integer))):
            # A Generator cannot be written as JSON; the fitted trainer keeps its own seed.
            params["random_state"] = None
        params = {k: (int(v) if isinstance(v, np.integer) else v) for k, v in params.items()}
        meta["params"] = params
        meta["fitted"] = obj.trainer_ is not None
    else:
        raise TypeError(f"cannot save a {type(obj).__name__}; expected MLPEnergy, Trainer or EnergyBasedModel")
    payload = {"__format__": np.array(FORMAT), "__version__": np.array(VERSION), "__kind__": np.array(kind),
               "__meta__": np.array(json.dumps(meta))}
    payload.update(arrays)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".ebm_swift-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _trainer_state(trainer):
    arrays, meta = _model_state(trainer.energy)
    t_arrays, t_meta = trainer._state()
    arrays.update({f"trainer.{k}": v for k, v in t_arrays.items()})
    meta["trainer"] = t_meta
    return arrays, meta


def _trainer_from(arrays, meta):
    from .training import Trainer

    model = _model_from(arrays, meta)
    t_arrays = {k[len("trainer."):]: v for k, v in arrays.items() if k.startswith("trainer.")}
    return Trainer._from_state(model, t_arrays, meta["trainer"])


def load(path):
    """Load what :func:`save` wrote: an :class:`MLPEnergy`, :class:`Trainer` (ready to continue
    exactly where it stopped) or :class:`EnergyBasedModel`.

    Raises
    ------
    ValueError
        If the file is not an ebm_swift file, is truncated or corrupted, or is of a newer format.
    """
    path = os.fspath(path)
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (zipfile.BadZipFile, EOFError, ValueError, OSError, KeyError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"{path} is not a readable ebm_swift file ({type(exc).__name__}: {exc})") from None
    if str(arrays.get("__format__", "")) != FORMAT:
        raise ValueError(f"{path} is not an ebm_swift file (no '__format__ = {FORMAT}' entry)")
    if int(arrays["__version__"]) > VERSION:
        raise ValueError(f"{path} has format version {int(arrays['__version__'])}; this ebm_swift reads {VERSION}")
    kind, meta = str(arrays["__kind__"]), json.loads(str(arrays["__meta__"]))
    try:
        if kind == "MLPEnergy":
            return _model_from(arrays, meta)
        if kind == "Trainer":
            return _trainer_from(arrays, meta)
        if kind == "EnergyBasedModel":
            from .estimator import EnergyBasedModel

            est = EnergyBasedModel(**meta["params"])
            if meta["fitted"]:
                est._attach(_trainer_from(arrays, meta))
            return est
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path} is an incomplete ebm_swift file (missing {exc})") from None
    raise ValueError(f"{path} holds an unknown kind {kind!r}")
