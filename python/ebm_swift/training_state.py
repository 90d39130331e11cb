"""Saving and resuming a :class:`~ebm_swift.Trainer`: its configuration, history and the core's
state entries by name (``ebm_trainer_state``), so that a resumed run continues bit for bit."""

from __future__ import annotations

import numpy as np

from ._archive import Archive, stored_shape
from . import _native
from .objectives import FLAT_DEFAULTS, NCE
from .objectives import REGISTRY as OBJECTIVES
from .persistence import from_nested_state, nested_state
from .schedules import from_config, to_config

#: The per-step records of ``Trainer.history``.
HISTORY_KEYS = ("loss", "e_data", "e_model", "grad_norm", "lr", "step_time")


class TrainerState:
    """What :class:`~ebm_swift.Trainer` saves and restores (a mixin: ``save``, ``load``)."""

    def _config(self):
        return {
            "lr": self.lr, "optimizer": self.optimizer, "betas": list(self.betas), "eps": self.eps,
            "momentum": self.momentum, "weight_decay": self.weight_decay, "clip_grad_norm": self.clip_grad_norm,
            "lr_schedule": to_config(self.lr_schedule), "n_steps": self.n_steps, "step_size": self.step_size,
            "noise_scale": self.noise_scale, "grad_clip": self.grad_clip,
            "clamp": list(self.clamp) if self.clamp is not None else None, "sampler": self._sampler_config(),
            "n_leapfrog": self.n_leapfrog,
            "persistent": self.persistent, "buffer_size": self.buffer_size, "reinit_prob": self.reinit_prob,
            "init_range": list(self.init_range), "data_noise": self.data_noise, "alpha": self.alpha,
            "objective": self._objective_config(), "sigma": None if self.sigma is None else list(self.sigma),
            "n_projections": self.n_projections, "projection": self.projection, "noise_ratio": self.noise_ratio,
            "ema_decay": self.ema_decay, "cross_entropy_weight": self.cross_entropy_weight,
            "class_conditional": self.class_conditional, "seed": self.seed,
        }

    def _objective_config(self):
        """The objective: its name when the flat arguments carry its record (every field is one of
        them), else its record's fields by name (``drl``'s sigmas and step scale)."""
        record = self.objective_record
        if set(record._fields()) <= set(FLAT_DEFAULTS):
            return self.objective
        fields = {k: list(v) if isinstance(v, tuple) else v for k, v in record._fields().items()}
        return {"kind": record.kind, **fields}

    def _sampler_config(self):
        """The negatives' kernel: its name when the flat arguments rebuild it, else its record's
        settings by name (a record passed with settings the flat arguments do not carry)."""
        from .samplers import from_name

        record = self.sampler_record
        flat = from_name(self.sampler, self.step_size, noise_scale=self.noise_scale, grad_clip=self.grad_clip,
                         clamp=self.clamp, n_leapfrog=self.n_leapfrog)
        if record == flat:
            return self.sampler
        fields = {k: list(v) if isinstance(v, tuple) else v for k, v in record._fields().items()}
        return {"kind": record.kind, **fields}

    def _state(self):
        arrays, model_meta = nested_state(self.energy, "model.")
        t_arrays, t_meta = self._trainer_state()
        arrays.update({f"trainer.{k}": v for k, v in t_arrays.items()})
        return arrays, {"model": model_meta, "trainer": t_meta}

    @classmethod
    def _from_state(cls, arrays, meta):
        energy = from_nested_state(arrays, meta["model"], "model.")
        t_arrays = arrays.view("trainer.") if isinstance(arrays, Archive) else {
            k[len("trainer."):]: v for k, v in arrays.items() if k.startswith("trainer.")}
        return cls._resume(energy, t_arrays, meta["trainer"])

    def _trainer_state(self):
        """The core's state entries by name: scalar counts (``step_count``, ``updates``) go in the
        header, arrays in the archive."""
        arrays, meta = {}, {"config": self._config(), "epochs_done": self.epochs_done}
        if self._handle is None:  # an NCE trainer before its first step: its noise is not fitted yet
            return arrays, dict(meta, unfitted=True)
        for name, _, shape in _native.trainer_state(self._native_trainer()):
            if shape == ():
                meta[name] = int(self._get(name))
            else:
                arrays[name] = self._get(name)
        if isinstance(self.objective_record, NCE):
            arrays.update(noise_mean=self.noise[0], noise_cov=self.noise[1])
        arrays.update({f"history.{k}": np.asarray(self.history[k], dtype=np.float64) for k in HISTORY_KEYS})
        return arrays, meta

    def _replica_spec(self):
        """What :meth:`_replica` needs: the energy and the configuration (no state, no history)."""
        return self.energy, self._config()

    @classmethod
    def _replica(cls, energy, config):
        """A trainer of the same configuration on (a copy of) ``energy``, fresh: on a worker, it
        moves its share of a step's negatives (:func:`ebm_swift.distributed.fit`)."""
        return cls(energy, **_arguments(config))

    @classmethod
    def _resume(cls, energy, arrays, meta):
        config = _arguments(meta["config"])
        if meta.get("unfitted") is True:  # saved before its first step: nothing to restore
            if config.get("objective") != "nce" or meta.get("epochs_done") != 0:
                raise ValueError("the file's trainer is marked unfitted, which only an NCE trainer before "
                                 "its first step is")
            return cls(energy, **config)
        if config.get("objective") == "nce":
            if "noise_mean" not in arrays or "noise_cov" not in arrays:
                raise ValueError("the file's NCE trainer lacks its noise (noise_mean, noise_cov)")
            config["noise"] = (arrays["noise_mean"], arrays["noise_cov"])
        _check_buffer_claim(config, arrays)
        trainer = cls(energy, **config)
        trainer._restore(arrays, meta)
        return trainer

    def _restore(self, arrays, meta):
        """Restores every state entry the core lists, by name: scalars from the header ``meta``,
        arrays from ``arrays`` (a trainer without negatives ignores the unused buffer that files of
        earlier versions held)."""
        epochs = meta.get("epochs_done")
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
            raise ValueError(f"the file's epochs_done must be a non-negative integer; got {epochs!r}")
        shapes = {k: stored_shape(arrays, f"history.{k}") for k in HISTORY_KEYS}
        if any(len(shape) != 1 for shape in shapes.values()) or len(set(shapes.values())) != 1:
            raise ValueError("the file's history lists must be 1-D and of equal length")
        history = {}
        for k in HISTORY_KEYS:
            h = np.asarray(arrays[f"history.{k}"])
            if h.ndim != 1 or not np.issubdtype(h.dtype, np.number):
                raise ValueError(f"the file's history.{k} must be a 1-D numeric array; got shape {h.shape}, dtype {h.dtype}")
            history[k] = h
        if len({len(h) for h in history.values()}) != 1:
            raise ValueError("the file's history lists must be 1-D and of equal length")
        for name, dtype, shape in _native.trainer_state(self._native_trainer()):
            if shape == ():
                value = meta.get(name)
                if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2**53:
                    raise ValueError(f"the file's {name} must be a non-negative integer (at most 2^53); got {value!r}")
            elif name in arrays:
                stored = stored_shape(arrays, name)
                if tuple(stored) != tuple(shape):
                    raise ValueError(f"the file's {name} must have shape {shape}; got {tuple(stored)}")
                value = np.asarray(arrays[name])
                if value.shape != shape:
                    raise ValueError(f"the file's {name} must have shape {shape}; got {value.shape}")
                kind = np.integer if dtype == "int64" else np.floating
                if not np.issubdtype(value.dtype, kind):
                    raise ValueError(f"the file's {name} must hold {dtype} values; got {value.dtype}")
            else:
                raise ValueError(f"the file's trainer lacks its {name}")
            _native.trainer_set_state(self._handle, name, value)
        self.epochs_done = epochs
        self.history = {k: [float(v) for v in h] for k, h in history.items()}

    def save(self, path) -> None:
        """Save the model, the optimiser state, the buffer and the history to ``path`` (``.npz``,
        written atomically). :func:`ebm_swift.load` resumes it exactly."""
        from .persistence import save

        save(self, path)


def _check_buffer_claim(config, arrays):
    """Before a trainer is built from a file: its configuration's ``buffer_size`` must be the
    length of the buffer the file holds, so a small file cannot claim a buffer of gigabytes."""
    size = config.get("buffer_size")
    if "buffer" not in arrays or isinstance(size, bool) or not isinstance(size, int):
        return  # no buffer stored (an objective without negatives) or a type the constructor refuses
    shape = stored_shape(arrays, "buffer")
    if int(np.prod(shape)) < size:
        raise ValueError(f"the file's buffer_size is {size} but its buffer holds shape {shape}")


def _sampler_from_config(settings):
    """The sampler record a file's trainer configuration names by its settings (checked by the
    record itself, strictly: an unknown or missing setting is an error)."""
    from .samplers import REGISTRY

    return _record_from_config(settings, REGISTRY, "sampler")


def _record_from_config(settings, registry, what):
    """The record of ``registry`` (samplers', objectives') that a file's settings name by kind."""
    settings = dict(settings)
    kind = settings.pop("kind", None)
    if not isinstance(kind, str) or kind not in registry:
        raise ValueError(f"the file's {what} kind must be one of {list(registry)}; got {kind!r}")
    try:
        return registry[kind](**settings)
    except TypeError as e:
        raise ValueError(f"the file's {kind} {what} settings do not match the record: {e}") from None


def _arguments(config):
    """The constructor's arguments from a saved configuration (records rebuilt from their fields)."""
    config = dict(config)
    config["lr_schedule"] = from_config(config["lr_schedule"])
    if isinstance(config.get("sampler"), dict):
        config["sampler"] = _sampler_from_config(config["sampler"])
    if isinstance(config.get("objective"), dict):  # a record: the flat objective arguments stay unset
        config.update(FLAT_DEFAULTS, objective=_record_from_config(config["objective"], OBJECTIVES, "objective"))
    return config
