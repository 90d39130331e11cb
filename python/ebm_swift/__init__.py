"""ebm_swift — energy-based models with a Swift core.

An energy ``E(x, w)`` defines ``p(x|w) = exp(-E(x, w)) / Z(w)``; maximum likelihood moves ``w``
along ``-mean_data ∇w E + mean_model ∇w E``, the model expectation estimated from Langevin
samples (Bishop, *Deep Learning*, §14.3).

Main entry points: :class:`MLPEnergy`, :class:`GaussianEnergy`, :func:`langevin`,
:class:`Trainer`, :mod:`ebm_swift.datasets`.
"""

from . import _loading  # before _native: loads the BLAS and the core built for this CPU
from . import _native, datasets, diagnostics, distributed, metrics, nn, objectives, plots, samplers, schedules
from ._native import DivergenceError
from .callable_energy import CallableEnergy
from .chains import Chains
from .energies import ACTIVATIONS, Energy, GaussianEnergy, MLPEnergy, TrainableEnergy
from .network_energy import NetworkEnergy
from .sampling import ais_log_z, get_num_threads, sample, set_num_threads
from .samplers import FUNCTIONS as _SAMPLING_FUNCTIONS
from .targets import BananaEnergy, DoubleWellEnergy, GaussianMixtureEnergy
from .estimator import EnergyBasedModel
from .persistence import load, save
from .schedules import CosineLR, ExponentialLR, StepLR
from . import config
from .config import show_config
from .training import Trainer, TrainingDivergedError
from . import recipes  # after Trainer: recipes build trainers

__version__ = _native.version()
if _native.runtime_info()["isa"] != _loading.ISA:  # the soname hand-over of _loading.py failed
    raise ImportError(f"ebm_swift: loaded the {_native.runtime_info()['isa']} core, not {_loading.ISA}")
config.warn_if_weak_core()

__all__ = [
    "ACTIVATIONS",
    "BananaEnergy",
    "CosineLR",
    "EnergyBasedModel",
    "ExponentialLR",
    "StepLR",
    "TrainingDivergedError",
    "load",
    "metrics",
    "plots",
    "recipes",
    "save",
    "show_config",
    "schedules",
    "CallableEnergy",
    "Chains",
    "DoubleWellEnergy",
    "GaussianMixtureEnergy",
    "ais_log_z",
    "sample",
    "samplers",
    "objectives",
    "diagnostics",
    "distributed",
    "get_num_threads",
    "set_num_threads",
    "DivergenceError",
    "Energy",
    "GaussianEnergy",
    "MLPEnergy",
    "NetworkEnergy",
    "TrainableEnergy",
    "nn",
    "Trainer",
    "datasets",
    "__version__",
    *_SAMPLING_FUNCTIONS,
]
globals().update(_SAMPLING_FUNCTIONS)  # langevin, mala, hmc, barker, …: every registered kernel's function
