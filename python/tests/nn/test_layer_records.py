"""Layer records: every nn module crosses to the core as (kind, fields) records read strictly by
the core's layer registry, and the names and shapes of a network's tensors are the core's."""

import numpy as np
import pytest

import ebm_swift
from ebm_swift import _native, nn

from architectures import uva_cnn


def every_layer():
    return nn.Sequential(
        nn.SpectralNorm(nn.Conv2d(1, 4, 3, padding=1)), nn.GELU(), nn.AvgPool2d(2),
        nn.Residual(nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.Tanh())), nn.ELU(),
        nn.Flatten(), nn.SpectralNorm(nn.Linear(64, 16)), nn.LeakyReLU(0.1), nn.Linear(16, 8), nn.Softplus(),
        nn.Linear(8, 4), nn.ReLU(), nn.GELU("tanh"), nn.SiLU(), nn.Linear(4, 1))


@pytest.mark.parametrize("net,shape", [(every_layer(), (1, 8, 8)), (uva_cnn(), (1, 28, 28))])
def test_the_core_names_the_tensors_as_the_modules_imply(net, shape):
    energy = ebm_swift.NetworkEnergy(net, shape, seed=0)
    core = _native.energy_tensors(energy._handle, 0)
    assert [(name, tuple(s)) for name, s in core] == [(n, tuple(s)) for n, s in net._parameter_shapes(shape)]
    assert list(energy.parameters()) == [name for name, _ in core]
    buffers = _native.energy_tensors(energy._handle, 1)
    assert [(n, tuple(s)) for n, s in buffers] == [(n, tuple(s)) for n, s in net._buffer_shapes(shape)]
    assert energy.num_parameters == sum(int(np.prod(s)) for _, s in core)


def test_other_energies_have_no_named_tensors():
    assert _native.energy_tensors(ebm_swift.GaussianEnergy(np.zeros(2), np.eye(2))._handle, 0) == []


@pytest.mark.parametrize("records,match", [
    ([("linear", {"in_features": 2, "out_features": 1, "bias": 1})], "layer 'linear' has no field 'bias'"),
    ([("linear", {"in_features": 2})], "field 'out_features'"),
    ([("conv", {})], "unknown layer 'conv'"),
    ([("activation", {"function": "relu6"})], "unknown activation 'relu6'"),
    ([("conv2d", {"in_channels": 1, "out_channels": 1, "kernel_size": (3, 3.5), "stride": (1, 1),
                  "padding": (0, 0)})], "must hold two integers"),
    ([("residual", {"layers": 3}), ("flatten", {})], r"claims 3 inner layers"),
    ([("linear", {"in_features": 3, "out_features": 1})], r"layer 0 \(Linear\) expects input of shape \[3\]"),
])
def test_layer_records_are_read_strictly(records, match):
    with pytest.raises(ValueError, match=match):
        _native.network_create(np.array([2], dtype=np.int64), records, 0, 0)


def test_a_bad_record_never_reaches_an_allocation():
    with pytest.raises(TypeError):
        _native.network_create(np.array([2], dtype=np.int64), [("linear", [1, 2])], 0, 0)
    with pytest.raises(ValueError, match="at most 100000 layers"):
        _native.network_create(np.array([2], dtype=np.int64), [("flatten", {})] * 100_001, 0, 0)
