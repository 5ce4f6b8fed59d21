r"""Isotropic closed forms (Σ = I_p) of Hastie, Montanari, Rosset and Tibshirani.

See the chapter *Ridge regression in high dimensions* (label ``ch-ridge``).

Here ``gamma = p/n``, ``signal = ||β*||²`` (HMRT's r²) and ``noise_var = σ²``. With
:math:`\kappa = \tfrac12[\lambda+\gamma-1+\sqrt{(\lambda+\gamma-1)^2+4\lambda}]`,

.. math::
    \mathsf B = \frac{r^2\kappa^2}{(1+\kappa)^2-\gamma},\qquad
    \mathsf V = \frac{\sigma^2\gamma}{(1+\kappa)^2-\gamma},

which is :func:`hdreg.theory.ridge.ridge_risk` specialised to Σ = I in the proportional limit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate
from ..backend import as_host

__all__ = ["IsotropicRisk", "isotropic_kappa", "isotropic_risk", "ridgeless_isotropic_risk",
           "optimal_lambda", "isotropic_risk_finite_n"]


def _args(gamma, lam):
    g = as_host(_validate.nonneg(gamma, "gamma", allow_zero=False), dtype=float)
    l = as_host(_validate.nonneg(lam, "lam"), dtype=float)
    g, l = np.broadcast_arrays(g, l)
    if np.any((l == 0) & (g == 1)):
        raise ValueError("gamma = 1 with lam = 0 is the interpolation threshold: the risk is infinite")
    return g, l


def isotropic_kappa(gamma, lam):
    """Effective regularisation for Σ = I: the positive root of κ² + (1 - λ - γ)κ - λ = 0."""
    g, l = _args(gamma, lam)
    b = l + g - 1.0
    root = np.sqrt(b * b + 4.0 * l)
    # Same root, written without cancellation: for b < 0 use kappa = 2 lam / (root - b).
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.where(b >= 0, 0.5 * (b + root), 2.0 * l / (root - b))
    return float(k) if k.ndim == 0 else k


@dataclass(frozen=True)
class IsotropicRisk:
    kappa: np.ndarray
    bias: np.ndarray
    variance: np.ndarray
    risk: np.ndarray


def isotropic_risk(gamma, lam, signal, noise_var) -> IsotropicRisk:
    """Limiting bias, variance and risk of ridge with Σ = I (broadcast over ``gamma`` and ``lam``)."""
    g, l = _args(gamma, lam)
    r2 = _validate.nonneg_scalar(signal, "signal")
    s2 = _validate.nonneg_scalar(noise_var, "noise_var")
    k = np.asarray(isotropic_kappa(g, l))
    denom = (1.0 + k) ** 2 - g
    bias = r2 * k**2 / denom
    var = s2 * g / denom

    def out(a):
        return float(a) if np.ndim(a) == 0 else a

    return IsotropicRisk(out(k), out(bias), out(var), out(bias + var))


def ridgeless_isotropic_risk(gamma, signal, noise_var):
    r"""HMRT's ridgeless risk: σ²γ/(1-γ) for γ < 1 and r²(1 - 1/γ) + σ²/(γ - 1) for γ > 1."""
    g = as_host(_validate.nonneg(gamma, "gamma", allow_zero=False), dtype=float)
    if np.any(g == 1):
        raise ValueError("gamma = 1 is the interpolation threshold: the ridgeless risk is infinite")
    r2 = _validate.nonneg_scalar(signal, "signal")
    s2 = _validate.nonneg_scalar(noise_var, "noise_var")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(g < 1, s2 * g / (1 - g), r2 * (1 - 1 / g) + s2 / (g - 1))
    return float(out) if out.ndim == 0 else out


def optimal_lambda(gamma, signal, noise_var):
    """The risk-minimising penalty λ* = σ²γ/r² for Σ = I (normalised ridge)."""
    g = as_host(_validate.nonneg(gamma, "gamma", allow_zero=False), dtype=float)
    r2 = _validate.nonneg_scalar(signal, "signal", allow_zero=False)
    s2 = _validate.nonneg_scalar(noise_var, "noise_var")
    out = s2 * g / r2
    return float(out) if out.ndim == 0 else out


def isotropic_risk_finite_n(n: int, p: int, lam, signal, noise_var):
    r"""Mean excess risk of ridge with Σ = I at finite ``n`` and ``p``, for Gaussian data.

    Ridge sees the data only through :math:`R = (\hat\Sigma + \lambda)^{-1}`, and by rotation
    invariance :math:`\mathbb E\,\mathcal R = \frac{\lambda^2 r^2}{p}\mathbb E\operatorname{tr}R^2
    + \frac{\sigma^2}{n}\mathbb E\operatorname{tr}(R - \lambda R^2)` for any β* of norm r.

    * ``lam = 0``: exact (means of inverse Wishart matrices): :math:`\sigma^2 p/(n - p - 1)` for
      ``p < n - 1`` and :math:`r^2(1 - n/p) + \sigma^2 n/(p - n - 1)` for ``p > n + 1``.
    * ``lam > 0``: :math:`\mathbb E\operatorname{tr}R = p\,m(-\lambda) + \mu(\lambda) + o(1)` with the
      Bai–Silverstein mean correction μ of
      :func:`hdreg.theory.marchenko_pastur.mp_stieltjes_correction`, and
      :math:`\mathbb E\operatorname{tr}R^2 = -\frac{d}{d\lambda}\mathbb E\operatorname{tr}R`: the
      limit :func:`isotropic_risk` at γ = p/n plus its O(1/n) correction (error o(1/n)).
    """
    from .marchenko_pastur import mp_stieltjes_correction  # noqa: PLC0415

    n = _validate.positive_int(n, "n")
    p = _validate.positive_int(p, "p")
    lam = _validate.nonneg(lam, "lam")
    r2 = _validate.nonneg_scalar(signal, "signal")
    s2 = _validate.nonneg_scalar(noise_var, "noise_var")
    g = p / n
    if np.any(lam == 0) and abs(p - n) <= 1:
        raise ValueError(f"lam = 0 needs |p - n| > 1 for a finite mean risk, got n = {n}, p = {p}")
    if p < n:
        exact0 = s2 * p / (n - p - 1)
    else:
        exact0 = r2 * (1 - n / p) + s2 * n / (p - n - 1)
    pos = np.where(lam > 0, lam, 1.0)
    h = 1e-5 * pos
    mu = mp_stieltjes_correction(pos, g)
    dmu = (mp_stieltjes_correction(pos + h, g) - mp_stieltjes_correction(pos - h, g)) / (2 * h)
    corr = pos**2 * r2 / p * (-dmu) + s2 / n * (mu + pos * dmu)
    limit = isotropic_risk(g, pos, r2, s2).risk
    out = np.where(lam > 0, limit + corr, exact0)
    return float(out) if out.ndim == 0 else out
