"""Learning-rate schedules: callables ``schedule(step, base_lr) -> lr`` for :class:`Trainer`,
with the formulas of ``torch.optim.lr_scheduler`` (``step`` counts optimiser steps from 0)."""

from __future__ import annotations

import math

from ._validation import non_negative_float, positive_float, positive_int

__all__ = ["StepLR", "ExponentialLR", "CosineLR", "SCHEDULES"]


class StepLR:
    """``lr = base_lr · gamma^(step // step_size)``."""

    def __init__(self, step_size: int, gamma: float = 0.1):
        self.step_size = positive_int(step_size, "step_size")
        self.gamma = positive_float(gamma, "gamma")

    def __call__(self, step: int, base_lr: float) -> float:
        return base_lr * self.gamma ** (step // self.step_size)

    def __repr__(self):
        return f"StepLR(step_size={self.step_size}, gamma={self.gamma})"


class ExponentialLR:
    """``lr = base_lr · gamma^step``."""

    def __init__(self, gamma: float):
        self.gamma = positive_float(gamma, "gamma")

    def __call__(self, step: int, base_lr: float) -> float:
        return base_lr * self.gamma**step

    def __repr__(self):
        return f"ExponentialLR(gamma={self.gamma})"


class CosineLR:
    """``lr = eta_min + (base_lr − eta_min)(1 + cos(π · min(step, t_max) / t_max)) / 2``."""

    def __init__(self, t_max: int, eta_min: float = 0.0):
        self.t_max = positive_int(t_max, "t_max")
        self.eta_min = non_negative_float(eta_min, "eta_min")

    def __call__(self, step: int, base_lr: float) -> float:
        t = min(step, self.t_max)
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * t / self.t_max)) / 2

    def __repr__(self):
        return f"CosineLR(t_max={self.t_max}, eta_min={self.eta_min})"


SCHEDULES = {"step": StepLR, "exponential": ExponentialLR, "cosine": CosineLR}


def to_config(schedule):
    """A JSON-able description of a schedule (for saving), or None."""
    if schedule is None:
        return None
    name = {StepLR: "step", ExponentialLR: "exponential", CosineLR: "cosine"}[type(schedule)]
    return {"name": name, **vars(schedule)}


def from_config(config):
    if config is None:
        return None
    config = dict(config)
    return SCHEDULES[config.pop("name")](**config)
