r"""The Marchenko–Pastur law (chapter *Ridge regression in high dimensions*, ``ch-ridge``).

For X with i.i.d. N(0, σ²) entries, n rows and p columns, the eigenvalues of the sample covariance
X^T X / n have, as p/n → γ, the limiting density (on its bulk)

.. math::
    \rho_\gamma(x) = \frac{\sqrt{(x_+ - x)(x - x_-)}}{2\pi\sigma^2\gamma x},\qquad
    x_\pm = \sigma^2(1\pm\sqrt\gamma)^2,

plus an atom of mass 1 - 1/γ at zero when γ > 1. Its Stieltjes transform at z = -λ < 0 is
:math:`m(-\lambda) = \int \rho(dx)/(x+\lambda)`.
"""

from __future__ import annotations

import numpy as np

from .. import _validate
from ..backend import as_host

__all__ = ["mp_edges", "mp_density", "mp_stieltjes", "mp_stieltjes_correction"]


def _gs(gamma, sigma2):
    g = _validate.nonneg_scalar(gamma, "gamma", allow_zero=False)
    s = _validate.nonneg_scalar(sigma2, "sigma2", allow_zero=False)
    return g, s


def mp_edges(gamma, sigma2=1.0):
    """Edges ``(x_-, x_+)`` of the bulk."""
    g, s = _gs(gamma, sigma2)
    return s * (1 - np.sqrt(g)) ** 2, s * (1 + np.sqrt(g)) ** 2


def mp_density(x, gamma, sigma2=1.0):
    """Density of the continuous part (integrates to min(1, 1/γ))."""
    g, s = _gs(gamma, sigma2)
    lo, hi = mp_edges(g, s)
    x = _validate.finite_array(x, "x")
    inside = (x > lo) & (x < hi)
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.sqrt(np.clip((hi - x) * (x - lo), 0, None)) / (2 * np.pi * s * g * x)
    return np.where(inside, d, 0.0)


def mp_stieltjes(lam, gamma, sigma2=1.0):
    r"""Stieltjes transform :math:`m(-\lambda)=\mathbb E_{\rho}[1/(x+\lambda)]` for λ > 0 (atom included).

    It is the root of :math:`\sigma^2\gamma\lambda m^2 + (\lambda + \sigma^2(1-\gamma))m - 1 = 0` that is
    positive.
    """
    g, s = _gs(gamma, sigma2)
    lam = as_host(_validate.nonneg(lam, "lam", allow_zero=False), dtype=float)
    a = s * g * lam
    b = lam + s * (1 - g)
    root = np.sqrt(b * b + 4 * a)
    # Same root, written without cancellation: for b > 0 use m = 2 / (b + root).
    m = np.where(b > 0, 2.0 / (b + root), (root - b) / (2 * a))
    return float(m) if m.ndim == 0 else m


def mp_stieltjes_correction(lam, gamma):
    r"""The O(1) mean correction to :math:`\sum_{i\le p} 1/(\hat\lambda_i+\lambda)` for real Gaussian data
    (Σ = I): :math:`\mathbb E\sum_i (\hat\lambda_i+\lambda)^{-1} = p\,m(-\lambda) + \mu(\lambda) + o(1)`.

    From the mean term of the central limit theorem of Bai and Silverstein (2004) for real Gaussian
    entries, :math:`\mu_f = \tfrac14[f(x_-)+f(x_+)] - \tfrac1{2\pi}\int_{x_-}^{x_+}
    f(x)/\sqrt{4\gamma-(x-1-\gamma)^2}\,dx`, which for :math:`f(x) = 1/(x+\lambda)` integrates in
    closed form (substitute :math:`x = 1+\gamma+2\sqrt\gamma\cos\theta`):

    .. math::
        \mu(\lambda) = \frac14\Big[\frac1{x_-+\lambda}+\frac1{x_++\lambda}\Big]
        - \frac{1}{2\sqrt{(1+\gamma+\lambda)^2-4\gamma}}.

    Divided by p it is the finite-size bias of the empirical Stieltjes transform (Chapter ``ch-ridge``).
    """
    g = _validate.nonneg_scalar(gamma, "gamma", allow_zero=False)
    lam = as_host(_validate.nonneg(lam, "lam", allow_zero=False), dtype=float)
    lo, hi = mp_edges(g)
    mu = 0.25 * (1 / (lo + lam) + 1 / (hi + lam)) - 0.5 / np.sqrt((1 + g + lam) ** 2 - 4 * g)
    return float(mu) if mu.ndim == 0 else mu
