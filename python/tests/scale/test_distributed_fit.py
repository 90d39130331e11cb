"""Issue 22: ``distributed.fit`` trains one model on a Dask LocalCluster (worker processes on
loopback) or on Ray to the very bits of ``Trainer.fit`` — parameters, buffers, the persistent
chains, the moving average and the history — for every objective, with 1, 2 or 3 workers, when a
worker is killed mid-run, and across a save/load in the middle. Bad input is refused clearly."""

import os
import signal
import threading
import time

import numpy as np
import pytest
from hangs import HANG_SECONDS

import ebm_swift
from ebm_swift import distributed, nn, objectives
from ebm_swift.training import TrainingDivergedError

dask_distributed = pytest.importorskip("dask.distributed")

HISTORY = ("loss", "e_data", "e_model", "grad_norm", "lr")  # step_time is the wall clock


def cluster_client(n_workers):
    cluster = dask_distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                            host="127.0.0.1", dashboard_address=None,
                                            env={"EBM_SWIFT_NUM_THREADS": "1"})
    return cluster, dask_distributed.Client(cluster)


@pytest.fixture(scope="module")
def client():
    cluster, client = cluster_client(2)
    yield client
    client.close()
    cluster.close()


def images(n=640, seed=0):
    """Smooth 8×8 blobs in [−1, 1] (something for the CNN to learn)."""
    rng = np.random.default_rng(seed)
    grid = np.linspace(-1, 1, 8)
    centre = rng.uniform(-0.5, 0.5, (n, 2, 1, 1))
    blob = np.exp(-((grid[None, :, None] - centre[:, 0]) ** 2 + (grid[None, None, :] - centre[:, 1]) ** 2) / 0.2)
    return (2 * blob - 1)[:, None].astype(np.float32)


def cnn_trainer(**kw):
    """A spectral-normed CNN with EMA, clipping and a schedule: every piece of a step that must
    agree between the driver and the replicas. 320-row batches are 5 chain blocks of 64."""
    net = nn.Sequential(nn.SpectralNorm(nn.Conv2d(1, 8, 3, stride=2, padding=1)), nn.SiLU(), nn.Flatten(),
                        nn.Linear(8 * 4 * 4, 16), nn.SiLU(), nn.Linear(16, 1))
    energy = ebm_swift.NetworkEnergy(net, (1, 8, 8), seed=0)
    settings = dict(lr=1e-3, n_steps=6, step_size=0.01, noise_scale=0.005, buffer_size=1000, ema_decay=0.9,
                    clip_grad_norm=5.0, lr_schedule=ebm_swift.schedules.StepLR(5, 0.5), data_noise=0.01,
                    clamp=(-1.0, 1.0), seed=3)
    return ebm_swift.Trainer(energy, **{**settings, **kw})


def mlp_trainer(**kw):
    return ebm_swift.Trainer(ebm_swift.MLPEnergy(64, (32, 32), seed=1), **{"lr": 1e-3, "seed": 4, **kw})


def jem_trainer():
    net = nn.Sequential(nn.Linear(64, 32), nn.SiLU(), nn.Linear(32, 4))
    energy = ebm_swift.NetworkEnergy(net, 64, n_classes=4, seed=2)
    return ebm_swift.Trainer(energy, objective=objectives.JEM(n_steps=5, buffer_size=1000, class_conditional=True),
                             step_size=0.01, seed=5)


def flat(x):
    return x.reshape(len(x), -1)


CASES = {
    "ml-langevin": (cnn_trainer, lambda X: X),
    "ml-hmc": (lambda: mlp_trainer(sampler=ebm_swift.samplers.HMC(step_size=0.05, n_leapfrog=3), n_steps=3), flat),
    "jem-class-conditional": (jem_trainer, flat),
    "dsm": (lambda: mlp_trainer(objective="dsm", sigma=0.3), flat),
    "nce": (lambda: mlp_trainer(objective="nce"), flat),
}


def labels_for(trainer, n=640):
    return np.arange(n) % 4 if trainer.objective == "jem" else None


def assert_same_run(a, b):
    for k in HISTORY:  # NaN e_model (objectives without negatives) compares equal here
        np.testing.assert_array_equal(a.history[k], b.history[k], err_msg=k)
    assert a.n_iter == b.n_iter and a.epochs_done == b.epochs_done
    for (k, v), w in zip(a.energy.state_dict().items(), b.energy.state_dict().values()):
        np.testing.assert_array_equal(v, w, err_msg=k)
    if a.objective_record.samples_negatives:
        np.testing.assert_array_equal(a.buffer, b.buffer)
    if a.ema_decay is not None:
        for v, w in zip(a.averaged_parameters().values(), b.averaged_parameters().values()):
            np.testing.assert_array_equal(v, w)
    if a.log_normaliser is not None:
        assert a.log_normaliser == b.log_normaliser


def run_both(make, prepare, client, epochs=10, batch_size=320):
    X = prepare(images())
    local, remote = make(), make()
    y = labels_for(local)
    local.fit(X, y, epochs=epochs, batch_size=batch_size, progress=False)
    history = distributed.fit(remote, X, y, client=client, epochs=epochs, batch_size=batch_size, progress=False)
    assert history is remote.history
    return local, remote


@pytest.mark.parametrize("case", list(CASES))
def test_twenty_steps_on_two_workers_equal_the_local_fit(client, case):
    local, remote = run_both(*CASES[case], client)
    assert local.n_iter == 20
    assert_same_run(local, remote)
    assert local.history["loss"][0] != local.history["loss"][-1]  # it trained


@pytest.mark.parametrize("n_workers", [1, 3])
def test_one_or_three_workers_give_the_same_bits(n_workers):
    cluster, client = cluster_client(n_workers)
    try:
        client.wait_for_workers(n_workers, timeout=HANG_SECONDS)
        assert_same_run(*run_both(cnn_trainer, lambda X: X, client))
    finally:
        client.close()
        cluster.close()


def test_a_batch_that_is_not_whole_blocks_trains_the_same(client):
    # 100-row batches: a block of 64 and one of 36; the last batch of each epoch has 40 rows.
    assert_same_run(*run_both(cnn_trainer, lambda X: X[:240], client, epochs=3, batch_size=100))


def test_a_worker_killed_mid_run_changes_nothing(client):
    X = images()
    local = cnn_trainer(n_steps=300)  # ~0.1 s per piece of negatives
    local.fit(X, epochs=5, batch_size=320, progress=False)
    remote = cnn_trainer(n_steps=300)
    pids = client.run(os.getpid)
    done = {}
    run = threading.Thread(target=lambda: done.update(history=distributed.fit(
        remote, X, client=client, epochs=5, batch_size=320, progress=False)))
    run.start()
    # Kill a worker while a piece of negatives is running on it (checked by state, not by time; the
    # history, not n_iter, which waits for the running step).
    while run.is_alive() and not (len(remote.history["loss"]) >= 1 and any(client.processing().values())):
        time.sleep(0.005)
    assert run.is_alive(), "the run ended before a worker could be killed mid-run"
    os.kill(next(iter(pids.values())), signal.SIGKILL)
    run.join(timeout=HANG_SECONDS)
    assert not run.is_alive(), "the run hung after a worker was killed"
    assert "history" in done
    assert_same_run(local, remote)
    client.wait_for_workers(2, timeout=HANG_SECONDS)
    assert set(client.run(os.getpid).values()) != set(pids.values())  # a worker really died


def test_a_run_saved_and_loaded_in_the_middle_continues_to_the_same_bits(client, tmp_path):
    X = images()
    local = cnn_trainer()
    local.fit(X, epochs=10, batch_size=320, progress=False)
    first = cnn_trainer()
    distributed.fit(first, X, client=client, epochs=5, batch_size=320, progress=False)
    ebm_swift.save(first, tmp_path / "half.npz")
    resumed = ebm_swift.load(tmp_path / "half.npz")
    distributed.fit(resumed, X, client=client, epochs=5, batch_size=320, progress=False)
    assert_same_run(local, resumed)


def test_a_diverging_step_fails_as_locally_and_changes_nothing(client):
    X = flat(images(128))
    local, remote = mlp_trainer(step_size=1e30, n_steps=2), mlp_trainer(step_size=1e30, n_steps=2)
    with pytest.raises(TrainingDivergedError) as here:
        local.fit(X, batch_size=64, progress=False)
    with pytest.raises(TrainingDivergedError) as there:
        distributed.fit(remote, X, client=client, batch_size=64, progress=False)
    assert (there.value.step, there.value.site, there.value.quantity) == (here.value.step, here.value.site,
                                                                          here.value.quantity)
    assert remote.n_iter == local.n_iter == 0
    np.testing.assert_array_equal(remote.buffer, local.buffer)


def test_workers_of_another_version_are_refused(client):
    def set_version(value):
        import ebm_swift

        old, ebm_swift.__version__ = ebm_swift.__version__, value
        return old

    client.run(set_version, "0.0.0-elsewhere")
    try:
        with pytest.raises(RuntimeError, match=rf"0\.0\.0-elsewhere.*|{ebm_swift.__version__}") as error:
            distributed.fit(cnn_trainer(), images(), client=client, batch_size=320, progress=False)
        assert "0.0.0-elsewhere" in str(error.value) and ebm_swift.__version__ in str(error.value)
    finally:
        client.run(set_version, ebm_swift.__version__)


def test_bad_arguments_are_refused(client):
    with pytest.raises(TypeError, match="trainer must be an ebm_swift.Trainer"):
        distributed.fit(ebm_swift.MLPEnergy(2, seed=0), np.zeros((4, 2)), client=client)
    with pytest.raises(ValueError, match="batch_size"):
        distributed.fit(cnn_trainer(), images(), client=client, batch_size=0, progress=False)
    cluster = dask_distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=None)
    closed = dask_distributed.Client(cluster)
    closed.close()
    cluster.close()
    trainer = cnn_trainer()
    with pytest.raises(ValueError, match="the Dask client is closed"):
        distributed.fit(trainer, images(), client=closed, progress=False)
    assert trainer.n_iter == 0


def test_ray_trains_to_the_same_bits(ray_client):
    X = images()
    local, remote = cnn_trainer(), cnn_trainer()
    local.fit(X, epochs=3, batch_size=320, progress=False)
    distributed.fit(remote, X, client=ray_client, epochs=3, batch_size=320, progress=False)
    assert_same_run(local, remote)
