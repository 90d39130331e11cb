"""The cluster backends of :mod:`ebm_swift.distributed`: Dask and Ray behind the few operations it needs."""

from __future__ import annotations

import inspect


# ---- backends: the operations the distributed functions need --------------------------------


class _Dask:
    def __init__(self, client):
        self.client = client

    def broadcast(self, value, attempts=3):
        """``value`` shipped once to every worker (a future tasks take as an argument). A worker
        that dies while receiving it fails the scatter (a connection error): scatter again, to the
        workers alive then. Once scattered, the copies on the other workers survive a lost one."""
        for attempt in range(attempts):
            try:
                return self.client.scatter(value, broadcast=True, hash=False)
            except OSError:  # distributed's CommClosedError and other connection failures
                if attempt == attempts - 1:
                    raise

    def submit(self, fn, *args):
        return self.client.submit(fn, *args, pure=False)

    def completed(self, futures):
        """``(index, result)`` pairs as tasks finish; each future is released once read, so at
        most the unread chunks' results are held. A task's exception is re-raised unchanged."""
        from dask.distributed import as_completed

        index = {f.key: i for i, f in enumerate(futures)}
        for future, result in as_completed(futures, with_results=True):
            yield index[future.key], result
            future.release()

    def progress(self, futures):
        from dask.distributed import progress

        progress(futures)

    def n_workers(self):
        return max(1, len(self.client.scheduler_info()["workers"]))

    def worker_versions(self):
        """``{worker: ebm_swift.__version__}`` of every worker now."""
        return self.client.run(_library_version)


class _Ray:
    def __init__(self, ray):
        self.ray = ray
        self.remote = {}

    def broadcast(self, value):
        return self.ray.put(value)

    def submit(self, fn, *args):
        if fn not in self.remote:
            self.remote[fn] = self.ray.remote(fn)
        return self.remote[fn].remote(*args)

    def completed(self, futures):
        index = {ref: i for i, ref in enumerate(futures)}
        pending = list(futures)
        while pending:
            done, pending = self.ray.wait(pending, num_returns=1)
            yield index[done[0]], self.ray.get(done[0])

    def progress(self, futures):
        pass  # Ray reports progress in its own dashboard

    def n_workers(self):
        return max(1, int(self.ray.cluster_resources().get("CPU", 1)))

    def worker_versions(self):
        return {}  # Ray has no "run on every worker": each task checks the version it runs with


def _backend(client):
    if client is None:
        try:
            from dask.distributed import get_client
        except ImportError:
            raise ImportError("ebm_swift.distributed needs dask.distributed (pip install 'ebm_swift[dask]') "
                              "or a Ray handle (client=ray)") from None
        try:
            client = get_client()
        except ValueError:
            raise ValueError("no Dask client: pass client=Client(...) (or client=ray after ray.init())") from None
    if inspect.ismodule(client) and client.__name__ == "ray":
        if not client.is_initialized():
            raise ValueError("client=ray needs ray.init() first")
        return _Ray(client)
    try:
        from dask.distributed import Client
    except ImportError:
        Client = ()
    if Client and isinstance(client, Client):
        if client.status in ("closing", "closed"):
            raise ValueError(f"the Dask client is {client.status}: pass an open Client (or reconnect it)")
        return _Dask(client)
    raise TypeError(f"client must be a dask.distributed.Client, the ray module or None; got {type(client).__name__}")



def _library_version():
    from .. import __version__

    return __version__
