"""Objective records (ebm_swift.objectives): a record and the flat keyword arguments it replaces
give the same run bit for bit; each record checks itself once; the registry is the one list."""

import numpy as np
import pytest

import ebm_swift
from ebm_swift import objectives


def data(n=64, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 2)).astype(np.float32)


def run(objective, **flat):
    energy = ebm_swift.MLPEnergy(2, (16,), seed=1)
    trainer = ebm_swift.Trainer(energy, objective=objective, seed=2, **flat)
    for _ in range(3):
        trainer.step(data())
    return trainer, np.concatenate([v.ravel() for v in energy.parameters().values()])


@pytest.mark.parametrize("record,name,flat", [
    (objectives.MaximumLikelihood(n_steps=5, buffer_size=128, alpha=0.1), "ml", dict(n_steps=5, buffer_size=128, alpha=0.1)),
    (objectives.MaximumLikelihood(n_steps=3, persistent=False, init_range=(-2, 2)), "ml",
     dict(n_steps=3, persistent=False, init_range=(-2, 2))),
    (objectives.DSM(sigma=[0.5, 0.1]), "dsm", dict(sigma=[0.5, 0.1])),
    (objectives.SSM(n_projections=2, projection="gaussian"), "ssm", dict(n_projections=2, projection="gaussian")),
    (objectives.NCE(noise=(np.zeros(2), np.eye(2)), noise_ratio=2), "nce", dict(noise=(np.zeros(2), np.eye(2)), noise_ratio=2)),
])
def test_a_record_trains_exactly_as_the_flat_arguments(record, name, flat):
    by_record, w_record = run(record)
    by_name, w_name = run(name, **flat)
    np.testing.assert_array_equal(w_record, w_name)
    assert by_record.history["loss"] == by_name.history["loss"]
    assert by_record.objective == by_name.objective == name
    assert by_name.objective_record == record


def test_records_check_themselves_and_refuse_flat_duplicates():
    with pytest.raises(ValueError, match="sigma must be positive"):
        objectives.DSM(sigma=-1.0)
    with pytest.raises(ValueError, match="projection must be one of"):
        objectives.SSM(projection="sobol")
    with pytest.raises(ValueError, match="buffer_size must be"):
        objectives.MaximumLikelihood(buffer_size=0)
    with pytest.raises(ValueError, match=r"set \['sigma'\] in the record"):
        ebm_swift.Trainer(ebm_swift.MLPEnergy(2, (4,)), objective=objectives.DSM(), sigma=0.3)
    with pytest.raises(ValueError, match="needs a classifier energy"):
        ebm_swift.Trainer(ebm_swift.MLPEnergy(2, (4,)), objective=objectives.JEM())
    with pytest.raises(ValueError, match=r"noise must be \(mean of shape \(3,\)"):
        ebm_swift.Trainer(ebm_swift.MLPEnergy(3, (4,)), objective=objectives.NCE(noise=(np.zeros(2), np.eye(2))))
    with pytest.raises(ValueError, match="objective must be one of"):
        ebm_swift.Trainer(ebm_swift.MLPEnergy(2, (4,)), objective="cd")


def test_the_registry_is_the_one_list():
    assert set(objectives.REGISTRY) == {"ml", "jem", "dsm", "ssm", "nce", "drl"}
    assert ebm_swift.training.OBJECTIVES == tuple(objectives.REGISTRY)
    for kind, cls in objectives.REGISTRY.items():
        assert cls.kind == kind and cls.__doc__
    assert objectives.JEM.takes_labels and objectives.JEM.samples_negatives
    assert not objectives.DSM.samples_negatives


def test_jem_batches_are_checked_against_the_buffer_in_python():
    net = ebm_swift.nn.Sequential(ebm_swift.nn.Linear(2, 8), ebm_swift.nn.SiLU(), ebm_swift.nn.Linear(8, 3))
    energy = ebm_swift.NetworkEnergy(net, (2,), n_classes=3, seed=0)
    trainer = ebm_swift.Trainer(energy, objective=objectives.JEM(buffer_size=16, n_steps=2), seed=0)
    with pytest.raises(ValueError, match="batch_size .32. is larger than buffer_size .16."):
        trainer.fit(data(64), np.arange(64) % 3, batch_size=32, progress=False)
    assert trainer.n_iter == 0
