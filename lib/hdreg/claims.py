"""Claims: checks that make a chapter's quantitative statements falsifiable.

Each helper raises :class:`ClaimError` (an ``AssertionError``) with the numbers in the message when
the statement is false, prints a one-line confirmation when it holds, and returns the number worth
quoting (so that prose can ``glue`` it).

**Nothing fools a claim.** NaN or infinite values in what is checked fail the claim; NaN, infinite,
zero or negative standard errors, fewer than two trials, empty arrays and arrays of different shapes
are bad input and raise ``ValueError`` (a scalar may stand for an array of any shape).

**The detectable-error budget.** A Monte-Carlo claim is only as good as the smallest error it could
see. Every claim that compares noisy numbers records its *resolution*: the largest relative error in
the checked quantity that could still pass,

* ``max(k, K_MIN) * se / |scale|`` for :func:`within_se`, :func:`within_mc` and :func:`paired`
  (``scale`` defaults to the theory value; a paired claim must name it, e.g. the risk whose
  difference is checked),
* ``max(k, K_MIN) * se / min(|a|, |b|)`` for :func:`less` / :func:`greater` with a standard error,
* ``tol / |expected|`` for :func:`slope`, and ``rtol`` for :func:`rel_close`.

``K_MIN = 4`` enters the resolution whatever ``k`` a claim uses, so a smaller ``k`` cannot buy a
better resolution. A claim whose resolution exceeds :data:`BUDGET` (5%) raises ``ClaimError`` unless
it carries ``exempt="why the budget is out of reach here"``: variance reduction (paired designs,
common random numbers, control variates, conditioning on the design) is the way to meet it, never a
smaller ``k``. Every claim is appended to :data:`RECORDS`, and to the JSON-lines file named by the
environment variable ``HDREG_CLAIMS_REPORT`` when it is set (``tools/claims_report.py`` turns that
file into a table; the test suite writes it for every chapter).
"""

from __future__ import annotations

import json
import math
import os
import textwrap

import numpy as np

from .backend import to_numpy

__all__ = ["ClaimError", "BUDGET", "K_MIN", "RECORDS", "within_se", "within_mc", "within_rtol", "paired",
           "rel_close", "slope", "fit_slope", "less", "greater", "in_range", "monotone", "mean_se"]

#: Largest relative error a Monte-Carlo claim may be blind to (without an exemption).
BUDGET = 0.05
#: The multiple of the standard error that enters a claim's resolution, whatever its ``k``.
K_MIN = 4.0
#: One dict per claim made in this process (label, kind, resolution, exemption, outcome).
RECORDS: list[dict] = []


class ClaimError(AssertionError):
    """A chapter's claim does not hold (or cannot see the error it is meant to see)."""


# --------------------------------------------------------------------------------------------
# input handling


def _arr(a, name: str, label: str) -> np.ndarray:
    if a is None:
        raise ValueError(f"{label}: {name} is None")
    if isinstance(a, (str, bytes)):
        raise TypeError(f"{label}: {name} must be numeric, got the string {a!r}")
    try:
        out = np.asarray(to_numpy(a), dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{label}: {name} must be numeric, got {type(a).__name__}") from err
    if out.size == 0:
        raise ValueError(f"{label}: {name} is empty")
    return out


def _same_shape(label: str, **arrays: np.ndarray) -> tuple:
    """Arrays of one common shape; a single number (size 1) stands for any shape."""
    shapes = {n: a.shape for n, a in arrays.items() if a.size > 1}
    distinct = set(shapes.values())
    if len(distinct) > 1:
        desc = ", ".join(f"{n} {s}" for n, s in shapes.items())
        raise ValueError(f"{label}: shapes do not match ({desc})")
    shape = distinct.pop() if distinct else ()
    return tuple(np.broadcast_to(a.reshape(()) if a.size == 1 else a, shape) for a in arrays.values())


def _check_se(se: np.ndarray, label: str) -> None:
    if not np.all(np.isfinite(se)):
        raise ValueError(f"{label}: standard errors must be finite, got {_fmt(se)}")
    if np.any(se <= 0):
        raise ValueError(f"{label}: standard errors must be positive, got {_fmt(se)}")


def _positive(value, name: str, label: str, allow_zero: bool = False) -> float:
    """A finite number > 0 (or >= 0), given as a Python or NumPy scalar (not a bool or a string)."""
    ok = not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating)) \
        and math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        need = "a finite number >= 0" if allow_zero else "a positive finite number"
        raise ValueError(f"{label}: {name} must be {need}, got {value!r}")
    return float(value)


def _finite_or_fail(label: str, **arrays: np.ndarray) -> None:
    for n, a in arrays.items():
        if not np.all(np.isfinite(a)):
            raise ClaimError(f"{label}: non-finite values in {n}: {_fmt(a)}")


def _fmt(a) -> str:
    return np.array2string(np.atleast_1d(np.asarray(a)), precision=4, max_line_width=200, threshold=12)


# --------------------------------------------------------------------------------------------
# the budget and the record


def _record(label: str, kind: str, resolution: float | None, exempt, passed: bool, **extra) -> None:
    entry = dict(label=label, kind=kind, resolution=resolution, budget=BUDGET,
                 exempt=exempt, passed=passed,
                 source=os.environ.get("HDREG_CLAIMS_SOURCE", ""),
                 scale=os.environ.get("HDREG_SCALE", ""), **extra)
    RECORDS.append(entry)
    path = os.environ.get("HDREG_CLAIMS_REPORT", "").strip()
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, default=float) + "\n")


def _check_exempt(exempt, label: str):
    if exempt is None:
        return None
    if not isinstance(exempt, str) or len(exempt.strip()) < 10:
        raise ValueError(f"{label}: exempt must be a sentence saying why the {BUDGET:.0%} budget is "
                         f"out of reach, got {exempt!r}")
    return exempt.strip()


def _enforce_budget(label: str, resolution: float, exempt) -> None:
    if exempt is None and not resolution <= BUDGET:
        raise ClaimError(
            f"{label}: this claim cannot see a {BUDGET:.0%} error: an error of {resolution:.1%} of "
            f"the checked value would still pass. Reduce the variance (paired design, common random "
            f"numbers, control variate, more trials), or pass exempt='why' if that is out of reach.")


def _resolution(k: float, se: np.ndarray, scale: np.ndarray, label: str) -> float:
    scale = np.abs(scale)
    if not np.all(np.isfinite(scale)):
        raise ValueError(f"{label}: scale must be finite, got {_fmt(scale)}")
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = max(k, K_MIN) * se / scale
    rel = np.where(scale > 0, rel, np.inf)
    return float(np.max(rel))


def _ok(label: str, detail: str) -> None:
    """One confirmation, wrapped to the width of a book page's code column."""
    print(textwrap.fill(f"claim holds: {label} ({detail})", width=88, subsequent_indent="    ",
                        break_on_hyphens=False))


# --------------------------------------------------------------------------------------------
# statistics


def mean_se(samples, axis: int = 0):
    """Monte-Carlo mean and standard error of the mean along ``axis`` (``ddof=1``).

    Raises ``ValueError`` for fewer than two samples along ``axis`` or non-finite samples: a
    standard error computed from them would be NaN or meaningless.
    """
    s = _arr(samples, "samples", "mean_se")
    if s.ndim == 0:
        raise ValueError("mean_se: samples must have at least one axis, got a single number")
    try:
        n = s.shape[axis]
    except IndexError as err:
        raise ValueError(f"mean_se: axis {axis} out of range for samples of shape {s.shape}") from err
    if n < 2:
        raise ValueError(f"mean_se: need at least 2 samples along axis {axis} for a standard error, "
                         f"got {n}")
    if not np.all(np.isfinite(s)):
        raise ValueError("mean_se: samples contain NaN or infinite values")
    return s.mean(axis=axis), s.std(axis=axis, ddof=1) / np.sqrt(n)


# --------------------------------------------------------------------------------------------
# claims


def within_se(sim, theory, se, k: float = 4.0, label: str = "simulation matches theory",
              scale=None, exempt: str | None = None) -> float:
    """Every ``|sim - theory| <= k * se`` (elementwise). Returns the largest ``|z|`` score.

    ``se`` is the Monte-Carlo standard error of ``sim`` (e.g. from :func:`mean_se`). With ``m``
    independent comparisons and Gaussian errors, ``k = 4`` keeps the false-alarm rate below
    ``m * 6e-5``. ``scale`` (default ``theory``) is what a 5% error is measured against.
    """
    k = _positive(k, "k", label)
    exempt = _check_exempt(exempt, label)
    sim, theory, se = _same_shape(label, sim=_arr(sim, "sim", label),
                                  theory=_arr(theory, "theory", label), se=_arr(se, "se", label))
    _check_se(se, label)
    _finite_or_fail(label, sim=sim, theory=theory)
    ref = theory if scale is None else _same_shape(label, sim=sim, scale=_arr(scale, "scale", label))[1]
    resolution = _resolution(k, se, ref, label)
    z = (sim - theory) / se
    worst = int(np.argmax(np.abs(z)))
    zmax = float(np.abs(z).max())
    passed = zmax <= k
    _record(label, "within_se", resolution, exempt, passed, k=k, zmax=zmax, n=int(z.size))
    if not passed:
        raise ClaimError(
            f"{label}: |sim - theory| exceeds {k:g} standard errors at entry {worst}: "
            f"sim={sim.flat[worst]:.6g}, theory={theory.flat[worst]:.6g}, se={se.flat[worst]:.3g}, "
            f"z={z.flat[worst]:+.2f}\n  all z-scores: {_fmt(z)}")
    _enforce_budget(label, resolution, exempt)
    _ok(label, f"{z.size} points, max |z| = {zmax:.2f} <= {k:g}, resolution {resolution:.1%}")
    return zmax


def within_mc(samples, theory, k: float = 4.0, axis: int = 0, label: str = "simulation matches theory",
              scale=None, exempt: str | None = None) -> float:
    """The mean of ``samples`` along ``axis`` (one entry per trial) matches ``theory``.

    :func:`mean_se` then :func:`within_se`. Returns the largest ``|z|`` score.
    """
    mean, se = mean_se(samples, axis=axis)
    return within_se(mean, theory, se, k=k, label=label, scale=scale, exempt=exempt)


def within_rtol(samples, theory, rtol: float, k: float = 4.0, axis: int = 0,
                label: str = "simulation matches theory", noise_max: float | None = None,
                exempt: str | None = None) -> float:
    """The mean of ``samples`` is within ``rtol`` of ``theory``, and its Monte-Carlo error is small.

    For an asymptotic theory whose own finite-size error at the simulated sizes is resolved by the
    simulation (so that a z-test would reject a correct formula): the claim allows a relative gap of
    ``rtol`` and requires ``max(k, 4)`` standard errors to stay within ``noise_max`` (default
    :data:`BUDGET`) of the theory, so that the noise cannot hide an error. Its resolution is ``max(rtol, max(k, 4) * se / |theory|)``.
    Returns the largest relative deviation.
    """
    k = _positive(k, "k", label)
    rtol = _positive(rtol, "rtol", label)
    exempt = _check_exempt(exempt, label)
    mean, se = mean_se(samples, axis=axis)
    mean, theory, se = _same_shape(label, mean=_arr(mean, "mean", label),
                                   theory=_arr(theory, "theory", label), se=_arr(se, "se", label))
    _finite_or_fail(label, theory=theory)
    noise_max = BUDGET if noise_max is None else _positive(noise_max, "noise_max", label)
    noise = _resolution(k, np.maximum(se, np.finfo(float).tiny), theory, label)
    rel = np.abs(mean - theory) / np.maximum(np.abs(theory), np.finfo(float).tiny)
    worst = int(np.argmax(rel))
    resolution = max(rtol, noise)
    passed = bool(rel.flat[worst] <= rtol) and noise <= noise_max
    _record(label, "within_rtol", resolution, exempt, passed, max_rel=float(rel.max()), rtol=rtol)
    if not rel.flat[worst] <= rtol:
        raise ClaimError(
            f"{label}: relative gap {rel.flat[worst]:.3g} > {rtol:g} at entry {worst} "
            f"(sim={mean.flat[worst]:.6g} +- {se.flat[worst]:.2g}, theory={theory.flat[worst]:.6g})")
    if noise > noise_max and (exempt is None or noise_max < BUDGET):
        raise ClaimError(f"{label}: the Monte-Carlo error ({noise:.1%} of the theory at "
                         f"{max(k, K_MIN):g} s.e.) is above {noise_max:.1%}: more trials")
    _enforce_budget(label, resolution, exempt)
    _ok(label, f"max relative gap {rel.max():.2%} <= {rtol:g}, Monte-Carlo error {noise:.1%}")
    return float(rel.max())


def paired(samples_a, samples_b, theory_diff, scale, k: float = 4.0, axis: int = 0,
           label: str = "paired difference matches theory", exempt: str | None = None) -> float:
    """Per-trial paired difference ``a - b`` matches ``theory_diff`` within ``k`` standard errors.

    ``samples_a`` and ``samples_b`` come from the same trials (the same draws of the design and the
    noise, one entry per trial along ``axis``), so that the standard error is that of the difference,
    which common random numbers make small. ``scale`` is the magnitude against which a 5% error is
    measured (usually the quantity whose difference is taken, e.g. the risk of ``a``); the claim's
    resolution is ``max(k, 4) * se(diff) / |scale|``. Returns the largest ``|z|`` score.
    """
    a = _arr(samples_a, "samples_a", label)
    b = _arr(samples_b, "samples_b", label)
    if a.shape != b.shape:
        raise ValueError(f"{label}: paired samples must have the same shape, got {a.shape} and {b.shape}")
    if scale is None:
        raise ValueError(f"{label}: a paired claim must name the scale a 5% error is measured against")
    mean, se = mean_se(a - b, axis=axis)
    return within_se(mean, theory_diff, se, k=k, label=label, scale=scale, exempt=exempt)


def rel_close(value, target, rtol: float, label: str = "values agree", exempt: str | None = None) -> float:
    """Every ``|value - target| <= rtol * |target|``. Returns the largest relative error.

    ``rtol`` is the claim's resolution: more than :data:`BUDGET` needs an exemption.
    """
    exempt = _check_exempt(exempt, label)
    rtol = _positive(rtol, "rtol", label, allow_zero=True)
    value, target = _same_shape(label, value=_arr(value, "value", label), target=_arr(target, "target", label))
    _finite_or_fail(label, value=value, target=target)
    rel = np.abs(value - target) / np.maximum(np.abs(target), np.finfo(float).tiny)
    worst = int(np.argmax(rel))
    passed = bool(rel.flat[worst] <= rtol)
    _record(label, "rel_close", float(rtol), exempt, passed, max_rel=float(rel.max()))
    if not passed:
        raise ClaimError(
            f"{label}: relative error {rel.flat[worst]:.3g} > {rtol:g} at entry {worst} "
            f"(value={value.flat[worst]:.6g}, target={target.flat[worst]:.6g})")
    _enforce_budget(label, float(rtol), exempt)
    _ok(label, f"max relative error {rel.max():.2e} <= {rtol:g}")
    return float(rel.max())


def fit_slope(x, y) -> tuple[float, float]:
    """Least-squares slope of ``log y`` against ``log x`` and its standard error."""
    lx, ly = np.log(_arr(x, "x", "fit_slope")), np.log(_arr(y, "y", "fit_slope"))
    if lx.shape != ly.shape or lx.ndim != 1:
        raise ValueError(f"fit_slope: x and y must be 1-D of the same length, got {lx.shape}, {ly.shape}")
    if lx.size < 3:
        raise ValueError("fit_slope: a slope fit needs at least 3 points")
    if not (np.all(np.isfinite(lx)) and np.all(np.isfinite(ly))):
        raise ValueError("fit_slope: x and y must be positive and finite")
    A = np.vstack([lx, np.ones_like(lx)]).T
    coef, *_ = np.linalg.lstsq(A, ly, rcond=None)
    resid = ly - A @ coef
    s2 = resid @ resid / max(lx.size - 2, 1)
    se = np.sqrt(s2 / np.sum((lx - lx.mean()) ** 2))
    return float(coef[0]), float(se)


def slope(x, y, expected: float, tol: float, label: str = "log-log slope", scale=None,
          exempt: str | None = None) -> float:
    """The fitted log-log slope of ``y`` against ``x`` is within ``tol`` of ``expected``.

    Returns the fitted slope. ``tol`` is absolute (an exponent difference); the claim's resolution is
    ``tol / |scale|`` with ``scale = expected`` by default.
    """
    exempt = _check_exempt(exempt, label)
    x, y = _arr(x, "x", label), _arr(y, "y", label)
    tol = _positive(tol, "tol", label)
    if x.shape != y.shape:
        raise ValueError(f"{label}: x and y must have the same shape, got {x.shape} and {y.shape}")
    if np.any(~np.isfinite(x)) or np.any(~np.isfinite(y)) or np.any(x <= 0) or np.any(y <= 0):
        raise ClaimError(f"{label}: log-log fit needs positive finite values (x={_fmt(x)}, y={_fmt(y)})")
    ref = abs(float(expected if scale is None else scale))
    resolution = tol / ref if ref > 0 else math.inf
    s, se = fit_slope(x, y)
    passed = abs(s - expected) <= tol
    _record(label, "slope", resolution, exempt, passed, fitted=s, expected=float(expected), tol=tol)
    if not passed:
        raise ClaimError(f"{label}: fitted slope {s:.4f} (fit s.e. {se:.2g}) differs from "
                         f"{expected:.4f} by more than {tol:g}")
    _enforce_budget(label, resolution, exempt)
    _ok(label, f"slope {s:.4f} vs predicted {expected:.4f}, tolerance {tol:g}")
    return s


def less(a, b, label: str = "a < b", se=None, k: float = 4.0, exempt: str | None = None) -> float:
    """Every ``a < b``; with ``se`` (standard error of ``b - a``) every ``b - a > k * se``.

    Without ``se`` the comparison is exact (for deterministic numbers); with ``se`` it is a
    Monte-Carlo claim whose resolution is ``max(k, 4) * se / min(|a|, |b|)``. Returns the smallest
    margin ``b - a``.
    """
    exempt = _check_exempt(exempt, label)
    a, b = _same_shape(label, a=_arr(a, "a", label), b=_arr(b, "b", label))
    _finite_or_fail(label, a=a, b=b)
    gap = b - a
    if se is None:
        need = np.zeros_like(gap)
        resolution = None
    else:
        k = _positive(k, "k", label)
        s = _same_shape(label, gap=gap, se=_arr(se, "se", label))[1]
        _check_se(s, label)
        need = k * s
        resolution = _resolution(k, s, np.minimum(np.abs(a), np.abs(b)), label)
    bad = ~(gap > need)
    passed = not np.any(bad)
    _record(label, "order", resolution, exempt, passed, min_margin=float(gap.min()))
    if not passed:
        i = int(np.argmax(bad))
        extra = "" if se is None else f" (required margin {need.flat[i]:.3g} = {k:g} s.e.)"
        raise ClaimError(f"{label}: fails at entry {i}: a={a.flat[i]:.6g}, b={b.flat[i]:.6g}{extra}")
    if resolution is not None:
        _enforce_budget(label, resolution, exempt)
    _ok(label, f"{gap.size} comparisons, smallest margin {gap.min():.4g}")
    return float(gap.min())


def greater(a, b, label: str = "a > b", se=None, k: float = 4.0, exempt: str | None = None) -> float:
    """Every ``a > b`` (see :func:`less`). Returns the smallest margin ``a - b``."""
    return less(b, a, label=label, se=se, k=k, exempt=exempt)


def in_range(value, lo, hi, label: str = "value in range") -> None:
    """Every ``lo <= value <= hi`` (exact; NaN fails)."""
    v = _arr(value, "value", label)
    passed = bool(np.all(np.isfinite(v)) and np.all(v >= lo) and np.all(v <= hi))
    _record(label, "range", None, None, passed)
    if not passed:
        raise ClaimError(f"{label}: values {_fmt(v)} not all within [{lo:g}, {hi:g}]")
    _ok(label, f"{v.size} values within [{lo:g}, {hi:g}]")


def monotone(values, increasing: bool = True, label: str = "monotone") -> None:
    """The sequence is strictly increasing (or decreasing); NaN fails."""
    v = _arr(values, "values", label)
    if v.ndim != 1 or v.size < 2:
        raise ValueError(f"{label}: need a 1-D sequence of at least 2 values, got shape {v.shape}")
    d = np.diff(v)
    ok = bool(np.all(np.isfinite(v)) and (np.all(d > 0) if increasing else np.all(d < 0)))
    _record(label, "monotone", None, None, ok)
    if not ok:
        raise ClaimError(f"{label}: not strictly {'in' if increasing else 'de'}creasing: "
                         f"differences {_fmt(d)}")
    _ok(label, f"{d.size + 1} values strictly {'in' if increasing else 'de'}creasing")
