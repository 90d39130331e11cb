"""`ebm_swift.recipes`: each recipe is exactly the network and trainer its documentation states
(checked against a network written out independently and a trainer built by hand from the
documented settings, step for step, bit for bit), its samples come from chains started from
noise with the documented sampler, and its arguments are checked. How well the recipes train is
measured by the quality tests (`python/tests/quality/test_image_quality.py`, `test_jem.py`) and
the 30-minute runs in `benchmarks/`."""

import numpy as np
import pytest

import ebm_swift
from architectures import uva_cnn
from ebm_swift import recipes

nn = ebm_swift.nn
UVA_SAMPLER = dict(step_size=10.0, noise_scale=0.005, grad_clip=0.03, clamp=(-1, 1))


def batch(seed, n=8):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 1, 28, 28)).astype(np.float32)


def assert_same_state(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for name in sa:
        np.testing.assert_array_equal(sa[name], sb[name], err_msg=name)


def test_the_network_is_the_uva_cnn():
    # The UvA tutorial's CNN as tests/architectures.py writes it: same layers, names, initial weights.
    assert_same_state(ebm_swift.NetworkEnergy(recipes.image_cnn(), (1, 28, 28), seed=3),
                      ebm_swift.NetworkEnergy(uva_cnn(), (1, 28, 28), seed=3))
    jem = ebm_swift.NetworkEnergy(recipes.image_cnn(10, width=8), (1, 28, 28), seed=0, n_classes=10)
    assert [p.shape for p in jem.parameters().values()][::2] == [(8, 1, 5, 5), (16, 8, 3, 3), (32, 16, 3, 3),
                                                                (32, 32, 3, 3), (64, 128), (10, 64)]


def test_pcd_recipe_is_the_documented_trainer():
    recipe = recipes.image_ebm("pcd", seed=5, buffer_size=256)
    energy = ebm_swift.NetworkEnergy(uva_cnn(), (1, 28, 28), seed=5)
    by_hand = ebm_swift.Trainer(energy, lr=1e-4, betas=(0.0, 0.999), alpha=0.1, n_steps=40, init_range=(-1, 1),
                                buffer_size=256, reinit_prob=0.05, data_noise=0.005, ema_decay=0.99, seed=5,
                                **UVA_SAMPLER)
    for step in range(2):
        recipe.trainer.step(batch(step))
        by_hand.step(batch(step))
    assert_same_state(recipe.energy, energy)
    np.testing.assert_array_equal(recipe.trainer.buffer, by_hand.buffer)
    assert_same_state(recipe.image_energy(), by_hand.averaged_energy())
    assert recipe.image_energy(averaged=False) is recipe.energy


def test_jem_recipe_is_the_documented_trainer():
    recipe = recipes.image_jem(seed=2, buffer_size=100, width=4)
    energy = ebm_swift.NetworkEnergy(recipes.image_cnn(10, width=4), (1, 28, 28), seed=2, n_classes=10)
    by_hand = ebm_swift.Trainer(energy, objective="jem", lr=1e-3, betas=(0.0, 0.999), alpha=0.1, n_steps=20,
                                init_range=(-1, 1), buffer_size=100, reinit_prob=0.05, data_noise=0.005,
                                ema_decay=0.999, class_conditional=False, seed=2, **UVA_SAMPLER)
    labels = np.arange(8) % 10
    for step in range(2):
        recipe.trainer.step(batch(step), labels)
        by_hand.step(batch(step), labels)
    assert_same_state(recipe.energy, energy)
    np.testing.assert_array_equal(recipe.trainer.buffer, by_hand.buffer)


def test_drl_recipe_is_the_documented_trainer():
    drl = ebm_swift.objectives.DRL(sigmas=(0.2, 0.9), n_steps=3)
    recipe = recipes.image_ebm("drl", seed=1, width=4, drl=drl)
    energy = ebm_swift.NetworkEnergy(recipes.image_cnn(2, width=4), (1, 28, 28), seed=1, n_classes=2)
    by_hand = ebm_swift.Trainer(energy, objective=drl, lr=2e-4, betas=(0.5, 0.999), ema_decay=0.99, seed=1)
    for step in range(2):
        recipe.trainer.step(batch(step))
        by_hand.step(batch(step))
    assert_same_state(recipe.energy, energy)
    level0 = recipe.image_energy(averaged=False)
    x = batch(9, 4)
    np.testing.assert_array_equal(level0.energy(x), -energy.logits(x)[:, 0])  # E(y, 0) = −f(y)[0]
    # Samples: the objective's own sampler from N(0, I) on the averaged weights, clipped.
    np.testing.assert_array_equal(recipe.sample(3, seed=np.random.default_rng(7)),
                                  drl.sample(by_hand.averaged_energy(), 3, seed=np.random.default_rng(7), clamp=(-1, 1)))


def test_samples_start_from_noise_with_the_documented_sampler():
    recipe = recipes.image_jem(seed=0, buffer_size=20, width=4)
    model = recipe.image_energy()
    rng = np.random.default_rng(11)
    start = rng.uniform(-1, 1, (6, 1, 28, 28)).astype(np.float32)
    chains = int(rng.integers(2**63 - 1))
    y = np.array([0, 1, 2, 3, 4, 5])
    np.testing.assert_array_equal(recipe.sample(6, seed=11, y=y, n_steps=7),
                                  ebm_swift.langevin(model, start, 7, seed=chains, y=y, **UVA_SAMPLER))
    a, b = recipe.sample(4, seed=3, n_steps=5), recipe.sample(4, seed=3, n_steps=5)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (4, 1, 28, 28) and a.dtype == np.float32 and a.min() >= -1 and a.max() <= 1
    assert not np.array_equal(a, recipe.sample(4, seed=4, n_steps=5))


@pytest.mark.parametrize("call,exc,match", [
    (lambda: recipes.image_ebm("cd"), ValueError, "method must be 'pcd' or 'drl'; got 'cd'"),
    (lambda: recipes.image_ebm("pcd", buffer_sise=10), TypeError, "buffer_sise"),
    (lambda: recipes.image_ebm("pcd", width=0), ValueError, "width"),
    (lambda: recipes.image_ebm("drl", drl="fast"), TypeError, "drl must be an objectives.DRL"),
    (lambda: recipes.image_jem(n_classes=1.5), TypeError, "n_classes"),
    (lambda: recipes.image_ebm("pcd", buffer_size=64, width=2).sample(0), ValueError, "n must be"),
    (lambda: recipes.image_ebm("pcd", buffer_size=64, width=2).sample(2, y=[0, 1]), ValueError, "y is for the 'jem'"),
    (lambda: recipes.image_ebm("pcd", buffer_size=64, width=2).sample(2, n_steps=-1), ValueError, "n_steps"),
    (lambda: recipes.image_ebm("pcd", buffer_size=64, width=2).image_energy(averaged="yes"), TypeError, "averaged"),
    (lambda: recipes.image_jem(buffer_size=64, width=2).sample(2, y=[0, 10]), ValueError, "y"),
])
def test_bad_arguments_name_what_was_wrong(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
