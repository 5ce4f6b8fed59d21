"""Input checks shared by the theory and simulation modules. Errors name the argument and the range."""

from __future__ import annotations

import numpy as np

from .backend import namespace_of, to_numpy


def spectrum(values, name: str = "spectrum", xp=None):
    """A 1-D array of finite, non-negative eigenvalues with at least one positive entry."""
    xp = xp or namespace_of(values)
    s = xp.asarray(values, dtype=xp.float64)
    if s.ndim != 1 or s.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of eigenvalues, got shape {tuple(s.shape)}")
    host = to_numpy(s)
    if not np.all(np.isfinite(host)):
        raise ValueError(f"{name} must be finite")
    if np.any(host < 0):
        raise ValueError(f"{name} must be non-negative (a covariance is positive semi-definite); "
                         f"smallest entry is {host.min():.3g}")
    if not np.any(host > 0):
        raise ValueError(f"{name} must have at least one positive eigenvalue")
    return s


def vector_like(values, ref, name: str, ref_name: str = "spectrum", xp=None):
    """A finite 1-D array with the same length as ``ref``."""
    xp = xp or namespace_of(values, ref)
    v = xp.asarray(values, dtype=xp.float64)
    if v.shape != ref.shape:
        raise ValueError(f"{name} must have the same shape as {ref_name} {tuple(ref.shape)}, "
                         f"got {tuple(v.shape)}")
    if not np.all(np.isfinite(to_numpy(v))):
        raise ValueError(f"{name} must be finite")
    return v


def nonneg(values, name: str, xp=np, allow_zero: bool = True):
    """A finite array of values >= 0 (or > 0 with ``allow_zero=False``)."""
    host = np.asarray(to_numpy(values), dtype=np.float64)
    if not np.all(np.isfinite(host)):
        raise ValueError(f"{name} must be finite, got {values!r}")
    if allow_zero and np.any(host < 0):
        raise ValueError(f"{name} must be >= 0, got {host.min():.6g}")
    if not allow_zero and np.any(host <= 0):
        raise ValueError(f"{name} must be > 0, got {host.min():.6g}")
    return xp.asarray(host)


def psd_matrix(values, name: str, xp=np, tol: float = 1e-10):
    """A symmetric positive semi-definite square matrix."""
    m = xp.asarray(values, dtype=xp.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"{name} must be a square matrix, got shape {tuple(m.shape)}")
    host = to_numpy(m)
    if not np.all(np.isfinite(host)):
        raise ValueError(f"{name} must be finite")
    scale = max(np.abs(host).max(), 1.0)
    if not np.allclose(host, host.T, atol=tol * scale):
        raise ValueError(f"{name} must be symmetric")
    ev = np.linalg.eigvalsh(host)
    if ev.min() < -tol * scale:
        raise ValueError(f"{name} must be positive semi-definite; smallest eigenvalue {ev.min():.3g}")
    return m


def positive_int(value, name: str) -> int:
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def penalties(values, name: str = "lams") -> np.ndarray:
    """A host 1-D array of finite ridge penalties >= 0 (a scalar becomes a length-1 path)."""
    lams = np.atleast_1d(np.asarray(to_numpy(values), dtype=np.float64))
    if lams.ndim != 1:
        raise ValueError(f"{name} must be a scalar or a 1-D array, got shape {lams.shape}")
    nonneg(lams, name)
    return lams
