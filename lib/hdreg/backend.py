"""Array backend: CuPy on a working CUDA device, NumPy otherwise.

The choice is made once, lazily, from the environment variable ``HDREG_BACKEND``:

``auto`` (default)
    CuPy if it imports *and* a tiny computation on the device succeeds, else NumPy. On a machine
    without a GPU ``import cupy`` may well succeed while every device call raises; the probe catches
    that and falls back quietly (the reason is kept in :func:`backend_info`).
``numpy``
    NumPy, always.
``cupy``
    CuPy, or a :class:`BackendError` explaining why CuPy cannot be used. Never a silent fallback.

Library code asks for the namespace with :func:`xp` (or :func:`namespace_of` for an existing array),
draws random numbers with :func:`rng`, and converts with :func:`to_numpy` only at the plotting and
SciPy boundaries.
"""

from __future__ import annotations

import contextlib
import functools
import os
import platform
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "BackendError",
    "Backend",
    "get_backend",
    "set_backend",
    "xp",
    "namespace_of",
    "to_numpy",
    "asarray",
    "rng",
    "backend_info",
    "is_gpu",
    "single_threaded_blas",
    "on_active_backend",
    "as_host",
    "LARGE",
    "single_threaded",
]

_VALID = ("auto", "numpy", "cupy")


class BackendError(RuntimeError):
    """The requested array backend cannot be used on this machine."""


@dataclass(frozen=True)
class Backend:
    """The resolved backend: its name, array module and a human-readable device string."""

    name: str
    module: Any
    device: str
    note: str = ""
    versions: dict = field(default_factory=dict)


_current: Backend | None = None


def _probe_cupy() -> tuple[Any | None, str, str]:
    """Return ``(cupy_module or None, device description, reason if unusable)``.

    Every failure mode is caught: missing package, missing driver, zero devices, a device that
    raises on first use.
    """
    try:
        import cupy  # noqa: PLC0415
    except Exception as exc:  # ImportError, but also broken CUDA libraries raising OSError
        return None, "", f"cupy not importable ({type(exc).__name__}: {exc})"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
        if count < 1:
            return None, "", "cupy imported but no CUDA device is visible"
        value = float(cupy.asnumpy((cupy.arange(4, dtype=cupy.float64) ** 2).sum()))
        if value != 14.0:
            return None, "", f"cupy probe computed {value} instead of 14"
        props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
        name = props.get("name", b"CUDA device")
        name = name.decode() if isinstance(name, bytes) else str(name)
        mem = props.get("totalGlobalMem", 0) / 2**30
        return cupy, f"{name} ({mem:.0f} GiB)", ""
    except Exception as exc:  # CUDARuntimeError, CUDADriverError, RuntimeError, ...
        return None, "", f"cupy imported but the CUDA probe failed ({type(exc).__name__}: {exc})"


def _numpy_backend(note: str = "") -> Backend:
    return Backend("numpy", np, f"CPU ({platform.machine()}, {os.cpu_count()} cores)", note,
                   {"numpy": np.__version__})


def _resolve(choice: str) -> Backend:
    choice = choice.strip().lower()
    if choice not in _VALID:
        raise BackendError(f"HDREG_BACKEND must be one of {_VALID}, got {choice!r}")
    if choice == "numpy":
        return _numpy_backend("forced by HDREG_BACKEND=numpy")
    cupy, device, reason = _probe_cupy()
    if cupy is None:
        if choice == "cupy":
            raise BackendError(
                "HDREG_BACKEND=cupy was requested but CuPy cannot be used: "
                f"{reason}. Unset HDREG_BACKEND (or set it to 'auto' or 'numpy') to run on the CPU."
            )
        return _numpy_backend(f"auto: {reason}")
    return Backend("cupy", cupy, device, "auto: CUDA probe succeeded" if choice == "auto" else
                   "forced by HDREG_BACKEND=cupy",
                   {"numpy": np.__version__, "cupy": cupy.__version__})


def get_backend() -> Backend:
    """The active backend (resolved on first use from ``HDREG_BACKEND``)."""
    global _current
    if _current is None:
        _current = _resolve(os.environ.get("HDREG_BACKEND", "auto"))
    return _current


def set_backend(choice: str) -> Backend:
    """Switch backend at run time (``"auto"``, ``"numpy"`` or ``"cupy"``); returns the new one."""
    global _current
    _current = _resolve(choice)
    return _current


def is_gpu() -> bool:
    """True when the active backend is CuPy."""
    return get_backend().name == "cupy"


def xp():
    """The active array module (``numpy`` or ``cupy``)."""
    return get_backend().module


def namespace_of(*arrays):
    """The array module that owns ``arrays`` (CuPy if any of them is a CuPy array, else NumPy)."""
    for a in arrays:
        mod = type(a).__module__
        if mod.startswith("cupy"):
            import cupy  # noqa: PLC0415

            return cupy
    return np


def to_numpy(a):
    """Convert an array (or a scalar) from either backend to NumPy. Use at plotting/SciPy boundaries."""
    if type(a).__module__.startswith("cupy"):
        return a.get()
    return np.asarray(a)


#: theory problems with at least this many entries (e.g. spectra of 10^5-10^6 directions) run on the
#: active backend even when given NumPy input; smaller ones stay where they are
LARGE = 1 << 15


def on_active_backend(a, large: int = LARGE):
    """``(array, xp)``: ``a`` moved to the active backend when that is CuPy and ``a`` has at least
    ``large`` entries; otherwise ``a`` stays on its own namespace (device input stays on the device).

    Theory functions call this on their spectrum, compute there, and return host arrays."""
    xp = namespace_of(a)
    if xp is np and getattr(a, "size", 0) >= large and get_backend().name == "cupy":
        mod = get_backend().module
        return mod.asarray(a), mod
    return a, xp


def as_host(a, dtype=np.float64):
    """``a`` (host or device array, list, scalar) as a host NumPy array of ``dtype``: an explicit
    device-to-host copy for device input. ``None`` and strings are refused (NumPy would turn them
    into NaN or parse them)."""
    if a is None or isinstance(a, (str, bytes)):
        raise TypeError(f"expected a number or an array, got {a!r}")
    return np.asarray(to_numpy(a), dtype=dtype)


def asarray(a, dtype=None, small: bool = False):
    """Put ``a`` on the active backend. ``small=True`` keeps it on NumPy: tiny problems are not
    worth a device round trip."""
    if small or get_backend().name == "numpy":
        return np.asarray(to_numpy(a), dtype=dtype)
    return get_backend().module.asarray(a, dtype=dtype)


def rng(seed: int | None):
    """A seeded random generator for the active backend (``default_rng`` of NumPy or CuPy).

    Both expose ``standard_normal(size, dtype=...)``, ``random(size)`` and ``integers``. The same
    seed gives different streams on the two backends; results agree in distribution, not bit for bit.
    """
    if seed is not None and (not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    return get_backend().module.random.default_rng(seed)


def backend_info(show: bool = True) -> dict:
    """Backend, device, scale and versions; printed as one block at the top of every chapter."""
    from . import profiles  # noqa: PLC0415  (profiles imports backend)

    b = get_backend()
    info = {
        "backend": b.name,
        "device": b.device,
        "scale": profiles.scale(),
        "python": platform.python_version(),
        **b.versions,
    }
    if b.note:
        info["note"] = b.note
    if show:
        width = max(len(k) for k in info)
        print("\n".join(f"{k:<{width}} : {v}" for k, v in info.items()))
    return info


def single_threaded_blas(xp=None):
    """Context manager: on NumPy, BLAS/LAPACK single-threaded for its duration (via ``threadpoolctl``,
    which ships with scikit-learn; a no-op without it or on CuPy). For the many small matrix calls of
    the simulators threads buy little and, on a busy machine, spin-wait most of the time (measured on
    a shared 2-core machine: slowdowns of 20x, up to 100x for batched eigendecompositions)."""
    module = xp if xp is not None else get_backend().module
    if module is not np:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits  # noqa: PLC0415
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def single_threaded(fn):
    """Decorator: run ``fn`` under :func:`single_threaded_blas`."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with single_threaded_blas():
            return fn(*args, **kwargs)

    return wrapper
