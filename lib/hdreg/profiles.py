"""Scale profiles: ``ci`` (the whole book on 2 CPU cores in minutes) and ``full`` (paper size, for a GPU).

``HDREG_SCALE=ci|full`` picks the profile; unset, it is ``full`` when the active backend is CuPy and
``ci`` otherwise. A chapter states its sizes once, for both scales::

    S = profiles.choose(ci=dict(n=200, trials=40), full=dict(n=2000, trials=200))

and every claim in the chapter must hold at both.
"""

from __future__ import annotations

import os
import sys
import time
from types import SimpleNamespace

from .backend import get_backend

__all__ = ["scale", "choose", "progress", "SCALES"]

SCALES = ("ci", "full")


def scale() -> str:
    """The active scale, ``"ci"`` or ``"full"``."""
    value = os.environ.get("HDREG_SCALE", "").strip().lower()
    if not value:
        return "full" if get_backend().name == "cupy" else "ci"
    if value not in SCALES:
        raise ValueError(f"HDREG_SCALE must be one of {SCALES}, got {value!r}")
    return value


def choose(ci: dict, full: dict) -> SimpleNamespace:
    """The sizes of the active scale, as attributes (``S.n``, ``S.trials``, ...).

    Both dictionaries must have the same keys, so that a chapter cannot forget a size at one scale.
    """
    if set(ci) != set(full):
        raise ValueError(f"ci and full profiles must set the same keys; differ in {set(ci) ^ set(full)}")
    return SimpleNamespace(**(full if scale() == "full" else ci))


def _show_progress() -> bool:
    flag = os.environ.get("HDREG_PROGRESS", "").strip().lower()
    if flag in ("0", "false", "no", "off"):
        return False
    if flag in ("1", "true", "yes", "on"):
        return True
    return scale() == "full"


def progress(iterable, desc: str = "", total: int | None = None, every: float = 1.0):
    """Yield from ``iterable``, printing a one-line progress report to stderr at most every ``every`` s.

    Shown by default only at ``full`` scale; ``HDREG_PROGRESS=0`` silences it (the book build and the
    test suite set this, so built pages stay clean) and ``HDREG_PROGRESS=1`` forces it.
    """
    if not _show_progress():
        yield from iterable
        return
    if total is None:
        try:
            total = len(iterable)
        except TypeError:
            total = None
    start = last = time.perf_counter()
    i = 0
    for i, item in enumerate(iterable, 1):
        yield item
        now = time.perf_counter()
        if now - last >= every or (total is not None and i == total):
            last = now
            of = f"/{total}" if total else ""
            sys.stderr.write(f"\r{desc} {i}{of}  [{now - start:6.1f} s]")
            sys.stderr.flush()
    sys.stderr.write(f"\r{desc} {i} done in {time.perf_counter() - start:.1f} s\n")
    sys.stderr.flush()
