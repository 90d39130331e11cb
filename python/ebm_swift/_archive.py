"""An ``.npz`` archive read member by member, each checked before it is decompressed.

``np.load`` of an ``.npz`` decompresses whatever member is asked for, however large its header
says it is; a small file can claim gigabytes. Here a member is read only when a reader asks for
it, and only after its header (shape, dtype) and its size in the zip directory have been checked:
numeric dtypes only (no strings, objects, complex, booleans or dates where numbers are due), at
most ``MAX_ELEMENTS`` values, exactly as many bytes as the header says, and no compressed
member that expands more than a hundredfold beyond 16 MB (a decompression bomb). A reader that knows
what the architecture implies checks ``shape_of`` before it reads.
"""

import zipfile
from collections.abc import Mapping

import numpy as np

# The core's bound on any one array (the C ABI and the BLAS take 32-bit counts).
MAX_ELEMENTS = 2**31 - 1
# A compressed member may expand at most this much (and always to this many bytes): files
# written by `save` are not compressed, and float state compresses little; runs of zeros
# compress a thousandfold, which is how a small file claims gigabytes.
_BOMB_RATIO = 100
_BOMB_BYTES = 16 << 20
# Header members are short strings and one integer.
_HEADER_BYTES = 1 << 20


class Archive(Mapping):
    """The members of an open ``zipfile.ZipFile`` under ``prefix``, by name without ``.npy``."""

    def __init__(self, zf, path, prefix=""):
        self._zf, self._path, self._prefix = zf, path, prefix
        self._infos = {i.filename[:-4]: i for i in zf.infolist() if i.filename.endswith(".npy")}

    def view(self, prefix):
        """The members whose names start with ``prefix``, without it."""
        return Archive(self._zf, self._path, self._prefix + prefix)

    def __iter__(self):
        n = len(self._prefix)
        return (k[n:] for k in self._infos if k.startswith(self._prefix))

    def __len__(self):
        return sum(1 for _ in self)

    def __contains__(self, key):
        return isinstance(key, str) and self._prefix + key in self._infos

    def _header(self, key):
        info = self._infos[self._prefix + key]  # KeyError: a missing member
        try:
            with self._zf.open(info) as f:
                version = np.lib.format.read_magic(f)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(f, max_header_size=10_000)
                elif version == (2, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(f, max_header_size=10_000)
                else:
                    raise ValueError(f"unsupported .npy version {version}")
                offset = f.tell()
        except Exception as exc:  # numpy's header parser raises what its tokenizer meets on damage
            raise ValueError(f"member {key!r} has a damaged header ({type(exc).__name__}: {exc})") from None
        count = int(np.prod(shape, dtype=object))
        if dtype.hasobject:
            raise ValueError(f"member {key!r} holds Python objects")
        if count > MAX_ELEMENTS:
            raise ValueError(f"member {key!r} claims shape {shape}: more than 2^31 - 1 values")
        if info.compress_type != zipfile.ZIP_STORED and info.file_size > max(_BOMB_BYTES, _BOMB_RATIO * info.compress_size):
            raise ValueError(f"member {key!r} would expand from {info.compress_size} to {info.file_size} bytes: "
                             f"ebm_swift.save stores members uncompressed, and arrays of model state do not "
                             f"compress {_BOMB_RATIO}-fold")
        if info.file_size != offset + count * dtype.itemsize:
            raise ValueError(f"member {key!r} claims shape {shape} of {dtype} ({count * dtype.itemsize} bytes) "
                             f"but its entry holds {info.file_size - offset}")
        return shape, dtype

    def shape_of(self, key):
        """The member's shape, from its header alone."""
        return self._header(key)[0]

    def __getitem__(self, key):
        shape, dtype = self._header(key)
        if key.startswith("__"):
            if dtype.kind not in "Uiu" or dtype.itemsize * max(1, int(np.prod(shape))) > _HEADER_BYTES:
                raise ValueError(f"header member {key!r} must be a short string or an integer; got {dtype}")
        elif dtype.kind not in "fiu":
            raise ValueError(f"the file's {key!r} must hold real numbers; got dtype {dtype}")
        try:
            with self._zf.open(self._infos[self._prefix + key]) as f:
                return np.lib.format.read_array(f, allow_pickle=False)
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:  # a bad CRC, …
            raise ValueError(f"member {key!r} is damaged ({type(exc).__name__}: {exc})") from None


def open_archive(path):
    """``(ZipFile, Archive)`` of the ``.npz`` at ``path``; close the ZipFile when done."""
    zf = zipfile.ZipFile(path)
    return zf, Archive(zf, path)


def stored_shape(arrays, key):
    """The shape of ``arrays[key]`` — from the header alone when ``arrays`` is an `Archive`."""
    return tuple(arrays.shape_of(key)) if isinstance(arrays, Archive) else np.shape(arrays[key])
