"""The benchmark suites `run.py` knows, by name. Each module has `run(child, args) -> results`
(in the driver: launches one process per peer with `child(peer, **params)`, prints its table) and
`measure(peer, **params) -> dict` (in that process: builds the peer and times it)."""

SUITES = ("mlp", "cnn", "hmc", "nuts", "score", "distributed", "distributed_training")
