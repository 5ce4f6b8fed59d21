r"""Deterministic equivalent of random-feature ridge regression.

See the chapter *Random-feature ridge regression* (label ``ch-random-features``).

Model (same conventions as :mod:`hdreg.theory.ridge`): inputs :math:`x\sim\mathcal N(0,\Sigma)` in
:math:`\mathbb R^D` with :math:`\Sigma=\operatorname{diag}(\text{spectrum})`, target
:math:`y=x^\top\beta_\star+\varepsilon`, :math:`\operatorname{Var}\varepsilon=\sigma^2`. The ``p``
random features are :math:`z=F^\top x/\sqrt p` with :math:`F\in\mathbb R^{D\times p}` i.i.d.
:math:`\mathcal N(0,1)`, optionally plus independent feature noise :math:`\mu_\star g/\sqrt p`,
:math:`g\sim\mathcal N(0,I_p)` (``nonlinear_var`` :math:`=\mu_\star^2`, the Gaussian equivalent of a
nonlinear activation, see :func:`relu_gaussian_equivalent`). Ridge on the features uses the
normalised penalty :math:`\frac1n\|y-Zw\|^2+\lambda\|w\|^2`; ``lam = 0`` is the minimum-norm solution.
Risk is the excess test error :math:`\mathbb E_x[(f(x)-x^\top\beta_\star)^2]` of the predictor
:math:`f(x)=z^\top\hat w`.

With :math:`s_i=\lambda_i/(\lambda_i+\nu)`, :math:`d_1=\sum_i s_i+\mu_\star^2/\nu`,
:math:`d_2=\sum_i s_i^2` and :math:`e=d_1-d_2`, the two effective regularisations
:math:`(\nu_1,\nu_2)` solve (Chapter ``ch-random-features``, eq. ``eq-rf-fixed-point``)

.. math::
    \nu_1 = \nu_2\Big(1-\frac{d_1(\nu_2)}{p}\Big),\qquad
    \lambda = \nu_1\Big(1-\frac{d_1(\nu_2)}{n}\Big),

and, with :math:`\mathrm{df}_F = d_2 + e^2/(p-d_2)` and :math:`w_i=\lambda_i\beta_{\star,i}^2`,

.. math::
    \mathsf E = \sum_i w_i(1-s_i)^2 + \frac{e}{p-d_2}\sum_i w_i s_i(1-s_i),\qquad
    \mathsf B = \frac{n\,\mathsf E}{n-\mathrm{df}_F},\qquad
    \mathsf V = \sigma^2\frac{\mathrm{df}_F}{n-\mathrm{df}_F}.

This is the theorem of Defilippis, Loureiro and Misiakiewicz (2024) rewritten for the normalised
penalty (their :math:`\lambda` is ``n * lam``). ``bias`` is the risk at :math:`\sigma^2=0` (it contains
the approximation error of the random features), ``variance`` the part proportional to
:math:`\sigma^2`.

All functions broadcast over arrays of ``n``, ``p`` and ``lam`` (or ``nu``) and return NumPy arrays
(floats for scalar input).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate, features
from ..backend import as_host, on_active_backend, to_numpy
from . import spectral

__all__ = [
    "RFRisk",
    "rf_effective_regularization",
    "rf_risk",
    "rf_risk_at_nu",
    "rf_tuned_risk",
    "rf_min_nu",
    "rf_approximation_error",
    "features_needed",
    "compute_optimal_split",
    "relu_coefficients",
    "relu_gaussian_equivalent",
    "PHASE_REGIONS",
    "rf_phase_rate",
    "rf_ray_exponent",
]

# Budget (in array elements) for one (points x spectrum) block.


@dataclass(frozen=True)
class RFRisk:
    r"""Deterministic-equivalent quantities of random-feature ridge, each of the broadcast shape of
    ``(n, p, lam)``.

    ``nu1``: effective regularisation of ridge on the features (Chapter ``ch-ridge``'s :math:`\kappa` of the
    feature covariance); ``nu2``: effective regularisation in input space; ``lam``: the penalty
    (useful with :func:`rf_risk_at_nu`); ``df1``, ``df2``: :math:`d_1, d_2` at ``nu2``; ``df_features``:
    :math:`\mathrm{df}_F`, the variance degrees of freedom; ``approx``: :math:`\mathsf E`, the error of
    the population ridge on the same features with penalty ``nu1`` (at ``lam = 0, p < n`` the
    approximation error of the features); ``bias``, ``variance``, ``risk = bias + variance``;
    ``train_error``: the expected training MSE :math:`(1-d_1/n)^2(\mathsf B+\mathsf V+\sigma^2)`.
    """

    nu1: np.ndarray
    nu2: np.ndarray
    lam: np.ndarray
    df1: np.ndarray
    df2: np.ndarray
    df_features: np.ndarray
    approx: np.ndarray
    bias: np.ndarray
    variance: np.ndarray
    risk: np.ndarray
    train_error: np.ndarray


# --------------------------------------------------------------------------------------------------
# input handling


def _spec(spectrum):
    spec, xp = on_active_backend(_validate.spectrum(spectrum))
    mask = to_numpy(spec) > 0
    return spec[xp.asarray(mask)], xp, mask


def _sizes(n, p):
    n_h = _validate.nonneg(n, "n (the number of samples)", allow_zero=False)
    p_h = _validate.nonneg(p, "p (the number of random features)", allow_zero=False)
    return n_h, p_h


def _nonlinear(nonlinear_var):
    return _validate.nonneg_scalar(nonlinear_var, "nonlinear_var (mu_star^2)")


def _feature_rank(rank, p_h, mvar):
    """Rank of the feature covariance: min(p, rank Σ) for linear features, p with feature noise."""
    return p_h if mvar > 0 else np.minimum(p_h, rank)


def _check_threshold(n_h, p_h, lam_h, rank, mvar):
    bad = (lam_h == 0) & (n_h == _feature_rank(rank, p_h, mvar))
    if np.any(bad):
        raise ValueError(
            "ridgeless random features (lam = 0) with n equal to the rank of the feature covariance "
            f"(min(p, rank Sigma) = {int(np.min(n_h[bad]))}) sit on the interpolation threshold: "
            "the risk is infinite. Use lam > 0 or move n away from p."
        )


# --------------------------------------------------------------------------------------------------
# spectral sums


def _sums(spec, nu, xp, weights=None, table=None):
    """``d1, d2`` (without the nonlinear part) and, with weights, ``sum w (1-s)^2``, ``sum w s (1-s)``
    at every ``nu`` (1-D, may contain 0): :func:`hdreg.theory.spectral.exact_sums`, or the
    interpolation ``table`` (a :class:`~hdreg.theory.spectral.SpectralSums`) for ``d1, d2``."""
    if table is not None and weights is None:
        d1, d2, _ = table.moments(nu)
        return d1, d2, None, None
    ex = spectral.exact_sums(spec, nu, xp, weights)
    if weights is None:
        return ex["df1"], ex["df2"], None, None
    return ex["df1"], ex["df2"], ex["W"], ex["Wc"]


def _nl(mvar, nu, xp):
    """The nonlinear contribution mu_*^2 / nu to d1 (0 when mu_* = 0, also at nu = 0)."""
    if mvar == 0:
        return xp.zeros_like(nu)
    return mvar / nu


# --------------------------------------------------------------------------------------------------
# solvers


_newton_log = spectral.newton_log


def _min_nu(spec, xp, k_h, rank, mvar):
    r"""Smallest admissible :math:`\nu_2`: the root of :math:`d_1(\nu)=k` (``k = min(n, p)``), i.e. the
    value at ``lam = 0``; ``0`` where ``k >= rank`` and there is no feature noise."""
    host = to_numpy(spec)
    lam_min = float(host.min())
    trace = float(host.sum()) + mvar
    # the root depends on k only: solve once per distinct value (phase diagrams repeat k a lot)
    k_all, inverse = np.unique(k_h.reshape(-1), return_inverse=True)
    k = k_all
    out = np.zeros(k.shape)
    active = (k < rank) | (mvar > 0)
    if not np.any(active):
        return out[inverse].reshape(k_h.shape)
    idx = np.flatnonzero(active)
    ka = k[idx]
    lo_h = np.maximum(np.where(rank > ka, lam_min * (rank / ka - 1.0), 0.0), mvar / ka)
    hi_h = trace / ka
    kx = xp.asarray(ka)

    def fun(u, todo):
        nu = xp.exp(u)
        d1, d2, _, _ = _sums(spec, nu, xp)
        nl = _nl(mvar, nu, xp)
        # g = log k - log d1 is increasing in u; dg/du = (d1 - d2 + nl) / (d1 + nl) ... with sign
        tot = d1 + nl
        return xp.log(kx[todo]) - xp.log(tot), (d1 - d2 + nl) / tot

    u = _newton_log(fun, xp.log(xp.asarray(lo_h)), xp.log(xp.asarray(hi_h)), xp)
    out[idx] = to_numpy(xp.exp(u))
    return out[inverse].reshape(k_h.shape)


def _solve_nu2(spec, xp, n_h, p_h, lam_h, rank, mvar):
    """``nu2`` at every broadcast point of ``(n, p, lam)`` (flat NumPy arrays in, flat array out)."""
    nu_min = _min_nu(spec, xp, np.minimum(n_h, p_h), rank, mvar)
    nu2 = nu_min.copy()
    active = lam_h > 0
    if not np.any(active):
        return nu2
    idx = np.flatnonzero(active)
    trace = float(to_numpy(spec).sum()) + mvar
    lam_a, n_a, p_a = lam_h[idx], n_h[idx], p_h[idx]
    lo_h = np.maximum(lam_a, nu_min[idx])
    hi_h = lam_a + trace / p_a + trace / n_a
    lx, nx, px = xp.asarray(lam_a), xp.asarray(n_a), xp.asarray(p_a)
    # many points: tabulate d1, d2 once (hdreg.theory.spectral, relative error ~1e-15) instead of
    # exact O(P) sums at every Newton iteration
    table = spectral.table_for(spec, np.log(lo_h), np.log(hi_h), idx.size)

    def fun(u, todo):
        nu = xp.exp(u)
        d1, d2, _, _ = _sums(spec, nu, xp, table=table)
        nl = _nl(mvar, nu, xp)
        d = d1 + nl
        e = d1 - d2 + nl
        rho = 1.0 - d / px[todo]
        a = 1.0 - d / nx[todo]
        ok = (rho > 0) & (a > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            g = xp.where(ok, u + xp.log(xp.where(ok, rho * a, 1.0)) - xp.log(lx[todo]), -xp.inf)
            dg = 1.0 + e / (px[todo] * xp.where(ok, rho, 1.0)) + e / (nx[todo] * xp.where(ok, a, 1.0))
        return g, dg

    # start just right of the lower end: log h is increasing and concave there, so Newton climbs
    # monotonically to the root (the bracket catches any overshoot)
    start = np.log(np.maximum(lam_a, nu_min[idx] * (1 + 1e-6)) * (1 + 1e-6))
    u = _newton_log(fun, xp.log(xp.asarray(lo_h)), xp.log(xp.asarray(hi_h)), xp, u0=xp.asarray(start))
    nu2[idx] = to_numpy(xp.exp(u))
    return nu2


# --------------------------------------------------------------------------------------------------
# risk at given nu2


def _risk_from_nu(spec, w, xp, n_h, p_h, nu_h, sigma2, mvar):
    """All RFRisk fields at flat arrays ``n, p, nu2`` (``nu2 >= nu_min``)."""
    nu = xp.asarray(nu_h)
    d1, d2, wb, wc = _sums(spec, nu, xp, weights=w)
    d1, d2, wb, wc = (to_numpy(a) for a in (d1, d2, wb, wc))
    with np.errstate(divide="ignore", invalid="ignore"):
        nl = mvar / nu_h if mvar > 0 else np.zeros_like(nu_h)
    d = d1 + nl
    e = d1 - d2 + nl
    gap = p_h - d2
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(e > 0, e / np.where(gap > 0, gap, 1.0), 0.0)
    rho = np.clip(1.0 - d / p_h, 0.0, None)
    shrink = np.clip(1.0 - d / n_h, 0.0, None)
    nu1 = rho * nu_h
    lam = nu1 * shrink
    df_f = d2 + ratio * e
    approx = wb + ratio * wc
    # n - df_F > 0 off the interpolation threshold; at (numerically) the threshold the risk is +inf
    gap_n = n_h - df_f
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(gap_n > 1e-12 * n_h, n_h / np.where(gap_n > 0, gap_n, 1.0), np.inf)
    bias = approx * inv
    variance = sigma2 * (inv - 1.0)
    risk = bias + variance
    with np.errstate(invalid="ignore"):
        train = np.where(shrink > 0, shrink**2 * (risk + sigma2), 0.0)
    return dict(nu1=nu1, nu2=nu_h, lam=lam, df1=d, df2=d2, df_features=df_f, approx=approx,
                bias=bias, variance=variance, risk=risk, train_error=train)


def _pack(fields, shape):
    def out(a):
        a = np.asarray(a).reshape(shape)
        return float(a) if a.ndim == 0 else a

    return RFRisk(**{k: out(v) for k, v in fields.items()})


def _common(spectrum, beta, noise_var, nonlinear_var):
    full = _validate.spectrum(spectrum)
    b = _validate.vector_like(beta, full, "beta")
    spec, xp, mask = _spec(full)
    b = xp.asarray(b)[xp.asarray(mask)]
    sigma2 = _validate.nonneg_scalar(noise_var, "noise_var")
    mvar = _nonlinear(nonlinear_var)
    rank = int(np.count_nonzero(mask))
    return spec, xp, spec * b * b, sigma2, mvar, rank


# --------------------------------------------------------------------------------------------------
# public API


def rf_effective_regularization(spectrum, n, p, lam, nonlinear_var=0.0):
    r"""The pair :math:`(\nu_1, \nu_2)` of random-feature ridge (Chapter ``ch-random-features``, eq. ``eq-rf-fixed-point``).

    :math:`\nu_2` is the unique solution of
    :math:`\lambda = \nu_2\,(1 - d_1(\nu_2)/p)\,(1 - d_1(\nu_2)/n)` with :math:`d_1(\nu_2) < \min(n, p)`
    (the right-hand side increases from 0 to infinity on that range), and
    :math:`\nu_1 = \nu_2(1 - d_1(\nu_2)/p)`. For ``lam = 0``, :math:`d_1(\nu_2) = \min(n, p)`. Broadcasts
    over ``n``, ``p`` and ``lam``; returns two NumPy arrays (floats for scalar input).
    """
    spec, xp, mask = _spec(spectrum)
    rank = int(np.count_nonzero(mask))
    mvar = _nonlinear(nonlinear_var)
    n_h, p_h = _sizes(n, p)
    lam_h = np.asarray(to_numpy(_validate.nonneg(lam, "lam (the ridge penalty)")), dtype=np.float64)
    n_h, p_h, lam_h = _validate.broadcast({"n": n_h, "p": p_h, "lam": lam_h})
    _check_threshold(n_h, p_h, lam_h, rank, mvar)
    shape = n_h.shape
    nu2 = _solve_nu2(spec, xp, n_h.reshape(-1), p_h.reshape(-1), lam_h.reshape(-1), rank, mvar)
    d1, _, _, _ = _sums(spec, xp.asarray(nu2), xp)
    with np.errstate(divide="ignore", invalid="ignore"):
        nl = mvar / nu2 if mvar > 0 else 0.0
    nu1 = np.clip(1.0 - (to_numpy(d1) + nl) / p_h.reshape(-1), 0.0, None) * nu2
    nu1 = np.where((lam_h.reshape(-1) == 0) & (p_h.reshape(-1) < n_h.reshape(-1)), 0.0, nu1)
    nu1, nu2 = nu1.reshape(shape), nu2.reshape(shape)
    if nu1.ndim == 0:
        return float(nu1), float(nu2)
    return nu1, nu2


def rf_risk(spectrum, beta, n, p, lam, noise_var, nonlinear_var=0.0) -> RFRisk:
    r"""Deterministic equivalent of the excess risk of random-feature ridge regression.

    Parameters
    ----------
    spectrum : (D,) eigenvalues of Σ (non-negative).
    beta : (D,) coordinates of :math:`\beta_\star` in the eigenbasis of Σ.
    n : number of samples; p : number of random features; lam : normalised ridge penalty (``0`` for
        the minimum-norm solution). The three broadcast against each other.
    noise_var : label-noise variance :math:`\sigma^2 \ge 0`.
    nonlinear_var : :math:`\mu_\star^2 \ge 0`, variance of independent feature noise (the nonlinear
        part of a Gaussian-equivalent activation, :func:`relu_gaussian_equivalent`); ``0`` for linear
        Gaussian features.

    Returns an :class:`RFRisk`. Limits (Chapter ``ch-random-features``): ``p -> inf`` gives
    :func:`hdreg.theory.ridge.ridge_risk`; ``lam = 0, p < n`` gives variance
    :math:`\sigma^2 p/(n-p)`; ``n -> inf`` gives :func:`rf_approximation_error`.
    """
    spec, xp, w, sigma2, mvar, rank = _common(spectrum, beta, noise_var, nonlinear_var)
    n_h, p_h = _sizes(n, p)
    lam_h = np.asarray(to_numpy(_validate.nonneg(lam, "lam (the ridge penalty)")), dtype=np.float64)
    n_h, p_h, lam_h = _validate.broadcast({"n": n_h, "p": p_h, "lam": lam_h})
    _check_threshold(n_h, p_h, lam_h, rank, mvar)
    shape = n_h.shape
    nf, pf, lf = n_h.reshape(-1), p_h.reshape(-1), lam_h.reshape(-1)
    nu2 = _solve_nu2(spec, xp, nf, pf, lf, rank, mvar)
    fields = _risk_from_nu(spec, w, xp, nf, pf, nu2, sigma2, mvar)
    fields["lam"] = lf.copy()  # exact input, not the value reconstructed from nu2
    # ridgeless with p < n: nu1 = 0 exactly (1 - df1/p vanishes up to rounding)
    fields["nu1"] = np.where((lf == 0) & (pf < nf), 0.0, fields["nu1"])
    return _pack(fields, shape)


def rf_min_nu(spectrum, n, p, nonlinear_var=0.0):
    r"""The smallest admissible :math:`\nu_2` (its value at ``lam = 0``): the root of
    :math:`d_1(\nu)=\min(n,p)`, ``0`` when ``min(n, p)`` exceeds the rank and there is no feature noise.
    Broadcasts over ``n`` and ``p``."""
    spec, xp, mask = _spec(spectrum)
    n_h, p_h = _sizes(n, p)
    n_h, p_h = _validate.broadcast({"n": n_h, "p": p_h})
    out = _min_nu(spec, xp, np.minimum(n_h, p_h), int(np.count_nonzero(mask)), _nonlinear(nonlinear_var))
    return float(out) if out.ndim == 0 else out


def rf_risk_at_nu(spectrum, beta, n, p, nu, noise_var, nonlinear_var=0.0) -> RFRisk:
    r"""The deterministic equivalent parametrised by :math:`\nu_2` instead of the penalty.

    The map :math:`\nu_2 \mapsto \lambda = \nu_2(1-d_1/p)(1-d_1/n)` is explicit and increasing, so a
    sweep over :math:`\nu_2 \ge` :func:`rf_min_nu` covers every ``lam >= 0`` without solving anything;
    the returned ``lam`` field gives the penalty. Raises ``ValueError`` if ``nu`` is below the minimum.
    """
    spec, xp, w, sigma2, mvar, rank = _common(spectrum, beta, noise_var, nonlinear_var)
    n_h, p_h = _sizes(n, p)
    nu_h = as_host(_validate.nonneg(nu, "nu"))
    n_h, p_h, nu_h = _validate.broadcast({"n": n_h, "p": p_h, "nu": nu_h})
    shape = n_h.shape
    nf, pf, vf = n_h.reshape(-1), p_h.reshape(-1), nu_h.reshape(-1)
    nu_min = _min_nu(spec, xp, np.minimum(nf, pf), rank, mvar)
    if np.any(vf < nu_min * (1 - 1e-12)):
        raise ValueError("nu is below rf_min_nu(spectrum, n, p): no penalty lam >= 0 gives it")
    thresh = (vf <= nu_min) & (nf == _feature_rank(rank, pf, mvar))
    if np.any(thresh):
        raise ValueError("nu = rf_min_nu with n = rank of the feature covariance is the interpolation "
                         "threshold: the risk is infinite")
    return _pack(_risk_from_nu(spec, w, xp, nf, pf, vf, sigma2, mvar), shape)


def rf_tuned_risk(spectrum, beta, n, p, noise_var, nonlinear_var=0.0, grid: int = 400):
    r"""Risk of random-feature ridge with the penalty tuned optimally over ``lam >= 0``.

    Evaluates :func:`rf_risk_at_nu` on ``grid`` log-spaced values of :math:`\nu_2`, from
    :func:`rf_min_nu` (``lam = 0``) up to :math:`10^3\lambda_1+\mathrm{tr}\,\Sigma/\min(n,p)` (far in
    the over-regularised regime), vectorised over the broadcast ``(n, p)``, and refines the best point
    by a parabola in :math:`\log\nu_2`. Returns ``(risk, lam)``: the minimal risk and the penalty
    attaining it (NumPy arrays of the broadcast shape, floats for scalar input).
    """
    spec, xp, w, sigma2, mvar, rank = _common(spectrum, beta, noise_var, nonlinear_var)
    n_h, p_h = _sizes(n, p)
    grid = _validate.positive_int(grid, "grid")
    if grid < 5:
        raise ValueError(f"grid must be >= 5, got {grid}")
    n_h, p_h = _validate.broadcast({"n": n_h, "p": p_h})
    shape = n_h.shape
    nf, pf = n_h.reshape(-1), p_h.reshape(-1)
    nu_min = _min_nu(spec, xp, np.minimum(nf, pf), rank, mvar)
    host = to_numpy(spec)
    trace = float(host.sum()) + mvar
    top = 1e3 * float(host.max()) + trace / np.minimum(nf, pf)
    # nu_min = 0 (min(n, p) >= rank): start far below the smallest eigenvalue instead
    base = np.where(nu_min > 0, nu_min, 1e-6 * float(host.min()))
    t = np.linspace(0.0, 1.0, grid)
    V = base[:, None] * (top / base)[:, None] ** t[None, :]
    V[:, 0] = nu_min  # lam = 0 exactly
    thresh = nf == _feature_rank(rank, pf, mvar)
    # on the interpolation threshold lam = 0 has infinite risk: replace it by a point just above
    V[thresh, 0] = np.where(V[thresh, 0] > 0, np.sqrt(V[thresh, 0] * V[thresh, 1]), 0.5 * V[thresh, 1])
    N = np.broadcast_to(nf[:, None], V.shape).reshape(-1)
    P = np.broadcast_to(pf[:, None], V.shape).reshape(-1)
    f = _risk_from_nu(spec, w, xp, N, P, V.reshape(-1), sigma2, mvar)
    R = f["risk"].reshape(V.shape)
    L = f["lam"].reshape(V.shape)
    j = np.argmin(R, axis=1)
    rows = np.arange(R.shape[0])
    best, lam_best = R[rows, j].copy(), L[rows, j].copy()
    inner = (j > 0) & (j < grid - 1)
    if np.any(inner):
        r = rows[inner]
        jj = j[inner]
        x0, x1, x2 = (np.log(V[r, jj + k]) for k in (-1, 0, 1))
        y0, y1, y2 = R[r, jj - 1], R[r, jj], R[r, jj + 1]
        den = (x0 - x1) * (x0 - x2) * (x1 - x2)
        a = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / den
        b = (x2 * x2 * (y0 - y1) + x1 * x1 * (y2 - y0) + x0 * x0 * (y1 - y2)) / den
        ok = a > 0
        xs = np.where(ok, -b / (2 * np.where(ok, a, 1.0)), x1)
        xs = np.clip(xs, x0, x2)
        g = _risk_from_nu(spec, w, xp, nf[r], pf[r], np.exp(xs), sigma2, mvar)
        better = g["risk"] < best[r]
        best[r[better]] = g["risk"][better]
        lam_best[r[better]] = g["lam"][better]
    best, lam_best = best.reshape(shape), lam_best.reshape(shape)
    if best.ndim == 0:
        return float(best), float(lam_best)
    return best, lam_best


def rf_approximation_error(spectrum, beta, p):
    r"""Approximation error of ``p`` random features, the ``n -> inf``, ``lam -> 0`` limit of
    :func:`rf_risk`: :math:`\nu\sum_i \lambda_i\beta_{\star,i}^2/(\lambda_i+\nu)` with
    :math:`\mathrm{df}_1(\nu)=p` (``0`` when ``p`` is at least the rank). It is the deterministic
    equivalent of :math:`\min_a\|\Sigma^{1/2}(Fa-\beta_\star)\|^2`. Broadcasts over ``p``."""
    full = _validate.spectrum(spectrum)
    b = _validate.vector_like(beta, full, "beta")
    spec, xp, mask = _spec(full)
    b = xp.asarray(b)[xp.asarray(mask)]
    _, p_h = _sizes(1.0, p)
    nu = _min_nu(spec, xp, p_h, int(np.count_nonzero(mask)), 0.0)
    flat = nu.reshape(-1)
    w = spec * b * b
    _, _, wb, wc = _sums(spec, xp.asarray(flat), xp, weights=w)
    out = (to_numpy(wb) + to_numpy(wc)).reshape(nu.shape)
    return float(out) if out.ndim == 0 else out


def features_needed(spectrum, beta, n, noise_var, factor: float = 4.0, p_grid=None,
                    nonlinear_var=0.0, grid: int = 150):
    r"""Smallest number of random features whose tuned risk is within ``factor`` of the tuned kernel
    (``p = inf``) risk, for every ``n`` (1-D array): :math:`p_c(n)=\min\{p: \min_\lambda\mathcal R(n,p,\lambda)
    \le c\,\min_\lambda\mathcal R(n,\infty,\lambda)\}` (Chapter ``ch-random-features``, scaling laws).

    The tuned risk (:func:`rf_tuned_risk`) decreases in ``p``; ``p_c`` is found on ``p_grid`` (default
    200 log-spaced values from 1 to the number of eigenvalues) and refined by log-log interpolation.
    Returns a NumPy array (``nan`` where ``p_grid`` is too short).
    """
    spec_h = np.asarray(to_numpy(_validate.spectrum(spectrum)))
    n_h = np.atleast_1d(_validate.nonneg(n, "n", allow_zero=False))
    if n_h.ndim != 1:
        raise ValueError(f"n must be a scalar or a 1-D array, got shape {n_h.shape}")
    if not factor > 1:
        raise ValueError(f"factor must be > 1, got {factor!r}")
    ps = np.geomspace(1.0, spec_h.size, 200) if p_grid is None else as_host(p_grid)
    if ps.ndim != 1 or ps.size < 2 or np.any(np.diff(ps) <= 0):
        raise ValueError("p_grid must be an increasing 1-D array with at least 2 entries")
    R, _ = rf_tuned_risk(spectrum, beta, n_h[:, None], ps[None, :], noise_var, nonlinear_var, grid)
    K, _ = rf_tuned_risk(spectrum, beta, n_h, 1e6 * max(float(n_h.max()), spec_h.size), noise_var,
                         nonlinear_var, grid)
    logratio = np.log(R / K[:, None]) - np.log(factor)
    out = np.full(n_h.shape, np.nan)
    for i in range(n_h.size):
        below = np.flatnonzero(logratio[i] <= 0)
        if below.size == 0:
            continue
        j = below[0]
        if j == 0:
            out[i] = ps[0]
            continue
        y0, y1 = logratio[i, j - 1], logratio[i, j]
        x0, x1 = np.log(ps[j - 1]), np.log(ps[j])
        out[i] = np.exp(x0 + (0.0 - y0) * (x1 - x0) / (y1 - y0))
    return out


def compute_optimal_split(spectrum, beta, budgets, noise_var, nonlinear_var=0.0, splits: int = 61,
                          grid: int = 120):
    r"""Compute-optimal allocation at a budget :math:`C = np` (the cost of forming the features): for
    every budget, minimise the tuned risk (:func:`rf_tuned_risk`) over ``n`` with ``p = C/n``
    (``splits`` log-spaced values of ``n`` from :math:`\sqrt C` to :math:`C^{0.97}`, refined by a
    parabola in :math:`\log n`). Returns ``(n_opt, p_opt, risk_opt)``, NumPy arrays shaped like
    ``budgets`` (Chapter ``ch-random-features``)."""
    C = np.atleast_1d(as_host(budgets))
    if C.ndim != 1 or np.any(~np.isfinite(C)) or np.any(C <= 1):
        raise ValueError(f"budgets must be a 1-D array of finite values > 1, got {budgets!r}")
    splits = _validate.positive_int(splits, "splits")
    if splits < 5:
        raise ValueError(f"splits must be >= 5, got {splits}")
    frac = np.linspace(0.5, 0.97, splits)
    N = C[:, None] ** frac[None, :]
    R, _ = rf_tuned_risk(spectrum, beta, N, C[:, None] / N, noise_var, nonlinear_var, grid)
    j = np.clip(np.argmin(R, axis=1), 1, splits - 2)
    rows = np.arange(C.size)
    x = np.log(N[rows[:, None], j[:, None] + np.arange(-1, 2)[None, :]])
    y = np.log(R[rows[:, None], j[:, None] + np.arange(-1, 2)[None, :]])
    n_opt = np.empty(C.size)
    r_opt = np.empty(C.size)
    for i in range(C.size):
        a, b, c = np.polyfit(x[i], y[i], 2)
        xs = -b / (2 * a) if a > 0 else x[i, 1]
        xs = float(np.clip(xs, x[i, 0], x[i, 2]))
        n_opt[i] = np.exp(xs)
        r_opt[i] = float(rf_tuned_risk(spectrum, beta, n_opt[i], C[i] / n_opt[i], noise_var,
                                       nonlinear_var, grid)[0])
    return n_opt, C / n_opt, r_opt


def relu_coefficients():
    r"""Hermite coefficients of the ReLU for a standard Gaussian input :math:`u`:
    ``(mu0, mu1, mu_star)`` with :math:`\mu_0=\mathbb E\,\mathrm{relu}(u)=1/\sqrt{2\pi}`,
    :math:`\mu_1=\mathbb E[u\,\mathrm{relu}(u)]=1/2`,
    :math:`\mu_\star^2=\mathbb E\,\mathrm{relu}(u)^2-\mu_0^2-\mu_1^2=1/4-1/(2\pi)` (Chapter ``ch-random-features``).
    The constants live in :mod:`hdreg.features`, with the feature maps the simulators use."""
    return features.relu_coefficients()


def relu_gaussian_equivalent(spectrum, beta):
    r"""Linear Gaussian equivalent of centred ReLU features of isotropic Gaussian inputs.

    For :math:`x\sim\mathcal N(0, sI_D)` and features
    :math:`z_j=(\mathrm{relu}(u_j)-\mu_0)/\sqrt p`, :math:`u_j=f_j^\top x/\sqrt{sD}`,
    :math:`\|f_j\|=\sqrt D`, the equivalent model is :math:`z=F^\top x'/\sqrt p+\mu_\star g/\sqrt p` with
    :math:`x'=\mu_1 x/\sqrt{sD}` (Chapter ``ch-random-features``). Returns ``(spectrum_eq, beta_eq, nonlinear_var)`` to pass
    to :func:`rf_risk`: ``spectrum_eq = mu1^2/D``, ``beta_eq = beta * sqrt(s D)/mu1``,
    ``nonlinear_var = mu_star^2``. ``spectrum`` must be constant (isotropic inputs).
    """
    spec = np.asarray(to_numpy(_validate.spectrum(spectrum)))
    b = np.asarray(to_numpy(_validate.vector_like(beta, spec, "beta")))
    if not np.allclose(spec, spec[0], rtol=1e-12, atol=0):
        raise ValueError("relu_gaussian_equivalent needs isotropic inputs: spectrum must be constant")
    s, D = float(spec[0]), spec.size
    _, mu1, mu_star = relu_coefficients()
    return np.full(D, mu1**2 / D), b * np.sqrt(s * D) / mu1, mu_star**2


# --------------------------------------------------------------------------------------------------
# (ell, q) phase diagram: penalty lam = n^-ell, features p = n^q

#: Names of the regions of :func:`rf_phase_rate`, indexed by its ``region`` codes.
PHASE_REGIONS = ("approximation", "bias", "variance")


def rf_phase_rate(alpha, r, ell, q):
    r"""Predicted decay exponent of the random-feature risk along the ray ``lam = n^-ell``,
    ``p = n^q`` (normalised penalty), for :math:`\lambda_i = i^{-\alpha}`,
    :math:`\lambda_i\beta_{\star,i}^2 = i^{-(1+2\alpha r)}` and :math:`\sigma^2 > 0` (the random-features chapter, label ``ch-random-features``,
    our derivation from the deterministic equivalent).

    With :math:`\gamma = \min(\ell, \alpha\min(1, q))` (so that :math:`\nu_2 \asymp n^{-\gamma}`),
    the three terms of the equivalent decay with exponents

    * bias :math:`2\min(r, 1)\gamma`,
    * variance :math:`1 - \gamma/\alpha`,
    * approximation (the feature term) :math:`q + \gamma(\min(2r, 1) - 1/\alpha)`,

    and the risk decays as :math:`n^{-\text{rate}}` with the smallest of them. Returns
    ``(rate, region, gamma)`` broadcast over ``ell`` and ``q``; ``region`` indexes
    :data:`PHASE_REGIONS` (ties go to the approximation, then the bias term).
    """
    alpha = float(_validate.nonneg(alpha, "alpha", allow_zero=False))
    r = float(_validate.nonneg(r, "r", allow_zero=False))
    ell = np.asarray(to_numpy(_validate.nonneg(ell, "ell", allow_zero=False)), dtype=np.float64)
    q = np.asarray(to_numpy(_validate.nonneg(q, "q", allow_zero=False)), dtype=np.float64)
    ell, q = np.broadcast_arrays(ell, q)
    gamma = np.minimum(ell, alpha * np.minimum(1.0, q))
    terms = np.stack([q + gamma * (min(2 * r, 1.0) - 1 / alpha),
                      2 * min(r, 1.0) * gamma,
                      1 - gamma / alpha])
    rate = terms.min(axis=0)
    region = np.argmax(terms <= rate + 1e-12, axis=0)
    if rate.ndim == 0:
        return float(rate), int(region), float(gamma)
    return rate, region, gamma


def rf_ray_exponent(spectrum, beta, noise_var, ell, q, n_hi, factor: float = 10.0,
                    nonlinear_var=0.0):
    r"""Local decay exponent :math:`-\Delta\log\mathcal R/\Delta\log n` of the deterministic
    equivalent between ``n_hi / factor`` and ``n_hi`` along the rays ``lam = n^-ell``, ``p = n^q``
    (all three broadcast). Compare with :func:`rf_phase_rate`; ``n_hi`` must leave the effective
    dimension :math:`n^{\gamma/\alpha}` well below the length of ``spectrum``."""
    ell = np.asarray(to_numpy(_validate.nonneg(ell, "ell", allow_zero=False)), dtype=np.float64)
    q = np.asarray(to_numpy(_validate.nonneg(q, "q", allow_zero=False)), dtype=np.float64)
    n_hi = np.asarray(to_numpy(_validate.nonneg(n_hi, "n_hi", allow_zero=False)), dtype=np.float64)
    factor = float(_validate.nonneg(factor, "factor", allow_zero=False))
    if factor <= 1:
        raise ValueError(f"factor must be > 1, got {factor}")
    ell, q, n_hi = np.broadcast_arrays(ell, q, n_hi)
    ns = np.stack([n_hi / factor, n_hi])
    risk = rf_risk(spectrum, beta, ns, ns ** q, ns ** (-ell), noise_var,
                   nonlinear_var=nonlinear_var).risk
    out = -np.log(risk[1] / risk[0]) / np.log(factor)
    return float(out) if out.ndim == 0 else out
