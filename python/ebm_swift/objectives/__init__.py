"""Training objectives, one record each: what :class:`ebm_swift.Trainer` minimises.

Each objective is a record (:class:`MaximumLikelihood`, :class:`JEM`, :class:`DSM`, :class:`SSM`,
:class:`NCE`, :class:`DRL`) in a file of its own, registered under its ``kind`` — the name the native core's
objective of the same kind answers to. ``Trainer(energy, objective=DSM(sigma=0.1))`` takes a record;
``Trainer(energy, objective="dsm", sigma=0.1)`` builds the same one with :func:`from_name`, the one
place the trainer's flat keyword arguments map onto records.
"""

from ._record import REGISTRY, ContrastiveObjective, Objective, register
from .drl import DRL
from .dsm import DSM
from .jem import JEM
from .ml import MaximumLikelihood
from .nce import NCE, fit_gaussian_noise
from .ssm import SSM

__all__ = ["Objective", "ContrastiveObjective", "MaximumLikelihood", "JEM", "DSM", "DRL", "SSM", "NCE", "REGISTRY",
           "register", "from_name", "fit_gaussian_noise"]

#: The flat keyword arguments of ``Trainer`` that configure objectives, with their defaults.
FLAT_DEFAULTS = {"n_steps": 20, "persistent": True, "buffer_size": 10000, "reinit_prob": 0.05,
                 "init_range": (-1.0, 1.0), "alpha": 0.0, "cross_entropy_weight": 1.0, "class_conditional": False,
                 "sigma": None, "n_projections": 1, "projection": "rademacher", "noise": None, "noise_ratio": 1}

_NEGATIVES = ("n_steps", "persistent", "buffer_size", "reinit_prob", "init_range", "alpha")
_OWN = {"jem": ("cross_entropy_weight", "class_conditional"), "dsm": ("sigma",),
        "ssm": ("n_projections", "projection"), "nce": ("noise", "noise_ratio")}


def from_name(kind, **flat):
    """The record of objective ``kind`` from ``Trainer``'s flat keyword arguments.

    Arguments an objective does not read are ignored at their defaults; a few that would be
    silently meaningless are refused (``alpha``, ``sigma``, ``noise``, ``class_conditional`` with
    another objective).

    Parameters
    ----------
    kind : str
        A registered objective (:data:`REGISTRY`).
    **flat
        Any of ``FLAT_DEFAULTS``.

    Returns
    -------
    Objective
    """
    if not isinstance(kind, str) or kind not in REGISTRY:
        raise ValueError(f"objective must be one of {sorted(REGISTRY)} or an objective record; got {kind!r}")
    unknown = set(flat) - set(FLAT_DEFAULTS)
    if unknown:
        raise TypeError(f"unknown objective arguments {sorted(unknown)}")
    values = {**FLAT_DEFAULTS, **flat}
    cls = REGISTRY[kind]
    if not issubclass(cls, ContrastiveObjective) and values["alpha"] != 0:
        raise ValueError(f"alpha regularises the energies of model samples: objective='ml' or 'jem' only; "
                         f"got alpha={values['alpha']!r} with objective={kind!r}")
    for name, owners, what in (("sigma", ("dsm", "drl"), "the noise scale"), ("noise", ("nce",), "the noise distribution")):
        if values[name] is not None and kind not in owners:
            raise ValueError(f"{name} is {what} of objective={' or '.join(map(repr, owners))}; "
                             f"got {name} with objective={kind!r}")
    if values["class_conditional"] is True and kind != "jem":
        raise ValueError(f"class_conditional is a buffer of objective='jem'; got it with objective={kind!r}")
    own = {k: values[k] for k in _OWN.get(kind, ())}
    if kind == "dsm" and own["sigma"] is None:
        own["sigma"] = 0.1
    if kind == "drl":  # the record's defaults unless given: sigma (its sigmas) and n_steps
        own = {"sigmas": values["sigma"]} if values["sigma"] is not None else {}
        if values["n_steps"] != FLAT_DEFAULTS["n_steps"]:
            own["n_steps"] = values["n_steps"]
    if issubclass(cls, ContrastiveObjective):
        own.update({k: values[k] for k in _NEGATIVES})
    return cls(**own)
