"""Claims: checks that make a chapter's quantitative statements falsifiable.

Each helper raises :class:`ClaimError` (an ``AssertionError``) with the numbers in the message when
the statement is false, prints a one-line confirmation when it holds, and returns the number worth
quoting (so that prose can ``glue`` it). Tolerances are explicit arguments: a Monte-Carlo comparison
takes the standard error and a multiple ``k`` of it, never a hand-tuned absolute slack.
"""

from __future__ import annotations

import numpy as np

from .backend import to_numpy

__all__ = ["ClaimError", "within_se", "rel_close", "slope", "fit_slope", "less", "greater",
           "in_range", "monotone", "mean_se"]


class ClaimError(AssertionError):
    """A chapter's claim does not hold."""


def _np(a) -> np.ndarray:
    return np.asarray(to_numpy(a), dtype=float)


def _ok(label: str, detail: str) -> None:
    print(f"claim holds: {label} ({detail})")


def _fmt(a: np.ndarray) -> str:
    return np.array2string(np.atleast_1d(a), precision=4, max_line_width=200, threshold=12)


def mean_se(samples, axis: int = 0):
    """Monte-Carlo mean and standard error of the mean along ``axis`` (``ddof=1``)."""
    s = _np(samples)
    n = s.shape[axis]
    if n < 2:
        raise ValueError(f"need at least 2 samples along axis {axis} for a standard error, got {n}")
    return s.mean(axis=axis), s.std(axis=axis, ddof=1) / np.sqrt(n)


def within_se(sim, theory, se, k: float = 4.0, label: str = "simulation matches theory") -> float:
    """Every ``|sim - theory| <= k * se`` (elementwise). Returns the largest ``|z|`` score.

    ``se`` is the Monte-Carlo standard error of ``sim`` (e.g. from :func:`mean_se`). With ``m``
    independent comparisons and Gaussian errors, ``k = 4`` keeps the false-alarm rate below
    ``m * 6e-5``.
    """
    sim, theory, se = np.broadcast_arrays(_np(sim), _np(theory), _np(se))
    if np.any(~np.isfinite(sim)) or np.any(~np.isfinite(theory)):
        raise ClaimError(f"{label}: non-finite values (sim={_fmt(sim)}, theory={_fmt(theory)})")
    if np.any(se <= 0):
        raise ValueError(f"{label}: standard errors must be positive, got {_fmt(se)}")
    z = (sim - theory) / se
    worst = int(np.argmax(np.abs(z)))
    if np.abs(z).flat[worst] > k:
        raise ClaimError(
            f"{label}: |sim - theory| exceeds {k} standard errors at entry {worst}: "
            f"sim={sim.flat[worst]:.6g}, theory={theory.flat[worst]:.6g}, se={se.flat[worst]:.3g}, "
            f"z={z.flat[worst]:+.2f}\n  all z-scores: {_fmt(z)}"
        )
    zmax = float(np.abs(z).max())
    _ok(label, f"{z.size} points, max |z| = {zmax:.2f} <= {k}")
    return zmax


def rel_close(value, target, rtol: float, label: str = "values agree") -> float:
    """Every ``|value - target| <= rtol * |target|``. Returns the largest relative error."""
    value, target = np.broadcast_arrays(_np(value), _np(target))
    if np.any(~np.isfinite(value)) or np.any(~np.isfinite(target)):
        raise ClaimError(f"{label}: non-finite values (value={_fmt(value)}, target={_fmt(target)})")
    rel = np.abs(value - target) / np.maximum(np.abs(target), np.finfo(float).tiny)
    worst = int(np.argmax(rel))
    if rel.flat[worst] > rtol:
        raise ClaimError(
            f"{label}: relative error {rel.flat[worst]:.3g} > {rtol:g} at entry {worst} "
            f"(value={value.flat[worst]:.6g}, target={target.flat[worst]:.6g})"
        )
    _ok(label, f"max relative error {rel.max():.2e} <= {rtol:g}")
    return float(rel.max())


def fit_slope(x, y) -> tuple[float, float]:
    """Least-squares slope of ``log y`` against ``log x`` and its standard error."""
    lx, ly = np.log(_np(x)), np.log(_np(y))
    if lx.size < 3:
        raise ValueError("a slope fit needs at least 3 points")
    A = np.vstack([lx, np.ones_like(lx)]).T
    coef, res, *_ = np.linalg.lstsq(A, ly, rcond=None)
    resid = ly - A @ coef
    s2 = resid @ resid / max(lx.size - 2, 1)
    se = np.sqrt(s2 / np.sum((lx - lx.mean()) ** 2))
    return float(coef[0]), float(se)


def slope(x, y, expected: float, tol: float, label: str = "log-log slope") -> float:
    """The fitted log-log slope of ``y`` against ``x`` is within ``tol`` of ``expected``.

    Returns the fitted slope. ``tol`` is absolute (an exponent difference).
    """
    x, y = _np(x), _np(y)
    if np.any(x <= 0) or np.any(y <= 0):
        raise ClaimError(f"{label}: log-log fit needs positive values (x={_fmt(x)}, y={_fmt(y)})")
    s, se = fit_slope(x, y)
    if not abs(s - expected) <= tol:
        raise ClaimError(f"{label}: fitted slope {s:.4f} (fit s.e. {se:.2g}) differs from "
                         f"{expected:.4f} by more than {tol:g}")
    _ok(label, f"slope {s:.4f} vs predicted {expected:.4f}, tolerance {tol:g}")
    return s


def less(a, b, label: str = "a < b", se=None, k: float = 0.0) -> float:
    """Every ``a < b``; with ``se`` (standard error of ``b - a``) every ``b - a > k * se``.

    Returns the smallest margin ``b - a``.
    """
    a, b = np.broadcast_arrays(_np(a), _np(b))
    gap = b - a
    need = 0.0 if se is None else k * np.broadcast_to(_np(se), gap.shape)
    bad = ~(gap > need)
    if np.any(bad):
        i = int(np.argmax(bad))
        extra = "" if se is None else f" (required margin {np.ravel(need)[i]:.3g} = {k} s.e.)"
        raise ClaimError(f"{label}: fails at entry {i}: a={a.flat[i]:.6g}, b={b.flat[i]:.6g}{extra}")
    _ok(label, f"{gap.size} comparisons, smallest margin {gap.min():.4g}")
    return float(gap.min())


def greater(a, b, label: str = "a > b", se=None, k: float = 0.0) -> float:
    """Every ``a > b`` (see :func:`less`). Returns the smallest margin ``a - b``."""
    return less(b, a, label=label, se=se, k=k)


def in_range(value, lo, hi, label: str = "value in range") -> None:
    """Every ``lo <= value <= hi``."""
    v = _np(value)
    if np.any(v < lo) or np.any(v > hi) or np.any(~np.isfinite(v)):
        raise ClaimError(f"{label}: values {_fmt(v)} not all within [{lo:g}, {hi:g}]")
    _ok(label, f"{v.size} values within [{lo:g}, {hi:g}]")


def monotone(values, increasing: bool = True, label: str = "monotone") -> None:
    """The sequence is strictly increasing (or decreasing)."""
    d = np.diff(_np(values))
    ok = np.all(d > 0) if increasing else np.all(d < 0)
    if not ok:
        raise ClaimError(f"{label}: not strictly {'in' if increasing else 'de'}creasing: "
                         f"differences {_fmt(d)}")
    _ok(label, f"{d.size + 1} values strictly {'in' if increasing else 'de'}creasing")
