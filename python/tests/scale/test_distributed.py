"""Issue 13: sampling, AIS and sweeps on a Dask LocalCluster (2 worker processes, loopback, no
dashboard) and on Ray equal the local calls bit for bit; a killed worker changes nothing; user
errors surface with their own type. The cluster starts once for the module."""

import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from hangs import HANG_SECONDS

import ebm_swift
from ebm_swift import distributed, nn

distributed_mod = pytest.importorskip("dask.distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed_mod.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                           dashboard_address=None, env={"EBM_SWIFT_NUM_THREADS": "1"})
    client = distributed_mod.Client(cluster)
    yield client
    client.close()
    cluster.close()


def mlp():
    return ebm_swift.MLPEnergy(2, (32, 32), seed=0)


def cnn():
    net = nn.Sequential(nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.SiLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 1))
    return ebm_swift.NetworkEnergy(net, (1, 8, 8), seed=0)


SAMPLERS = {
    "langevin": {},
    "mala": {},
    "hmc": {"n_leapfrog": 3},
    "nuts": {"max_tree_depth": 5},
    "kinetic_langevin": {"friction": 2.0},
    "replica_exchange": {"n_replicas": 3},
}


def assert_same(a, b):
    if isinstance(a, tuple):
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1].keys() == b[1].keys()
        for key in a[1]:
            np.testing.assert_array_equal(a[1][key], b[1][key])
    else:
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("sampler", list(SAMPLERS))
@pytest.mark.parametrize("make_energy,shape", [(mlp, (2,)), (cnn, (1, 8, 8))], ids=["mlp", "cnn"])
@pytest.mark.parametrize("chunk_size", [128, 200])  # chunks of 128 or 256 (200 rounded up) of N = 320
def test_sample_equals_the_local_call(client, sampler, make_energy, shape, chunk_size):
    energy = make_energy()
    x0 = np.random.default_rng(1).uniform(-1, 1, (320, *shape))
    kwargs = dict(SAMPLERS[sampler])
    local = getattr(ebm_swift, sampler)(energy, x0, 6, 0.01, seed=5, **kwargs)
    remote = distributed.sample(energy, x0, 6, 0.01, sampler=sampler, client=client, chunk_size=chunk_size, seed=5,
                                **kwargs)
    assert_same(local, remote)
    assert (remote[0] if isinstance(remote, tuple) else remote).shape == x0.shape


@pytest.mark.parametrize("sampler,kwargs", [
    ("langevin", {"return_trajectory": True, "thin": 2}),
    ("mala", {"adapt_step_size": True, "n_warmup": 6}),
    ("hmc", {"n_leapfrog": 2, "adapt_step_size": True, "adapt_mass": True, "n_warmup": 6, "return_trajectory": True}),
    ("nuts", {"adapt_step_size": True, "adapt_mass": True, "n_warmup": 6, "return_trajectory": True}),
    ("kinetic_langevin", {"metropolis": True, "adapt_step_size": True, "adapt_mass": True, "n_warmup": 6}),
    ("replica_exchange", {"adapt_step_size": True, "n_warmup": 6, "n_replicas": 4}),
])
def test_sample_with_recording_and_adaptation_equals_the_local_call(client, sampler, kwargs):
    energy = ebm_swift.BananaEnergy(2)
    x0 = np.random.default_rng(2).normal(size=(150, 2))
    local = getattr(ebm_swift, sampler)(energy, x0, 10, 0.05, seed=8, **kwargs)
    remote = distributed.sample(energy, x0, 10, 0.05, sampler=sampler, client=client, chunk_size=40, seed=8, **kwargs)
    assert_same(local, remote)


@pytest.mark.parametrize("transition", ["mala", "hmc", "langevin", "nuts", "kinetic_langevin"])
@pytest.mark.parametrize("make_energy", [mlp, cnn], ids=["mlp", "cnn"])
@pytest.mark.parametrize("chunk_size", [128, 100])  # chunks of 128 (100 rounded up) of 320: the last one short
def test_ais_equals_the_local_estimate(client, transition, make_energy, chunk_size):
    energy = make_energy()
    kwargs = dict(n_temps=20, transition=transition, step_size=0.05, base_std=1.5)
    local = ebm_swift.ais_log_z(energy, n_chains=320, seed=3, return_info=True, **kwargs)
    remote = distributed.ais_log_z(energy, client=client, chunk_size=chunk_size, n_chains=320, seed=3,
                                   return_info=True, **kwargs)
    assert local[:2] == remote[:2]
    for key in local[2]:
        np.testing.assert_array_equal(local[2][key], remote[2][key])


def test_sweep_returns_trained_models_in_grid_order(client):
    data = ebm_swift.datasets.make_toy("8gaussians", 1000, seed=0)

    def make(lr, seed):
        return ebm_swift.Trainer(ebm_swift.MLPEnergy(2, (16, 16), seed=seed), lr=lr, n_steps=5, buffer_size=256,
                                 seed=seed)

    grid = {"lr": [1e-3, 3e-3], "seed": [0, 1]}
    results = distributed.sweep(make, grid, data, client=client, steps=12, batch_size=64)
    assert [r["params"] for r in results] == [{"lr": a, "seed": b} for a in grid["lr"] for b in grid["seed"]]
    # Each task is exactly the local loop.
    local = distributed._train(make, {"lr": 3e-3, "seed": 1}, data, 12, 64)
    assert results[3]["history"]["loss"] == local["history"]["loss"]
    trainer = results[3]["trainer"]
    assert trainer.n_iter == 12
    for k, v in local["trainer"].energy.parameters().items():
        np.testing.assert_array_equal(trainer.energy.parameters()[k], v)
    assert results[0]["history"]["loss"] != results[3]["history"]["loss"]


def test_the_default_client_is_used_when_none_is_given(client):
    energy = mlp()
    x0 = np.random.default_rng(7).normal(size=(300, 2))
    assert distributed_mod.get_client() is client
    assert_same(distributed.sample(energy, x0, 3, 0.01, chunk_size=16, seed=1), ebm_swift.langevin(energy, x0, 3, 0.01, seed=1))


def test_chunks_fall_on_multiples_of_the_alignment():
    a = distributed.CHUNK_ALIGNMENT
    assert a == 128  # the core's ChainBlocks.alignment, read from the library
    assert distributed._chunks(300, 37) == [(0, a), (a, a), (2 * a, 300 - 2 * a)]
    assert distributed._chunks(a, a) == [(0, a)]
    with pytest.raises(ValueError, match="chunk_size"):
        distributed._chunks(10, 0)


def test_a_large_run_in_chunks_equals_the_local_run(client):
    """Many chains of a wide MLP (packed OpenBLAS products in 64-row blocks): chunks of 1000
    (rounded to 1024) rows against the local run of 6000."""
    energy = ebm_swift.MLPEnergy(16, (256, 256), seed=0)
    x0 = np.random.default_rng(3).normal(size=(6000, 16))
    local = ebm_swift.mala(energy, x0, 3, 0.01, seed=4)
    assert_same(local, distributed.sample(energy, x0, 3, 0.01, sampler="mala", client=client, chunk_size=1000, seed=4))


def test_killing_a_worker_mid_run_changes_nothing(client):
    energy = ebm_swift.MLPEnergy(2, (256, 256), seed=0)
    x0 = np.random.default_rng(4).normal(size=(4000, 2))
    local = ebm_swift.langevin(energy, x0, 300, 0.01, seed=6)
    pids = client.run(os.getpid)
    result = {}
    worker = threading.Thread(target=lambda: result.update(
        out=distributed.sample(energy, x0, 300, 0.01, client=client, chunk_size=250, seed=6)))
    worker.start()
    # Kill a worker as soon as tasks are running (16 chunks of ~0.15 s per core: seconds of work),
    # however long they take to start; the kill must land mid-run, which is checked by state, not time.
    while worker.is_alive() and not any(client.processing().values()):
        time.sleep(0.01)
    assert worker.is_alive() and any(client.processing().values()), "the run ended before a task was seen running"
    os.kill(next(iter(pids.values())), signal.SIGKILL)
    worker.join(timeout=HANG_SECONDS)
    assert not worker.is_alive(), "the run hung after a worker was killed"
    np.testing.assert_array_equal(result["out"], local)
    client.wait_for_workers(2, timeout=HANG_SECONDS)  # the nanny restarts the killed worker…
    assert set(client.run(os.getpid).values()) != set(pids.values())  # …so a process really died


def test_user_errors_surface_with_their_own_type(client):
    def failing(x):
        raise ZeroDivisionError("energy of a bad point")

    energy = ebm_swift.CallableEnergy(failing, lambda x: np.zeros_like(x), 2)
    with pytest.raises(ZeroDivisionError, match="bad point"):
        distributed.sample(energy, np.zeros((20, 2)), 3, 0.1, sampler="mala", client=client, chunk_size=10, seed=0)
    with pytest.raises(ValueError, match="n_leapfrog"):
        distributed.sample(mlp(), np.zeros((20, 2)), 3, 0.1, sampler="hmc", n_leapfrog=0, client=client)
    with pytest.raises(TypeError, match="unexpected keyword|got an unexpected"):
        distributed.sample(mlp(), np.zeros((20, 2)), 3, 0.1, sampler="langevin", n_leapfrog=3, client=client)
    with pytest.raises(TypeError, match="chain_offset"):
        distributed.sample(mlp(), np.zeros((20, 2)), 3, 0.1, chain_offset=4, client=client)
    with pytest.raises(ValueError, match="chunk_size"):
        distributed.sample(mlp(), np.zeros((20, 2)), 3, 0.1, chunk_size=0, client=client)
    with pytest.raises(TypeError, match="client must be"):
        distributed.sample(mlp(), np.zeros((20, 2)), 3, 0.1, client="localhost:8786")
    with pytest.raises(TypeError, match="params_grid"):
        distributed.sweep(lambda **p: None, [], np.zeros((4, 2)), client=client, steps=1)


def test_importing_ebm_swift_imports_neither_dask_nor_ray():
    code = "import sys, ebm_swift; print(any(m.split('.')[0] in ('dask', 'distributed', 'ray') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_ray_handle_gives_the_same_results(ray_client):
    energy = mlp()
    x0 = np.random.default_rng(1).normal(size=(300, 2))
    local = ebm_swift.hmc(energy, x0, 5, 0.05, n_leapfrog=3, seed=2)
    remote = distributed.sample(energy, x0, 5, 0.05, sampler="hmc", n_leapfrog=3, client=ray_client, chunk_size=50,
                                seed=2)
    assert_same(local, remote)
    assert distributed.ais_log_z(energy, client=ray_client, chunk_size=64, n_chains=200, n_temps=10, seed=1) == \
        ebm_swift.ais_log_z(energy, n_chains=200, n_temps=10, seed=1)


def test_class_conditional_sampling_in_chunks_equals_the_local_call(client):
    # Issue 23: y was sent whole to every chunk and failed with more than one chunk. 300 chains of
    # 3 classes in chunks of 128: each class is cut on its own, chains keep their noise.
    energy = ebm_swift.NetworkEnergy(nn.Sequential(nn.Linear(4, 16), nn.SiLU(), nn.Linear(16, 3)), 4, n_classes=3,
                                     seed=2)
    x0 = np.random.default_rng(0).normal(size=(300, 4)).astype(np.float32)
    y = np.random.default_rng(1).integers(0, 3, size=300)
    local = ebm_swift.langevin(energy, x0, 20, 0.01, seed=5, y=y)
    remote = distributed.sample(energy, x0, 20, 0.01, seed=5, y=y, client=client, chunk_size=128)
    assert np.array_equal(local, remote)
    with pytest.raises(ValueError, match="sampler='langevin'"):
        distributed.sample(energy, x0, 5, 0.01, sampler="mala", y=y, client=client)


def test_a_closed_client_is_a_clear_error():
    cluster = distributed_mod.LocalCluster(n_workers=1, processes=False, dashboard_address=None)
    closed = distributed_mod.Client(cluster)
    closed.close()
    cluster.close()
    g = ebm_swift.GaussianEnergy(np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="the Dask client is closed"):
        distributed.sample(g, np.zeros((4, 2)), 5, 0.1, client=closed)
