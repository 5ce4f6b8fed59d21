r"""Least squares on real plus synthetic data: deterministic equivalents.

See the chapter *Synthetic data selection* (label ``ch-synthetic``).

Two sources share the labelling vector :math:`\beta_\star` and the noise variance :math:`\sigma^2`:
``n_t`` target (real) rows :math:`x = \Sigma_t^{1/2}z + \mu_t` and ``n_s`` synthetic rows
:math:`x = \Sigma_s^{1/2}z + \mu_s`, labels :math:`y = x^\top\beta_\star + \varepsilon`. The estimator
is the minimum-norm least-squares fit on the union (``n = n_t + n_s`` rows), and the risk is the
excess error on the *target* distribution,
:math:`\mathbb E_{x\sim t}[(x^\top(\hat\beta-\beta_\star))^2]
= \|\hat\beta-\beta_\star\|^2_{\Sigma_t+\mu_t\mu_t^\top}`.

Under-parameterised (``n > p``), Chapter ``ch-synthetic``, Theorem ``thm-mixed``: with :math:`C = M^\top M`,
:math:`M = \Sigma_s^{1/2}\Sigma_t^{-1/2}`, eigenvalues :math:`c_1,\dots,c_p` ("shift spectrum"),

.. math::
    \mathcal R \to \sigma^2\sum_i\frac1{a_t + a_s c_i},\qquad
    a_t = \frac{n_t}{1+\delta_t},\ a_s = \frac{n_s}{1+\delta_s},\
    \delta_t = \sum_i\frac1{a_t+a_sc_i},\ \delta_s = \sum_i\frac{c_i}{a_t+a_sc_i},

and :math:`a_t + a_s = n - p`, which reduces the fixed point to one monotone scalar equation. The
means do not enter. Synthetic-only training (Proposition ``prop-synthetic-only``) is different:

.. math::
    \mathcal R \to \frac{\sigma^2}{n-p}\Big[\operatorname{tr}(\Sigma_t\Sigma_s^{-1}) + \|u\|^2
    - (u^\top\hat m)^2\Big],\qquad u = \Sigma_s^{-1/2}\mu_t,\ \hat m = \frac{\Sigma_s^{-1/2}\mu_s}
    {\|\Sigma_s^{-1/2}\mu_s\|}.

Over-parameterised, simultaneously diagonalisable covariances (``overparameterised_risk``): the
generalised resolvent :math:`\bar Q = (a_t\Sigma_t + a_s\Sigma_s + \tilde\lambda - tA)^{-1}` with
:math:`\tilde\lambda = n\lambda` (the library's normalised penalty ``lam``), solved in the variables
:math:`c_g = a_g/\tilde\lambda`, which stay finite in the ridgeless limit; bias and variance come from
implicit differentiation of the fixed point (Chapter ``ch-synthetic``, Proposition ``prop-overparam``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from .. import _validate
from ..backend import get_backend, as_host, single_threaded, single_threaded_blas, to_numpy

__all__ = [
    "kms_covariance",
    "shift_spectrum",
    "trace_normalised",
    "mixed_fixed_point",
    "mixed_risk_from_shift",
    "mixed_training_risk",
    "synthetic_only_risk",
    "OverparamRisk",
    "overparameterised_risk",
]


_single_threaded = single_threaded  # the decorator, from hdreg.backend


def kms_covariance(p: int, rho: float) -> np.ndarray:
    r"""The Kac–Murdock–Szegő Toeplitz matrix :math:`(\Sigma)_{jk} = \rho^{|j-k|}`, ``0 <= rho < 1``."""
    p = _validate.positive_int(p, "p")
    rho = float(rho)
    if not (0.0 <= rho < 1.0):
        raise ValueError(f"rho must lie in [0, 1), got {rho!r}")
    idx = np.arange(p)
    return rho ** np.abs(idx[:, None] - idx[None, :])


def _pd_matrix(values, name):
    m = np.asarray(to_numpy(_validate.psd_matrix(to_numpy(values), name)), dtype=float)
    if np.linalg.eigvalsh(m).min() <= 1e-12 * max(1.0, np.abs(m).max()):
        raise ValueError(f"{name} must be positive definite (it is inverted)")
    return m


def _pair(sigma_t, sigma_s):
    st = _pd_matrix(sigma_t, "sigma_t")
    ss = np.asarray(to_numpy(_validate.psd_matrix(to_numpy(sigma_s), "sigma_s")), dtype=float)
    if ss.shape != st.shape:
        raise ValueError(f"sigma_s must have the same shape as sigma_t {st.shape}, got {ss.shape}")
    return st, ss


@_single_threaded
def shift_spectrum(sigma_t, sigma_s) -> np.ndarray:
    r"""Eigenvalues (ascending) of :math:`C = M^\top M = \Sigma_t^{-1/2}\Sigma_s\Sigma_t^{-1/2}`, i.e. the
    generalised eigenvalues of the pair :math:`(\Sigma_s, \Sigma_t)`; ``sigma_t`` must be positive
    definite, ``sigma_s`` positive semi-definite."""
    st, ss = _pair(sigma_t, sigma_s)
    return np.clip(scipy.linalg.eigh(ss, st, eigvals_only=True), 0.0, None)


@_single_threaded
def trace_normalised(sigma_t, sigma_s) -> np.ndarray:
    r"""``sigma_s`` rescaled so that :math:`\operatorname{tr}(M^\top M) = \operatorname{tr}(\Sigma_t^{-1}
    \Sigma_s) = p` (the normalisation of the paper's Figure 1)."""
    st, ss = _pair(sigma_t, sigma_s)
    tr = float(np.trace(np.linalg.solve(st, ss)))
    if not tr > 0:
        raise ValueError("sigma_s must not be zero")
    return ss * (st.shape[0] / tr)


def _sizes(n_t, n_s):
    return _validate.nonneg(n_t, "n_t"), _validate.nonneg(n_s, "n_s")


def mixed_fixed_point(shift, n_t, n_s, tol: float = 1e-13, max_iter: int = 200):
    r"""``(a_t, a_s)`` of the under-parameterised mixed fixed point, for a shift spectrum ``shift``
    (shape ``(..., p)``) and sizes ``n_t, n_s`` broadcastable to ``shift.shape[:-1]``.

    Uses :math:`a_t + a_s = n - p` (sum the two fixed-point equations) and solves the remaining
    scalar equation :math:`f(x) = x + \sum_i x/(x + (n-p-x)c_i) = n_t` for :math:`x = a_t`; ``f``
    increases from 0 to ``n`` on ``(0, n - p)``, so bisection (vectorised) is safe.
    """
    c = as_host(shift)
    if c.ndim < 1 or c.shape[-1] == 0:
        raise ValueError(f"shift must have a last axis of eigenvalues, got shape {c.shape}")
    if not np.all(np.isfinite(c)) or np.any(c < 0):
        raise ValueError("shift (the eigenvalues of M^T M) must be finite and >= 0")
    p = c.shape[-1]
    nt, ns = _sizes(n_t, n_s)
    nt, ns = (np.broadcast_to(a, c.shape[:-1]).astype(float) for a in np.broadcast_arrays(nt, ns))
    N = nt + ns - p
    if np.any(N <= 0):
        raise ValueError(f"the under-parameterised formula needs n_t + n_s > p = {p}; "
                         f"got n_t + n_s = {np.min(nt + ns):g}")
    if np.any(ns > 0) and np.any(np.all(c == 0, axis=-1) & (ns > 0)):
        raise ValueError("sigma_s must not be zero when n_s > 0")
    lo = np.zeros_like(N)
    hi = N.copy()
    Ne = N[..., None]
    for _ in range(max_iter):
        x = 0.5 * (lo + hi)
        xe = x[..., None]
        f = x + (xe / (xe + (Ne - xe) * c)).sum(axis=-1) - nt
        lo = np.where(f < 0, x, lo)
        hi = np.where(f < 0, hi, x)
        if np.all(hi - lo <= tol * N):
            break
    a_t = 0.5 * (lo + hi)
    # n_t = 0 (synthetic only): a_t = 0 exactly; n_s = 0: a_s = 0 exactly.
    a_t = np.where(nt == 0, 0.0, np.where(ns == 0, N, a_t))
    return a_t, N - a_t


def mixed_risk_from_shift(shift, n_t, n_s, noise_var):
    r"""Limiting target risk :math:`\sigma^2\sum_i 1/(a_t + a_s c_i)` of the under-parameterised mixed
    fit, from the shift spectrum (shape ``(..., p)``); vectorised like :func:`mixed_fixed_point`."""
    sigma2 = _validate.nonneg_scalar(noise_var, "noise_var")
    c = as_host(shift)
    a_t, a_s = mixed_fixed_point(c, n_t, n_s)
    risk = sigma2 * (1.0 / (a_t[..., None] + a_s[..., None] * c)).sum(axis=-1)
    return float(risk) if np.ndim(risk) == 0 else risk


@_single_threaded
def mixed_training_risk(sigma_t, sigma_s, n_t, n_s, noise_var) -> float:
    r"""Limiting excess risk on the target distribution of the minimum-norm least-squares fit on
    ``n_t`` target rows (covariance ``sigma_t``) and ``n_s`` synthetic rows (covariance ``sigma_s``),
    in the under-parameterised regime ``n_t + n_s > p`` (Chapter ``ch-synthetic``, Theorem ``thm-mixed``).

    The result depends on the covariances only through the spectrum of :math:`M^\top M`,
    :math:`M = \Sigma_s^{1/2}\Sigma_t^{-1/2}`, and not on the means of either source. For
    :math:`\Sigma_s = \Sigma_t` it is :math:`\sigma^2 p/(n-p)`.
    """
    st, ss = _pair(sigma_t, sigma_s)
    p = st.shape[0]
    nt, ns = _sizes(n_t, n_s)
    if nt.ndim or ns.ndim:
        raise ValueError("n_t and n_s must be scalars (use mixed_risk_from_shift to vectorise)")
    if nt + ns <= p:
        raise ValueError(f"n_t + n_s must exceed p = {p} (under-parameterised regime), "
                         f"got {nt + ns:g}; use overparameterised_risk otherwise")
    sigma2 = _validate.nonneg_scalar(noise_var, "noise_var")
    return float(mixed_risk_from_shift(shift_spectrum(st, ss), float(nt), float(ns), sigma2))


@_single_threaded
def synthetic_only_risk(sigma_t, sigma_s, mu_t, mu_s, n, noise_var, finite_n: bool = False) -> float:
    r"""Limiting target risk of least squares on ``n > p`` synthetic rows only
    (Chapter ``ch-synthetic``, Proposition ``prop-synthetic-only``):

    .. math::
        \frac{\sigma^2}{n-p}\Big[\operatorname{tr}(\Sigma_t\Sigma_s^{-1}) + \|u\|^2 - (u^\top\hat m)^2\Big],
        \quad u = \Sigma_s^{-1/2}\mu_t,\ \hat m \propto \Sigma_s^{-1/2}\mu_s

    (the last term is absent when ``mu_s = 0``). Here the means *do* matter.

    ``finite_n=True`` returns instead the expectation over Gaussian designs of the noise-averaged
    risk, :math:`\sigma^2\{(\operatorname{tr}A - A_{11})/(n-p-1) + A_{11}(n-2)/((n-p-1)(n-2+n\|m\|^2))\}`
    with :math:`A = \Sigma_s^{-1/2}\Sigma_t\Sigma_s^{-1/2} + uu^\top` and
    :math:`A_{11} = \hat m^\top A\hat m`; it is exact except for
    :math:`\mathbb E[1/\chi'^2_n(n\|m\|^2)] \approx 1/(n-2+n\|m\|^2)`, a relative error
    :math:`O(1/(n\|m\|^2))` in the last (already small) term. With ``mu_s = 0`` it is
    :math:`\sigma^2\operatorname{tr}A/(n-p-1)`, the inverse-Wishart mean.
    """
    ss = _pd_matrix(sigma_s, "sigma_s")
    st = np.asarray(to_numpy(_validate.psd_matrix(to_numpy(sigma_t), "sigma_t")), dtype=float)
    if st.shape != ss.shape:
        raise ValueError(f"sigma_t must have the same shape as sigma_s {ss.shape}, got {st.shape}")
    p = ss.shape[0]
    mt = as_host(mu_t)
    ms = as_host(mu_s)
    for v, name in ((mt, "mu_t"), (ms, "mu_s")):
        if v.shape != (p,) or not np.all(np.isfinite(v)):
            raise ValueError(f"{name} must be a finite vector of length p = {p}, got shape {v.shape}")
    n_f = _validate.nonneg_scalar(n, "n")
    if n_f <= p:
        raise ValueError(f"n must exceed p = {p} for synthetic-only least squares, got {n_f:g}")
    sigma2 = _validate.nonneg_scalar(noise_var, "noise_var")
    w, V = np.linalg.eigh(ss)
    inv_sqrt = (V / np.sqrt(w)) @ V.T
    u = inv_sqrt @ mt
    m = inv_sqrt @ ms
    proj = float(u @ m) ** 2 / float(m @ m) if np.any(m != 0) else 0.0
    trace_a = float(np.trace(np.linalg.solve(ss, st))) + float(u @ u)
    if not finite_n:
        return sigma2 * (trace_a - proj) / (n_f - p)
    if n_f <= p + 1:
        raise ValueError(f"finite_n needs n > p + 1 = {p + 1}, got {n_f:g}")
    if not np.any(m != 0):
        return sigma2 * trace_a / (n_f - p - 1)
    mh = m / np.sqrt(float(m @ m))
    a11 = float(mh @ (inv_sqrt @ st @ inv_sqrt) @ mh) + proj
    last = a11 * (n_f - 2) / ((n_f - p - 1) * (n_f - 2 + n_f * float(m @ m)))
    return sigma2 * ((trace_a - a11) / (n_f - p - 1) + last)


# --------------------------------------------------------------------------------------------------
# Over-parameterised regime, simultaneously diagonalisable covariances.


@dataclass(frozen=True)
class OverparamRisk:
    """Deterministic-equivalent target risk of the mixed fit: ``risk = bias + variance``.

    ``c_t, c_s`` are :math:`a_g/\\tilde\\lambda` at the solution (finite in the ridgeless limit); in
    the under-parameterised ridgeless case they are infinite and only ``variance`` is non-zero.
    """

    bias: float
    variance: float
    risk: float
    c_t: float
    c_s: float


def _solve_c(t, s, n_t, n_s, lam_u, tol=1e-13, max_iter=200):
    """Newton on ``F_g(u) = log n_g - u_g - log(lam_u + sum_i g_i P_i)``, ``c_g = exp(u_g)``,
    ``P_i = 1/(c_t t_i + c_s s_i + 1)``, with step halving on the residual norm."""
    groups = [(t, n_t), (s, n_s)]
    active = [i for i, (_, ng) in enumerate(groups) if ng > 0]

    def resid(u):
        c = np.zeros(2)
        c[active] = np.exp(u)
        P = 1.0 / (c[0] * t + c[1] * s + 1.0)
        F = np.array([np.log(groups[g][1]) - u[j] - np.log(lam_u + groups[g][0] @ P)
                      for j, g in enumerate(active)])
        return F, c, P

    # start from the single-population guess c = n / tr(Sigma_mix) scaled up
    u = np.array([np.log(groups[g][1] / max(groups[g][0].sum(), 1e-300)) for g in active]) + 1.0
    F, c, P = resid(u)
    for _ in range(max_iter):
        J = np.empty((len(active), len(active)))
        for j, g in enumerate(active):
            gv = groups[g][0]
            den = lam_u + gv @ P
            for k, h in enumerate(active):
                J[j, k] = -(j == k) + (gv * groups[h][0] * P * P).sum() * c[h] / den
        step = np.linalg.solve(J, -F)
        scale = 1.0
        while True:
            F_new, c_new, P_new = resid(u + scale * step)
            if np.linalg.norm(F_new) < np.linalg.norm(F) or scale < 1e-8:
                break
            scale *= 0.5
        u = u + scale * step
        F, c, P = F_new, c_new, P_new
        if np.max(np.abs(scale * step)) < tol:
            break
    else:  # pragma: no cover
        raise RuntimeError("overparameterised_risk: fixed point did not converge")
    return c, P


def overparameterised_risk(spec_t, spec_s, beta, n_t, n_s, noise_var, lam=0.0) -> OverparamRisk:
    r"""Deterministic equivalent of the target risk of ridge (normalised penalty ``lam``; ``0`` is the
    minimum-norm fit) on ``n_t`` target and ``n_s`` synthetic rows with *simultaneously diagonal*
    covariances ``diag(spec_t)`` and ``diag(spec_s)``; ``beta`` in the same basis. Means are irrelevant
    in the limit and do not appear (Chapter ``ch-synthetic``, Proposition ``prop-overparam``).

    With :math:`P_i = (c_t t_i + c_s s_i + 1)^{-1}` and :math:`c_g = n_g/(\tilde\lambda + \sum_i g_iP_i)`,
    :math:`\tilde\lambda = (n_t+n_s)\lambda`, the variance is
    :math:`\sigma^2\partial_{\tilde\lambda}\sum_i t_iP_i` and the bias
    :math:`\partial_s\,\beta^\top P\beta` for :math:`P \to (c_t\Sigma_t + c_s\Sigma_s + I - s\Sigma_t)^{-1}`,
    both by implicit differentiation (a 2×2 linear system).
    """
    t = np.asarray(to_numpy(_validate.spectrum(to_numpy(spec_t), "spec_t")), dtype=float)
    s = np.asarray(to_numpy(_validate.spectrum(to_numpy(spec_s), "spec_s")), dtype=float)
    if s.shape != t.shape:
        raise ValueError(f"spec_s must have the same shape as spec_t {t.shape}, got {s.shape}")
    b = np.asarray(to_numpy(_validate.vector_like(to_numpy(beta), t, "beta", "spec_t")), dtype=float)
    nt, ns = _sizes(n_t, n_s)
    if nt.ndim or ns.ndim:
        raise ValueError("n_t and n_s must be scalars")
    nt, ns = float(nt), float(ns)
    if nt + ns <= 0:
        raise ValueError("n_t + n_s must be > 0")
    sigma2 = _validate.nonneg_scalar(noise_var, "noise_var")
    lam = _validate.nonneg_scalar(lam, "lam")
    p = t.size
    n = nt + ns
    rank = int(np.count_nonzero((nt > 0) * t + (ns > 0) * s > 0))
    if lam == 0.0:
        if n == rank:
            raise ValueError(f"ridgeless fit with n_t + n_s = rank = {rank}: interpolation threshold, "
                             "the risk is infinite")
        if n > rank:
            if rank < p or np.any(t == 0):
                raise ValueError("ridgeless under-parameterised case needs positive definite "
                                 "covariances")
            var = mixed_risk_from_shift(s / t, nt, ns, sigma2)
            return OverparamRisk(0.0, float(var), float(var), np.inf, np.inf)
    lam_u = n * lam
    c, P = _solve_c(t, s, nt, ns, lam_u)
    groups = [(t, nt), (s, ns)]
    active = [g for g in range(2) if groups[g][1] > 0]
    k = len(active)
    # Linear system  sum_h (D_gh - (n_g/c_g^2) delta_gh) x_h = rhs_g  for the derivatives of c_g.
    A = np.empty((k, k))
    for j, g in enumerate(active):
        for m, h in enumerate(active):
            A[j, m] = (groups[g][0] * groups[h][0] * P * P).sum() - (j == m) * groups[g][1] / c[g] ** 2
    rhs_lam = np.ones(k)
    rhs_s = np.array([(groups[g][0] * t * P * P).sum() for g in active])
    dlam = np.linalg.solve(A, rhs_lam)   # d c_g / d lam_u
    ds = np.linalg.solve(A, rhs_s)       # d c_g / d s
    mix_lam = sum(dlam[j] * groups[g][0] for j, g in enumerate(active))
    mix_s = sum(ds[j] * groups[g][0] for j, g in enumerate(active))
    # d/dlam [ sum t_i P_i ] = - sum t_i P_i^2 * mix_lam ; variance = sigma^2 * that
    variance = -sigma2 * float((t * P * P * mix_lam).sum())
    bias = float((b * b * P * P * (t - mix_s)).sum())
    return OverparamRisk(bias, variance, bias + variance, float(c[0]), float(c[1]))
