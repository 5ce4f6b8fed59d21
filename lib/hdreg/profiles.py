"""Scale profiles: ``ci`` (the whole book on 2 CPU cores in minutes) and ``full`` (paper size, for a GPU).

``HDREG_SCALE=ci|full`` picks the profile; unset, it is ``full`` when the active backend is CuPy and
``ci`` otherwise. A chapter states its sizes once, for both scales::

    S = profiles.choose(ci=dict(n=200, trials=40), full=dict(n=2000, trials=200))

and every claim in the chapter must hold at both.
"""

from __future__ import annotations

import os
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


def progress(iterable=None, desc: str = "", total: int | None = None, **kwargs):
    """A ``tqdm.auto`` progress bar over ``iterable`` (a widget in notebooks, a text bar in a
    terminal); with ``iterable=None``, a bar advanced by hand with ``update(k)`` and ``close()``.

    Shown by default only at ``full`` scale; ``HDREG_PROGRESS=0`` silences it (the book build and the
    test suite set this, so built pages stay clean) and ``HDREG_PROGRESS=1`` forces it.
    """
    from tqdm.auto import tqdm  # noqa: PLC0415

    return tqdm(iterable, desc=desc or None, total=total, disable=not _show_progress(),
                **kwargs)
