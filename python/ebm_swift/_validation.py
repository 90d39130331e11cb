"""Argument checking shared by the public API. Everything a user can get wrong is caught here,
before any call crosses into native code, with a message naming the argument, what was expected
and what came."""

from __future__ import annotations

import math
import numbers
import operator

import numpy as np

__all__ = [
    "as_batch",
    "as_samples",
    "positive_int",
    "positive_float",
    "optional_positive_float",
    "non_negative_float",
    "probability",
    "interval",
    "resolve_seed",
]


def _describe(x) -> str:
    if isinstance(x, np.ndarray):
        return f"array of shape {x.shape} and dtype {x.dtype}"
    return f"{type(x).__name__}"


#: Array kinds of real numbers: floating, signed and unsigned integers (not bool, complex,
#: time, object or text).
_REAL_KINDS = "fiu"


def as_batch(x, dim: int, name: str = "x", *, copy: bool = False) -> np.ndarray:
    """Return ``x`` as a C-contiguous float32 ``(n, dim)`` array, checked.

    Accepts any real numeric array-like (float64, ints, non-contiguous views); copies only when
    needed unless ``copy`` is true. Never modifies ``x``.

    Raises
    ------
    TypeError
        If ``x`` is not numeric (strings, objects, complex, booleans).
    ValueError
        If ``x`` is not 2-D, has the wrong number of columns, no rows, or NaN/Inf values.
    """
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError(f"{name} must not be a masked array (its mask would be ignored); pass "
                        f"{name}.filled(value) or {name}.compressed() instead")
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be a numeric array of shape (n, {dim}); got {_describe(x)}") from exc
    if arr.dtype.kind not in _REAL_KINDS:
        raise TypeError(
            f"{name} must be a real numeric array (float or int) of shape (n, {dim}); got dtype {arr.dtype}"
        )
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D of shape (n, {dim}); got shape {arr.shape}")
    if arr.shape[1] != dim:
        raise ValueError(f"{name} must have {dim} columns (shape (n, {dim})); got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must have at least one row; got shape {arr.shape}")
    if arr.dtype == np.float32:
        out = np.array(arr, dtype=np.float32, order="C", copy=True) if copy else np.ascontiguousarray(arr)
    else:
        with np.errstate(over="ignore"):  # values beyond float32's range become inf, rejected below
            out = np.array(arr, dtype=np.float32, order="C", copy=True)
    if not np.isfinite(out).all():
        bad = int(np.size(out) - np.count_nonzero(np.isfinite(out)))
        raise ValueError(f"{name} must be finite; got {bad} NaN or infinite value(s) (after conversion to float32)")
    return out


def as_samples(x, sample_shape, name: str = "x", *, copy: bool = False):
    """A batch of samples of shape ``sample_shape`` as float32 ``(n, prod(sample_shape))``.

    Accepts ``(n, *sample_shape)`` and the flat ``(n, dim)``; checks as :func:`as_batch`.

    Returns
    -------
    flat : ndarray, shape (n, dim), float32
    batch_shape : tuple
        The shape the caller gave, so that results can be returned in it.
    """
    sample_shape = tuple(sample_shape)
    dim = math.prod(sample_shape)
    arr = x if isinstance(x, np.ndarray) and not isinstance(x, np.ma.MaskedArray) else None
    if arr is None and not isinstance(x, np.ma.MaskedArray):
        try:
            arr = np.asarray(x)
        except Exception:
            arr = None
    if len(sample_shape) > 1 and arr is not None and arr.ndim == 1 + len(sample_shape):
        if tuple(arr.shape[1:]) != sample_shape:
            raise ValueError(f"{name} must have shape (n, {', '.join(map(str, sample_shape))}) or (n, {dim}); "
                             f"got shape {arr.shape}")
        return as_batch(arr.reshape(arr.shape[0], dim), dim, name, copy=copy), tuple(arr.shape)
    flat = as_batch(x if arr is None else arr, dim, name, copy=copy)
    return flat, flat.shape


def positive_ints(value, name: str) -> tuple:
    """An int or a non-empty sequence of ints, each ≥ 1, as a tuple (``name[i]`` in errors)."""
    if isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool):
        value = (value,)
    try:
        items = tuple(value)
    except TypeError:
        raise TypeError(f"{name} must be a positive int or a sequence of positive ints; got {value!r}") from None
    if not items:
        raise ValueError(f"{name} must hold at least one positive int; got an empty sequence")
    return tuple(positive_int(v, f"{name}[{i}]") for i, v in enumerate(items))


#: The largest count the native core takes (sizes, batch rows, steps): its tensors and the BLAS
#: index with 32-bit integers.
MAX_COUNT = 2**31 - 1


def positive_int(value, name: str, maximum: int = MAX_COUNT) -> int:
    """``value`` as an int in ``[1, maximum]`` (bools and non-integers rejected)."""
    if type(value) is not int and (isinstance(value, bool) or not isinstance(value, numbers.Integral)):
        raise TypeError(f"{name} must be a positive integer; got {value!r} ({type(value).__name__})")
    value = operator.index(value)
    if value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value}")
    if value > maximum:
        limit = "2**31 - 1" if maximum == MAX_COUNT else str(maximum)
        raise ValueError(f"{name} must be at most {limit}; got {value}")
    return value


def count_within_limit(count: int, what: str) -> int:
    """``count`` (a product of sizes, in Python integers) if at most ``MAX_COUNT``, else ValueError
    naming ``what``: checked before anything is allocated."""
    if count > MAX_COUNT:
        raise ValueError(f"{what} = {count} values; at most 2**31 - 1 are supported")
    return count


def _real(value, name: str) -> float:
    if type(value) is float:  # the common case, without the slower abstract-class check below
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {value!r} ({type(value).__name__})")
    return float(value)


#: The positive floats the float32 core represents normally.
FLOAT32_POSITIVE_RANGE = (float(np.finfo(np.float32).tiny), float(np.finfo(np.float32).max))


def positive_float(value, name: str) -> float:
    """``value`` as a finite float > 0 within float32's normal range (the core computes in
    float32: a smaller value would become 0 or a denormal, a larger one infinity)."""
    v = _real(value, name)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be positive and finite; got {value!r}")
    low, high = FLOAT32_POSITIVE_RANGE
    if not low <= v <= high:
        raise ValueError(f"{name} must be within float32's range [{low:.3g}, {high:.3g}]; got {value!r}")
    return v


def optional_positive_float(value, name: str) -> float | None:
    """``None``, or ``value`` as a finite float > 0."""
    return None if value is None else positive_float(value, name)


def non_negative_float(value, name: str) -> float:
    """``value`` as a finite float ≥ 0."""
    v = _real(value, name)
    if not (math.isfinite(v) and v >= 0):
        raise ValueError(f"{name} must be non-negative and finite; got {value!r}")
    return v


def probability(value, name: str) -> float:
    """``value`` as a float in [0, 1]."""
    v = _real(value, name)
    if not (0.0 <= v <= 1.0):
        raise ValueError(f"{name} must be in [0, 1]; got {value!r}")
    return v


def interval(value, name: str) -> tuple[float, float]:
    """``value`` as a finite ``(low, high)`` pair with ``low < high``."""
    try:
        low, high = value
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a pair (low, high); got {value!r}") from None
    low, high = _real(low, f"{name}[0]"), _real(high, f"{name}[1]")
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"{name} must be finite with low < high; got ({low}, {high})")
    return low, high


def resolve_seed(seed) -> int:
    """A 64-bit seed from ``None`` (fresh OS entropy), an int in [0, 2**64), or a
    ``numpy.random.Generator`` (one draw from it)."""
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1, np.uint64)[0])
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**64, dtype=np.uint64))
    if type(seed) is not int and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise TypeError(f"seed must be None, an int or a numpy.random.Generator; got {type(seed).__name__}")
    seed = int(seed)
    if not 0 <= seed < 2**64:
        raise ValueError(f"seed must be in [0, 2**64); got {seed}")
    return seed


def flag(value, name: str) -> bool:
    """``value`` if it is a bool (or NumPy bool): ``"no"``, ``0`` or ``None`` are not flags."""
    if value is True or value is False:
        return value
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {value!r} ({type(value).__name__})")
    return bool(value)


def real_array(value, name: str) -> np.ndarray:
    """``value`` as a float64 array, refusing complex, boolean, time, object and non-numeric input."""
    if isinstance(value, np.ma.MaskedArray):
        raise TypeError(f"{name} must not be a masked array (its mask would be ignored)")
    arr = np.asarray(value)
    if arr.dtype.kind not in _REAL_KINDS:
        raise TypeError(f"{name} must be a real numeric array; got dtype {arr.dtype}")
    return np.array(arr, dtype=np.float64, copy=True)


#: The native core stores means and precision matrices in float32: beyond these bounds its
#: arithmetic overflows, underflows or loses every significant digit.
FLOAT32_MEAN_LIMIT = 1e18  # (x − μ)² must stay below float32's 3.4e38
FLOAT32_VARIANCE_RANGE = (1e-20, 1e20)  # so that Σ⁻¹'s entries are representable with room
FLOAT32_CONDITION_LIMIT = 1 / float(np.finfo(np.float32).eps)  # ≈ 8.4e6: Σ⁻¹ to one digit


def float32_gaussian(mean, cov, mean_name: str, cov_name: str) -> None:
    """Raises ``ValueError`` unless a symmetric positive definite ``cov`` (already checked) and its
    ``mean`` can be computed with in float32, naming what is out of range."""
    if np.abs(mean).max() > FLOAT32_MEAN_LIMIT:
        raise ValueError(f"{mean_name} must have entries of magnitude at most {FLOAT32_MEAN_LIMIT:g} (float32 "
                         f"arithmetic); got {np.abs(mean).max():g}")
    eigenvalues = np.linalg.eigvalsh(cov)
    low, high = FLOAT32_VARIANCE_RANGE
    if eigenvalues.min() < low or eigenvalues.max() > high:
        raise ValueError(f"{cov_name} must have eigenvalues (variances) in [{low:g}, {high:g}] for float32 "
                         f"arithmetic; got [{eigenvalues.min():g}, {eigenvalues.max():g}]")
    condition = eigenvalues.max() / eigenvalues.min()
    if condition > FLOAT32_CONDITION_LIMIT:
        raise ValueError(f"{cov_name} is too ill-conditioned for float32: condition number {condition:.3g} > "
                         f"{FLOAT32_CONDITION_LIMIT:.3g} (its inverse would have no correct digit)")
