"""Saving and resuming: files written by earlier versions load and continue bit for bit.

``data/trainers_v0_1/`` holds trainers saved by ebm_swift 0.1.0 before the trainer's state
crossed the ABI by name (commit 8160934): each after one epoch, and the parameters the same run
reached after a second epoch without stopping (``<name>_cont.npy``). Loading a file and training
the second epoch must reach exactly those parameters — same model, optimiser moments, buffer,
permutation, step count, EMA and NCE state, or a bit would differ.
"""

from pathlib import Path

import numpy as np
import pytest

import ebm_swift

DATA = Path(__file__).parent / "data" / "trainers_v0_1"


@pytest.mark.parametrize("name", ["ml", "nce", "dsm", "jem"])
def test_files_of_earlier_versions_resume_bit_for_bit(name):
    X = np.random.default_rng(0).normal(size=(256, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64) if name == "jem" else None
    trainer = ebm_swift.load(DATA / f"{name}.npz")
    assert trainer.n_iter == 8 and len(trainer.history["loss"]) == 8
    trainer.fit(X, y, epochs=1, batch_size=32, progress=False)
    reached = np.concatenate([v.ravel() for v in trainer.energy.parameters().values()])
    np.testing.assert_array_equal(reached, np.load(DATA / f"{name}_cont.npy"))


def test_every_state_entry_round_trips_through_a_file(tmp_path):
    X = np.random.default_rng(1).normal(size=(64, 2)).astype(np.float32)
    trainer = ebm_swift.Trainer(ebm_swift.MLPEnergy(2, (8,), seed=0), buffer_size=32, n_steps=2, ema_decay=0.5, seed=0)
    trainer.fit(X, epochs=1, batch_size=16, progress=False)
    trainer.save(tmp_path / "t.npz")
    loaded = ebm_swift.load(tmp_path / "t.npz")
    entries = ebm_swift._native.trainer_state(trainer._handle)
    assert [e[0] for e in entries] == ["step_count", "updates", "first_moment", "second_moment",
                                       "averaged_parameters", "buffer", "permutation"]
    for name, _, _ in entries:
        np.testing.assert_array_equal(trainer._get(name), loaded._get(name))


def test_state_entries_are_checked_in_the_core():
    trainer = ebm_swift.Trainer(ebm_swift.MLPEnergy(2, (8,), seed=0), buffer_size=4, n_steps=1, seed=0)
    set_state = ebm_swift._native.trainer_set_state
    with pytest.raises(ValueError, match=r"step_count must be in \[0, 2\^53\]"):
        set_state(trainer._handle, "step_count", 2**63 - 1)  # counting on from it would overflow
    with pytest.raises(ValueError, match="not a permutation"):
        set_state(trainer._handle, "permutation", np.array([0, 0, 1, 2]))
    with pytest.raises(ValueError, match="second_moment has negative values"):
        set_state(trainer._handle, "second_moment", -np.ones(trainer.energy.num_parameters))
    with pytest.raises(ValueError, match="has 4 values, got count 3"):
        set_state(trainer._handle, "permutation", np.arange(3))
    with pytest.raises(KeyError, match="no state 'log_z'"):
        set_state(trainer._handle, "log_z", np.zeros(1))
    assert trainer.n_iter == 0 and np.array_equal(trainer._get("permutation"), np.arange(4))
