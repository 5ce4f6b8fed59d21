r"""Deterministic equivalent of ridge regression with a general covariance.

See the chapter *Ridge regression in high dimensions* (label ``ch-ridge``).

Conventions, shared by the whole library:

* rows ``x ~ N(0, Σ)``, ``Σ = diag(spectrum)`` in its eigenbasis; ``beta`` holds the coordinates of
  :math:`\beta_\star` in that basis; labels :math:`y = x^\top\beta_\star + \varepsilon`,
  :math:`\operatorname{Var}\varepsilon` = ``noise_var``;
* ridge minimises :math:`\frac1n\|y - Xb\|^2 + \lambda\|b\|^2`, i.e.
  :math:`\hat\beta_\lambda = (X^\top X + n\lambda I)^{-1}X^\top y`; ``lam = 0`` is the minimum-norm
  least-squares solution (ridgeless);
* risk is the excess test error :math:`\mathbb E_x[(x^\top(\hat\beta - \beta_\star))^2]
  = \|\hat\beta - \beta_\star\|_\Sigma^2`.

The effective regularisation :math:`\kappa` solves :math:`1 - \lambda/\kappa = \mathrm{df}_1(\kappa)/n`
(Chapter ``ch-ridge``, eq. ``eq-kappa``); bias and variance are

.. math::
    \mathsf B = \frac{\kappa^2\sum_i \lambda_i\beta_i^2/(\lambda_i+\kappa)^2}{1-\mathrm{df}_2/n},\qquad
    \mathsf V = \sigma^2\frac{\mathrm{df}_2}{n-\mathrm{df}_2}.

Every function broadcasts over arrays of ``n`` and ``lam`` and runs on the namespace (NumPy or CuPy)
of ``spectrum``.

For many points (``n``, ``lam``) at once, :func:`effective_regularization` and :func:`ridge_risk` do not
evaluate the O(P) sums over the spectrum at every point: they tabulate them once as piecewise Chebyshev
interpolants in ``log kappa`` (:class:`hdreg.theory.spectral.SpectralSums`, relative error bound
``1e-15`` plus rounding, a few ``1e-15`` measured) and solve on the interpolant; small problems use the
exact sums. Both paths agree to ~1e-13 (tests); near the interpolation threshold both use the
complements ``rank - df1``, ``rank - df2`` so as not to lose digits to cancellation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate
from ..backend import namespace_of, on_active_backend, to_numpy
from . import spectral

__all__ = [
    "RidgeRisk",
    "degrees_of_freedom",
    "effective_regularization",
    "ridge_risk",
    "ridgeless_tau",
]

def degrees_of_freedom(spectrum, kappa):
    r"""``(df1, df2)`` with :math:`\mathrm{df}_1 = \sum_i \lambda_i/(\lambda_i+\kappa)` and
    :math:`\mathrm{df}_2 = \sum_i \lambda_i^2/(\lambda_i+\kappa)^2`, broadcast over ``kappa``;
    host (NumPy) arrays, or floats for a scalar ``kappa``. Evaluated by
    :func:`hdreg.theory.spectral.exact_sums` on the active backend for large problems."""
    spec, xp = _on_backend(_validate.spectrum(spectrum))
    k_h = _validate.finite_array(kappa, "kappa", low=0.0)
    # Zero eigenvalues contribute nothing (and would give 0/0 at kappa = 0).
    spec = spec[xp.asarray(to_numpy(spec) > 0)]
    ex = spectral.exact_sums(spec, xp.asarray(k_h.reshape(-1)), xp)
    df1, df2 = (to_numpy(ex[key]).reshape(k_h.shape) for key in ("df1", "df2"))
    if df1.ndim == 0:
        return float(df1), float(df2)
    return df1, df2


def _on_backend(spec):
    return on_active_backend(spec)


def _prepare(spectrum, n, lam):
    spec, xp = _on_backend(_validate.spectrum(spectrum))
    n_h = _validate.nonneg(n, "n", allow_zero=False)
    lam_h = _validate.nonneg(lam, "lam (the ridge penalty)")
    n_h, lam_h = _validate.broadcast({"n": n_h, "lam": lam_h})
    mask = to_numpy(spec) > 0
    rank = int(np.count_nonzero(mask))
    singular = (lam_h == 0) & (n_h == rank)
    if np.any(singular):
        raise ValueError(
            f"ridgeless regression (lam = 0) with n equal to the number of non-zero eigenvalues "
            f"({rank}) sits exactly on the interpolation threshold: the risk is infinite. "
            "Use lam > 0 or n != rank."
        )
    # Zero eigenvalues add nothing to df1, df2 or the risk; dropping them keeps kappa = 0 finite.
    spec = spec[xp.asarray(mask)]
    return spec, xp, n_h, lam_h, rank, mask


# Initial guesses for kappa come from a table of df1 on a grid in log kappa (df1 depends on neither n
# nor lam): at most one node per _TABLE_SHARE points, nodes no closer than _TABLE_STEP.
_TABLE_STEP = 0.05
_TABLE_SHARE = 16
_TABLE_MIN = 8


def _table_start(spec, xp, n_a, lam_a, lo, hi):
    """Narrowed brackets and initial guesses (host arrays, in ``u = log kappa``) for every point.

    ``df1`` and ``df1' = -(df1 - df2)`` are computed exactly at ``G`` nodes spanning all brackets.
    Because ``g(u) = 1 - lam e^{-u} - df1(e^u)/n`` is increasing, the signs of ``g`` at the nodes
    locate each root in one cell (a vectorised binary search, O(log G) cheap passes); a cubic
    Hermite interpolant of ``df1`` on that cell then gives the starting point for the exact Newton
    iteration. Nothing here is trusted beyond the signs at the nodes: accuracy comes from the exact
    iteration in :func:`_solve_kappa`.
    """
    m = n_a.size
    u0, u1 = float(lo.min()), float(hi.max())
    g_nodes = int(np.clip(np.ceil((u1 - u0) / _TABLE_STEP) + 1, _TABLE_MIN,
                          max(_TABLE_MIN, m // _TABLE_SHARE)))
    nodes = np.linspace(u0, u1, g_nodes)
    h = nodes[1] - nodes[0]
    sums = spectral.exact_sums(spec, xp.asarray(np.exp(nodes)), xp)
    d1, c1, q = (to_numpy(sums[key]) for key in ("df1", "c1", "q"))
    use_c = c1 < d1
    rank = spec.shape[0]
    slope = -q  # d df1 / du
    ridgeless = lam_a == 0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        exp_minus = np.exp(-nodes)

        def g_at(j):
            shrink = lam_a * exp_minus[j]  # lam / kappa at the nodes
            # 1 - df1/n, from the complement c1 = rank - df1 where it is the smaller sum (near the
            # interpolation threshold df1 ~ rank and 1 - df1/n would cancel)
            free = np.where(use_c[j], ((n_a - rank) + c1[j]) / n_a, 1.0 - d1[j] / n_a)
            return free - np.where(ridgeless, 0.0, shrink)

        # Binary search for the cell [nodes[a], nodes[b]], b = a + 1, with g(a) < 0 <= g(b).
        a = np.zeros(m, dtype=np.int64)
        b = np.full(m, g_nodes - 1, dtype=np.int64)
        while True:
            open_ = b - a > 1
            if not open_.any():
                break
            mid = (a + b) // 2
            neg = g_at(mid) < 0
            a = np.where(open_ & neg, mid, a)
            b = np.where(open_ & ~neg, mid, b)
        new_lo = np.maximum(lo, nodes[a])
        new_hi = np.minimum(hi, nodes[b])
        bad = ~(new_lo < new_hi)  # a root on a node, within rounding: keep the analytic bracket
        new_lo = np.where(bad, lo, new_lo)
        new_hi = np.where(bad, hi, new_hi)
        # Cubic Hermite interpolant of df1 on the cell; root of the interpolated g by a few Newton
        # steps (O(1) per point), started from the secant through the exact end values.
        ga, gb = g_at(a), g_at(b)
        t = np.where(gb > ga, np.clip(-ga / (gb - ga), 0.0, 1.0), 0.5)
        fa, fb, sa, sb = d1[a], d1[b], h * slope[a], h * slope[b]
        for _ in range(4):
            t2, t3 = t * t, t * t * t
            hval = ((2 * t3 - 3 * t2 + 1) * fa + (t3 - 2 * t2 + t) * sa + (3 * t2 - 2 * t3) * fb
                    + (t3 - t2) * sb)
            hder = (6 * t2 - 6 * t) * (fa - fb) + (3 * t2 - 4 * t + 1) * sa + (3 * t2 - 2 * t) * sb
            shrink = np.where(ridgeless, 0.0, lam_a * np.exp(-(nodes[a] + h * t)))
            gt = 1.0 - shrink - hval / n_a
            dgt = h * shrink - hder / n_a  # d g / d t
            t = np.where(dgt > 0, np.clip(t - gt / dgt, 0.0, 1.0), t)
    start = np.clip(nodes[a] + h * t, new_lo, new_hi)
    return new_lo, new_hi, start


def _newton_exact(spec, xp, n_a, lam_a, lo_h, hi_h, tol, max_iter):
    """``u = log kappa`` at every point (host arrays), by safeguarded Newton on exact sums."""
    rank = spec.shape[0]
    lo_h, hi_h, u_h = _table_start(spec, xp, n_a, lam_a, lo_h, hi_h)
    n_a = xp.asarray(n_a)
    lam_a = xp.asarray(lam_a)
    def fun(uu, todo):
        k = xp.exp(uu)
        sums = spectral.exact_sums(spec, k, xp)
        nn, ll = n_a[todo], lam_a[todo]
        # n g and n g', with the complement c1 = rank - df1 where it is the smaller sum
        shrink = nn * ll / k
        g = xp.where(sums["c1"] < sums["df1"], (nn - rank) + sums["c1"], nn - sums["df1"]) - shrink
        return g, shrink + sums["q"]

    # the one bracketed Newton of the theory modules, with ridge's quadratic stopping rule
    u = spectral.newton_log(fun, xp.asarray(lo_h), xp.asarray(hi_h), xp, tol=tol, max_iter=max_iter,
                            u0=xp.asarray(u_h), quadratic_stop=True)
    return to_numpy(u)


def _solve_kappa(spec, xp, n_h, lam_h, rank, tol=1e-14, max_iter=100, *, method="auto",
                 weights=None, tables=None):
    """Vectorised safeguarded Newton on ``g(u) = 1 - lam e^{-u} - df1(e^u)/n`` in ``u = log kappa``.

    ``g`` is increasing in ``u``; the bracket ``[lo, hi]`` always contains the root:
    ``kappa >= lam`` and ``kappa >= lambda_min (rank/n - 1)`` (ridgeless, rank > n) from below,
    ``kappa <= lam + tr(Sigma)/n`` from above. A Newton step leaving the bracket is replaced by
    bisection, so convergence is guaranteed; it is quadratic near the root.

    Two ways to evaluate ``df1``:

    * ``exact`` (small problems): :func:`_table_start` narrows the bracket to one cell of a grid and
      supplies a starting point; every iteration evaluates the sum over the spectrum exactly.
    * interpolated (``auto`` when there are many points, see :func:`hdreg.theory.spectral.table_for`): a
      :class:`~hdreg.theory.spectral.SpectralSums` tabulates the sums once over the brackets' range,
      with a proven relative error bound ``1e-15`` (plus rounding, measured ``< 1e-14``), and
      :meth:`~hdreg.theory.spectral.SpectralSums.solve` runs the same safeguarded Newton iteration on
      the interpolant. Points whose root lies outside the table fall back to the exact path.
      ``method="interp"`` forces it (tests), ``weights`` adds the bias sum to the table and ``tables``
      (a list) receives it, so that :func:`ridge_risk` evaluates its moments from the same table.

    Stopping rule. With ``r_i = lambda_i/(lambda_i + kappa)`` one has ``dr_i/du = -r_i(1 - r_i)`` and
    ``g'' = -lam e^{-u} - sum_i r_i(1-r_i)(1-2r_i)/n``, so ``|g''| <= g'``. Hence a Newton step of
    length ``|d| <= 0.1`` computed from exact ``g, g'`` lands within ``1.3 d^2`` of the root; the
    iteration stops as soon as that bound is below ``tol`` (relative accuracy of kappa), or when a
    step changes ``u`` by less than ``tol max(1, |u|)``.
    """
    if method not in ("auto", "exact", "interp"):
        raise ValueError(f"method must be 'auto', 'exact' or 'interp', got {method!r}")
    shape = n_h.shape
    n_f = n_h.reshape(-1)
    lam_f = lam_h.reshape(-1)
    kappa = np.zeros(n_f.shape)
    host_spec = to_numpy(spec)
    pos = host_spec[host_spec > 0]
    trace = float(pos.sum())
    lam_min = float(pos.min())
    active = ~((lam_f == 0) & (n_f > rank))  # ridgeless under-parameterised: kappa = 0 exactly
    if not np.any(active):
        return kappa.reshape(shape)
    idx = np.flatnonzero(active)
    n_a, lam_a = n_f[idx], lam_f[idx]
    lo_h = np.log(np.maximum(lam_a, np.where(rank > n_a, lam_min * (rank / n_a - 1.0), 0.0)))
    hi_h = np.log(lam_a + trace / n_a)
    u = np.empty(idx.size)
    rest = np.ones(idx.size, dtype=bool)
    sums = None
    if method != "exact":
        sums = spectral.table_for(spec, lo_h, hi_h, idx.size, weights, force=method == "interp")
    if sums is not None:
        if tables is not None:
            tables.append(sums)
        u_i, found = sums.solve(xp.asarray(n_a), xp.asarray(lam_a), tol, max_iter)
        found = to_numpy(found)
        u[found] = to_numpy(u_i)[found]
        rest = ~found
    if rest.any():
        u[rest] = _newton_exact(spec, xp, n_a[rest], lam_a[rest], lo_h[rest], hi_h[rest], tol,
                                max_iter)
    kappa[idx] = np.exp(u)
    return kappa.reshape(shape)


def effective_regularization(spectrum, n, lam):
    r"""The effective regularisation :math:`\kappa(n, \lambda)` of ridge regression.

    Solves :math:`\kappa - \lambda = \frac{\kappa}{n}\sum_i\frac{\lambda_i}{\lambda_i+\kappa}`, the unique
    positive root for ``lam > 0``; for ``lam = 0`` it is the implicit regularisation
    :math:`\tau` with :math:`\mathrm{df}_1(\tau) = n` when ``n`` is below the number of non-zero
    eigenvalues, and ``0`` otherwise. Broadcasts over ``n`` and ``lam``; returns a NumPy array (or a
    float for scalar input). Derived in Chapter ``ch-ridge`` (Theorem ``thm-det-equiv``).
    """
    spec, xp, n_h, lam_h, rank, _ = _prepare(spectrum, n, lam)
    kappa = _solve_kappa(spec, xp, n_h, lam_h, rank)
    return float(kappa) if kappa.ndim == 0 else kappa


def ridgeless_tau(spectrum, n):
    r"""Implicit regularisation :math:`\tau` of the min-norm interpolator: ``effective_regularization``
    at ``lam = 0``."""
    return effective_regularization(spectrum, n, 0.0)


@dataclass(frozen=True)
class RidgeRisk:
    """Deterministic-equivalent quantities, each an array of the broadcast shape of ``(n, lam)``.

    ``train_error`` is the expected training mean squared error :math:`\\frac1n\\|y - X\\hat\\beta\\|^2`
    (it includes the label noise), ``risk = bias + variance`` the excess test error.
    """

    kappa: np.ndarray
    df1: np.ndarray
    df2: np.ndarray
    bias: np.ndarray
    variance: np.ndarray
    risk: np.ndarray
    train_error: np.ndarray


def ridge_risk(spectrum, beta, n, lam, noise_var) -> RidgeRisk:
    r"""Deterministic equivalent of the ridge excess risk, split into bias and variance.

    Parameters
    ----------
    spectrum : (P,) eigenvalues of Σ (non-negative).
    beta : (P,) coordinates of :math:`\beta_\star` in the eigenbasis of Σ.
    n : sample size(s), broadcast against ``lam``.
    lam : ridge penalty (normalised convention), ``0`` for the min-norm interpolator.
    noise_var : label-noise variance :math:`\sigma^2 \ge 0`.

    Returns a :class:`RidgeRisk`; the training error follows
    :math:`\frac1n\|y-X\hat\beta\|^2 \approx (\lambda/\kappa)^2(\mathsf B+\mathsf V+\sigma^2)` with
    :math:`\lambda/\kappa = 1 - \mathrm{df}_1/n` (which stays right in the ridgeless limit).
    """
    full = _validate.spectrum(spectrum)
    b = _validate.vector_like(beta, full, "beta")
    spec, xp, n_h, lam_h, rank, mask = _prepare(full, n, lam)
    b = xp.asarray(b)[xp.asarray(mask)]
    sigma2 = _validate.nonneg_scalar(noise_var, "noise_var")
    weights = spec * b * b
    tables = []  # the interpolation table of the solver, if it built one (with the bias sum)
    kappa = _solve_kappa(spec, xp, n_h, lam_h, rank, weights=weights, tables=tables)
    flat = xp.asarray(kappa.reshape(-1))
    if tables:
        df1, df2, wsum, _, c2 = tables[0].moments(flat, complements=True)
    else:
        ex = spectral.exact_sums(spec, flat, xp, weights)
        df1, df2, wsum, c2 = ex["df1"], ex["df2"], ex["W"], ex["c2"]
    df1, df2, wsum, c2 = (to_numpy(a).reshape(kappa.shape) for a in (df1, df2, wsum, c2))
    # kappa = 0 (ridgeless, n > rank): df1 = df2 = rank and the bias sum is exactly zero.
    n_b = n_h
    # n - df2, from the complement c2 = rank - df2 where it is the smaller sum: near the
    # interpolation threshold df2 ~ n and the subtraction would cancel.
    gap = np.where(c2 < df2, (n_b - rank) + c2, n_b - df2)
    bias = wsum * n_b / gap
    variance = sigma2 * df2 / gap
    risk = bias + variance
    # lam / kappa = 1 - df1/n. Use the ratio wherever kappa > 0: it is exactly 0 for the interpolator
    # (lam = 0, n < rank) and keeps full relative accuracy for lam << kappa, where the subtraction
    # cancels to rounding noise (relative error ~1e-4 at lam = 1e-14). kappa = 0 (ridgeless,
    # n > rank) needs the subtraction: 1 - rank/n.
    shrink = np.where(kappa > 0, lam_h / np.where(kappa > 0, kappa, 1.0), 1.0 - df1 / n_b)
    train = shrink**2 * (risk + sigma2)

    def out(a):
        return float(a) if a.ndim == 0 else a

    return RidgeRisk(out(kappa), out(df1), out(df2), out(bias), out(variance), out(risk), out(train))
