"""Input checks shared by every module of ``hdreg``, in the style of scikit-learn's parameter
validation: a failed check raises ``ValueError`` (``TypeError`` for a value of the wrong kind) whose
message names the argument, states the constraint and shows the value received, e.g.::

    n must be a positive integer, got nan (float)
    noise_var must be a finite scalar >= 0, got array of shape (2,)

Every check handles ``None``, NaN, ±inf, strings, bools and arrays passed where a scalar is expected,
and works on host (NumPy) and device (CuPy) arrays alike; what is returned lives on the namespace
stated by each function (host scalars and small host arrays for sizes and hyperparameters, the
input's own namespace for spectra and matrices). The older names (``positive_int``, ``nonneg``,
``penalties``, ``spectrum``, ``vector_like``, ``psd_matrix``) keep their signatures.
"""

from __future__ import annotations

import numbers
import operator

import numpy as np

from .backend import namespace_of, to_numpy

__all__ = [
    "InvalidParameterError", "describe", "scalar", "integer", "positive_int", "nonneg_int", "nonneg", "nonneg_scalar",
    "positive_scalar", "in_interval", "choice", "choices", "seed", "step_list", "penalties", "spectrum",
    "vector_like", "psd_matrix", "finite_array", "broadcast", "require_memory",
]


class InvalidParameterError(ValueError, TypeError):
    """A bad argument: a ``ValueError`` and, for values of the wrong kind, a ``TypeError`` too (as in
    scikit-learn), so that either ``except`` clause catches it."""


def describe(value) -> str:
    """A short, safe description of ``value`` for an error message (never prints a big array)."""
    if value is None:
        return "None"
    if isinstance(value, (bool, np.bool_)):
        return f"{value!r} (bool)"
    if isinstance(value, str):
        return repr(value) + " (str)"
    if isinstance(value, numbers.Number):
        return f"{value!r} ({type(value).__name__})"
    shape = getattr(value, "shape", None)
    if shape is not None:
        if len(shape) == 0:
            return f"{to_numpy(value).item()!r} (0-d array)"
        return f"array of shape {tuple(shape)}"
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__} of length {len(value)}"
    return f"an object of type {type(value).__name__}"


def _host(value, name, what):
    """``value`` as a host float64 array; ``TypeError`` naming ``name`` for non-numeric input."""
    if value is None:
        raise InvalidParameterError(f"{name} must be {what}, got None")
    if isinstance(value, str):
        raise InvalidParameterError(f"{name} must be {what}, got {describe(value)}")
    try:
        host = np.asarray(to_numpy(value))
    except Exception as exc:  # ragged lists, objects...
        raise InvalidParameterError(f"{name} must be {what}, got {describe(value)}") from exc
    if host.dtype == bool or host.dtype.kind not in "iuf":
        raise InvalidParameterError(f"{name} must be {what}, got {describe(value)}")
    return host.astype(np.float64, copy=False)


def scalar(value, name: str, *, low=None, high=None, low_open: bool = False,
           high_open: bool = False, allow_inf: bool = False) -> float:
    """A real scalar (Python, NumPy or 0-d/1-element array; bools and strings refused) in the
    interval given by ``low``/``high`` (closed unless ``low_open``/``high_open``); a host float."""
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    interval = f"{'(' if low_open or low is None else '['}{lo}, {hi}{')' if high_open or high is None else ']'}"
    what = f"a {'' if allow_inf else 'finite '}real scalar in {interval}"
    if isinstance(value, (bool, np.bool_)):
        raise InvalidParameterError(f"{name} must be {what}, got {describe(value)}")
    host = _host(value, name, what)
    if host.size != 1 or host.ndim > 1:
        raise InvalidParameterError(f"{name} must be {what}, got {describe(value)}")
    v = float(host.reshape(()))
    bad = np.isnan(v) or (not allow_inf and np.isinf(v))
    if low is not None:
        bad = bad or (v <= low if low_open else v < low)
    if high is not None:
        bad = bad or (v >= high if high_open else v > high)
    if bad:
        raise InvalidParameterError(f"{name} must be {what}, got {describe(value)}")
    return v


def nonneg_scalar(value, name: str, allow_zero: bool = True) -> float:
    """A finite real scalar ``>= 0`` (``> 0`` with ``allow_zero=False``), as a host float."""
    return scalar(value, name, low=0.0, low_open=not allow_zero)


def positive_scalar(value, name: str) -> float:
    """A finite real scalar ``> 0``, as a host float."""
    return scalar(value, name, low=0.0, low_open=True)


def in_interval(value, name: str, low, high, low_open=False, high_open=False) -> float:
    """A finite real scalar in the interval ``[low, high]`` (ends open as requested)."""
    return scalar(value, name, low=low, high=high, low_open=low_open, high_open=high_open)


def integer(value, name: str, minimum: int = 1) -> int:
    """An integer ``>= minimum`` (an integral float such as ``10.0`` is accepted; bools, NaN, inf,
    ``None``, strings and fractional values are not); a Python ``int``."""
    what = {1: "a positive integer", 0: "a non-negative integer"}.get(minimum, f"an integer >= {minimum}")
    if isinstance(value, (bool, np.bool_)):
        raise InvalidParameterError(f"{name} must be {what}, got {describe(value)}")
    if isinstance(value, (numbers.Integral, np.integer)):
        v = operator.index(value)
    else:
        host = _host(value, name, what)
        if host.size != 1 or host.ndim > 1:
            raise InvalidParameterError(f"{name} must be {what}, got {describe(value)}")
        f = float(host.reshape(()))
        if not np.isfinite(f) or f != np.floor(f):
            raise InvalidParameterError(f"{name} must be {what}, got {describe(value)}")
        v = int(f)
    if v < minimum:
        raise InvalidParameterError(f"{name} must be {what}, got {describe(value)}")
    return v


def positive_int(value, name: str) -> int:
    """A positive integer (see :func:`integer`)."""
    return integer(value, name, 1)


def nonneg_int(value, name: str) -> int:
    """A non-negative integer (see :func:`integer`)."""
    return integer(value, name, 0)


def step_list(values, name: str, last: int) -> np.ndarray:
    """A non-empty set of steps in ``[0, last]`` (non-negative integers), sorted and deduplicated, as
    an integer NumPy array (e.g. the steps at which a training run records its state)."""
    steps = np.asarray(sorted({nonneg_int(s, name) for s in values}), dtype=np.int64)
    if steps.size == 0 or steps[-1] > last:
        raise InvalidParameterError(
            f"{name} must be a non-empty list of steps in [0, {last}], got {steps}")
    return steps


def seed(value, name: str = "seed") -> int:
    """A non-negative integer seed."""
    return integer(value, name, 0)


def choice(value, name: str, options):
    """One of ``options`` (compared with ``==``; strings are not case-folded)."""
    options = tuple(options)
    if isinstance(value, str) and value in options:
        return value
    if not isinstance(value, str) and any(value is o for o in options):
        return value
    raise InvalidParameterError(f"{name} must be one of {options}, got {describe(value) if not isinstance(value, str) else repr(value)}")


def choices(values, name: str, options) -> list:
    """A non-empty list of distinct members of ``options`` (a single string is a list of one)."""
    if isinstance(values, str):
        values = [values]
    try:
        values = list(values)
    except TypeError:
        raise InvalidParameterError(f"{name} must be a list of names from {tuple(options)}, "
                        f"got {describe(values)}") from None
    if not values:
        raise InvalidParameterError(f"{name} must name at least one of {tuple(options)}, got an empty list")
    bad = [v for v in values if not isinstance(v, str) or v not in options]
    if bad:
        raise InvalidParameterError(f"{name} must be names from {tuple(options)}, got unknown {bad!r}")
    if len(set(values)) != len(values):
        raise InvalidParameterError(f"{name} must not repeat a name, got {values!r}")
    return values


def finite_array(values, name: str, *, ndim=None, shape=None, low=None, allow_empty=False):
    """A finite host float64 array (optionally of a given ``ndim``/``shape``, entries ``>= low``)."""
    what = "a finite real array" if low is None else f"a finite real array with entries >= {low:g}"
    host = _host(values, name, what)
    if ndim is not None and host.ndim != ndim:
        raise InvalidParameterError(f"{name} must be a {ndim}-D array, got {describe(values)}")
    if shape is not None and host.shape != tuple(shape):
        raise InvalidParameterError(f"{name} must have shape {tuple(shape)}, got {describe(values)}")
    if not allow_empty and host.size == 0:
        raise InvalidParameterError(f"{name} must not be empty, got {describe(values)}")
    if not np.all(np.isfinite(host)):
        raise InvalidParameterError(f"{name} must be finite, got {_bad_entry(host)}")
    if low is not None and np.any(host < low):
        raise InvalidParameterError(f"{name} must be >= {low:g}, got {host.min():.6g}")
    return host


def _bad_entry(host):
    bad = host[~np.isfinite(host)]
    return f"{bad.size} non-finite entr{'y' if bad.size == 1 else 'ies'} (e.g. {bad.flat[0]!r})"


def nonneg(values, name: str, xp=np, allow_zero: bool = True):
    """A finite array (or scalar) of values ``>= 0`` (``> 0`` with ``allow_zero=False``) on ``xp``."""
    what = f"finite and {'>= 0' if allow_zero else '> 0'}"
    if isinstance(values, (bool, np.bool_)):
        raise InvalidParameterError(f"{name} must be {what}, got {describe(values)}")
    host = _host(values, name, f"a real number or array, {what}")
    if host.size == 0:
        raise InvalidParameterError(f"{name} must not be empty, got {describe(values)}")
    if not np.all(np.isfinite(host)):
        raise InvalidParameterError(f"{name} must be {what}, got {_bad_entry(host)}")
    if allow_zero and np.any(host < 0):
        raise InvalidParameterError(f"{name} must be {what}, got {host.min():.6g}")
    if not allow_zero and np.any(host <= 0):
        raise InvalidParameterError(f"{name} must be {what}, got {host.min():.6g}")
    return host if xp is np else xp.asarray(host)


def penalties(values, name: str = "lams") -> np.ndarray:
    """A non-empty host 1-D array of finite ridge penalties >= 0 (a scalar becomes a length-1 path)."""
    lams = np.atleast_1d(nonneg(values, name))
    if lams.ndim != 1:
        raise InvalidParameterError(f"{name} must be a scalar or a 1-D array, got {describe(values)}")
    return lams


def broadcast(name_values: dict):
    """Host float arrays broadcast together; a mismatch names every argument and its shape."""
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in name_values.items()}
    try:
        out = np.broadcast_arrays(*arrays.values())
    except ValueError:
        shapes = ", ".join(f"{k} {a.shape}" for k, a in arrays.items())
        raise InvalidParameterError(f"{' and '.join(arrays)} must broadcast to a common shape, got {shapes}") from None
    return tuple(np.array(a) for a in out)


def spectrum(values, name: str = "spectrum", xp=None):
    """A 1-D array of finite, non-negative eigenvalues with at least one positive entry, on the
    namespace of ``values`` (or ``xp``)."""
    if values is None or isinstance(values, (str, bool, np.bool_)):
        raise InvalidParameterError(f"{name} must be a 1-D array of eigenvalues, got {describe(values)}")
    xp = xp or namespace_of(values)
    try:
        s = xp.asarray(values, dtype=xp.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"{name} must be a 1-D array of eigenvalues, got {describe(values)}") from exc
    if s.ndim != 1 or s.size == 0:
        raise InvalidParameterError(f"{name} must be a non-empty 1-D array of eigenvalues, got shape {tuple(s.shape)}")
    host = to_numpy(s)
    if not np.all(np.isfinite(host)):
        raise InvalidParameterError(f"{name} must be finite, got {_bad_entry(host)}")
    if np.any(host < 0):
        raise InvalidParameterError(f"{name} must be non-negative (a covariance is positive semi-definite); "
                         f"smallest entry is {host.min():.3g}")
    if not np.any(host > 0):
        raise InvalidParameterError(f"{name} must have at least one positive eigenvalue")
    return s


def vector_like(values, ref, name: str, ref_name: str = "spectrum", xp=None):
    """A finite 1-D array with the same length as ``ref``, on the namespace of ``values``/``ref``."""
    if values is None or isinstance(values, (str, bool, np.bool_)):
        raise InvalidParameterError(f"{name} must be a vector like {ref_name}, got {describe(values)}")
    xp = xp or namespace_of(values, ref)
    try:
        v = xp.asarray(values, dtype=xp.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"{name} must be a vector like {ref_name}, got {describe(values)}") from exc
    if v.shape != ref.shape:
        raise InvalidParameterError(f"{name} must have the same shape as {ref_name} {tuple(ref.shape)}, "
                         f"got {tuple(v.shape)}")
    host = to_numpy(v)
    if not np.all(np.isfinite(host)):
        raise InvalidParameterError(f"{name} must be finite, got {_bad_entry(host)}")
    return v


def psd_matrix(values, name: str, xp=None, tol: float = 1e-10):
    """A symmetric positive semi-definite square matrix, as a host NumPy array (or on ``xp`` if
    given). Device input is copied to the host explicitly (these matrices are small)."""
    if values is None or isinstance(values, (str, bool, np.bool_)):
        raise InvalidParameterError(f"{name} must be a square matrix, got {describe(values)}")
    xp = xp or np
    host = _host(values, name, "a square matrix")
    if host.ndim != 2 or host.shape[0] != host.shape[1] or host.size == 0:
        raise InvalidParameterError(f"{name} must be a square matrix, got shape {tuple(host.shape)}")
    if not np.all(np.isfinite(host)):
        raise InvalidParameterError(f"{name} must be finite, got {_bad_entry(host)}")
    scale = max(np.abs(host).max(), 1.0)
    if not np.allclose(host, host.T, atol=tol * scale):
        raise InvalidParameterError(f"{name} must be symmetric")
    ev = np.linalg.eigvalsh(host)
    if ev.min() < -tol * scale:
        raise InvalidParameterError(f"{name} must be positive semi-definite; smallest eigenvalue {ev.min():.3g}")
    return host if xp is np else xp.asarray(host)


def require_memory(nbytes: float, what: str, budget: int | None = None) -> None:
    """Fail fast (``MemoryError``) when one unit of work needs more than the memory budget
    (:func:`hdreg.batch.memory_budget`), saying how much it would need."""
    from .batch import memory_budget  # noqa: PLC0415  (batch imports this module)

    budget = memory_budget() if budget is None else budget
    if not np.isfinite(nbytes) or nbytes > budget:
        raise MemoryError(
            f"{what} needs about {nbytes / 2**30:.3g} GiB but the memory budget is "
            f"{budget / 2**30:.3g} GiB; reduce the sizes or raise HDREG_MEM_BUDGET_GB.")
