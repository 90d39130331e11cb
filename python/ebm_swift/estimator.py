"""A scikit-learn style estimator for energy-based density models (without depending on
scikit-learn: ``clone``, ``Pipeline`` and ``GridSearchCV`` work when it is installed)."""

from __future__ import annotations

import inspect

import numpy as np

from ._validation import as_batch, positive_int, resolve_seed
from .energies import MLPEnergy
from .sampling import langevin, mala
from .training import Trainer

__all__ = ["EnergyBasedModel"]

try:  # Optional: with scikit-learn installed, inherit its tags, HTML repr and version checks.
    from sklearn.base import BaseEstimator as _Base
except ImportError:  # pragma: no cover - exercised where scikit-learn is absent
    _Base = object


class EnergyBasedModel(_Base):
    """An MLP energy ``p(x) ∝ exp(−E(x))`` trained by persistent-chain maximum likelihood.

    Follows scikit-learn's conventions: ``__init__`` only stores the hyperparameters; ``fit`` and
    ``partial_fit`` return ``self``; learned state ends with ``_``.

    Parameters
    ----------
    hidden, activation
        The network (:class:`MLPEnergy`).
    epochs, batch_size
        Passes over the data in :meth:`fit`, rows per step.
    n_steps, step_size, noise_scale, sampler, persistent, buffer_size, reinit_prob, alpha,
    data_noise, lr, optimizer, betas, weight_decay, clip_grad_norm
        As in :class:`Trainer` (defaults: Adam with β1 = 0, α = 0.1).
    init_range : (float, float) or "auto"
        Box of the chains' uniform noise; ``"auto"`` spans the training data's range plus 10 %.
    random_state : None, int or numpy.random.Generator

    Attributes
    ----------
    model_ : MLPEnergy
    trainer_ : Trainer
    init_range_ : (float, float)
    n_features_in_ : int
    history_ : dict of lists
    """

    def __init__(self, hidden=(128, 128), activation="swish", epochs=10, batch_size=128, n_steps=20,
                 step_size=0.01, noise_scale=None, sampler="langevin", persistent=True, buffer_size=10000,
                 reinit_prob=0.05, alpha=0.1, data_noise=0.0, lr=1e-3, optimizer="adam", betas=(0.0, 0.999),
                 weight_decay=0.0, clip_grad_norm=None, init_range="auto", random_state=None):
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
        model = MLPEnergy(X.shape[1], self.hidden, self.activation, seed=seed)
        trainer = Trainer(model, lr=self.lr, optimizer=self.optimizer, betas=self.betas,
                          weight_decay=self.weight_decay, clip_grad_norm=self.clip_grad_norm, n_steps=self.n_steps,
                          step_size=self.step_size, noise_scale=self.noise_scale, sampler=self.sampler,
                          persistent=self.persistent, buffer_size=self.buffer_size, reinit_prob=self.reinit_prob,
                          init_range=init_range, data_noise=self.data_noise, alpha=self.alpha, seed=seed)
        return self._attach(trainer)

    def _check_X(self, X):
        if self.trainer_ is not None:
            return as_batch(X, self.n_features_in_, "X")
        arr = np.asarray(X)
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
        return -self.model_.energy(as_batch(X, self.n_features_in_, "X")).astype(np.float64)

    def score(self, X, y=None) -> float:
        """Mean of :meth:`score_samples` (unnormalised: compare models only via the same ``Z``)."""
        return float(self.score_samples(X).mean())

    def sample(self, n_samples, *, n_steps=500, step_size=None, sampler="mala", seed=None):
        """Draw ``n_samples`` points by ``sampler`` chains started uniformly on ``init_range_``.

        Returns
        -------
        ndarray, shape (n_samples, n_features), float32
        """
        self._check_fitted()
        n_samples = positive_int(n_samples, "n_samples")
        rng = np.random.default_rng(resolve_seed(seed))
        x0 = rng.uniform(*self.init_range_, size=(n_samples, self.n_features_in_))
        step_size = self.step_size if step_size is None else step_size
        child = int(rng.integers(0, 2**63))
        if sampler == "mala":
            return mala(self.model_, x0, n_steps, step_size, seed=child)[0]
        if sampler == "langevin":
            return langevin(self.model_, x0, n_steps, step_size, seed=child)
        raise ValueError(f"sampler must be 'mala' or 'langevin'; got {sampler!r}")

    def save(self, path) -> None:
        """Save hyperparameters and (if fitted) the model and trainer state; see :func:`ebm_swift.load`."""
        from .persistence import save

        save(self, path)
