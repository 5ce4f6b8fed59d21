r"""Closed forms for the chapter on softmax self-attention (``ch-softmax-attention``).

**Long-prompt limit.** For :math:`x\sim\mathcal N(0,\Lambda)` and any vector :math:`a`,
:math:`\mathbb E[x\,e^{x^\top a}] = \Lambda a\,e^{a^\top\Lambda a/2}` and
:math:`\mathbb E[e^{x^\top a}] = e^{a^\top\Lambda a/2}`, so as the prompt grows the softmax layer
:math:`\hat y = v\sum_i p_iy_i` (``hdreg.sim.softmax_attention``) tends to the *linear* predictor
:math:`\hat y_\infty = v\,w^\top\Lambda W x_q` (:func:`long_prompt_prediction`; our derivation, in the
spirit of Boursier and Boyer, arXiv 2512.11784).

**Linear toy.** One linear-attention layer :math:`\hat y = x_q^\top\Gamma h`, :math:`h=\frac1n\sum_iy_ix_i`,
tasks :math:`w\sim\mathcal N(0,I_d)`, diagonal :math:`\Lambda`. Its population loss (Chapter ``ch-icl``
with :math:`\Gamma = nW`) is
:math:`\sum_{ij}\lambda_i\mathcal E_j\Gamma_{ij}^2 - 2\sum_i\lambda_i^2\Gamma_{ii}
+ \operatorname{tr}\Lambda + \sigma^2` with :math:`\mathcal E_j = (1+\frac1n)\lambda_j^2 + \frac{\operatorname{tr}\Lambda+\sigma^2}{n}\lambda_j`
(:func:`toy_moments`). Gradient descent from :math:`\Gamma=0` with step :math:`\eta` has excess
:math:`\sum_i\frac{\lambda_i^3}{\mathcal E_i}(1-2\eta\lambda_i\mathcal E_i)^{2t}` (:func:`toy_gd_excess`),
a power law :math:`\frac{\Gamma(s)}{3a}(4\eta t)^{-s}`, :math:`s=\frac{a-1}{3a}`, on the spectrum
:math:`\lambda_i=i^{-a}` for long prompts and many modes (:func:`gd_powerlaw`); the preconditioned step
contracts every mode by :math:`1-\eta` (:func:`toy_precond_excess`).

**Least squares.** With :math:`n>d+1` Gaussian examples the test MSE of OLS is
:math:`\sigma^2(1+\frac{d}{n-d-1})` (:func:`ols_risk`), by the mean of the inverse Wishart matrix.

**The statistical rate of the softmax layer** (our derivation). On the manifold of long-prompt minimisers
:math:`W = c\Lambda^{-1}`, :math:`v = 1/c`, the delta method gives the fluctuation
:math:`N\,\mathbb E(\hat y_N-\hat y_\infty)^2\to V(u)`, :math:`u=c^2<\frac12`,
:math:`V(u) = (1-2u)^{-d/2}\big[(\operatorname{tr}\Lambda+\sigma^2)/u + \operatorname{tr}\Lambda/(1-2u)\big]`
(:func:`softmax_rate_variance`), and the best excess risk of the layer is
:math:`C_{\rm soft}/N + o(1/N)` with :math:`C_{\rm soft}=\min_u V(u)` (:func:`softmax_rate_constant`);
shrinking the output by the optimal factor gives the approximation
:math:`C_{\rm soft}/(N + C_{\rm soft}/\operatorname{tr}\Lambda)` (:func:`softmax_excess`).
"""

from __future__ import annotations

import math

import numpy as np

from .. import _validate
from ..backend import to_numpy
from .icl import isotropic_icl_loss

__all__ = ["long_prompt_prediction", "toy_moments", "toy_optimum", "toy_gd_excess",
           "toy_precond_excess", "gd_exponent", "gd_powerlaw", "ols_risk", "ols_excess",
           "linear_attention_excess", "softmax_rate_variance", "softmax_rate_constant",
           "softmax_excess", "rate_slope_se", "paired_slope_se"]


def _lam(spectrum):
    return np.asarray(to_numpy(_validate.spectrum(spectrum)), dtype=float)


def long_prompt_prediction(W, v, spectrum, w, xq) -> np.ndarray:
    r""":math:`\hat y_\infty = v\,w^\top\Lambda W x_q` for tasks ``w`` and queries ``xq`` (``(..., d)``)."""
    lam = _lam(spectrum)
    d = lam.size
    W = np.asarray(W, dtype=float)
    if W.shape != (d, d) or not np.all(np.isfinite(W)):
        raise ValueError(f"W must be a finite ({d}, {d}) matrix, got shape {W.shape}")
    w = np.asarray(w, dtype=float)
    xq = np.asarray(xq, dtype=float)
    if w.shape[-1:] != (d,) or xq.shape[-1:] != (d,):
        raise ValueError(f"w and xq must have last dimension {d}, got {w.shape} and {xq.shape}")
    if not np.isfinite(float(v)):
        raise ValueError(f"v must be finite, got {v!r}")
    return float(v) * ((w * lam) * (xq @ W.T)).sum(axis=-1)


def toy_moments(spectrum, n, noise_var=0.0) -> np.ndarray:
    r""":math:`\mathcal E_j = (1+\frac1n)\lambda_j^2 + \frac{\operatorname{tr}\Lambda+\sigma^2}{n}\lambda_j`,
    the eigenvalues of :math:`\mathbb E[hh^\top]`."""
    lam = _lam(spectrum)
    n = _validate.positive_int(n, "n (the context length)")
    s2 = float(_validate.nonneg(noise_var, "noise_var"))
    return (1 + 1 / n) * lam**2 + (lam.sum() + s2) / n * lam


def toy_optimum(spectrum, n, noise_var=0.0) -> np.ndarray:
    r"""Diagonal of the optimal :math:`\Gamma^\star = \Lambda\mathcal E^{-1}`, i.e. :math:`n W^\star` of
    ``hdreg.theory.icl.pretrained_weights`` for :math:`\Sigma_\beta = I`."""
    lam = _lam(spectrum)
    return np.where(lam > 0, lam / np.maximum(toy_moments(lam, n, noise_var), 1e-300), 0.0)


def _steps(t):
    t = np.asarray(t, dtype=float)
    if np.any(~np.isfinite(t)) or np.any(t < 0):
        raise ValueError(f"t (the step counts) must be finite and >= 0, got {t!r}")
    return t


def toy_gd_excess(spectrum, n, noise_var, eta, t) -> np.ndarray:
    r"""Excess loss :math:`\sum_i\frac{\lambda_i^3}{\mathcal E_i}(1-2\eta\lambda_i\mathcal E_i)^{2t}` of plain
    GD on :math:`\Gamma` from :math:`0` after ``t`` steps (broadcast over ``t``). ``eta`` must satisfy
    :math:`\eta<1/(\max_i\lambda_i\mathcal E_i)` (stability)."""
    lam = _lam(spectrum)
    E = toy_moments(lam, n, noise_var)
    eta = float(_validate.nonneg(eta, "eta", allow_zero=False))
    if eta >= 1.0 / (lam * E).max():
        raise ValueError(f"eta must be < 1/max(lam E) = {1 / (lam * E).max():.4g}, got {eta}")
    t = _steps(t)
    keep = lam > 0
    w0 = lam[keep] ** 3 / E[keep]
    rho = (1 - 2 * eta * lam[keep] * E[keep]) ** 2
    return (w0 * rho ** t[..., None]).sum(axis=-1)


def toy_precond_excess(spectrum, n, noise_var, eta, t) -> np.ndarray:
    r"""Excess loss :math:`(1-\eta)^{2t}\sum_i\lambda_i^3/\mathcal E_i` of preconditioned GD
    :math:`\Gamma\leftarrow\Gamma-\frac\eta2\Lambda^{-1}\nabla\mathcal L\,\mathcal E^{-1}` from :math:`0`,
    ``0 < eta < 2``."""
    lam = _lam(spectrum)
    E = toy_moments(lam, n, noise_var)
    eta = float(_validate.nonneg(eta, "eta", allow_zero=False))
    if eta >= 2:
        raise ValueError(f"eta must be in (0, 2), got {eta}")
    t = _steps(t)
    keep = lam > 0
    return (1 - eta) ** (2 * t) * (lam[keep] ** 3 / E[keep]).sum()


def gd_exponent(a) -> float:
    r"""Decay exponent :math:`s = (a-1)/(3a)` of plain GD's excess on :math:`\lambda_i = i^{-a}`, ``a > 1``."""
    a = float(a)
    if not np.isfinite(a) or a <= 1:
        raise ValueError(f"a (the spectral decay) must be > 1, got {a!r}")
    return (a - 1) / (3 * a)


def gd_powerlaw(a, eta, t) -> np.ndarray:
    r"""Asymptotic excess :math:`\frac{\Gamma(s)}{3a}(4\eta t)^{-s}` (infinitely many modes, long prompts)."""
    s = gd_exponent(a)
    eta = float(_validate.nonneg(eta, "eta", allow_zero=False))
    t = _steps(t)
    return math.gamma(s) / (3 * float(a)) * (4 * eta * t) ** (-s)


def ols_risk(n, d, noise_var):
    r"""Test MSE :math:`\sigma^2(1+\frac{d}{n-d-1})` of least squares, Gaussian design, ``n > d + 1``."""
    n_ = np.asarray(n, dtype=float)
    d_ = np.asarray(d, dtype=float)
    if np.any(~np.isfinite(d_)) or np.any(d_ < 1):
        raise ValueError(f"d must be >= 1, got {d!r}")
    if np.any(~np.isfinite(n_)) or np.any(n_ <= d_ + 1):
        raise ValueError(f"n must be > d + 1, got n={n!r}, d={d!r}")
    s2 = float(_validate.nonneg(noise_var, "noise_var"))
    out = s2 * (1 + d_ / (n_ - d_ - 1))
    return float(out) if out.ndim == 0 else out


def ols_excess(n, d, noise_var):
    r""":math:`\sigma^2 d/(n-d-1)`: the excess of least squares over the noise floor."""
    return ols_risk(n, d, noise_var) - float(noise_var)


def linear_attention_excess(n, d, noise_var):
    r""":math:`d(1+d+\sigma^2)/(n+1+d+\sigma^2)`: the excess of the optimal linear-attention layer,
    isotropic (``hdreg.theory.icl.isotropic_icl_loss`` minus the noise)."""
    return isotropic_icl_loss(n, d, noise_var) - float(noise_var)


def softmax_rate_variance(u, spectrum, noise_var) -> np.ndarray:
    r""":math:`V(u) = (1-2u)^{-d/2}\big[(\operatorname{tr}\Lambda+\sigma^2)/u
    + \operatorname{tr}\Lambda/(1-2u)\big]`: the limit of :math:`N\,\mathbb E(\hat y_N-\hat y_\infty)^2`
    for the softmax layer at :math:`W = \sqrt u\,\Lambda^{-1}`, :math:`v = 1/\sqrt u` (``0 < u < 1/2``;
    broadcast over ``u``)."""
    lam = _lam(spectrum)
    if np.any(lam <= 0):
        raise ValueError("spectrum must be positive (the manifold W = c Lambda^-1 needs Lambda > 0)")
    s2 = float(_validate.nonneg(noise_var, "noise_var"))
    u_ = np.asarray(u, dtype=float)
    if np.any(~np.isfinite(u_)) or np.any(u_ <= 0) or np.any(u_ >= 0.5):
        raise ValueError(f"u must lie in (0, 1/2), got {u!r}")
    tr, d = lam.sum(), lam.size
    with np.errstate(over="ignore"):                      # V = inf near u = 1/2 for large d
        out = (1 - 2 * u_) ** (-d / 2) * ((tr + s2) / u_ + tr / (1 - 2 * u_))
    return float(out) if out.ndim == 0 else out


def softmax_rate_constant(spectrum, noise_var) -> tuple[float, float]:
    r"""``(C_soft, u_star)``: :math:`C_{\rm soft} = \min_{0<u<1/2}V(u)` (:func:`softmax_rate_variance`),
    the constant of the best excess risk :math:`C_{\rm soft}/N` of the softmax layer, and the minimiser
    :math:`u^\star` (the squared temperature :math:`c^2` of :math:`W = c\Lambda^{-1}`)."""
    from scipy.optimize import minimize_scalar  # noqa: PLC0415

    lam = _lam(spectrum)
    softmax_rate_variance(0.25, lam, noise_var)          # validates the inputs
    f = lambda x: softmax_rate_variance(0.5 / (1 + np.exp(-x)), lam, noise_var)  # noqa: E731
    grid = np.linspace(-12, 12, 241)
    x0 = grid[int(np.argmin([f(x) for x in grid]))]
    res = minimize_scalar(f, bracket=(x0 - 0.1, x0, x0 + 0.1), tol=1e-12)
    u = 0.5 / (1 + np.exp(-res.x))
    return float(softmax_rate_variance(u, lam, noise_var)), float(u)


def softmax_excess(n, spectrum, noise_var):
    r""":math:`C_{\rm soft}/(n + C_{\rm soft}/\operatorname{tr}\Lambda)`: the excess risk of the best
    softmax layer at context length ``n``, to leading order :math:`C_{\rm soft}/n` (derived), with
    the optimal output shrinkage (an approximation: the :math:`o(1/n)` terms of :math:`V` are dropped)."""
    lam = _lam(spectrum)
    n_ = np.asarray(n, dtype=float)
    if np.any(~np.isfinite(n_)) or np.any(n_ < 1):
        raise ValueError(f"n (the context length) must be >= 1, got {n!r}")
    C, _ = softmax_rate_constant(lam, noise_var)
    out = C / (n_ + C / lam.sum())
    return float(out) if out.ndim == 0 else out


def rate_slope_se(x, y, se) -> tuple[float, float]:
    r"""Least-squares log-log slope of ``y`` against ``x`` and its standard error propagated from the
    standard errors ``se`` of the points (independent errors; :math:`\operatorname{se}(\log y)\approx
    \operatorname{se}/y`). Used to set a slope claim's tolerance from the Monte-Carlo error."""
    x, y, se = (np.asarray(a, dtype=float) for a in (x, y, se))
    if x.ndim != 1 or x.shape != y.shape or x.shape != se.shape or x.size < 3:
        raise ValueError(f"x, y, se must be 1-D of one length >= 3, got {x.shape}, {y.shape}, {se.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y)) and np.all(np.isfinite(se))):
        raise ValueError("x, y and se must be finite")
    if np.any(x <= 0) or np.any(y <= 0) or np.any(se <= 0):
        raise ValueError("x, y and se must be positive")
    lx = np.log(x)
    c = (lx - lx.mean()) / np.sum((lx - lx.mean()) ** 2)
    return float(c @ np.log(y)), float(np.sqrt(np.sum((c * se / y) ** 2)))


def paired_slope_se(x, samples) -> tuple[float, float]:
    r"""Log-log slope of the mean of ``samples`` (``(trials, len(x))``, one row per trial, the columns
    paired: the same trial at every ``x``) against ``x``, and its standard error by the delta method with
    the full covariance of the column means (so that the correlation that common random numbers create
    between the points is accounted for)."""
    x = np.asarray(x, dtype=float)
    a = np.asarray(samples, dtype=float)
    if x.ndim != 1 or x.size < 3 or a.ndim != 2 or a.shape[1] != x.size or a.shape[0] < 2:
        raise ValueError(f"x must be 1-D with >= 3 points and samples (trials >= 2, {x.size}), "
                         f"got {x.shape} and {a.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(a))):
        raise ValueError("x and samples must be finite")
    m = a.mean(axis=0)
    if np.any(x <= 0) or np.any(m <= 0):
        raise ValueError("x and the column means of samples must be positive")
    lx = np.log(x)
    c = (lx - lx.mean()) / np.sum((lx - lx.mean()) ** 2)
    J = c / m
    cov = np.cov(a, rowvar=False) / a.shape[0]
    return float(c @ np.log(m)), float(np.sqrt(max(J @ cov @ J, 0.0)))
