r"""Gradient flow and gradient descent on least squares: risk over training time (chapter
``ch-gd-dynamics``).

Conventions are those of :mod:`hdreg.theory.ridge`: rows ``x ~ N(0, Σ)``, ``Σ = diag(spectrum)``,
``beta`` = :math:`\beta_\star` in that basis, :math:`y = X\beta_\star + \varepsilon`,
:math:`\operatorname{Var}\varepsilon` = ``noise_var``, risk = excess test error
:math:`\|b - \beta_\star\|_\Sigma^2`. Gradient flow runs on :math:`\frac1{2n}\|y - Xb\|^2` from
:math:`b(0) = 0`,

.. math::
    \dot b = \tfrac1n X^\top(y - Xb),\qquad
    b(t) = \varphi_t(\hat\Sigma)\,\hat\Sigma^{+}\tfrac1n X^\top y,\qquad
    \varphi_t(s) = 1 - e^{-ts},

with :math:`\hat\Sigma = X^\top X/n`; gradient descent with step :math:`\eta` has the filter
:math:`1 - (1 - \eta s)^k` after ``k`` steps. Ridge with penalty :math:`\lambda` has the filter
:math:`s/(s + \lambda)`; the two are compared at :math:`\lambda = 1/t`.

**Isotropic case** (:func:`isotropic_risk`): Σ = I, ``gamma = p/n``, ``signal`` = ‖β⋆‖². With
:math:`\mu_\gamma` the Marchenko–Pastur law of :math:`\hat\Sigma` (atom :math:`(1 - 1/\gamma)_+` at 0),

.. math::
    \mathsf B(t) = r^2\!\int e^{-2ts}\,d\mu_\gamma,\quad
    \mathsf V(t) = \sigma^2\gamma\!\int_{s>0}\frac{(1-e^{-ts})^2}{s}\,d\mu_\gamma,\quad
    E_{\rm tr}(t) = r^2\!\int s e^{-2ts}d\mu_\gamma + \sigma^2\Big[\gamma\!\int_{s>0}
    e^{-2ts}d\mu_\gamma + (1-\gamma)_+\Big],

integrated by Gauss–Legendre quadrature after the substitution
:math:`s = 1 + \gamma + 2\sqrt\gamma\cos\theta`, graded towards the lower edge.

**General covariance** (:func:`risk`). The Laplace transform in time of :math:`e^{-t\hat\Sigma}` is the
resolvent :math:`(\hat\Sigma + \lambda)^{-1}`, whose deterministic equivalent is the ridge one of
the chapter ``ch-ridge``, continued to complex :math:`\lambda` (``κ(λ)`` solves :math:`\kappa - \lambda =
\frac{\kappa}{n}\mathrm{df}_1(\kappa)`). We derive (chapter ``ch-gd-dynamics``)

* variance: :math:`\mathsf V(t) = \sigma^2[2h(t) - h(2t)]`, :math:`h = \mathcal L^{-1}[(\kappa(\lambda)
  - \lambda)/\lambda^2]`;
* bias: :math:`\mathsf B(t) = \mathcal L^{-1}_{\lambda_1}\mathcal L^{-1}_{\lambda_2}[F](t, t)`,
  :math:`F = \frac{\kappa_1\kappa_2}{\lambda_1\lambda_2}\,
  \frac{\sum_i \lambda_i\beta_i^2/((\lambda_i+\kappa_1)(\lambda_i+\kappa_2))}
  {1 - \frac1n\sum_i\lambda_i^2/((\lambda_i+\kappa_1)(\lambda_i+\kappa_2))}`;
* training error: :math:`E_{\rm tr}(t) = \mathcal L^{-1}[W(\kappa) + \sigma^2/\kappa](2t)`,
  :math:`W(\kappa) = \sum_i\lambda_i\beta_i^2/(\lambda_i + \kappa)`;

and invert the Laplace transforms numerically on Talbot's contour (the fixed-Talbot rule of Abate and
Valkó, 2004), solving for ``κ`` at complex ``λ`` by Newton's method continued along the contour from
the real solution of :func:`hdreg.theory.ridge.effective_regularization`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .. import _validate
from ..backend import to_numpy
from . import ridge as ridge_theory

__all__ = [
    "GradientFlowRisk",
    "isotropic_risk",
    "isotropic_gd_risk",
    "risk",
    "population_risk",
    "gd_filter",
    "gf_filter",
    "ridge_filter",
    "max_stable_step",
    "filter_ratio_bound",
    "AKT_CONSTANT",
    "empirical_bayes_risk",
    "talbot_inverse",
]


@dataclass(frozen=True)
class GradientFlowRisk:
    """Risk over training time, arrays of the broadcast shape of the inputs.

    ``risk = bias + variance`` is the excess test error; ``train_error`` is the expected training
    mean squared error :math:`\\frac1n\\|y - Xb\\|^2` (label noise included).
    """

    bias: np.ndarray
    variance: np.ndarray
    risk: np.ndarray
    train_error: np.ndarray


def _out(a):
    a = np.asarray(a, dtype=float)
    return float(a) if a.ndim == 0 else a


def _result(bias, var, train):
    return GradientFlowRisk(_out(bias), _out(var), _out(bias + var), _out(train))


# ----------------------------------------------------------------------------------------------
# filters


def gf_filter(s, t):
    r"""Gradient-flow filter :math:`1 - e^{-ts}` (broadcast)."""
    return -np.expm1(-np.asarray(t, float) * np.asarray(s, float))


def gd_filter(s, k, eta):
    r"""Gradient-descent filter :math:`1 - (1 - \eta s)^k` after ``k`` steps of size ``eta``."""
    return 1.0 - (1.0 - np.asarray(eta, float) * np.asarray(s, float)) ** np.asarray(k, float)


def ridge_filter(s, lam):
    r"""Ridge filter :math:`s/(s + \lambda)` (normalised penalty)."""
    s = np.asarray(s, float)
    return s / (s + np.asarray(lam, float))


def max_stable_step(gamma):
    r"""Largest stable GD step for isotropic data in the proportional limit: :math:`\eta < 2/s_{\max}`
    with :math:`s_{\max} = (1 + \sqrt\gamma)^2` the upper Marchenko–Pastur edge."""
    g = np.asarray(_validate.nonneg(gamma, "gamma", allow_zero=False), dtype=float)
    return _out(2.0 / (1.0 + np.sqrt(g)) ** 2)


def _akt_ratio(x):
    x = np.asarray(x, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = -np.expm1(-x) * (1 + x) / x
    return np.where(x > 0, r, 1.0)


def filter_ratio_bound():
    r"""``(x*, c)`` with :math:`c = \sup_{x>0}\big[(1-e^{-x})(1+x)/x\big]^2` attained at ``x*``.

    The ratio of the gradient-flow to the ridge filter at :math:`\lambda = 1/t`, squared, with
    :math:`x = ts`; ``c`` is the constant 1.6862 of Ali, Kolter and Tibshirani (2019).
    """
    from scipy.optimize import minimize_scalar  # noqa: PLC0415

    res = minimize_scalar(lambda x: -_akt_ratio(x), bounds=(0.1, 10.0), method="bounded",
                          options={"xatol": 1e-12})
    return float(res.x), float(_akt_ratio(res.x) ** 2)


#: :math:`\sup_x [(1 - e^{-x})(1 + x)/x]^2`, to the digits quoted by Ali, Kolter and Tibshirani.
AKT_CONSTANT = 1.6862


# ----------------------------------------------------------------------------------------------
# isotropic: Marchenko–Pastur quadrature

_NODES = 2000


@functools.lru_cache(maxsize=4)
def _legendre(nodes):
    u, wu = np.polynomial.legendre.leggauss(nodes)  # an O(nodes^2) eigenproblem: cache it
    return 0.5 * (u + 1.0), 0.5 * wu


def _mp_nodes(gamma, nodes=_NODES):
    """Nodes ``s`` and weights ``w`` (shape ``gamma.shape + (nodes,)``) with
    ``sum w f(s) = int_bulk f dmu_gamma`` (bulk mass ``min(1, 1/gamma)``)."""
    u, wu = _legendre(int(nodes))
    # theta = pi (1 - u^2): nodes cluster at theta = pi, the lower edge s = (1 - sqrt g)^2.
    theta = np.pi * (1.0 - u * u)
    dtheta = 2.0 * np.pi * u * wu
    g = np.asarray(gamma, float)[..., None]
    sq = np.sqrt(g)
    # s = 1 + g + 2 sqrt(g) cos(theta), written as (1 - sqrt g)^2 + 2 sqrt g (1 + cos theta) and
    # 1 + cos(theta) = 2 cos^2(theta/2) to keep relative accuracy at the lower edge.
    s = (1.0 - sq) ** 2 + 4.0 * sq * np.cos(0.5 * theta) ** 2
    # density sqrt((b-s)(s-a))/(2 pi g s) ds = (2/pi) sin^2(theta) / s dtheta
    w = (2.0 / np.pi) * np.sin(theta) ** 2 / s * dtheta
    return s, w


def _isotropic(gamma, signal, noise_var, filt, t_shape):
    """Bias, variance and training error for the filter ``filt(s) -> (1 - phi, phi^2 / s)``."""
    s, w = _mp_nodes(gamma)
    g = np.asarray(gamma, float)
    psi, phi2_over_s = filt(s)
    atom = np.clip(1.0 - 1.0 / g, 0.0, None)
    bias = signal * (atom + (w * psi**2).sum(-1))
    var = noise_var * g * (w * phi2_over_s).sum(-1)
    train = signal * (w * s * psi**2).sum(-1) + noise_var * (
        g * (w * psi**2).sum(-1) + np.clip(1.0 - g, 0.0, None))
    return bias, var, train


def _iso_args(gamma, t, signal, noise_var, tname="t"):
    g = np.asarray(_validate.nonneg(gamma, "gamma", allow_zero=False), dtype=float)
    t = np.asarray(to_numpy(t), dtype=float)
    if np.any(np.isnan(t)) or np.any(t < 0):
        raise ValueError(f"{tname} (training time) must be >= 0 (inf allowed), got {t!r}")
    r2 = float(_validate.nonneg(signal, "signal"))
    s2 = float(_validate.nonneg(noise_var, "noise_var"))
    g, t = np.broadcast_arrays(g, t)
    if np.any((g == 1) & np.isinf(t) & (s2 > 0)):
        raise ValueError("gamma = 1 with t = inf (and noise_var > 0) is the interpolation "
                         "threshold: the variance is infinite")
    return g, t, r2, s2


def isotropic_risk(gamma, t, signal, noise_var, init_var=0.0) -> GradientFlowRisk:
    r"""Bias, variance, risk and training error of gradient flow at time ``t``, Σ = I.

    Proportional limit with ``gamma = p/n``, ``signal = ‖β⋆‖²`` (the bias is that of a β⋆ drawn
    uniformly on its sphere, or of any β⋆ for which it is self-averaging), ``noise_var = σ²``.
    Vectorised over ``gamma`` and ``t`` (broadcast); ``t = 0`` and ``t = inf`` are exact (the latter
    the ridgeless risk of :func:`hdreg.theory.isotropic.ridgeless_isotropic_risk`; infinite at
    ``gamma = 1`` with noise, which raises). ``gamma = 1`` at finite ``t`` is fine. ``init_var`` =
    σ0²: the flow starts from ``b(0) ~ N(0, σ0² I/p)`` instead of 0, which adds σ0² to ``signal`` in
    the bias and the training error (the part of ``b(0)`` in the null space of ``X`` never moves:
    the frozen subspace).
    """
    g, t, r2, s2 = _iso_args(gamma, t, signal, noise_var)
    r2 += float(_validate.nonneg(init_var, "init_var"))
    bias = np.empty(g.shape)
    var = np.empty(g.shape)
    train = np.empty(g.shape)
    zero = t == 0
    inf = np.isinf(t)
    mid = ~(zero | inf)
    bias[zero], var[zero], train[zero] = r2, 0.0, r2 + s2
    if np.any(inf):
        gi = g[inf]
        bias[inf] = r2 * np.clip(1.0 - 1.0 / gi, 0.0, None)
        with np.errstate(divide="ignore"):
            var[inf] = np.where(gi == 1, 0.0 if s2 == 0 else np.inf,
                                s2 * np.where(gi < 1, gi / np.abs(1 - gi), 1.0 / np.abs(gi - 1)))
        train[inf] = s2 * np.clip(1.0 - gi, 0.0, None)
    if np.any(mid):
        tm = t[mid][:, None]

        def filt(s):
            e = np.exp(-tm * s)
            return e, (-np.expm1(-tm * s)) ** 2 / s

        bias[mid], var[mid], train[mid] = _isotropic(g[mid], r2, s2, filt, tm.shape)
    return _result(bias, var, train)


def isotropic_gd_risk(gamma, k, eta, signal, noise_var) -> GradientFlowRisk:
    r"""As :func:`isotropic_risk` for gradient descent: ``k`` steps of size ``eta`` (filter
    :math:`1 - (1 - \eta s)^k`). Requires ``eta < max_stable_step(gamma)`` (else the iterates diverge
    in the top modes). ``k`` may be ``inf`` (the ridgeless limit)."""
    g, kk, r2, s2 = _iso_args(gamma, k, signal, noise_var, tname="k")
    e = float(_validate.nonneg(eta, "eta", allow_zero=False))
    if np.any(e >= 2.0 / (1.0 + np.sqrt(g)) ** 2):
        raise ValueError(f"eta = {e} is unstable: gradient descent needs eta < 2 / (1 + sqrt(gamma))^2 "
                         f"= {np.min(max_stable_step(g)):.4g} (the top Marchenko–Pastur edge)")
    if np.any(np.isfinite(kk) & (kk != np.round(kk))):
        raise ValueError(f"k (the number of steps) must be a non-negative integer, got {k!r}")
    finite = np.isfinite(kk)
    out = isotropic_risk(g, np.where(finite, 0.0, np.inf), r2, s2)
    bias, var, train = (np.array(a, dtype=float, ndmin=1).reshape(g.shape)
                        for a in (out.bias, out.variance, out.train_error))
    mid = finite & (kk > 0)
    if np.any(mid):
        km = kk[mid][:, None]

        def filt(s):
            psi = (1.0 - e * s) ** km
            return psi, (1.0 - psi) ** 2 / s

        bias[mid], var[mid], train[mid] = _isotropic(g[mid], r2, s2, filt, km.shape)
    return _result(bias, var, train)


# ----------------------------------------------------------------------------------------------
# general covariance: Talbot inversion of the resolvent's deterministic equivalent

_M = 12  # Talbot nodes per half contour: accuracy ~1e-7, amplification e^{0.8 M} in the double sum


def _talbot_nodes(t, M=_M):
    """Contour points ``lam`` (shape ``t.shape + (M,)``, theta = k pi / M, k = 0..M-1) and the
    single-inversion weights ``w`` (including ``exp(t lam)``), so that
    ``f(t) ~ Re sum_k w_k F(lam_k)`` (the k = 0 weight is halved)."""
    theta = np.arange(M) * np.pi / M
    with np.errstate(divide="ignore", invalid="ignore"):
        cot = np.where(theta > 0, np.cos(theta) / np.sin(theta), 0.0)
        tc = np.where(theta > 0, theta * cot, 1.0)
        sigma = np.where(theta > 0, theta + (tc - 1.0) * cot, 0.0)
    r = 2.0 * M / (5.0 * np.asarray(t, float))[..., None]
    lam = r * (tc + 1j * theta)
    w = (r / M) * np.exp(np.asarray(t, float)[..., None] * lam) * (1.0 + 1j * sigma)
    w[..., 0] *= 0.5
    return lam, w


def talbot_inverse(F, t, M=_M):
    r"""Inverse Laplace transform :math:`f(t)` of ``F`` (a vectorised function of complex ``lam``,
    real on the real axis, analytic off the negative real axis) by the fixed Talbot rule.

    ``t`` > 0, any shape. Exposed for tests and exercises; :func:`risk` uses the same nodes.
    """
    t = np.asarray(t, float)
    if np.any(~np.isfinite(t)) or np.any(t <= 0):
        raise ValueError(f"t must be finite and > 0, got {t!r}")
    lam, w = _talbot_nodes(t, M)
    return _out(np.real((w * F(lam)).sum(-1)))


def _complex_kappa(spec, n, lam, kappa0, substeps=2, tol=1e-13, max_iter=50):
    """``kappa`` at complex ``lam`` (rows: points; columns: contour nodes in theta order), by Newton
    continued from ``kappa0`` (the real solution at the first column), with a linear predictor."""
    pts, M = lam.shape
    kap = np.empty(lam.shape, dtype=complex)
    kap[:, 0] = kappa0
    nn = np.broadcast_to(np.asarray(n, float), (pts,))

    def newton(k, target):
        todo = np.arange(pts)
        for _ in range(max_iter):
            kk = k[todo]
            r = spec[None, :] / (spec[None, :] + kk[:, None])
            h = kk - target[todo] - kk * r.sum(1) / nn[todo]
            step = h / (1.0 - (r * r).sum(1) / nn[todo])
            k[todo] = kk - step
            todo = todo[np.abs(step) > tol * np.abs(kk)]
            if todo.size == 0:
                return k
        raise RuntimeError("complex effective regularisation did not converge")  # pragma: no cover

    k = kap[:, 0].copy()
    prev_lam, prev_k = lam[:, 0], k.copy()
    for j in range(1, M):
        for s in range(1, substeps + 1):
            target = lam[:, j - 1] + (lam[:, j] - lam[:, j - 1]) * s / substeps
            # predictor: kappa - lam varies slowly; extrapolate it from the previous point
            guess = target + (k - prev_lam)
            prev_lam, prev_k = target, k
            k = newton(guess.copy(), target)
        kap[:, j] = k
    return kap


def _check_branch(kap, lam):
    # kappa maps the upper half-plane into itself (1/kappa is a Stieltjes transform).
    bad = (np.imag(lam) > 0) & (np.imag(kap) < -1e-12 * np.abs(kap))
    if np.any(bad):  # pragma: no cover
        raise RuntimeError("complex effective regularisation left its branch")


def risk(spectrum, beta, n, t, noise_var, init_var=0.0) -> GradientFlowRisk:
    r"""Deterministic equivalent of the risk of gradient flow at time ``t`` (general covariance).

    Parameters follow :func:`hdreg.theory.ridge.ridge_risk`: ``spectrum`` (eigenvalues of Σ),
    ``beta`` (β⋆ in the eigenbasis), ``n`` (sample size, broadcast against ``t``), ``t`` (training
    time of :math:`\dot b = X^\top(y - Xb)/n` from ``b(0) = 0``; ``0`` and ``inf`` allowed, the
    latter is the ridgeless limit), ``noise_var``. Returns a :class:`GradientFlowRisk`. With
    ``init_var`` = σ0² the flow starts from ``b(0) ~ N(0, σ0² I/p)`` (averaged over it): the bias is
    linear in the weights :math:`\lambda_i\beta_i^2`, which become :math:`\lambda_i(\beta_i^2 + σ_0^2/p)`.

    Method (see the module docstring): Talbot inversion of the Laplace transforms in time, whose
    deterministic equivalents follow from that of the ridge resolvent at complex penalty.
    """
    full = _validate.spectrum(spectrum)
    b = _validate.vector_like(beta, full, "beta")
    host = np.asarray(to_numpy(full), float)
    bh = np.asarray(to_numpy(b), float)
    sigma2 = float(_validate.nonneg(noise_var, "noise_var"))
    init = float(_validate.nonneg(init_var, "init_var"))
    if init > 0:
        bh = np.sqrt(bh * bh + init / bh.size)
    n_h = np.asarray(to_numpy(n), dtype=float)
    t_h = np.asarray(to_numpy(t), dtype=float)
    if not np.all(np.isfinite(n_h)) or np.any(n_h <= 0):
        raise ValueError(f"n must be finite and > 0, got {n!r}")
    if np.any(np.isnan(t_h)) or np.any(t_h < 0):
        raise ValueError(f"t (training time) must be >= 0 (inf allowed), got {t!r}")
    n_h, t_h = np.broadcast_arrays(n_h, t_h)
    shape = t_h.shape
    n_f, t_f = n_h.reshape(-1), t_h.reshape(-1)
    mask = host > 0
    spec, bb = host[mask], bh[mask]
    wts = spec * bb * bb
    total = float(wts.sum())
    bias = np.empty(t_f.shape)
    var = np.empty(t_f.shape)
    train = np.empty(t_f.shape)
    zero, inf = t_f == 0, np.isinf(t_f)
    mid = ~(zero | inf)
    bias[zero], var[zero], train[zero] = total, 0.0, total + sigma2
    if np.any(inf):
        rl = ridge_theory.ridge_risk(host, bh, n_f[inf], 0.0, sigma2)
        bias[inf] = rl.bias
        var[inf] = rl.variance
        train[inf] = rl.train_error
    if np.any(mid):
        bias[mid], var[mid], train[mid] = _talbot_risk(spec, wts, n_f[mid], t_f[mid], sigma2)
    return _result(bias.reshape(shape), var.reshape(shape), train.reshape(shape))


def _kappa_on_contour(spec, n, lam):
    k0 = np.atleast_1d(ridge_theory.effective_regularization(spec, n, lam[:, 0].real))
    kap = _complex_kappa(spec, n, lam, k0.astype(complex))
    _check_branch(kap, lam)
    return kap


def _talbot_risk(spec, wts, n, t, sigma2, M=_M):
    # one contour per time for t (bias) and 2t (variance, training error)
    lam1, w1 = _talbot_nodes(t, M)
    lam2, w2 = _talbot_nodes(2 * t, M)
    kap1 = _kappa_on_contour(spec, n, lam1)
    kap2 = _kappa_on_contour(spec, n, lam2)
    def single(lam, w, vals):
        return np.real((w * vals).sum(-1))

    # h(u) = L^{-1}[(kappa - lam)/lam^2](u) at u = t and u = 2t
    h_t = single(lam1, w1, (kap1 - lam1) / lam1**2)
    h_2t = single(lam2, w2, (kap2 - lam2) / lam2**2)
    var = sigma2 * (2 * h_t - h_2t)
    # training error: L^{-1}[W(kappa) + sigma^2 / kappa](2t)
    inv2 = 1.0 / (spec[None, None, :] + kap2[..., None])
    W2 = (wts * inv2).sum(-1)
    train = single(lam2, w2, W2 + sigma2 / kap2)
    # bias: double inversion on the full contour (conjugate nodes added)
    lam_f = np.concatenate([lam1, np.conj(lam1[:, 1:])], axis=1)
    kap_f = np.concatenate([kap1, np.conj(kap1[:, 1:])], axis=1)
    # full-contour trapezoid: f = sum_k c_k F(lam_k), k = -(M-1)..M-1, with
    # c_k = (r/2M)(1 + i sigma_k) e^{t lam_k}: c_0 = w_0 (already halved), c_k = w_k / 2, c_-k = conj
    c_half = w1.copy()
    c_half[:, 1:] *= 0.5
    c_f = np.concatenate([c_half, np.conj(c_half[:, 1:])], axis=1)
    bias = np.empty(t.shape)
    for i in range(t.size):
        a = 1.0 / (spec[None, :] + kap_f[i][:, None])  # (K, P)
        num = (a * wts) @ a.T
        den = 1.0 - ((a * spec**2) @ a.T) / n[i]
        kk = kap_f[i][:, None] * kap_f[i][None, :] / (lam_f[i][:, None] * lam_f[i][None, :])
        F = kk * num / den
        bias[i] = np.real(c_f[i] @ F @ c_f[i])
    return bias, var, train


def population_risk(spectrum, beta, t) -> np.ndarray:
    r"""Gradient flow on the population loss (``n = ∞``): :math:`\sum_i\lambda_i\beta_i^2 e^{-2t\lambda_i}`,
    broadcast over ``t`` (the bias; there is no variance)."""
    full = np.asarray(to_numpy(_validate.spectrum(spectrum)), float)
    b = np.asarray(to_numpy(_validate.vector_like(beta, full, "beta")), float)
    t = np.asarray(to_numpy(t), float)
    if np.any(np.isnan(t)) or np.any(t < 0):
        raise ValueError(f"t (training time) must be >= 0, got {t!r}")
    w = full * b * b
    e = np.exp(-2.0 * t[..., None] * full)
    return _out((e * w).sum(-1))


def empirical_bayes_risk(eigenvalues, n, signal, noise_var, t=None, lam=None):
    r"""Risk given the design, for Σ = I, averaged over label noise and over β⋆ uniform on the sphere
    of radius :math:`\sqrt{\text{signal}}`: gradient flow at ``t`` or ridge at ``lam``.

    ``eigenvalues``: (..., p) eigenvalues of :math:`\hat\Sigma = X^\top X/n` (zeros included). With the
    filter :math:`\varphi`, bias :math:`= \frac{r^2}{p}\sum_j (1 - \varphi(s_j))^2` and variance
    :math:`= \frac{\sigma^2}{n}\sum_{s_j>0}\varphi(s_j)^2/s_j`; ``t``/``lam`` broadcast against the
    leading axes with a trailing axis added. Returns ``(bias, variance)``.
    """
    if (t is None) == (lam is None):
        raise ValueError("give exactly one of t (gradient flow) and lam (ridge)")
    s = np.asarray(to_numpy(eigenvalues), float)
    if s.ndim < 1 or s.shape[-1] == 0 or not np.all(np.isfinite(s)) or np.any(s < 0):
        raise ValueError("eigenvalues must be a finite, non-negative array with a last axis of size p")
    n = _validate.positive_int(n, "n")
    r2 = float(_validate.nonneg(signal, "signal"))
    s2 = float(_validate.nonneg(noise_var, "noise_var"))
    par = np.asarray(t if lam is None else lam, float)[..., None]
    if np.any(~np.isfinite(par)) or np.any(par < 0):
        raise ValueError("t / lam must be finite and >= 0")
    pos = s > 0
    if lam is None:
        phi = gf_filter(s, par)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            phi = np.where(pos, s / (s + par), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(pos, phi**2 / np.where(pos, s, 1.0), 0.0)
    bias = r2 * ((1.0 - phi) ** 2).mean(-1)
    var = s2 / n * v.sum(-1)
    return bias, var
