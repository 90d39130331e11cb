"""Saving and loading models, trainers and estimators as ``.npz`` files — class-agnostic.

Each saveable class owns its state (the ``state_dict`` habit): ``obj._state()`` returns
``(arrays, meta)`` — NumPy arrays by name and a JSON-able dictionary — and the class method
``cls._from_state(arrays, meta)`` rebuilds the object. Classes register under a kind name with
:func:`persistent`; this module knows none of them, and pickling goes through the same pair.

File layout (format version 2; no pickles, so loading runs no code):

- ``__format__``: ``"ebm_swift"``; ``__version__``: 2; ``__kind__``: the registered kind
  (``"MLPEnergy"``, ``"NetworkEnergy"``, ``"Trainer"``, ``"EnergyBasedModel"``); ``__meta__``: the
  JSON string of ``meta``;
- the arrays under their names (an object holding another stores the inner one's arrays with a
  prefix, e.g. a trainer's model under ``model.``, and its meta with its kind, see
  :func:`nested_state`).

Version-1 files (MLP models, trainers and estimators of ebm_swift 0.1) are read too.

Files are written to a temporary file in the same folder, flushed to disk and renamed over the
target: a crash never leaves a half-written file, and an existing file is replaced whole or not
at all.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
import zipfile

import numpy as np

from ._archive import Archive, open_archive

__all__ = ["save", "load", "persistent", "nested_state", "from_nested_state"]

FORMAT, VERSION = "ebm_swift", 2

_KINDS: dict = {}


def persistent(kind: str):
    """Class decorator: registers the class under ``kind`` for :func:`save`, :func:`load` and
    pickle. The class provides ``_state(self) -> (arrays, meta)`` and
    ``_from_state(cls, arrays, meta)``."""

    def register(cls):
        cls._kind = kind
        cls.__reduce__ = lambda self: (_rebuild, (kind, *self._state()))
        _KINDS[kind] = cls
        return cls

    return register


def _rebuild(kind, arrays, meta):
    return _KINDS[kind]._from_state(arrays, meta)


def nested_state(obj, prefix: str):
    """``obj``'s arrays under ``prefix`` and its meta with its ``kind``, for an object held by another."""
    arrays, meta = obj._state()
    return {prefix + k: v for k, v in arrays.items()}, {"kind": obj._kind, **meta}


def from_nested_state(arrays, meta, prefix: str):
    """The object :func:`nested_state` described."""
    if not isinstance(meta, dict):
        raise ValueError(f"the file's metadata under {prefix!r} must be a JSON object; got {type(meta).__name__}")
    cls = _KINDS.get(meta.get("kind"))
    if cls is None:
        raise ValueError(f"unknown kind {meta.get('kind')!r}")
    inner = arrays.view(prefix) if isinstance(arrays, Archive) else {
        k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
    return cls._from_state(inner, {k: v for k, v in meta.items() if k != "kind"})


def save(obj, path) -> None:
    """Save a model (:class:`MLPEnergy`, :class:`NetworkEnergy`), a :class:`Trainer` or an
    :class:`EnergyBasedModel` to ``path`` (``.npz``), atomically.

    The file is written next to its destination and renamed over it, so a failed save leaves any
    old file whole. A symbolic link is followed: the file it points to is replaced and the link
    stays. An existing file keeps its permission bits; a new one gets ``0o666`` less the umask (as
    ``open`` would give it). A read-only file (no write bit) is not replaced (``PermissionError``),
    nor is anything but a regular file (``ValueError``).
    """
    if type(obj) not in _KINDS.values():
        raise TypeError(f"cannot save a {type(obj).__name__}; expected one of {', '.join(sorted(_KINDS))}")
    path = os.fspath(path)
    target = os.path.realpath(path)  # through symbolic links
    if os.path.lexists(target):
        info = os.stat(target)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"path {path!r} exists and is not a regular file; refusing to replace it")
        mode = stat.S_IMODE(info.st_mode)
        if not mode & 0o222:
            raise PermissionError(f"path {path!r} is read-only (mode {mode:o}); refusing to replace it")
    else:
        mode = 0o666 & ~_umask()
    arrays, meta = obj._state()
    payload = {"__format__": np.array(FORMAT), "__version__": np.array(VERSION), "__kind__": np.array(obj._kind),
               "__meta__": np.array(json.dumps(meta))}
    payload.update(arrays)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".ebm_swift-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **payload)
            f.flush()
            os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _umask() -> int:
    """The process's umask, read without changing it where Linux tells it (``/proc``)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)  # elsewhere: read by setting it back at once
    os.umask(mask)
    return mask


def _from_version_1(kind, arrays, meta):
    """Version-1 layout (MLP only: its meta at the top, its parameters as ``model.params``)."""
    model_meta = {"kind": "MLPEnergy", "dim": meta["dim"], "hidden": meta["hidden"], "activation": meta["activation"]}
    if kind == "MLPEnergy":
        return {"params": arrays["model.params"]}, {k: v for k, v in model_meta.items() if k != "kind"}
    if kind in ("Trainer", "EnergyBasedModel") and "trainer" in meta:
        meta = dict(meta, model=model_meta)
    return arrays, meta


def load(path):
    """Load what :func:`save` wrote: a model, a :class:`Trainer` (ready to continue exactly where
    it stopped) or an :class:`EnergyBasedModel`.

    Raises
    ------
    ValueError
        If the file is not an ebm_swift file, is truncated or corrupted, or is of a newer format.
    """
    path = os.fspath(path)
    info = os.stat(path)  # FileNotFoundError as is
    if not stat.S_ISREG(info.st_mode):  # a FIFO or a device would block or never end
        raise ValueError(f"{path} is not a regular file")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a readable ebm_swift file (not an .npz archive, or truncated)")
    try:
        zf, members = open_archive(path)
    except (zipfile.BadZipFile, EOFError, ValueError, OSError, NotImplementedError) as exc:
        raise ValueError(f"{path} is not a readable ebm_swift file ({type(exc).__name__}: {exc})") from None
    with zf:
        try:
            return _load_members(path, members)
        except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as exc:
            raise ValueError(f"{path} is damaged ({type(exc).__name__}: {exc})") from None
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{path} is an incomplete ebm_swift file (missing {exc})") from None


def _load_members(path, members):
    """What :func:`load` returns, from the archive's members (each read only when needed)."""
    try:
        fmt = str(members["__format__"]) if "__format__" in members else ""
    except ValueError:
        fmt = ""
    if fmt != FORMAT:
        raise ValueError(f"{path} is not an ebm_swift file (no '__format__ = {FORMAT}' entry)")
    try:
        version_array = members["__version__"]
        if version_array.shape != () or version_array.dtype.kind not in "iu":
            raise ValueError(f"__version__ must be one integer, got {version_array.dtype} of shape {version_array.shape}")
        version = int(version_array)
        kind, meta = str(members["__kind__"]), json.loads(str(members["__meta__"]))
    except (KeyError, ValueError, TypeError, RecursionError) as exc:
        raise ValueError(f"{path} has a damaged header ({type(exc).__name__}: {str(exc)[:200]})") from None
    if version > VERSION:
        raise ValueError(f"{path} has format version {version}; this ebm_swift reads {VERSION}")
    if version < 1:
        raise ValueError(f"{path} has format version {version}; versions start at 1")
    if not isinstance(meta, dict):
        raise ValueError(f"{path} has a damaged header (its metadata is not a JSON object)")
    if kind not in _KINDS:
        raise ValueError(f"{path} holds an unknown kind {kind!r}")
    arrays = members
    try:
        if version == 1:
            arrays, meta = _from_version_1(kind, arrays, meta)
        return _KINDS[kind]._from_state(arrays, meta)
    except KeyError as exc:
        raise ValueError(f"{path} is an incomplete ebm_swift file (missing {exc})") from None
    except (TypeError, AttributeError) as exc:  # metadata of the wrong structure (a list for a dict, …)
        raise ValueError(f"{path} has damaged metadata ({type(exc).__name__}: {exc})") from None
