"""The objective record every training objective shares.

An objective is an :class:`Objective` subclass in its own file: its ``kind`` (the native
objective's name), its settings (checked once, in ``__init__``), :meth:`Objective.check` against
the energy it will train, and :meth:`Objective.settings`, the record that crosses to the core.
``objectives/__init__.py`` registers it; :class:`ebm_swift.Trainer` finds it through
:data:`REGISTRY`.
"""

from __future__ import annotations

from typing import ClassVar

from .._registry import registrar
from .._validation import count_within_limit, flag, interval, non_negative_float, positive_int, probability
from ..samplers._record import check_steps

#: The registered objectives by name (filled by :func:`register`).
REGISTRY: dict = {}


#: Class decorator: adds a :class:`Objective` subclass to :data:`REGISTRY` under its ``kind``.
register = registrar(REGISTRY, "an objective")


class Objective:
    """What a training step minimises, and its settings: what the core's objective of the same
    ``kind`` reads.

    Attributes
    ----------
    kind : str
        The objective's name (the native registry's key).
    samples_negatives : bool
        Whether a step samples negatives from the model (and so takes the trainer's sampler).
    takes_labels : bool
        Whether every batch comes with class labels.
    """

    kind: ClassVar[str]
    samples_negatives: ClassVar[bool] = False
    takes_labels: ClassVar[bool] = False

    def check(self, energy) -> None:
        """Raises ``ValueError`` unless the objective can train ``energy``."""

    def settings(self, energy) -> dict:
        """The record's settings for ``energy`` (every field the core reads)."""
        return {}

    def _fields(self) -> dict:
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def __eq__(self, other):
        return type(self) is type(other) and self._fields() == other._fields()

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._fields().items())
        return f"{type(self).__name__}({args})"


class ContrastiveObjective(Objective):
    """An objective with negatives from the model: how they are drawn and moved.

    Parameters
    ----------
    n_steps : int, default 20
        Sampler steps per training step.
    persistent : bool, default True
        Persistent chains (a replay buffer) or short-run chains from uniform noise every step.
    buffer_size : int, default 10000
        Number of persistent chains; at least the batch size.
    reinit_prob : float, default 0.05
        Probability that a drawn chain restarts from uniform noise on ``init_range``.
    init_range : (float, float), default (-1.0, 1.0)
        Box of the uniform noise that starts and restarts chains.
    alpha : float, default 0.0
        Weight of the energy regulariser ``alpha·(mean E(x⁺)² + mean E(x⁻)²)``.
    """

    samples_negatives = True

    def __init__(self, *, n_steps=20, persistent=True, buffer_size=10000, reinit_prob=0.05, init_range=(-1.0, 1.0),
                 alpha=0.0):
        self.n_steps = check_steps(n_steps)
        self.persistent = flag(persistent, "persistent")
        self.buffer_size = positive_int(buffer_size, "buffer_size")
        self.reinit_prob = probability(reinit_prob, "reinit_prob")
        self.init_range = interval(init_range, "init_range")
        self.alpha = non_negative_float(alpha, "alpha")

    def check(self, energy) -> None:
        count_within_limit(self.buffer_size * energy.dim, "buffer_size × dim")

    def settings(self, energy) -> dict:
        return {"n_steps": self.n_steps, "persistent": int(self.persistent), "buffer_size": self.buffer_size,
                "reinit_prob": self.reinit_prob, "init_low": self.init_range[0], "init_high": self.init_range[1],
                "alpha": self.alpha}
