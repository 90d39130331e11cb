"""Energy functions ``E: R^dim -> R`` defining ``p(x) = exp(-E(x)) / Z`` (Bishop, *Deep
Learning*, §14.3.1), evaluated natively on float32 batches."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from . import _native
from ._archive import stored_shape
from ._validation import as_samples, float32_gaussian, positive_int, positive_ints, real_array, resolve_seed
from .persistence import persistent

__all__ = ["Energy", "TrainableEnergy", "MLPEnergy", "GaussianEnergy", "ACTIVATIONS"]

#: Activation names and their codes in the C ABI (ebm_swift.h, EBM_ACT_*).
ACTIVATIONS = {"swish": _native.EBM_ACT_SWISH, "tanh": _native.EBM_ACT_TANH, "softplus": _native.EBM_ACT_SOFTPLUS,
               "elu": _native.EBM_ACT_ELU, "leaky_relu": _native.EBM_ACT_LEAKY_RELU, "gelu": _native.EBM_ACT_GELU}


class Energy:
    """Base class of the energies: a native handle and the input dimension ``dim``.

    Evaluation releases the GIL, so several threads can evaluate or sample one energy at once.
    """

    dim: int
    _handle: object

    @property
    def input_shape(self) -> tuple:
        """The shape of one sample: ``(dim,)``, or e.g. ``(channels, height, width)`` for an image
        energy (whose batches may also be given flat, as ``(n, dim)``)."""
        return (self.dim,)

    def energy(self, x) -> np.ndarray:
        """Energies of a batch.

        Parameters
        ----------
        x : array_like, shape (n, dim) or (n, *input_shape)
            Points; any real dtype, converted to float32 (``x`` itself is never modified).

        Returns
        -------
        ndarray, shape (n,), float32
            ``E(x_i)`` for each row (``±inf`` where it lies beyond float32's range).
        """
        return _native.energy_eval(self._handle, as_samples(x, self.input_shape)[0])

    def grad_x(self, x) -> np.ndarray:
        """Input gradients of a batch.

        Parameters
        ----------
        x : array_like, shape (n, dim) or (n, *input_shape)

        Returns
        -------
        ndarray, float32, the shape of ``x``
            ``∇x E(x_i)`` for each sample.
        """
        flat, shape = as_samples(x, self.input_shape)
        return _native.energy_grad_x(self._handle, flat)[1].reshape(shape)

    def __call__(self, x) -> np.ndarray:
        """Same as :meth:`energy`."""
        return self.energy(x)


def _split_named(flat, shapes) -> "OrderedDict[str, np.ndarray]":
    """A flat vector cut into named arrays of ``shapes`` (in order)."""
    out, offset = OrderedDict(), 0
    for name, shape in shapes.items():
        size = int(np.prod(shape))
        out[name] = flat[offset : offset + size].reshape(shape).copy()
        offset += size
    return out


def _check_names(given, shapes, what) -> None:
    expected, keys = set(shapes), set(given.keys())
    if expected != keys:
        missing, extra = sorted(expected - keys), sorted(keys - expected)
        raise ValueError(f"{what} names do not match: missing {missing}, unexpected {extra}")


def _flatten_named(values, shapes, what) -> np.ndarray:
    """The float32 flat vector of a mapping with exactly the names and shapes of ``shapes``
    (finite real values), checked with messages naming ``what[name]``."""
    if not hasattr(values, "keys"):
        raise TypeError(f"{what} must be a mapping of names to arrays; got {type(values).__name__}")
    _check_names(values, shapes, what)
    chunks = [np.zeros(0, dtype=np.float32)]
    for name, shape in shapes.items():
        value = np.asarray(values[name])
        if value.dtype == np.bool_ or not (np.issubdtype(value.dtype, np.floating) or np.issubdtype(value.dtype, np.integer)):
            raise TypeError(f"{what}[{name!r}] must be a real numeric array; got dtype {value.dtype}")
        if value.shape != shape:
            raise ValueError(f"{what}[{name!r}] must have shape {shape}; got {value.shape}")
        value = value.astype(np.float32).ravel()
        if not np.isfinite(value).all():
            raise ValueError(f"{what}[{name!r}] must be finite")
        chunks.append(value)
    return np.concatenate(chunks)


class TrainableEnergy(Energy):
    """Base class of the energies with parameters (:class:`MLPEnergy`, ``NetworkEnergy``):
    named parameter tensors in PyTorch's ``state_dict`` layout, their gradient, and copies in and
    out. Subclasses set ``_shapes``, an ordered mapping of names to shapes in the native flat order.
    """

    _shapes: "OrderedDict[str, tuple]"
    #: ``{name: shape}`` of the buffers (state that is not trained, e.g. a spectral norm's
    #: ``weight_u``), in the native flat order; none by default.
    _buffer_shapes: "OrderedDict[str, tuple]" = OrderedDict()

    def _check_state(self, flat_params, flat_buffers) -> None:
        """Raises ValueError if these parameters and buffers (``None``: the current ones) would
        give non-finite energies though each is finite; nothing to check by default."""

    def _flat_parameters(self) -> np.ndarray:
        return _native.energy_get_parameters(self._handle)

    def _load_flat(self, flat) -> None:
        """Sets the parameters from a saved flat vector (checked against the architecture)."""
        flat = np.asarray(flat, dtype=np.float32)
        if flat.shape != (self.num_parameters,) or not np.isfinite(flat).all():
            raise ValueError(f"the saved parameters (shape {flat.shape}) do not match the architecture "
                             f"({self.num_parameters} parameters) or are not finite")
        self._check_state(flat, None)
        _native.energy_set_parameters(self._handle, flat)

    @property
    def parameter_shapes(self) -> "OrderedDict[str, tuple]":
        """``{name: shape}`` of every parameter, in order."""
        return OrderedDict(self._shapes)

    @property
    def num_parameters(self) -> int:
        """Total number of weights and biases."""
        return int(sum(np.prod(s) for s in self._shapes.values()))

    def _split(self, flat: np.ndarray) -> "OrderedDict[str, np.ndarray]":
        return _split_named(flat, self._shapes)

    def parameters(self) -> "OrderedDict[str, np.ndarray]":
        """Copies of the parameters, named and shaped as PyTorch's ``state_dict``.

        Returns
        -------
        OrderedDict of str to ndarray, float32
            In the layout of :attr:`parameter_shapes` (see the subclass for its names).
        """
        return self._split(_native.energy_get_parameters(self._handle))

    def set_parameters(self, params) -> None:
        """Replace every parameter.

        Parameters
        ----------
        params : mapping of str to array_like
            Exactly the names and shapes of :meth:`parameters` (e.g. a PyTorch ``state_dict``
            converted to NumPy); finite real values.
        """
        flat = _flatten_named(params, self._shapes, "params")
        self._check_state(flat, None)
        _native.energy_set_parameters(self._handle, flat)

    def buffers(self) -> "OrderedDict[str, np.ndarray]":
        """Copies of the buffers: state that is not trained but that training moves (a
        :class:`~ebm_swift.nn.SpectralNorm`'s ``weight_u`` and ``weight_v``), named as in PyTorch's
        ``state_dict``; empty for energies without any.

        Returns
        -------
        OrderedDict of str to ndarray, float32
        """
        if not self._buffer_shapes:
            return OrderedDict()
        return _split_named(_native.energy_get_buffers(self._handle), self._buffer_shapes)

    def set_buffers(self, buffers) -> None:
        """Replace every buffer (names and shapes exactly those of :meth:`buffers`)."""
        flat = _flatten_named(buffers, self._buffer_shapes, "buffers")
        self._check_state(None, flat)
        _native.energy_set_buffers(self._handle, flat)

    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """Parameters and buffers in one mapping, as PyTorch's ``Module.state_dict()``: for a
        network, the same keys as the same architecture in PyTorch."""
        return OrderedDict(**self.parameters(), **self.buffers())

    def load_state_dict(self, state) -> None:
        """Replace parameters and buffers from a :meth:`state_dict` (or a PyTorch one converted
        to NumPy arrays): exactly its keys and shapes."""
        if not hasattr(state, "keys"):
            raise TypeError(f"state must be a mapping of names to arrays; got {type(state).__name__}")
        _check_names({k: None for k in state.keys()}, OrderedDict(**self._shapes, **self._buffer_shapes), "state")
        flat_params = _flatten_named({k: state[k] for k in self._shapes}, self._shapes, "state")
        flat_buffers = _flatten_named({k: state[k] for k in self._buffer_shapes}, self._buffer_shapes, "state")
        self._check_state(flat_params, flat_buffers)
        _native.energy_set_parameters(self._handle, flat_params)
        if self._buffer_shapes:
            _native.energy_set_buffers(self._handle, flat_buffers)

    def grad_params(self, x) -> "OrderedDict[str, np.ndarray]":
        """Gradient of the mean energy of a batch with respect to every parameter.

        Parameters
        ----------
        x : array_like, shape (n, dim) or (n, *input_shape)

        Returns
        -------
        OrderedDict
            ``∇w (1/n) Σ_i E(x_i, w)`` in the layout of :meth:`parameters`.
        """
        return self._split(_native.energy_grad_params(self._handle, as_samples(x, self.input_shape)[0]))

    def _jet(self, x, v, order, weights=None):
        """The native jet of ``x + εv`` (checked here): outputs ``(order + 1, n)`` and, for
        ``weights``, the flat gradient of their weighted sum."""
        flat, _ = as_samples(x, self.input_shape)
        directions, _ = as_samples(v, self.input_shape, "v")
        if directions.shape != flat.shape:
            raise ValueError(f"v must have the shape of x, {np.shape(x)}; got shape {np.shape(v)}")
        return _native.energy_jet(self._handle, flat, directions, order, weights)

    def directional_derivatives(self, x, v) -> tuple:
        """First and second derivatives of the energy along directions.

        Parameters
        ----------
        x : array_like, shape (n, dim) or (n, *input_shape)
            Points.
        v : array_like, the shape of ``x``
            One direction per point.

        Returns
        -------
        first : ndarray, shape (n,), float32
            ``⟨∇x E(x_i), v_i⟩``.
        second : ndarray, shape (n,), float32
            ``v_iᵀ ∇x² E(x_i) v_i`` (the Hessian's quadratic form, exact: forward mode to order 2).
        """
        outputs, _ = self._jet(x, v, 2)
        return outputs[1], outputs[2]

    def grad_params_of_score(self, x, v) -> "OrderedDict[str, np.ndarray]":
        """Gradient with respect to the parameters of ``Σ_i ⟨∇x E(x_i), v_i⟩``.

        The second-order derivative that score matching trains on: for a loss
        ``L(∇x E(x))`` its parameter gradient is this with ``v = ∂L/∂(∇x E)``.

        Parameters
        ----------
        x : array_like, shape (n, dim) or (n, *input_shape)
        v : array_like, the shape of ``x``

        Returns
        -------
        OrderedDict of str to ndarray, float32, in the layout of :meth:`parameters`
        """
        return self._split(self._jet(x, v, 1, (0.0, 1.0, 0.0))[1])

    def grad_params_of_curvature(self, x, v) -> "OrderedDict[str, np.ndarray]":
        """Gradient with respect to the parameters of ``Σ_i v_iᵀ ∇x² E(x_i) v_i`` (the
        Hessian-trace estimate of sliced score matching).

        Parameters
        ----------
        x : array_like, shape (n, dim) or (n, *input_shape)
        v : array_like, the shape of ``x``

        Returns
        -------
        OrderedDict of str to ndarray, float32, in the layout of :meth:`parameters`
        """
        return self._split(self._jet(x, v, 2, (0.0, 0.0, 1.0))[1])


def _mlp_parameter_count(dim, hidden) -> int:
    """Weights and biases of an MLP ``dim → hidden… → 1`` (Python integers: no overflow)."""
    widths = (dim,) + tuple(hidden) + (1,)
    return sum((fan_in + 1) * width for fan_in, width in zip(widths[:-1], widths[1:]))


@persistent("MLPEnergy")
class MLPEnergy(TrainableEnergy):
    """A fully connected energy network ``E: R^dim -> R``.

    Layers of widths ``hidden`` with ``activation`` between them, then a linear layer to one
    output: ``E(x) = w_out · f(W_L … f(W_1 x + b_1) … + b_L) + b_out``. Parameters are initialised
    like PyTorch's ``nn.Linear`` (uniform on ``±1/sqrt(fan_in)``) from ``seed``.

    Parameters
    ----------
    dim : int
        Input dimension.
    hidden : sequence of int, default (128, 128)
        Hidden layer widths (at least one).
    activation : {"swish", "tanh", "softplus", "elu", "leaky_relu", "gelu"}
        ``swish`` is SiLU, ``leaky_relu`` has slope 0.2, ``gelu`` is the tanh approximation.
    seed : None, int or numpy.random.Generator
        Seed of the initialisation; ``None`` draws fresh entropy.

    Attributes
    ----------
    dim, hidden, activation, num_parameters

    Notes
    -----
    :meth:`parameters` names them ``"layers.0.weight"`` ``(hidden[0], dim)``, ``"layers.0.bias"``
    ``(hidden[0],)``, …, ``"layers.L.weight"`` ``(1, hidden[-1])``, ``"layers.L.bias"`` ``(1,)``.
    """

    def __init__(self, dim, hidden=(128, 128), activation="swish", seed=None):
        self.dim = positive_int(dim, "dim")
        self.hidden = positive_ints(hidden, "hidden")
        if not isinstance(activation, str) or activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}; got {activation!r}")
        self.activation = activation
        count = _mlp_parameter_count(self.dim, self.hidden)
        if count > 2**31 - 1:
            raise ValueError(f"MLPEnergy(dim={self.dim}, hidden={self.hidden}) has {count} parameters; "
                             "at most 2**31 - 1 are supported")
        self._handle = _native.mlp_create(
            self.dim, np.asarray(self.hidden, dtype=np.int64), ACTIVATIONS[activation], resolve_seed(seed)
        )
        self._shapes = OrderedDict(_native.energy_tensors(self._handle, 0))  # names and shapes from the core

    def _state(self):
        return {"params": self._flat_parameters()}, {"dim": self.dim, "hidden": list(self.hidden),
                                                      "activation": self.activation}

    @classmethod
    def _from_state(cls, arrays, meta):
        dim = positive_int(meta.get("dim"), "the file's dim")
        hidden = positive_ints(meta.get("hidden"), "the file's hidden")
        expected, stored = _mlp_parameter_count(dim, hidden), int(np.prod(stored_shape(arrays, "params")))
        if stored != expected:  # checked before anything is allocated for the architecture
            raise ValueError(f"the file's MLPEnergy(dim={dim}, hidden={hidden}) has {expected} parameters "
                             f"but the file holds {stored}")
        model = cls(dim, hidden, meta.get("activation"), seed=0)
        model._load_flat(arrays["params"])
        return model

    def __repr__(self) -> str:
        return f"MLPEnergy(dim={self.dim}, hidden={self.hidden}, activation={self.activation!r})"


class GaussianEnergy(Energy):
    """The energy of a multivariate normal: ``E(x) = ½ (x − μ)ᵀ Σ⁻¹ (x − μ)``.

    ``exp(−E)`` is ``N(μ, Σ)`` with normaliser ``Z = (2π)^{d/2} |Σ|^{1/2}`` (:attr:`log_z`): the
    closed-form target for checking samplers.

    Parameters
    ----------
    mean : array_like, shape (d,)
    cov : array_like, shape (d, d)
        Symmetric positive definite.
    """

    def __init__(self, mean, cov):
        mean, cov = real_array(mean, "mean"), real_array(cov, "cov")
        if mean.ndim != 1 or mean.size == 0:
            raise ValueError(f"mean must be 1-D and non-empty; got shape {mean.shape}")
        d = mean.size
        if cov.shape != (d, d):
            raise ValueError(f"cov must have shape ({d}, {d}) to match mean; got {cov.shape}")
        if not (np.isfinite(mean).all() and np.isfinite(cov).all()):
            raise ValueError("mean and cov must be finite")
        if not np.allclose(cov, cov.T, rtol=1e-10, atol=0.0):
            raise ValueError("cov must be symmetric; got cov != cov.T")
        try:
            chol = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            raise ValueError("cov must be positive definite; its Cholesky factorisation failed") from None
        float32_gaussian(mean, cov, "mean", "cov")
        self.dim = d
        self.mean, self.cov = mean, cov
        self.log_z = 0.5 * d * np.log(2 * np.pi) + float(np.sum(np.log(np.diag(chol))))
        self._handle = _native.gaussian_create(mean, cov)

    def __getstate__(self):
        return {"mean": self.mean, "cov": self.cov}

    def __setstate__(self, state):
        self.__init__(state["mean"], state["cov"])

    def __repr__(self) -> str:
        return f"GaussianEnergy(dim={self.dim})"
