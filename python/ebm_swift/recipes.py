"""Recipes: the settings measured to work for one use, as code.

A recipe builds the network, the :class:`~ebm_swift.Trainer` and the way to draw samples that the
benchmarks measured (``benchmarks/quality_images.py``, ``benchmarks/quality_jem.py``; figures in
the docs' image guide), so that a user starts from them rather than from constants copied out of
a test. Every setting can be overridden by name.

- :func:`image_ebm` — an unconditional energy of images ``(1, 28, 28)`` in [−1, 1]
  (Fashion-MNIST, MNIST): persistent-chain maximum likelihood (``"pcd"``, the UvA tutorial's
  recipe) or diffusion recovery likelihood (``"drl"``).
- :func:`image_jem` — a joint energy model: a classifier of such images whose logsumexp is an
  energy, trained on labelled images.

Example
-------
>>> recipe = ebm_swift.recipes.image_ebm("pcd", seed=0)          # doctest: +SKIP
>>> recipe.trainer.fit(train, epochs=10, batch_size=128)           # doctest: +SKIP
>>> images = recipe.sample(100, seed=1)                            # doctest: +SKIP
"""

import numpy as np

from ._validation import positive_int, resolve_seed
from .network_energy import NetworkEnergy
from .objectives.drl import DRL
from .samplers.langevin import langevin
from .training import Trainer

__all__ = ["ImageRecipe", "image_cnn", "image_ebm", "image_jem", "IMAGE_SHAPE"]

#: The image shape the recipes' network takes: one channel, 28 × 28 (Fashion-MNIST, MNIST).
IMAGE_SHAPE = (1, 28, 28)

#: The UvA tutorial's Langevin sampler for images in [−1, 1]: a step of 10 on the energy gradient
#: clipped to 0.03 per pixel, noise 0.005, the pixels kept in [−1, 1].
IMAGE_SAMPLER = {"step_size": 10.0, "noise_scale": 0.005, "grad_clip": 0.03, "clamp": (-1.0, 1.0)}

#: Persistent-chain maximum likelihood (UvA "Deep Energy Models" tutorial): Adam lr 1e-4 with
#: betas (0, 0.999), energy regulariser 0.1, 40 Langevin steps per training step from a buffer of
#: 8192 images (5 % restarted from U(−1, 1)), noise 0.005 on the data, weights averaged (0.99).
PCD_SETTINGS = {"lr": 1e-4, "betas": (0.0, 0.999), "alpha": 0.1, "n_steps": 40, "init_range": (-1.0, 1.0),
                "buffer_size": 8192, "reinit_prob": 0.05, "data_noise": 0.005, "ema_decay": 0.99, **IMAGE_SAMPLER}

#: Diffusion recovery likelihood: a head per level, Adam lr 2e-4 with betas (0.5, 0.999), weights
#: averaged (0.99); the levels and their Langevin runs are the `objectives.DRL` defaults.
DRL_SETTINGS = {"lr": 2e-4, "betas": (0.5, 0.999), "ema_decay": 0.99}

#: Joint energy model: the PCD recipe's sampler with 20 steps, Adam lr 1e-3, one buffer shared by
#: the classes, weights averaged (0.999). A class-conditional buffer (``class_conditional=True``)
#: was measured worse for samples: after 30 minutes its buffer's Fréchet distance was 17.5 and only
#: 10 % of class-conditional samples from noise were recognised as their class (docs/images.md).
JEM_SETTINGS = {**PCD_SETTINGS, "lr": 1e-3, "n_steps": 20, "ema_decay": 0.999, "class_conditional": False}

#: Langevin steps of the chains :meth:`ImageRecipe.sample` starts from uniform noise.
FRESH_STEPS = 400


def image_cnn(outputs=1, width=16):
    """The UvA tutorial's CNN for ``(1, 28, 28)`` images: four strided convolutions (``width``,
    ``2·width``, ``4·width``, ``4·width`` channels; 28 → 16 → 8 → 4 → 2 pixels) with SiLU, then
    ``Linear(16·width, 64)``, SiLU, ``Linear(64, outputs)``.

    Parameters
    ----------
    outputs : int, default 1
        One for an energy; the classes of a JEM; the levels of DRL.
    width : int, default 16
        Channels of the first convolution.

    Returns
    -------
    ebm_swift.nn.Sequential
    """
    from . import nn

    outputs, w = positive_int(outputs, "outputs"), positive_int(width, "width")
    return nn.Sequential(nn.Conv2d(1, w, 5, stride=2, padding=4), nn.SiLU(), nn.Conv2d(w, 2 * w, 3, 2, 1), nn.SiLU(),
                         nn.Conv2d(2 * w, 4 * w, 3, 2, 1), nn.SiLU(), nn.Conv2d(4 * w, 4 * w, 3, 2, 1), nn.SiLU(),
                         nn.Flatten(), nn.Linear(16 * w, 64), nn.SiLU(), nn.Linear(64, outputs))


class ImageRecipe:
    """A network energy, its trainer and how to sample it (what :func:`image_ebm` and
    :func:`image_jem` return).

    Attributes
    ----------
    method : str
        ``"pcd"``, ``"drl"`` or ``"jem"``.
    energy : NetworkEnergy
        The network being trained (for DRL a head per level, for JEM a classifier).
    trainer : Trainer
    sampler : dict
        The Langevin settings :meth:`sample` uses (PCD, JEM).
    drl : objectives.DRL or None
        The objective of a DRL recipe.
    """

    def __init__(self, method, energy, trainer, sampler=None, drl=None):
        self.method, self.energy, self.trainer, self.sampler, self.drl = method, energy, trainer, sampler, drl

    def image_energy(self, averaged=True):
        """The energy that scores images (lower = more likely): the network's (for JEM
        ``−logsumexp f(x)``; for DRL the first level's head).

        Parameters
        ----------
        averaged : bool, default True
            Use the averaged weights (``ema_decay``) — the recipes' evaluated model — or the last.

        Returns
        -------
        Energy
        """
        if not isinstance(averaged, bool):
            raise TypeError(f"averaged must be True or False; got {averaged!r}")
        energy = self.trainer.averaged_energy() if averaged else self.energy
        return energy.class_energy(0) if self.method == "drl" else energy

    def sample(self, n, seed=None, *, y=None, n_steps=FRESH_STEPS, averaged=True):
        """New samples, from chains started from noise (not the training buffer).

        PCD and JEM: ``n_steps`` Langevin steps (``sampler``) from U(−1, 1), on ``E(x)`` or, with
        ``y``, on the class-conditional ``E(x, y) = −f(x)[y]`` (JEM). DRL: the levels run down from
        N(0, I) (``drl.n_steps`` steps each), clipped to [−1, 1].

        Parameters
        ----------
        n : int
            Number of samples.
        seed : int or numpy.random.Generator, optional
        y : array_like of int, shape (n,), optional
            Classes of the samples (JEM only).
        n_steps : int, default 400
            Langevin steps from noise (PCD, JEM).
        averaged : bool, default True
            Sample the averaged weights or the last.

        Returns
        -------
        ndarray, shape (n, 1, 28, 28), float32, in [−1, 1]
        """
        n = positive_int(n, "n")
        if y is not None and self.method != "jem":
            raise ValueError(f"y is for the 'jem' recipe only; this recipe is {self.method!r}")
        energy = self.image_energy(averaged)
        if self.method == "drl":
            return self.drl.sample(energy.parent, n, seed=seed, clamp=(-1.0, 1.0))
        n_steps = positive_int(n_steps, "n_steps")
        rng = np.random.default_rng(resolve_seed(seed))
        start = rng.uniform(-1, 1, (n, *IMAGE_SHAPE)).astype(np.float32)
        if y is not None:
            y = energy.labels(y, n, "y")
        chains = int(rng.integers(2**63 - 1))
        return langevin(energy, start, n_steps, seed=chains, y=y, **self.sampler)

    def __repr__(self):
        return f"ImageRecipe(method={self.method!r}, energy={self.energy!r})"


def image_ebm(method="pcd", *, seed=0, width=16, **settings):
    """An unconditional energy of ``(1, 28, 28)`` images in [−1, 1], with its trainer.

    Parameters
    ----------
    method : {"pcd", "drl"}, default "pcd"
        ``"pcd"``: maximum likelihood with a persistent buffer of Langevin chains
        (``PCD_SETTINGS``). ``"drl"``: diffusion recovery likelihood (``DRL_SETTINGS``, the
        network ending in a head per level).
    seed : int, default 0
        Seeds the weights and the trainer.
    width : int, default 16
        Channels of the network's first convolution (:func:`image_cnn`).
    **settings
        Override any :class:`Trainer` setting of the recipe by name (e.g. ``buffer_size=1024``);
        for ``"drl"`` also ``drl=objectives.DRL(...)``.

    Returns
    -------
    ImageRecipe
    """
    if method == "pcd":
        energy = NetworkEnergy(image_cnn(1, width), IMAGE_SHAPE, seed=seed)
        trainer = Trainer(energy, **{**PCD_SETTINGS, **settings, "seed": seed})
        return ImageRecipe("pcd", energy, trainer, {k: settings.get(k, v) for k, v in IMAGE_SAMPLER.items()})
    if method == "drl":
        drl = settings.pop("drl", None) or DRL()
        if not isinstance(drl, DRL):
            raise TypeError(f"drl must be an objectives.DRL; got {type(drl).__name__}")
        levels = len(drl.sigmas)
        energy = NetworkEnergy(image_cnn(levels, width), IMAGE_SHAPE, seed=seed, n_classes=levels)
        trainer = Trainer(energy, **{**DRL_SETTINGS, **settings, "objective": drl, "seed": seed})
        return ImageRecipe("drl", energy, trainer, drl=drl)
    raise ValueError(f"method must be 'pcd' or 'drl'; got {method!r}")


def image_jem(n_classes=10, *, seed=0, width=16, **settings):
    """A joint energy model of labelled ``(1, 28, 28)`` images in [−1, 1]: a classifier whose
    logits ``f(x)`` give ``p(y | x)`` and the energy ``E(x) = −logsumexp f(x)``, with its trainer
    (``objective="jem"``, ``JEM_SETTINGS``); train with ``trainer.step(x, y)`` or ``fit(X, y)``.

    Parameters
    ----------
    n_classes : int, default 10
    seed : int, default 0
    width : int, default 16
        Channels of the network's first convolution (:func:`image_cnn`).
    **settings
        Override any :class:`Trainer` setting of the recipe by name.

    Returns
    -------
    ImageRecipe
    """
    n_classes = positive_int(n_classes, "n_classes")
    energy = NetworkEnergy(image_cnn(n_classes, width), IMAGE_SHAPE, seed=seed, n_classes=n_classes)
    trainer = Trainer(energy, **{**JEM_SETTINGS, **settings, "objective": "jem", "seed": seed})
    return ImageRecipe("jem", energy, trainer, {k: settings.get(k, v) for k, v in IMAGE_SAMPLER.items()})
