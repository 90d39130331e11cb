"""The GIL is released around native calls; concurrent sampling with one model is correct; the worker
pool survives fork."""

import multiprocessing
import os
import subprocess
import sys
import threading
import time

import numpy as np
from hangs import HANG_SECONDS

import ebm_swift


def test_two_threads_sample_one_model_correctly():
    model = ebm_swift.MLPEnergy(2, (64, 64), seed=0)
    x0 = np.random.default_rng(0).uniform(-2, 2, size=(512, 2))
    seeds = [11, 22, 11, 22]
    expected = {s: ebm_swift.langevin(model, x0, 200, 0.01, seed=s) for s in set(seeds)}
    results = [None] * len(seeds)

    def work(i):
        results[i] = ebm_swift.langevin(model, x0, 200, 0.01, seed=seeds[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(seeds))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s, r in zip(seeds, results):
        np.testing.assert_array_equal(r, expected[s])


def test_gil_is_released_during_sampling():
    """While a native call runs in a worker thread, the main thread keeps executing Python.

    No clock is read: the main thread counts Python iterations (each yielding the GIL) until the
    worker's call has returned. With the GIL released it reaches `TICKS` iterations while the call
    is still running; with the GIL held it could run none until the call returned, and the
    worker's `done.set()` follows that return within the next yield, long before `TICKS`. The
    workload doubles until one call outlasts `TICKS` iterations — on any machine, loaded or not,
    if the GIL is released; never if it is held (the test then fails at the largest workload)."""
    model = ebm_swift.MLPEnergy(2, (128, 128), seed=0)
    x0 = np.zeros((4096, 2))
    TICKS = 2000

    def ticks_during(n_steps):
        """Python iterations of this thread while a worker runs `n_steps` of sampling, up to TICKS."""
        started, done = threading.Event(), threading.Event()

        def work():
            started.set()
            ebm_swift.langevin(model, x0, n_steps, 0.01, seed=0)
            done.set()

        worker = threading.Thread(target=work)
        worker.start()
        started.wait()
        ticks = 0
        while not done.is_set() and ticks < TICKS:
            ticks += 1
            time.sleep(0)  # yields the GIL: a worker that holds it could not be overtaken
        reached = ticks >= TICKS and not done.is_set()
        worker.join()
        return reached

    n_steps = 150
    while not ticks_during(n_steps):
        n_steps *= 2
        assert n_steps <= 150 * 2**8, "the main thread never ran while the sampler did: is the GIL held?"


def test_training_and_sampling_concurrently_stay_consistent():
    """Sampling while another thread trains the same model: no crash, finite results, the
    trainer's steps all land, and they are bit for bit those of the same training run alone."""
    model = ebm_swift.MLPEnergy(2, (32, 32), seed=0)
    trainer = ebm_swift.Trainer(model, n_steps=5, buffer_size=256, init_range=(-3, 3), seed=0)
    data = ebm_swift.datasets.make_toy("8gaussians", 256, seed=0)
    out = []

    def sample():
        for k in range(20):
            out.append(ebm_swift.langevin(model, data[:64], 10, 0.01, seed=k))

    t = threading.Thread(target=sample)
    t.start()
    for _ in range(30):
        trainer.step(data[:128])
    t.join()
    assert trainer.n_iter == 30
    assert len(out) == 20 and all(np.isfinite(o).all() for o in out)
    # Sampling never changes the model: the training equals the same training run alone.
    alone = ebm_swift.Trainer(ebm_swift.MLPEnergy(2, (32, 32), seed=0), n_steps=5, buffer_size=256, init_range=(-3, 3),
                              seed=0)
    for _ in range(30):
        alone.step(data[:128])
    for name, value in alone.energy.parameters().items():
        np.testing.assert_array_equal(model.parameters()[name], value)
    np.testing.assert_array_equal(trainer.buffer, alone.buffer)


def test_a_forked_child_samples_with_its_own_worker_pool():
    """The worker pool's parked threads do not survive fork: a child forked after the parent's pool
    started must start its own rather than wait for threads that do not exist there (two threads
    forced, so that every pass is parallel)."""
    code = (
        "import multiprocessing as mp, numpy as np, ebm_swift\n"
        "e = ebm_swift.MLPEnergy(2, (64, 64), seed=0); x = np.zeros((512, 2))\n"
        "a = ebm_swift.langevin(e, x, 50, 0.01, seed=1)\n"
        "def child(q): q.put(ebm_swift.langevin(e, x, 50, 0.01, seed=1))\n"
        "if __name__ == '__main__':\n"
        "    ctx = mp.get_context('fork'); q = ctx.Queue(); p = ctx.Process(target=child, args=(q,)); p.start()\n"
        "    b = q.get(); p.join(); print(np.array_equal(a, b))\n"
    )
    assert "fork" in multiprocessing.get_all_start_methods()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=HANG_SECONDS,
                         env=dict(os.environ, EBM_SWIFT_NUM_THREADS="2"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"
