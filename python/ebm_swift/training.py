"""Maximum-likelihood training of an energy network with Langevin chains
(Bishop, *Deep Learning*, §14.3.2–14.3.3; the replay buffer of Du & Mordatch 2019)."""

from __future__ import annotations

import pickle
from collections import OrderedDict

import numpy as np

from . import _native
from ._native import DivergenceError
from ._validation import (
    as_samples,
    interval,
    non_negative_float,
    optional_positive_float,
    positive_float,
    positive_int,
    resolve_seed,
)
from .energies import TrainableEnergy
from .persistence import persistent
from .training_state import HISTORY_KEYS, TrainerState
from .samplers import REGISTRY as SAMPLERS, Sampler, from_name
from .objectives import FLAT_DEFAULTS, NCE, Objective, fit_gaussian_noise
from .objectives import REGISTRY as OBJECTIVE_RECORDS
from .objectives import from_name as objective_from_name
from .schedules import CosineLR, ExponentialLR, StepLR

__all__ = ["Trainer", "TrainingDivergedError"]

_OPTIMIZERS = ("sgd", "adam")
#: Training objectives (the core's objective records' kinds).
OBJECTIVES = tuple(OBJECTIVE_RECORDS)


class TrainingDivergedError(DivergenceError):
    """Training produced a NaN or infinity. The model keeps its last finite parameters.

    Attributes
    ----------
    step : int
        The (1-based) training step that failed.
    quantity : str
        ``"samples"``, ``"energy"``, ``"gradient"`` or ``"parameters"``.
    site : str
        ``"langevin"``, ``"mala"`` or ``"hmc"`` (the negatives' sampler) or ``"training"`` (the update).
    chain : int or None
        The chain, when the failure was one chain's.
    """

    def __init__(self, message, step, quantity, site="training", chain=None):
        super().__init__(message)
        self.step, self.quantity, self.site, self.chain = step, quantity, site, chain


def _same(a, b):
    """Whether a flat argument equals its default (tuples and lists alike)."""
    if a is None or b is None:
        return a is b
    try:
        return bool(np.all(np.asarray(a) == np.asarray(b))) and np.shape(a) == np.shape(b)
    except (TypeError, ValueError):
        return False


def _unit_interval_open(value, name):
    v = non_negative_float(value, name)
    if v >= 1:
        raise ValueError(f"{name} must be in [0, 1); got {value!r}")
    return v


@persistent("Trainer")
class Trainer(TrainerState):
    """Train an energy with parameters (:class:`MLPEnergy`, :class:`NetworkEnergy`): by default by
    contrastive divergence with Langevin negatives, or by score matching (``objective``).

    Each :meth:`step` takes as many negatives as the data batch — from a persistent buffer
    (``persistent=True``: each re-drawn from the uniform box ``init_range`` with probability
    ``reinit_prob``) or fresh from that box (short-run chains) — moves them by ``n_steps``
    Langevin (or MALA) steps, writes them back, and takes one optimiser step on

    ``L = mean E(x_data) − mean E(x_model) + alpha·(mean E(x_data)² + mean E(x_model)²)``

    with the negatives held constant (the squares are per sample, as in IGEBM). Without the
    regulariser, ``∇w L = E_data[∇w E] − E_model[∇w E]``, which is exactly minus the seed's
    estimate of ``∇w ln p(x|w)``: descending ``L`` ascends the likelihood.

    Other objectives (``objective``, a name or a record of :mod:`ebm_swift.objectives`, each
    documented there): ``"jem"`` (a joint energy model, :class:`~ebm_swift.objectives.JEM`),
    ``"dsm"`` and ``"ssm"`` (denoising and sliced score matching, which sample nothing) and
    ``"nce"`` (noise-contrastive estimation, which learns :attr:`log_normaliser`).

    Parameters
    ----------
    energy : MLPEnergy or NetworkEnergy
        The model; updated in place. Batches are ``(B, dim)`` or ``(B, *energy.input_shape)``.
    lr : float, default 1e-3
        Base learning rate (scaled by ``lr_schedule`` if given).
    optimizer : {"adam", "sgd"}, default "adam"
    betas : (float, float), default (0.9, 0.999)
        Adam's moment decays (β1 = 0 is common for EBMs).
    eps : float, default 1e-8
        Adam's denominator offset.
    momentum : float, default 0.0
        SGD momentum.
    weight_decay : float, default 0.0
        L2 penalty added to the gradient (both optimisers, as in ``torch.optim``).
    clip_grad_norm : float, optional
        Rescale the parameter gradient to at most this global norm.
    lr_schedule : StepLR, ExponentialLR or CosineLR, optional
        ``lr(step) = lr_schedule(step, lr)``.
    step_size : float, default 0.01
    noise_scale : float, optional
        Langevin noise; default ``sqrt(2·step_size)`` (see :func:`ebm_swift.langevin`).
    grad_clip : float, optional
        Elementwise bound on ``∇x E`` during Langevin sampling.
    clamp : (float, float), optional
        Box the Langevin samples are clipped to.
    sampler : str or Sampler, default "langevin"
        The kernel that moves the negatives: a registered name (``"langevin"``, ``"mala"``,
        ``"hmc"``, ``"barker"``; see :func:`ebm_swift.langevin`, :func:`ebm_swift.mala`,
        :func:`ebm_swift.hmc`, :func:`ebm_swift.barker`) configured by the flat arguments below, or a
        record such as ``ebm_swift.samplers.HMC(step_size=0.01, n_leapfrog=5)``, whose settings then
        replace them. MALA and HMC negatives are exact samples of ``exp(−E)`` at any step
        size (``noise_scale``, ``grad_clip`` and ``clamp`` apply to Langevin only); HMC steps cost
        ``n_leapfrog`` gradients each. The step size is not adapted (the energy changes every step):
        tune it once with ``adapt_step_size`` on the untrained model, or watch the acceptance.
    n_leapfrog : int, default 10
        Leapfrog steps of an HMC step.
    data_noise : float, default 0.0
        Standard deviation of Gaussian noise added to every data batch (smooths the data
        distribution; common on images).
    objective : str or Objective, default "ml"
        What a step minimises: a record of :mod:`ebm_swift.objectives`
        (:class:`~ebm_swift.objectives.MaximumLikelihood`, :class:`~ebm_swift.objectives.JEM`,
        :class:`~ebm_swift.objectives.DSM`, :class:`~ebm_swift.objectives.SSM`,
        :class:`~ebm_swift.objectives.NCE`), or its name (``"ml"``, ``"jem"``, ``"dsm"``, ``"ssm"``,
        ``"nce"``) configured by the flat arguments below, which mean what the record's fields of
        the same names mean (:func:`ebm_swift.objectives.from_name` maps them):
    n_steps, persistent, buffer_size, reinit_prob, init_range, alpha
        The negatives of ``"ml"`` and ``"jem"``: defaults 20, True, 10000, 0.05, (-1.0, 1.0), 0.0.
    cross_entropy_weight, class_conditional
        ``"jem"``'s: defaults 1.0, False.
    sigma : float or sequence of float, optional
        ``"dsm"``'s noise scale(s), default 0.1.
    n_projections, projection
        ``"ssm"``'s: defaults 1, "rademacher".
    noise, noise_ratio
        ``"nce"``'s: default the Gaussian fitted to the first data (:func:`fit_gaussian_noise`), 1.
    ema_decay : float, optional
        Keep an exponential moving average of the parameters, ``w̄ ← β w̄ + (1 − β) w`` after every
        update with ``β = ema_decay`` (e.g. 0.999; IGEBM practice): :meth:`averaged_energy` is the
        model with those weights, for sampling and evaluation (the per-step weights oscillate with
        the negatives; their average is steadier). Saved with the trainer.
    seed : None, int or numpy.random.Generator
        Seeds the buffer, the chain selection, the sampler noise, the data noise and the
        shuffling of :meth:`fit`: same seed, same run.

    Attributes
    ----------
    n_iter : int
        Training steps taken.
    history : dict of lists
        Per step: ``loss``, ``e_data``, ``e_model``, ``grad_norm``, ``lr``, ``step_time`` (s);
        ``e_model`` is NaN for objectives without model samples.
    """

    def __init__(self, energy, *, lr=1e-3, optimizer="adam", betas=(0.9, 0.999), eps=1e-8, momentum=0.0,
                 weight_decay=0.0, clip_grad_norm=None, lr_schedule=None, n_steps=20, step_size=0.01,
                 noise_scale=None, grad_clip=None, clamp=None, sampler="langevin", n_leapfrog=10, persistent=True,
                 buffer_size=10000, reinit_prob=0.05, init_range=(-1.0, 1.0), data_noise=0.0, alpha=0.0,
                 objective="ml", sigma=None, n_projections=1, projection="rademacher", noise=None, noise_ratio=1,
                 ema_decay=None, cross_entropy_weight=1.0, class_conditional=False, seed=None):
        if not isinstance(energy, TrainableEnergy):
            raise TypeError(f"energy must be an energy with parameters (MLPEnergy, NetworkEnergy); got {type(energy).__name__}")
        if not isinstance(optimizer, str) or optimizer not in _OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {sorted(_OPTIMIZERS)}; got {optimizer!r}")
        record = None
        if isinstance(sampler, Sampler):
            record = sampler
            if getattr(record, "inverse_mass", None) is not None:
                raise ValueError("the trainer's negatives use the identity mass: pass a sampler record without "
                                 "inverse_mass")
            step_size, n_leapfrog = record.step_size, getattr(record, "n_leapfrog", n_leapfrog)
            noise_scale, grad_clip, clamp = (getattr(record, k, None) for k in ("noise_scale", "grad_clip", "clamp"))
            sampler = record.kind
        elif not isinstance(sampler, str) or sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {list(SAMPLERS)} or a sampler record; got {sampler!r}")
        if not SAMPLERS[sampler].moves_x_alone:
            raise ValueError(f"sampler must be a kernel whose chains are their positions alone (the buffer keeps "
                             f"nothing else); got {sampler!r}")
        if lr_schedule is not None and not isinstance(lr_schedule, (StepLR, ExponentialLR, CosineLR)):
            raise TypeError(f"lr_schedule must be a StepLR, ExponentialLR or CosineLR; got {type(lr_schedule).__name__}")
        try:
            beta1, beta2 = betas
        except (TypeError, ValueError):
            raise TypeError(f"betas must be a pair (beta1, beta2); got {betas!r}") from None
        self.energy = energy
        self.lr = positive_float(lr, "lr")
        self.optimizer = optimizer
        self.betas = (_unit_interval_open(beta1, "betas[0]"), _unit_interval_open(beta2, "betas[1]"))
        self.eps = positive_float(eps, "eps")
        self.momentum = _unit_interval_open(momentum, "momentum")
        self.weight_decay = non_negative_float(weight_decay, "weight_decay")
        self.clip_grad_norm = optional_positive_float(clip_grad_norm, "clip_grad_norm")
        self.lr_schedule = lr_schedule
        self.seed = resolve_seed(seed)
        self.step_size = positive_float(step_size, "step_size")
        self.noise_scale = float(np.sqrt(2.0 * self.step_size)) if noise_scale is None else \
            non_negative_float(noise_scale, "noise_scale")
        self.grad_clip = optional_positive_float(grad_clip, "grad_clip")
        self.clamp = None if clamp is None else interval(clamp, "clamp")
        self.sampler = sampler
        self.n_leapfrog = positive_int(n_leapfrog, "n_leapfrog")
        # The negatives' kernel: the flat arguments mapped onto its record (each kernel takes its own).
        self.sampler_record = record if record is not None else \
            from_name(sampler, self.step_size, noise_scale=self.noise_scale, grad_clip=self.grad_clip,
                      clamp=self.clamp, n_leapfrog=self.n_leapfrog)
        self.data_noise = non_negative_float(data_noise, "data_noise")
        # The objective: a record, or one built from the flat arguments (the one place they map).
        flat = dict(n_steps=n_steps, persistent=persistent, buffer_size=buffer_size, reinit_prob=reinit_prob,
                    init_range=init_range, alpha=alpha, cross_entropy_weight=cross_entropy_weight,
                    class_conditional=class_conditional, sigma=sigma, n_projections=n_projections,
                    projection=projection, noise=noise, noise_ratio=noise_ratio)
        if isinstance(objective, Objective):
            given = {k for k, v in flat.items() if not _same(v, FLAT_DEFAULTS[k])}
            if given:
                raise ValueError(f"objective is a record: set {sorted(given)} in the record, not as Trainer arguments")
            record = objective
        else:
            record = objective_from_name(objective, **flat)
        record.check(energy)
        self.objective_record = record
        self.objective = record.kind
        # The flat view of the record (saved with the trainer; files of earlier versions hold it).
        fields = {**FLAT_DEFAULTS, "sigma": None, **record._fields()}
        self.n_steps = fields["n_steps"]
        self.persistent, self.buffer_size = fields["persistent"], fields["buffer_size"]
        self.reinit_prob, self.init_range, self.alpha = fields["reinit_prob"], tuple(fields["init_range"]), fields["alpha"]
        self.cross_entropy_weight, self.class_conditional = fields["cross_entropy_weight"], fields["class_conditional"]
        self.sigma, self.n_projections, self.projection = fields["sigma"], fields["n_projections"], fields["projection"]
        self.noise, self.noise_ratio = fields["noise"], fields["noise_ratio"]
        self.ema_decay = None if ema_decay is None else non_negative_float(ema_decay, "ema_decay")
        if self.ema_decay is not None and not 0 < self.ema_decay < 1:
            raise ValueError(f"ema_decay must be in (0, 1); got {ema_decay!r}")
        self.epochs_done = 0
        self.history = {k: [] for k in HISTORY_KEYS}
        self._handle = None
        if not (isinstance(record, NCE) and record.noise is None):
            self._create()

    def _native_trainer(self, data=None):
        """The native trainer; an NCE trainer without noise is created here, its noise fitted to
        ``data`` (or a clear error without data)."""
        if self._handle is None:
            if data is None:
                raise ValueError("this NCE trainer fits its noise to the first data it trains on: call fit() or step() "
                                 "first, or pass noise=(mean, cov)")
            self.objective_record = NCE(noise=fit_gaussian_noise(data), noise_ratio=self.noise_ratio)
            self.noise = self.objective_record.noise
            self._create()
        return self._handle

    def _create(self):
        trainer = {"seed": self.seed, "data_noise": self.data_noise, "clip_grad_norm": self.clip_grad_norm,
                   "ema_decay": self.ema_decay}
        optimizer = {"lr": self.lr, "weight_decay": self.weight_decay}
        optimizer.update({"beta1": self.betas[0], "beta2": self.betas[1], "eps": self.eps} if self.optimizer == "adam"
                         else {"momentum": self.momentum})
        record = self.objective_record
        objective = record.settings(self.energy)
        sampler = (self.sampler_record.kind, self.sampler_record.settings(self.energy.input_shape)) \
            if record.samples_negatives else None
        self._handle = _native.trainer_create(self.energy._handle, ("", trainer), (self.optimizer, optimizer),
                                              (self.objective, objective), sampler)

    def current_lr(self) -> float:
        """The learning rate of the next step."""
        return self.lr if self.lr_schedule is None else float(self.lr_schedule(self.n_iter, self.lr))

    def step(self, x_batch, y_batch=None) -> dict:
        """One training step.

        Parameters
        ----------
        x_batch : array_like, shape (b, dim) or (b, *input_shape)
            Data; ``b ≤ buffer_size`` for persistent chains. Never modified.
        y_batch : array_like of int, shape (b,), optional
            Class labels: required by ``objective="jem"``, refused by the others.

        Returns
        -------
        dict
            ``loss`` (L above), ``e_data`` (mean energy of the batch), ``e_model`` (mean energy of
            the negatives after sampling), ``grad_norm`` (norm of ``∇w L`` before clipping), ``lr``,
            ``step_time`` (seconds).

        Raises
        ------
        TrainingDivergedError
            If samples, energies, the gradient or the updated parameters are not finite; the model,
            buffer and optimiser are then left as they were before the step.
        """
        return self._step(x_batch, y_batch)

    def _step(self, x_batch, y_batch=None, negatives=None):
        """:meth:`step`, with the negatives moved by ``negatives(x, segments, block_rows, step,
        parameters, buffers) -> moved x`` when given (:func:`ebm_swift.distributed.fit`)."""
        x = as_samples(x_batch, self.energy.input_shape, "x_batch")[0]
        labels = self._labels(y_batch, x.shape[0], "y_batch")
        if self._uses_buffer and x.shape[0] > self.buffer_size:
            raise ValueError(
                f"x_batch has {x.shape[0]} rows but buffer_size is {self.buffer_size}; "
                "each step draws one persistent chain per data row"
            )
        lr = self.current_lr()
        if not (np.isfinite(lr) and np.float32(lr) > 0):  # the core updates in float32
            raise ValueError(f"lr_schedule gave a learning rate of {lr!r} at step {self.n_iter}, which is 0 "
                             "or not finite in float32 (a CosineLR with eta_min=0 reaches 0 at step t_max)")
        # The native call appends the step's row to the history itself (so that a Ctrl-C arriving
        # as it returns cannot leave a completed step unrecorded).
        history = tuple(self.history[k] for k in HISTORY_KEYS)
        try:
            values = _native.trainer_step(self._native_trainer(x), x, self.energy.dim, labels, lr, history, negatives)
        except TrainingDivergedError:
            raise
        except DivergenceError as exc:
            raise TrainingDivergedError(str(exc), self.n_iter + 1, exc.quantity, exc.site, exc.chain) from None
        return dict(zip(HISTORY_KEYS, values))

    def _labels(self, y, n, name):
        if not self.objective_record.takes_labels:
            if y is not None:
                raise ValueError(f"{name}: labels are for objective='jem' only; got labels with objective={self.objective!r}")
            return None
        if y is None:
            raise ValueError(f"{name}: objective='jem' trains on labelled data; pass the labels")
        return self.energy.labels(y, n, name)

    def fit(self, X, y=None, *, epochs=1, batch_size=128, shuffle=True, progress=True, callback=None):
        """Train on ``X`` for a number of epochs.

        Parameters
        ----------
        X : array_like, shape (n, dim) or (n, *input_shape)
        y : array_like of int, shape (n,), optional
            Class labels (``objective="jem"`` only, and required there).
        epochs : int
        batch_size : int
            At most ``n`` (and at most ``buffer_size`` with persistent chains). The last batch of an
            epoch may be smaller.
        shuffle : bool
            Shuffle the rows every epoch (seeded by ``seed`` and the epoch number).
        progress : bool
            A live progress bar (tqdm when installed) with the loss and energies.
        callback : callable, optional
            ``callback(trainer, record)`` after every step; returning ``False`` stops training.

        Returns
        -------
        dict of lists
            :attr:`history` (every step so far, this call's included).
        """
        from .training_loop import fit

        return fit(self, X, y, epochs=epochs, batch_size=batch_size, shuffle=shuffle, progress=progress,
                   callback=callback)

    @property
    def _uses_buffer(self) -> bool:
        return self.objective_record.samples_negatives and self.persistent

    @property
    def buffer(self) -> np.ndarray:
        """A copy of the persistent chains, shape ``(buffer_size, *energy.input_shape)``.

        Raises
        ------
        ValueError
            For an objective without negatives (``dsm``, ``ssm``, ``nce``): it keeps no chains.
        """
        if not self.objective_record.samples_negatives:
            raise ValueError(f"objective={self.objective!r} samples no negatives and keeps no buffer")
        return self._get("buffer").reshape(-1, *self.energy.input_shape)

    @property
    def n_iter(self) -> int:
        """Number of training steps taken."""
        return 0 if self._handle is None else int(self._get("step_count"))

    def _get(self, name):
        """The trainer's state called ``name`` (a new array)."""
        return _native.trainer_get_state(self._native_trainer(), name)

    def averaged_parameters(self) -> "OrderedDict[str, np.ndarray]":
        """The moving average of the parameters (``ema_decay``), named as :meth:`energy.parameters`.

        Raises
        ------
        ValueError
            For a trainer without ``ema_decay``.
        """
        if self.ema_decay is None:
            raise ValueError("this trainer keeps no average of the parameters: pass ema_decay")
        return self.energy._split(self._get("averaged_parameters"))

    def averaged_energy(self):
        """A copy of the energy with the averaged parameters (``ema_decay``) and the current
        buffers: the model to sample and evaluate. Later steps do not change it.

        Returns
        -------
        MLPEnergy or NetworkEnergy
        """
        averaged = self.averaged_parameters()
        copy = pickle.loads(pickle.dumps(self.energy))
        copy.set_parameters(averaged)
        return copy

    @property
    def log_normaliser(self) -> float | None:
        """NCE's learned log-normaliser ``c`` (``ln p(x) = −E(x) − c``, so ``c`` estimates ``ln Z``);
        ``None`` for the other objectives (and before an NCE trainer's first step)."""
        if not isinstance(self.objective_record, NCE) or self._handle is None:
            return None
        return float(self._get("objective_state")[0])

    def __repr__(self) -> str:
        return f"Trainer({self.energy!r}, optimizer={self.optimizer!r}, lr={self.lr}, n_steps={self.n_steps})"
