"""Energies computed by composable networks (:mod:`ebm_swift.nn`)."""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np

from . import _native, nn
from ._archive import stored_shape
from ._validation import as_samples, positive_int, positive_ints, resolve_seed
from .energies import Energy, TrainableEnergy, _split_named
from .persistence import from_nested_state, nested_state, persistent

__all__ = ["NetworkEnergy"]

_MAX_COUNT = 2**31 - 1


@persistent("NetworkEnergy")
class NetworkEnergy(TrainableEnergy):
    """The energy ``E: R^input_shape → R`` computed by an :mod:`ebm_swift.nn` network.

    Parameters
    ----------
    net : nn.Sequential
        The network; it must end in one output per sample (e.g. ``nn.Linear(64, 1)``).
    input_shape : int or tuple of int
        The shape of one sample: ``(channels, height, width)`` for images, ``(dim,)`` for vectors.
    seed : None, int or numpy.random.Generator
        Seed of the initialisation (PyTorch's defaults for ``Linear`` and ``Conv2d``: uniform on
        ``±1/sqrt(fan_in)``); ``None`` draws fresh entropy.
    n_classes : int, optional
        Read the network as a classifier ending in ``n_classes`` logits ``f(x)``: a joint energy
        model (Grathwohl et al. 2020) with ``E(x) = −logsumexp_y f(x)[y]`` (the density ``p(x)``),
        ``E(x, y) = −f(x)[y]`` (``p(x, y)``) and ``p(y|x) = softmax f(x)`` (:meth:`logits`,
        :meth:`predict_proba`, :meth:`energy` with ``y``, :meth:`class_energy`; train it with
        ``Trainer(objective="jem")``).

    Attributes
    ----------
    net, input_shape, dim, num_parameters, n_classes

    Notes
    -----
    Batches are ``(n, *input_shape)`` or flat ``(n, dim)``; :meth:`grad_x` returns the shape it
    was given, and so do the samplers. :meth:`parameters` names and shapes the parameters as the
    same architecture's ``torch.nn.Sequential(...).state_dict()``.

    Raises
    ------
    ValueError
        At construction, naming the layer index and both shapes, when a layer cannot take the
        previous layer's output, or when the network does not end in one output.
    """

    def __init__(self, net, input_shape, seed=None, n_classes=None):
        if not isinstance(net, nn.Sequential):
            raise TypeError(f"net must be an ebm_swift.nn.Sequential; got {type(net).__name__}")
        self._input_shape = positive_ints(input_shape, "input_shape")
        self.net = net
        self.n_classes = None if n_classes is None else positive_int(n_classes, "n_classes")
        if self.n_classes == 1:
            raise ValueError("n_classes must be at least 2 (a one-output network is an energy already: leave it None)")
        self._layer_shapes = net.shapes(self._input_shape)
        outputs = (self.n_classes or 1,)
        if self._layer_shapes[-1] != outputs:
            what = f"{outputs[0]} outputs (n_classes)" if self.n_classes else "one output"
            raise ValueError(f"the network must end in {what} per sample; layer {len(net) - 1} produces "
                             f"shape {self._layer_shapes[-1]}")
        self._class_energies = {}
        # Sizes in Python integers, before anything native is built (the core's limit is 2**31 - 1);
        # the names and shapes the energy uses are the core's, read once it is built.
        implied = {"parameters": net._parameter_shapes(self._input_shape), "buffers": net._buffer_shapes(self._input_shape)}
        for i, shape in [("input", self._input_shape), *enumerate(self._layer_shapes)]:
            if math.prod(shape) > _MAX_COUNT:
                where = "input_shape" if i == "input" else f"layer {i}'s output"
                raise ValueError(f"{where} {tuple(shape)} has {math.prod(shape)} elements per sample; at most 2**31 - 1")
        for what, shapes in implied.items():
            count = sum(math.prod(s) for _, s in shapes)
            if count > _MAX_COUNT:
                raise ValueError(f"the network has {count} {what}; at most 2**31 - 1 are supported")
        self.dim = math.prod(self._input_shape)
        self._handle = _native.network_create(np.asarray(self._input_shape, dtype=np.int64),
                                              net._records(self._input_shape), self.n_classes or 0, resolve_seed(seed))
        self._shapes = OrderedDict(_native.energy_tensors(self._handle, 0))
        self._buffer_shapes = OrderedDict(_native.energy_tensors(self._handle, 1))

    # ---- joint energy models ---------------------------------------------------------------------

    def _require_classes(self, what):
        if self.n_classes is None:
            raise ValueError(f"{what} needs a classifier energy: this NetworkEnergy has no n_classes")

    def labels(self, y, n, name="y"):
        """``y`` checked as ``n`` class indices in ``[0, n_classes)``, as int32 (a copy)."""
        self._require_classes(name)
        y = np.asarray(y)
        if y.dtype == bool or not (np.issubdtype(y.dtype, np.integer)
                                   or (np.issubdtype(y.dtype, np.floating) and np.all(np.mod(y, 1) == 0))):
            raise TypeError(f"{name} must hold integer class labels; got dtype {y.dtype}")
        if y.shape != (n,):
            raise ValueError(f"{name} must have one label per sample, shape ({n},); got shape {y.shape}")
        if n and (y.min() < 0 or y.max() >= self.n_classes):
            raise ValueError(f"{name} must hold labels in [0, {self.n_classes}); got values in [{y.min()}, {y.max()}]")
        return y.astype(np.int32)

    def logits(self, x) -> np.ndarray:
        """The classifier's logits.

        Parameters
        ----------
        x : array_like, shape (n, dim) or (n, *input_shape)

        Returns
        -------
        ndarray, shape (n, n_classes), float32
        """
        self._require_classes("logits")
        return _native.energy_logits(self._handle, as_samples(x, self._input_shape)[0])

    def predict_proba(self, x) -> np.ndarray:
        """``p(y|x) = softmax f(x)``.

        Returns
        -------
        ndarray, shape (n, n_classes), float64; rows sum to 1
        """
        f = self.logits(x).astype(np.float64)
        f -= f.max(1, keepdims=True)
        p = np.exp(f)
        return p / p.sum(1, keepdims=True)

    def predict(self, x) -> np.ndarray:
        """The most probable class of each sample, shape ``(n,)``."""
        return self.logits(x).argmax(1)

    def energy(self, x, y=None) -> np.ndarray:
        """Energies of a batch: ``E(x)``, or for a classifier with labels ``y`` the joint
        ``E(x, y) = −f(x)[y]``.

        Parameters
        ----------
        x : array_like, shape (n, dim) or (n, *input_shape)
        y : array_like of int, shape (n,), optional
            Class labels (classifier energies only).

        Returns
        -------
        ndarray, shape (n,), float32
        """
        if y is None:
            return super().energy(x)
        f = self.logits(x)
        return -f[np.arange(len(f)), self.labels(y, len(f))]

    def class_energy(self, label):
        """The class-conditional energy ``E(x, y=label) = −f(x)[label]`` as an energy of its own
        (it shares this energy's parameters): sampling it draws the model's samples of that class.

        Returns
        -------
        Energy
        """
        self._require_classes("class_energy")
        label = int(self.labels([label], 1, "label")[0])
        if label not in self._class_energies:
            self._class_energies[label] = ClassEnergy(self, label)
        return self._class_energies[label]

    @property
    def input_shape(self) -> tuple:
        """The shape of one sample."""
        return self._input_shape

    def summary(self) -> str:
        """A table of the layers: index, layer, output shape per sample, parameter count.

        Returns
        -------
        str
        """
        rows, shape = [], self._input_shape
        for i, (layer, out) in enumerate(zip(self.net, self._layer_shapes)):
            count = sum(int(np.prod(s)) for _, s in layer._parameter_shapes(shape))
            rows.append((str(i), repr(layer).replace("\n", " ").replace("  ", ""), str(out), f"{count:,}"))
            shape = out
        head = ("#", "layer", "output shape", "parameters")
        widths = [max(len(r[k]) for r in rows + [head]) for k in range(4)]
        line = lambda r: "  ".join(c.ljust(w) if k < 3 else c.rjust(w) for k, (c, w) in enumerate(zip(r, widths)))  # noqa: E731
        total = f"input shape {self._input_shape}; {self.num_parameters:,} parameters"
        return "\n".join([line(head), "  ".join("-" * w for w in widths)] + [line(r) for r in rows] + [total])

    def _state(self):
        arrays = {"params": self._flat_parameters()}
        if self._buffer_shapes:
            arrays["buffers"] = _native.energy_get_buffers(self._handle)
        return arrays, {"net": self.net.to_config(), "input_shape": list(self._input_shape), "n_classes": self.n_classes}

    def _check_state(self, flat_params, flat_buffers) -> None:
        """Each spectral norm's ``σ = uᵀ W v`` (``W`` = ``weight_orig`` as a matrix) must be a
        finite, non-zero number that ``W / σ`` survives in float32: zero or tiny ``weight_u`` /
        ``weight_v``, or a zero ``weight_orig``, would make every energy NaN."""
        if not self._buffer_shapes:
            return
        params = self._split(self._flat_parameters() if flat_params is None else flat_params)
        buffers = _split_named(_native.energy_get_buffers(self._handle) if flat_buffers is None else flat_buffers,
                               self._buffer_shapes)
        for name in self._buffer_shapes:
            if not name.endswith("weight_u"):
                continue
            prefix = name[: -len("weight_u")]
            u = buffers[name].astype(np.float64)
            v = buffers[prefix + "weight_v"].astype(np.float64)
            w = params[prefix + "weight_orig"].astype(np.float64).reshape(len(u), -1)
            for label, vector in (("weight_u", u), ("weight_v", v)):
                norm = np.linalg.norm(vector)
                if not 0.5 <= norm <= 2.0:
                    raise ValueError(f"{prefix}{label} must be a unit vector (a power iteration's); got norm {norm:.3g}")
            sigma = float(u @ (w @ v))
            largest = float(np.abs(w).max())
            if not (np.isfinite(sigma) and sigma != 0 and largest / abs(sigma) < 1e38):
                raise ValueError(f"{prefix[:-1] or 'the layer'}'s spectral norm σ = weight_uᵀ·weight_orig·weight_v is "
                                 f"{sigma:.3g} for weights up to {largest:.3g}: weight_orig / σ would not be finite")

    @classmethod
    def _from_state(cls, arrays, meta):
        net, input_shape = nn.from_config(meta.get("net")), positive_ints(meta.get("input_shape"), "the file's input_shape")
        # The sizes the architecture implies, in Python, before anything is allocated for it.
        expected = sum(math.prod(s) for _, s in net._parameter_shapes(input_shape))
        stored = math.prod(stored_shape(arrays, "params"))
        if stored != expected:
            raise ValueError(f"the file's network has {expected} parameters but the file holds {stored}")
        n_classes = meta.get("n_classes")
        if n_classes is not None and (isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 2):
            raise ValueError(f"the file's n_classes must be an integer of at least 2; got {n_classes!r}")
        energy = cls(net, input_shape, seed=0, n_classes=n_classes)
        energy._load_flat(arrays["params"])
        if energy._buffer_shapes:
            if "buffers" not in arrays:
                raise ValueError("the saved network has spectral norms but no buffers")
            slots = sum(math.prod(shape) for shape in energy._buffer_shapes.values())
            held = math.prod(stored_shape(arrays, "buffers"))
            if held != slots:
                raise ValueError(f"the file's network has {slots} buffer values (spectral norms) but the file holds {held}")
            energy.set_buffers(_split_named(np.asarray(arrays["buffers"], dtype=np.float32), energy._buffer_shapes))
        return energy

    def __repr__(self) -> str:
        classes = f", n_classes={self.n_classes}" if self.n_classes else ""
        return f"NetworkEnergy(input_shape={self._input_shape}, num_parameters={self.num_parameters}{classes})"


@persistent("ClassEnergy")
class ClassEnergy(Energy):
    """``E(x, y) = −f(x)[y]`` of a classifier :class:`NetworkEnergy` for one class ``y`` (see
    :meth:`NetworkEnergy.class_energy`); evaluated and sampled like any energy, with the
    classifier's current parameters. Saved (``save``, pickle) with its classifier."""

    def __init__(self, parent, label):
        self.parent, self.label, self.dim = parent, label, parent.dim
        self._handle = _native.energy_class_create(parent._handle, label)

    @property
    def input_shape(self) -> tuple:
        return self.parent.input_shape

    def _state(self):
        arrays, meta = nested_state(self.parent, "parent.")
        return arrays, {"parent": meta, "label": self.label}

    @classmethod
    def _from_state(cls, arrays, meta):
        parent = from_nested_state(arrays, meta.get("parent"), "parent.")
        if not isinstance(parent, NetworkEnergy) or parent.n_classes is None:
            raise ValueError("the file's class energy must hold a classifier NetworkEnergy")
        label = meta.get("label")
        if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < parent.n_classes:
            raise ValueError(f"the file's label must be a class in [0, {parent.n_classes}); got {label!r}")
        return parent.class_energy(label)

    def __repr__(self) -> str:
        return f"ClassEnergy({self.parent!r}, label={self.label})"


def _class_energy(parent, label):
    """What pickles of class energies made before they were saved by kind call on loading."""
    return parent.class_energy(label)
