"""A scikit-learn style estimator for energy-based density models (without depending on
scikit-learn: ``clone``, ``Pipeline`` and ``GridSearchCV`` work when it is installed)."""

from __future__ import annotations

import inspect

import numpy as np

from . import nn
from ._validation import as_batch, as_samples, positive_int, resolve_seed
from .energies import MLPEnergy
from .network_energy import NetworkEnergy
from .persistence import persistent
from .samplers import langevin, mala
from .training import Trainer

__all__ = ["EnergyBasedModel"]

try:  # Optional: with scikit-learn installed, inherit its tags, HTML repr and version checks.
    from sklearn.base import BaseEstimator as _Base
except ImportError:  # pragma: no cover - exercised where scikit-learn is absent
    _Base = object


@persistent("EnergyBasedModel")
class EnergyBasedModel(_Base):
    """An energy ``p(x) ∝ exp(−E(x))`` — an MLP, or any :mod:`ebm_swift.nn` network — trained by
    persistent-chain maximum likelihood.

    Follows scikit-learn's conventions: ``__init__`` only stores the hyperparameters; ``fit`` and
    ``partial_fit`` return ``self``; learned state ends with ``_``.

    Parameters
    ----------
    hidden, activation
        The network (:class:`MLPEnergy`) when ``network`` is not given.
    epochs, batch_size
        Passes over the data in :meth:`fit`, rows per step.
    n_steps, step_size, noise_scale, sampler, persistent, buffer_size, reinit_prob, alpha,
    data_noise, lr, optimizer, betas, weight_decay, clip_grad_norm
        As in :class:`Trainer` (defaults: Adam with β1 = 0, α = 0.1).
    init_range : (float, float) or "auto"
        Box of the chains' uniform noise; ``"auto"`` spans the training data's range plus 10 %.
    random_state : None, int or numpy.random.Generator
    network : ebm_swift.nn.Sequential, optional
        An energy network (ending in one output) used instead of the MLP: a :class:`NetworkEnergy`.
    input_shape : tuple of int, optional
        The shape of one sample for ``network``, e.g. ``(1, 28, 28)``; by default the shape of
        ``X``'s samples. ``X`` may then be ``(n, *input_shape)`` or flat ``(n, dim)``.
    clamp : (float, float), optional
        Clip the chains to this box after each sampler step (images: ``(-1, 1)``).

    Attributes
    ----------
    model_ : MLPEnergy or NetworkEnergy
    trainer_ : Trainer
    init_range_ : (float, float)
    n_features_in_ : int
    history_ : dict of lists
    """

    def __init__(self, hidden=(128, 128), activation="swish", epochs=10, batch_size=128, n_steps=20,
                 step_size=0.01, noise_scale=None, sampler="langevin", persistent=True, buffer_size=10000,
                 reinit_prob=0.05, alpha=0.1, data_noise=0.0, lr=1e-3, optimizer="adam", betas=(0.0, 0.999),
                 weight_decay=0.0, clip_grad_norm=None, init_range="auto", random_state=None, network=None,
                 input_shape=None, clamp=None):
        self.hidden = hidden
        self.activation = activation
        self.epochs = epochs
        self.batch_size = batch_size
        self.n_steps = n_steps
        self.step_size = step_size
        self.noise_scale = noise_scale
        self.sampler = sampler
        self.persistent = persistent
        self.buffer_size = buffer_size
        self.reinit_prob = reinit_prob
        self.alpha = alpha
        self.data_noise = data_noise
        self.lr = lr
        self.optimizer = optimizer
        self.betas = betas
        self.weight_decay = weight_decay
        self.clip_grad_norm = clip_grad_norm
        self.init_range = init_range
        self.network = network
        self.input_shape = input_shape
        self.clamp = clamp
        self.random_state = random_state

    # ---- scikit-learn protocol ---------------------------------------------------------------

    @classmethod
    def _param_names(cls):
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def get_params(self, deep=True):
        """Hyperparameters as a dict (scikit-learn protocol)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        """Set hyperparameters (scikit-learn protocol); returns ``self``."""
        valid = set(self._param_names())
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"invalid parameter {name!r} for EnergyBasedModel; valid: {sorted(valid)}")
            setattr(self, name, value)
        return self

    def __repr__(self):
        defaults = inspect.signature(type(self).__init__).parameters

        def same(a, b):
            try:
                return type(a) is type(b) and bool(a == b)
            except Exception:
                return False

        changed = {k: v for k, v in self.get_params().items() if not same(v, defaults[k].default)}
        return f"EnergyBasedModel({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    # ---- training ----------------------------------------------------------------------------

    @property
    def trainer_(self):
        return self.__dict__.get("_trainer")

    def _attach(self, trainer):
        self._trainer = trainer
        self.model_ = trainer.energy
        self.init_range_ = trainer.init_range
        self.n_features_in_ = trainer.energy.dim
        return self

    def _initialise(self, X):
        if isinstance(self.init_range, str):
            if self.init_range != "auto":
                raise ValueError(f"init_range must be 'auto' or (low, high); got {self.init_range!r}")
            low, high = float(X.min()), float(X.max())
            pad = 0.1 * max(high - low, 1e-3)
            init_range = (low - pad, high + pad)
        else:
            init_range = self.init_range
        seed = resolve_seed(self.random_state)
        if self.network is None:
            model = MLPEnergy(X.shape[1], self.hidden, self.activation, seed=seed)
        else:
            model = NetworkEnergy(self.network, self._sample_shape, seed=seed)
        trainer = Trainer(model, lr=self.lr, optimizer=self.optimizer, betas=self.betas,
                          weight_decay=self.weight_decay, clip_grad_norm=self.clip_grad_norm, n_steps=self.n_steps,
                          step_size=self.step_size, noise_scale=self.noise_scale, sampler=self.sampler,
                          persistent=self.persistent, buffer_size=self.buffer_size, reinit_prob=self.reinit_prob,
                          init_range=init_range, data_noise=self.data_noise, alpha=self.alpha, clamp=self.clamp,
                          seed=seed)
        return self._attach(trainer)

    def _check_X(self, X):
        """``X`` as float32 ``(n, dim)``; a network's samples may come shaped."""
        if self.trainer_ is not None:
            return as_samples(X, self.model_.input_shape, "X")[0]
        arr = np.asarray(X)
        if self.network is not None:
            if not isinstance(self.network, nn.Sequential):
                raise TypeError(f"network must be an ebm_swift.nn.Sequential; got {type(self.network).__name__}")
            if arr.ndim < 2:
                raise ValueError(f"X must have shape (n_samples, ...); got shape {arr.shape}")
            shape = tuple(arr.shape[1:]) if self.input_shape is None else tuple(self.input_shape)
            self._sample_shape = shape
            return as_samples(arr, shape, "X")[0]
        if arr.ndim != 2:
            raise ValueError(f"X must be 2-D of shape (n_samples, n_features); got shape {arr.shape}")
        return as_batch(arr, arr.shape[1], "X")

    def fit(self, X, y=None, *, progress=False):
        """Train from scratch on ``X`` (``y`` is ignored); returns ``self``."""
        self.__dict__.pop("_trainer", None)
        X = self._check_X(X)
        self._initialise(X)
        self.trainer_.fit(X, epochs=positive_int(self.epochs, "epochs"),
                          batch_size=min(positive_int(self.batch_size, "batch_size"), len(X)), progress=progress)
        return self

    def partial_fit(self, X, y=None, *, progress=False):
        """One more epoch on ``X`` (initialising on the first call); returns ``self``."""
        X = self._check_X(X)
        if self.trainer_ is None:
            self._initialise(X)
        self.trainer_.fit(X, epochs=1, batch_size=min(positive_int(self.batch_size, "batch_size"), len(X)),
                          progress=progress)
        return self

    @property
    def history_(self):
        self._check_fitted()
        return self.trainer_.history

    def _check_fitted(self):
        if self.trainer_ is None:
            raise RuntimeError("this EnergyBasedModel is not fitted yet: call fit or partial_fit first")

    # ---- inference ---------------------------------------------------------------------------

    def score_samples(self, X) -> np.ndarray:
        """``−E(x)``, the unnormalised log density, per row of ``X``."""
        self._check_fitted()
        return -self.model_.energy(as_samples(X, self.model_.input_shape, "X")[0]).astype(np.float64)

    def score(self, X, y=None) -> float:
        """Mean of :meth:`score_samples` (unnormalised: compare models only via the same ``Z``)."""
        return float(self.score_samples(X).mean())

    def sample(self, n_samples, *, n_steps=500, step_size=None, sampler="mala", seed=None):
        """Draw ``n_samples`` points by ``sampler`` chains started uniformly on ``init_range_``.

        Returns
        -------
        ndarray, shape (n_samples, n_features) or (n_samples, *input_shape), float32
        """
        self._check_fitted()
        n_samples = positive_int(n_samples, "n_samples")
        rng = np.random.default_rng(resolve_seed(seed))
        x0 = rng.uniform(*self.init_range_, size=(n_samples, *self.model_.input_shape))
        step_size = self.step_size if step_size is None else step_size
        child = int(rng.integers(0, 2**63))
        if sampler == "mala":
            return mala(self.model_, x0, n_steps, step_size, seed=child)[0]
        if sampler == "langevin":
            return langevin(self.model_, x0, n_steps, step_size, seed=child)
        raise ValueError(f"sampler must be 'mala' or 'langevin'; got {sampler!r}")

    def _state(self):
        arrays, meta = ({}, {}) if self.trainer_ is None else self.trainer_._state()
        params = self.get_params()
        random_state = params["random_state"]
        if isinstance(random_state, np.random.Generator):  # its bit generator's state is JSON-able
            params["random_state"] = None
            meta["generator_state"] = random_state.bit_generator.state
        if params["network"] is not None:
            params["network"] = params["network"].to_config()
        if params["input_shape"] is not None:
            params["input_shape"] = [int(n) for n in params["input_shape"]]
        meta["params"] = {k: (int(v) if isinstance(v, np.integer) else v) for k, v in params.items()}
        meta["fitted"] = self.trainer_ is not None
        return arrays, meta

    @classmethod
    def _from_state(cls, arrays, meta):
        params = dict(meta["params"])
        if params.get("network") is not None:
            params["network"] = nn.from_config(params["network"])
        if "generator_state" in meta:
            state = meta["generator_state"]
            bit_generator = getattr(np.random, state["bit_generator"])()
            bit_generator.state = state
            params["random_state"] = np.random.Generator(bit_generator)
        est = cls(**params)
        if meta["fitted"]:
            est._attach(Trainer._from_state(arrays, meta))
        return est

    def save(self, path) -> None:
        """Save hyperparameters and (if fitted) the model and trainer state; see :func:`ebm_swift.load`."""
        from .persistence import save

        save(self, path)
