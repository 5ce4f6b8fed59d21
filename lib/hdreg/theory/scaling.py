r"""Scaling laws of ridge regression under power-law (capacity/source) conditions.

See the chapter *Scaling laws of ridge regression* (label ``ch-scaling``).

The problem is parametrised by a *capacity* exponent :math:`\alpha > 1` and a *source* exponent
:math:`r > 0`:

.. math::
    \lambda_i = i^{-\alpha},\qquad \lambda_i\beta_{\star,i}^2 = i^{-(1+2\alpha r)},\qquad
    i = 1, \dots, P,

and :math:`m = \min(r, 1)` (ridge saturates at :math:`r = 1`). A *rate* is the exponent in
``excess risk ≍ n^(-rate)``. Chapter ``ch-scaling`` (``ch-scaling``) derives, from the deterministic equivalent of
Chapter ``ch-ridge`` (:mod:`hdreg.theory.ridge`), the rates

* noiseless, ridgeless: :math:`2\alpha m`;
* noisy, :math:`\lambda = n^{-\ell}` with :math:`0 < \ell < \alpha`: :math:`\min(2\ell m, 1 - \ell/\alpha)`;
* noisy, optimally tuned :math:`\lambda \asymp n^{-\alpha/(2\alpha m+1)}`:
  :math:`2\alpha m/(2\alpha m + 1)` (Caponnetto–De Vito);
* noisy, ridgeless: ``0`` (the variance tends to :math:`\sigma^2(\alpha - 1)`, "tempered").

All functions use the library's conventions (normalised ridge, spectrum and ``beta`` in the
eigenbasis, risk = excess risk) and reuse :mod:`hdreg.theory.ridge` for the equivalent itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gamma as _gamma
from scipy.special import zeta as _zeta

from .. import _validate
from ..backend import as_host, namespace_of, to_numpy
from . import ridge as ridge_theory
from . import spectral

__all__ = [
    "REGIMES",
    "power_law_problem",
    "capacity_constant",
    "bias_constant",
    "predicted_rate",
    "optimal_lambda_exponent",
    "tempered_variance",
    "risk_at_kappa",
    "OptimalRidge",
    "optimal_lambda",
    "correction_size",
    "ridgeless_window",
    "RateFit",
    "fit_rate",
    "bias_variance_crossover",
    "fit_capacity_source",
    "kernel_spectrum_and_source",
]

REGIMES = ("noiseless_ridgeless", "tuned", "fixed_lambda", "noisy_ridgeless")


def exponents(alpha, r):
    """The capacity and source exponents ``(alpha, r)``, checked (``alpha > 1``, ``r > 0``, finite)
    and broadcast together as host arrays."""
    a = _validate.finite_array(alpha, "alpha (the capacity exponent)", allow_empty=False)
    rr = _validate.finite_array(r, "r (the source exponent)", allow_empty=False)
    if np.any(a <= 1):
        raise _validate.InvalidParameterError(
            f"alpha (the capacity exponent) must be finite and > 1, got {alpha!r}")
    if np.any(rr <= 0):
        raise _validate.InvalidParameterError(
            f"r (the source exponent) must be finite and > 0, got {r!r}")
    a, rr = _validate.broadcast({"alpha": a, "r": rr})
    return a, rr


_exponents = exponents  # old private name


def _out(a):
    a = as_host(a)
    return float(a) if a.ndim == 0 else a


def power_law_problem(P: int, alpha: float, r: float):
    r"""The power-law problem in its eigenbasis: ``(spectrum, beta)`` of length ``P`` with
    :math:`\lambda_i = i^{-\alpha}` and :math:`\lambda_i\beta_i^2 = i^{-(1+2\alpha r)}` (``beta > 0``).

    :math:`\|\beta_\star\|^2 = \sum_i i^{\alpha-1-2\alpha r}` stays bounded as ``P`` grows iff ``r > 1/2``.
    """
    P = _validate.positive_int(P, "P")
    a, rr = exponents(alpha, r)
    if a.ndim or rr.ndim:
        raise ValueError("power_law_problem takes scalar alpha and r")
    i = np.arange(1, P + 1, dtype=float)
    spectrum = i ** (-float(a))
    beta = i ** (0.5 * (float(a) - 1.0) - float(a) * float(rr))
    return spectrum, beta


def capacity_constant(alpha):
    r""":math:`C_\alpha = \frac{\pi/\alpha}{\sin(\pi/\alpha)}`, so that
    :math:`\mathrm{df}_1(\kappa) = C_\alpha\kappa^{-1/\alpha} - \tfrac12 + o(1)` and
    :math:`\mathrm{df}_2(\kappa) = (1 - 1/\alpha)C_\alpha\kappa^{-1/\alpha} - \tfrac12 + o(1)` as
    :math:`\kappa \to 0` (Chapter ``ch-scaling``, Lemma ``lem-df``)."""
    a, _ = exponents(alpha, 1.0)
    return _out((np.pi / a) / np.sin(np.pi / a))


def bias_constant(alpha, r):
    r"""The constant :math:`J` in the bias numerator
    :math:`\kappa^2\sum_i \lambda_i\beta_i^2/(\lambda_i+\kappa)^2 \sim J\,\kappa^{2m}` as :math:`\kappa \to 0`:

    * :math:`r < 1`: :math:`J = \Gamma(2r)\Gamma(2-2r)/\alpha` (the sum becomes an integral);
    * :math:`r > 1`: :math:`J = \zeta(1 + 2\alpha(r-1))` (the first directions dominate);
    * :math:`r = 1`: ``inf`` (the numerator is :math:`\kappa^2\log(1/\kappa)/\alpha` to leading order).
    """
    a, rr = exponents(alpha, r)
    with np.errstate(divide="ignore", invalid="ignore"):
        low = _gamma(2 * rr) * _gamma(2 - 2 * rr) / a
        high = _zeta(1 + 2 * a * (rr - 1))
    return _out(np.where(rr < 1, low, np.where(rr > 1, high, np.inf)))


def predicted_rate(alpha, r, regime: str, ell=None):
    r"""Asymptotic rate (``risk ≍ n^(-rate)``) predicted by the deterministic equivalent.

    ``regime`` is one of :data:`REGIMES`:

    ``"noiseless_ridgeless"``  :math:`2\alpha m`;
    ``"tuned"``               :math:`2\alpha m/(2\alpha m+1)` (noisy, optimally tuned penalty);
    ``"fixed_lambda"``        :math:`\min(2\ell m, 1-\ell/\alpha)` for :math:`\lambda = n^{-\ell}`,
                              ``0 < ell < alpha``; ``ell >= alpha`` gives ``0`` (ridgeless-like);
    ``"noisy_ridgeless"``     ``0`` (the variance tends to a constant).

    Broadcasts over ``alpha``, ``r`` (and ``ell``). Derived in Chapter ``ch-scaling`` (Theorem ``thm-rates``).
    """
    if regime not in REGIMES:
        raise ValueError(f"regime must be one of {REGIMES}, got {regime!r}")
    a, rr = exponents(alpha, r)
    m = np.minimum(rr, 1.0)
    if regime == "fixed_lambda":
        if ell is None:
            raise ValueError("regime 'fixed_lambda' needs ell (lambda = n^-ell)")
        e = as_host(ell)
        if not np.all(np.isfinite(e)) or np.any(e <= 0):
            raise ValueError(f"ell must be finite and > 0, got {ell!r}")
        a, m, e = np.broadcast_arrays(a, m, e)
        return _out(np.where(e < a, np.minimum(2 * e * m, 1 - e / a), 0.0))
    if ell is not None:
        raise ValueError(f"ell is only used by regime 'fixed_lambda', not {regime!r}")
    if regime == "noiseless_ridgeless":
        return _out(2 * a * m)
    if regime == "tuned":
        return _out(2 * a * m / (2 * a * m + 1))
    return _out(np.zeros_like(a))


def optimal_lambda_exponent(alpha, r):
    r"""The exponent :math:`\ell^\star = \alpha/(2\alpha m+1)` of the optimal penalty
    :math:`\lambda^\star \asymp n^{-\ell^\star}` (noisy problem), where bias :math:`n^{-2\ell m}` and
    variance :math:`n^{\ell/\alpha-1}` balance (Chapter ``ch-scaling``, Theorem ``thm-rates``)."""
    a, rr = exponents(alpha, r)
    m = np.minimum(rr, 1.0)
    return _out(a / (2 * a * m + 1))


def tempered_variance(alpha, noise_var, n=None):
    r"""Ridgeless variance on the infinite power-law spectrum :math:`\lambda_i = i^{-\alpha}`.

    With ``n=None`` the limit :math:`\sigma^2(\alpha - 1)`; with ``n`` the first correction from the
    Euler–Maclaurin formula, :math:`\sigma^2\,\frac{2(\alpha-1)n - 1}{2n + 1}` (Chapter ``ch-scaling``,
    Proposition ``prop-tempered``), whose remaining error is of smaller order than :math:`1/n`.
    """
    a, _ = exponents(alpha, 1.0)
    s2 = _validate.nonneg(noise_var, "noise_var")
    if n is None:
        return _out(s2 * (a - 1))
    nn = _validate.finite_array(n, "n")
    if not np.all(np.isfinite(nn)) or np.any(nn <= 0):
        raise ValueError(f"n must be finite and > 0, got {n!r}")
    return _out(s2 * (2 * (a - 1) * nn - 1) / (2 * nn + 1))


def risk_at_kappa(spectrum, beta, n, kappa, noise_var) -> ridge_theory.RidgeRisk:
    r"""The deterministic equivalent parametrised by :math:`\kappa` instead of :math:`\lambda`.

    Equation ``eq-kappa`` of Chapter ``ch-ridge`` is explicit in the other direction:
    :math:`\lambda = \kappa\,(1 - \mathrm{df}_1(\kappa)/n)`. So every :math:`\kappa` with
    :math:`\mathrm{df}_1(\kappa) \le n` (i.e. :math:`\kappa \ge \tau`) is the effective regularisation of
    exactly one penalty :math:`\lambda \ge 0`, and bias, variance and risk follow without solving the
    fixed point. Returns a :class:`hdreg.theory.ridge.RidgeRisk` whose ``lam`` is not stored (use
    ``kappa * (1 - df1 / n)``); ``n`` and ``kappa`` broadcast. Raises ``ValueError`` when
    :math:`\kappa < \tau(n)` (a negative penalty).
    """
    full = _validate.spectrum(spectrum)
    b = _validate.vector_like(beta, full, "beta")
    sigma2 = _validate.nonneg_scalar(noise_var, "noise_var")
    xp = namespace_of(full)
    n_h = _validate.finite_array(n, "n")
    k_h = _validate.finite_array(kappa, "kappa")
    if not np.all(np.isfinite(n_h)) or np.any(n_h <= 0):
        raise ValueError(f"n must be finite and > 0, got {n!r}")
    if not np.all(np.isfinite(k_h)) or np.any(k_h <= 0):
        raise ValueError(f"kappa must be finite and > 0, got {kappa!r}")
    n_h, k_h = np.broadcast_arrays(n_h, k_h)
    mask = xp.asarray(to_numpy(full) > 0)
    spec = full[mask]
    bb = b[mask]
    ex = spectral.exact_sums(spec, xp.asarray(k_h.reshape(-1)), xp, weights=spec * bb * bb)
    df1, df2, wsum = (np.asarray(to_numpy(ex[key])).reshape(k_h.shape) for key in ("df1", "df2", "W"))
    shrink = 1.0 - df1 / n_h  # = lam / kappa
    if np.any(shrink < -1e-12):
        raise ValueError("kappa is below the ridgeless value tau(n) for some entries "
                         "(it would need a negative penalty); use kappa >= tau(n)")
    shrink = np.clip(shrink, 0.0, None)
    bias = wsum / (1.0 - df2 / n_h)
    variance = sigma2 * df2 / (n_h - df2)
    risk = bias + variance
    train = shrink**2 * (risk + sigma2)
    return ridge_theory.RidgeRisk(*(_out(v) for v in (k_h, df1, df2, bias, variance, risk, train)))


@dataclass(frozen=True)
class OptimalRidge:
    """The optimally tuned penalty per sample size: arrays of the shape of ``n``."""

    n: np.ndarray
    lam: np.ndarray
    kappa: np.ndarray
    risk: np.ndarray
    bias: np.ndarray
    variance: np.ndarray


def optimal_lambda(spectrum, beta, n, noise_var, grid: int = 33, rounds: int = 4,
                   kappa_max: float | None = None) -> OptimalRidge:
    r"""The penalty :math:`\lambda^\star(n) \ge 0` minimising the deterministic-equivalent risk.

    Vectorised over ``n``: the search runs over :math:`\kappa` (see :func:`risk_at_kappa`), on a
    log-spaced grid of ``grid`` points in :math:`[\tau(n), \kappa_{\max}]` for every ``n`` at once,
    then ``rounds`` times on a finer grid between the two neighbours of the current best point (each
    round shrinks the bracket by ``(grid - 1) / 2``). The result is :math:`\lambda^\star =
    \kappa^\star(1 - \mathrm{df}_1(\kappa^\star)/n)`, clipped to ``0`` when the best point is the
    ridgeless end :math:`\kappa = \tau`, and its risk is re-evaluated with
    :func:`hdreg.theory.ridge.ridge_risk`. ``kappa_max`` defaults to ``1e3 * max(spectrum)`` (where
    ridge has shrunk everything to zero).
    """
    full = _validate.spectrum(spectrum)
    b = _validate.vector_like(beta, full, "beta")
    _validate.nonneg(noise_var, "noise_var")
    grid = _validate.positive_int(grid, "grid")
    rounds = int(rounds)
    if grid < 5:
        raise ValueError(f"grid must be >= 5, got {grid}")
    if rounds < 0:
        raise ValueError(f"rounds must be >= 0, got {rounds}")
    n_h = np.atleast_1d(_validate.finite_array(n, "n"))
    if n_h.ndim != 1 or not np.all(np.isfinite(n_h)) or np.any(n_h <= 0):
        raise ValueError(f"n must be a scalar or 1-D array of finite values > 0, got {n!r}")
    host = np.asarray(to_numpy(full))
    rank = int(np.count_nonzero(host > 0))
    top = float(host.max())
    k_max = 1e3 * top if kappa_max is None else float(kappa_max)
    # tau(n) > 0 only below the interpolation threshold (n < rank); at and above it tau = 0.
    tau = np.zeros(n_h.shape)
    below = n_h < rank
    if np.any(below):
        tau[below] = np.atleast_1d(ridge_theory.effective_regularization(full, n_h[below], 0.0))
    # For n > rank, tau = 0: start the grid far below the smallest eigenvalue instead.
    k_min = np.where(tau > 0, tau, 1e-6 * float(host[host > 0].min()))
    if np.any(k_min >= k_max):
        raise ValueError(f"kappa_max = {k_max:g} must exceed tau(n) = {k_min.max():g}")
    lo, hi = np.log(k_min), np.full(n_h.shape, np.log(k_max))
    t = np.linspace(0.0, 1.0, grid)
    for _ in range(rounds + 1):
        u = lo[:, None] + (hi - lo)[:, None] * t[None, :]
        out = risk_at_kappa(full, b, n_h[:, None], np.exp(u), noise_var)
        j = np.argmin(np.asarray(out.risk), axis=1)
        rows = np.arange(n_h.size)
        best = u[rows, j]
        lo = np.maximum(u[rows, np.maximum(j - 1, 0)], np.log(k_min))
        hi = u[rows, np.minimum(j + 1, grid - 1)]
    at_tau = (best <= np.log(k_min) + 1e-12) & (tau > 0)
    kappa = np.exp(best)
    df1, _ = ridge_theory.degrees_of_freedom(full, kappa)
    lam = np.where(at_tau, 0.0, np.clip(kappa * (1.0 - np.asarray(df1) / n_h), 0.0, None))
    final = ridge_theory.ridge_risk(full, b, n_h, lam, noise_var)
    return OptimalRidge(n_h, lam, np.atleast_1d(final.kappa), np.atleast_1d(final.risk),
                        np.atleast_1d(final.bias), np.atleast_1d(final.variance))


def correction_size(alpha, r, P, n, kappa, df1, df2, ridgeless: bool):
    r"""Relative size of the leading pre-asymptotic corrections to the power-law laws, per point.

    The maximum of four terms, each known from the derivation in Chapter ``ch-scaling``:

    * ``1 / (2 df2)``: the Euler–Maclaurin term :math:`-\tfrac12` in :math:`\mathrm{df}_{1,2}`
      (relative size :math:`\propto \kappa^{1/\alpha}`);
    * :math:`P^{1-\alpha}/((\alpha-1)\kappa\,\mathrm{df}_1)`: the fraction of :math:`\mathrm{df}_1` that the
      directions beyond ``P`` would add (truncation);
    * :math:`\kappa^{2|1-r|}`: the discreteness of the bias sum (:math:`r < 1`) or its saturation
      correction (:math:`r > 1`);
    * ``df1 / n`` unless ``ridgeless``: the gap :math:`\kappa/\lambda - 1` (the laws with an explicit
      penalty assume :math:`\kappa \approx \lambda`).

    Fit exponents where this is small (we use ``<= 0.01``). Arrays broadcast.
    """
    a, rr = exponents(alpha, r)
    P = _validate.positive_int(P, "P")
    k = _validate.finite_array(kappa, "kappa")
    d1 = as_host(df1)
    d2 = as_host(df2)
    nn = _validate.finite_array(n, "n")
    if np.any(k <= 0) or np.any(d1 <= 0) or np.any(d2 <= 0) or np.any(nn <= 0):
        raise ValueError("n, kappa, df1 and df2 must be > 0")
    terms = [1.0 / (2.0 * d2), P ** (1.0 - a) / ((a - 1.0) * k * d1), k ** (2.0 * np.abs(1.0 - rr))]
    if not ridgeless:
        terms.append(d1 / nn)
    return _out(np.maximum.reduce(np.broadcast_arrays(*terms)))


def ridgeless_window(alpha, r, P, delta: float = 0.01):
    r"""Sample sizes ``(n_lo, n_hi)`` where every term of :func:`correction_size` is ``<= delta`` for
    the ridgeless estimator, from the leading-order formulas :math:`\tau \approx (C_\alpha/n)^\alpha`,
    :math:`\mathrm{df}_2 \approx (1 - 1/\alpha)n`:

    * :math:`1/(2\mathrm{df}_2) \le \delta \iff n \ge \alpha/(2(\alpha-1)\delta)`;
    * :math:`(n/P)^{\alpha-1}/((\alpha-1)C_\alpha^\alpha) \le \delta` bounds ``n`` from above;
    * :math:`\tau^{2|1-r|} \le \delta` bounds ``n`` from below.

    Raises ``ValueError`` when the window is empty (``P`` too small for ``alpha`` and ``delta``).
    """
    a, rr = exponents(alpha, r)
    a, rr = float(a), float(rr)
    P = _validate.positive_int(P, "P")
    if not 0 < delta < 1:
        raise ValueError(f"delta must be in (0, 1), got {delta!r}")
    C = capacity_constant(a)
    n_lo = a / (2 * (a - 1) * delta)
    if rr != 1:
        n_lo = max(n_lo, C * delta ** (-1.0 / (2 * a * abs(1 - rr))))
    n_hi = P * (delta * (a - 1) * C**a) ** (1.0 / (a - 1))
    if not n_hi > n_lo:
        raise ValueError(f"no ridgeless window with corrections <= {delta} for alpha={a}, r={rr}, "
                         f"P={P}: need n_lo={n_lo:.3g} < n_hi={n_hi:.3g}; increase P")
    return float(n_lo), float(n_hi)


@dataclass(frozen=True)
class RateFit:
    """A fitted rate: ``rate = -slope`` of ``log y`` against ``log n``, with its standard error
    (``se``) and the sample sizes used."""

    rate: float
    se: float
    n: np.ndarray


def fit_rate(n, y, se=None, n_min: float | None = None, n_max: float | None = None) -> RateFit:
    r"""Least-squares rate of a power law :math:`y \asymp n^{-\text{rate}}` over ``n_min <= n <= n_max``.

    Without ``se`` (a deterministic curve) the reported standard error is the regression's residual
    one, a measure of curvature, not of noise. With ``se`` (Monte-Carlo standard errors of the means
    ``y``, independent across ``n``) it is propagated by the delta method:
    :math:`\operatorname{Var}\log\bar y_j \approx (\mathrm{se}_j/\bar y_j)^2` and the slope is the linear
    combination :math:`\sum_j w_j\log\bar y_j` with :math:`w_j = (x_j - \bar x)/\sum_k(x_k - \bar x)^2`,
    :math:`x = \log n`. Use it to fit slopes only past a crossover (``n_min``).
    """
    n_h = _validate.finite_array(n, "n").ravel()
    y_h = _validate.finite_array(y, "y").ravel()
    if n_h.shape != y_h.shape:
        raise ValueError(f"n and y must have the same length, got {n_h.size} and {y_h.size}")
    if np.any(~np.isfinite(n_h)) or np.any(n_h <= 0) or np.any(~np.isfinite(y_h)) or np.any(y_h <= 0):
        raise ValueError("n and y must be finite and > 0 for a log-log fit")
    keep = np.ones(n_h.shape, dtype=bool)
    if n_min is not None:
        keep &= n_h >= n_min
    if n_max is not None:
        keep &= n_h <= n_max
    if keep.sum() < 3:
        raise ValueError(f"a rate fit needs at least 3 points in [n_min, n_max], got {int(keep.sum())}")
    x = np.log(n_h[keep])
    ly = np.log(y_h[keep])
    w = (x - x.mean()) / np.sum((x - x.mean()) ** 2)
    slope = float(w @ ly)
    if se is None:
        resid = ly - ly.mean() - slope * (x - x.mean())
        s2 = resid @ resid / max(x.size - 2, 1)
        err = float(np.sqrt(s2 / np.sum((x - x.mean()) ** 2)))
    else:
        se_h = as_host(se).ravel()
        if se_h.shape != y_h.shape:
            raise ValueError(f"se must have the same length as y, got {se_h.size} and {y_h.size}")
        if np.any(~np.isfinite(se_h)) or np.any(se_h < 0):
            raise ValueError("se must be finite and >= 0")
        err = float(np.sqrt(np.sum((w * se_h[keep] / y_h[keep]) ** 2)))
    return RateFit(-slope, err, n_h[keep])


def bias_variance_crossover(n, bias, variance) -> float:
    """The sample size where ``bias`` and ``variance`` (arrays over increasing ``n``) cross, by
    log-log interpolation at the last sign change of ``log(bias / variance)``; ``nan`` if none."""
    n_h = _validate.finite_array(n, "n").ravel()
    b = as_host(bias).ravel()
    v = as_host(variance).ravel()
    if not (n_h.shape == b.shape == v.shape):
        raise ValueError(f"n, bias and variance must have the same length, got "
                         f"{n_h.size}, {b.size}, {v.size}")
    if np.any(n_h <= 0) or np.any(b <= 0) or np.any(v <= 0) or np.any(np.diff(n_h) <= 0):
        raise ValueError("n must be increasing and n, bias, variance > 0")
    d = np.log(b / v)
    change = np.flatnonzero(np.sign(d[1:]) != np.sign(d[:-1]))
    if change.size == 0:
        return float("nan")
    j = int(change[-1])
    x0, x1 = np.log(n_h[j]), np.log(n_h[j + 1])
    return float(np.exp(x0 + (x1 - x0) * d[j] / (d[j] - d[j + 1])))


def fit_capacity_source(eigenvalues, source_coefficients, window=(10, 300)):
    r"""Measure :math:`(\alpha, r)` on real data.

    ``eigenvalues`` are the covariance (or kernel) eigenvalues in decreasing order and
    ``source_coefficients`` the energies :math:`\lambda_i\beta_i^2` of the target along the matching
    eigenvectors (the squared projections of the centred target, divided by ``n`` for a kernel). On
    indices ``window[0] <= i <= window[1]`` (1-based) we fit :math:`\lambda_i \approx c\,i^{-\alpha}` and
    the *tail sums* :math:`T_i = \sum_{j\ge i}\lambda_j\beta_j^2 \approx c'\,i^{-2\alpha r}` (smoother than
    the individual, very noisy energies; a power law :math:`i^{-(1+2\alpha r)}` has tail
    :math:`\asymp i^{-2\alpha r}`). The tail sums feel the end of the spectrum, so ``window[1]`` should sit
well before the last index. Returns ``(alpha, r)``.
    """
    ev = as_host(eigenvalues).ravel()
    sc = as_host(source_coefficients).ravel()
    if ev.shape != sc.shape:
        raise ValueError(f"eigenvalues and source_coefficients must have the same length, got "
                         f"{ev.size} and {sc.size}")
    if np.any(~np.isfinite(ev)) or np.any(~np.isfinite(sc)) or np.any(sc < 0):
        raise ValueError("eigenvalues must be finite and source_coefficients finite and >= 0")
    lo, hi = int(window[0]), int(window[1])
    if not 1 <= lo < hi - 1 or hi > ev.size:
        raise ValueError(f"window must satisfy 1 <= window[0] < window[1] - 1 and window[1] <= "
                         f"{ev.size}, got {window!r}")
    if np.any(np.diff(ev) > 0):
        raise ValueError("eigenvalues must be sorted in decreasing order")
    sl = slice(lo - 1, hi)
    i = np.arange(1, ev.size + 1, dtype=float)
    if np.any(ev[sl] <= 0):
        raise ValueError("eigenvalues in the window must be > 0")
    tail = np.cumsum(sc[::-1])[::-1]
    alpha = fit_rate(i[sl], ev[sl]).rate
    two_alpha_r = fit_rate(i[sl], tail[sl]).rate
    return float(alpha), float(two_alpha_r / (2 * alpha))


def kernel_spectrum_and_source(gram, target):
    r"""Eigenvalues and source coefficients of a target in the eigenbasis of a kernel (Gram) matrix.

    With :math:`K/n = \sum_i \mu_i\phi_i\phi_i^\top` (``gram`` is the ``n x n`` kernel matrix, unit
    vectors :math:`\phi_i`), the empirical eigenfunctions are :math:`\sqrt n\,\phi_i` and the centred
    target's coefficient on them is :math:`a_i = \phi_i^\top y/\sqrt n`. In the feature-space notation of
    the book :math:`a_i = \sqrt{\mu_i}\,\beta_i`, so the source coefficients are
    :math:`\mu_i\beta_i^2 = (\phi_i^\top y)^2/n`. Returns ``(mu, source)``, ``mu`` decreasing.
    """
    K = as_host(gram)
    if K.ndim != 2 or K.shape[0] != K.shape[1] or K.shape[0] < 2:
        raise ValueError(f"gram must be a square matrix of size >= 2, got shape {K.shape}")
    if not np.all(np.isfinite(K)) or not np.allclose(K, K.T, atol=1e-10 * max(np.abs(K).max(), 1.0)):
        raise ValueError("gram must be finite and symmetric")
    y = as_host(target).ravel()
    n = K.shape[0]
    if y.shape != (n,):
        raise ValueError(f"target must have length {n} (the size of gram), got {y.size}")
    if not np.all(np.isfinite(y)):
        raise ValueError("target must be finite")
    mu, phi = np.linalg.eigh(K / n)
    if mu[0] < -1e-8 * max(mu[-1], 1e-300):
        raise ValueError(f"gram must be positive semi-definite; smallest eigenvalue {n * mu[0]:.3g}")
    mu, phi = mu[::-1].clip(0.0, None), phi[:, ::-1]
    yc = y - y.mean()
    return mu, (phi.T @ yc) ** 2 / n
