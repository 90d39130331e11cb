"""The one shape of a registry of records by kind (sampler kernels, training objectives)."""


def registrar(registry: dict, what: str):
    """A class decorator that adds a record class to ``registry`` under its ``kind``.

    Parameters
    ----------
    registry : dict
        Kind → class, filled in place.
    what : str
        What the records are, for the error on a kind registered twice (``"a sampler"``).
    """

    def register(cls):
        if cls.kind in registry:
            raise ValueError(f"{what} {cls.kind!r} is registered already")
        registry[cls.kind] = cls
        return cls

    return register
