r"""In-context learning of linear regression by one linear-attention layer.

See the chapter *In-context learning with linear attention* (label ``ch-icl``).

A prompt holds a context of ``n`` pairs :math:`(x_i, y_i)`, :math:`x_i\sim\mathcal N(0,\Sigma_x)`,
:math:`y_i = x_i^\top\beta + \varepsilon_i`, :math:`\operatorname{Var}\varepsilon_i` = ``noise_var``,
and a query :math:`x` whose label is to be predicted. One linear-attention layer (in the
parametrisation of Chapter ``ch-icl``) predicts

.. math::
    \hat y = x^\top W X^\top y = x^\top W u,\qquad u = X^\top y\in\mathbb R^d ,

with the *unnormalised* sum :math:`u = X^\top y` (no ``1/n``). Pretraining draws the task
:math:`\beta\sim\mathcal N(0,\Sigma_\beta)` afresh for every prompt. With
:math:`\mathbb E[uu^\top] = nM`,

.. math::
    M = (n+1)\Sigma_x\Sigma_\beta\Sigma_x + \big(\operatorname{tr}(\Sigma_\beta\Sigma_x)+\sigma^2\big)\Sigma_x ,

the population (ICL) loss of any :math:`W` is

.. math::
    \mathcal L(W) = \operatorname{tr}(\Sigma_x\Sigma_\beta) - 2n\operatorname{tr}(\Sigma_x W\Sigma_x\Sigma_\beta)
    + n\operatorname{tr}(\Sigma_x W M W^\top) + \sigma^2 ,

minimised by :math:`W^\star = \Sigma_\beta\Sigma_x M^{-1}` (Chapter ``ch-icl``, ``thm-wstar``). For a *fixed*
task :math:`\beta` (the test-time setting of Chapter ``ch-ttt``) the loss is
:func:`fixed_task_loss`. All losses include the label noise of the query (test MSE).
"""

from __future__ import annotations

import numpy as np

from .. import _validate
from ..backend import as_host

__all__ = ["pretrained_weights", "icl_loss", "fixed_task_loss", "isotropic_icl_loss",
           "context_second_moment", "wishart_stieltjes", "finite_task_errors",
           "task_set_test_error"]


def _pair(sigma_x, sigma_beta):
    sx = as_host(_validate.psd_matrix(sigma_x, "sigma_x"), dtype=float)
    sb = as_host(_validate.psd_matrix(sigma_beta, "sigma_beta"), dtype=float)
    if sx.shape != sb.shape:
        raise ValueError(f"sigma_x and sigma_beta must have the same shape, got {sx.shape} and {sb.shape}")
    return sx, sb


def _context_length(n) -> int:
    return _validate.positive_int(n, "n (the context length)")


def _noise(noise_var) -> float:
    return _validate.nonneg_scalar(noise_var, "noise_var")


def context_second_moment(sigma_x, sigma_beta, n, noise_var=0.0) -> np.ndarray:
    r""":math:`\mathbb E[uu^\top] = n(n+1)\Sigma_x\Sigma_\beta\Sigma_x + n(\operatorname{tr}(\Sigma_\beta\Sigma_x)
    + \sigma^2)\Sigma_x` for :math:`u = X^\top y` (Chapter ``ch-icl``, ``lem-wishart``)."""
    sx, sb = _pair(sigma_x, sigma_beta)
    n = _context_length(n)
    s2 = _noise(noise_var)
    return n * (n + 1) * sx @ sb @ sx + n * (np.trace(sb @ sx) + s2) * sx


def pretrained_weights(sigma_x, sigma_beta, n, noise_var=0.0) -> np.ndarray:
    r"""The optimal linear-attention weights :math:`W^\star = \Sigma_\beta\Sigma_x M^{-1}` (``d x d``).

    ``sigma_x``, ``sigma_beta``: covariance matrices of the covariates and of the pretraining tasks
    (square, same shape, symmetric PSD); ``n`` the context length (>= 1); ``noise_var`` >= 0.
    Isotropic case: :math:`W^\star = I/(n + d + 1 + \sigma^2)`. When :math:`\Sigma_x` is singular the
    minimiser is not unique; the pseudo-inverse of :math:`M` gives the one that acts as zero on the
    null space of :math:`\Sigma_x` (irrelevant directions for the prediction).
    """
    sx, sb = _pair(sigma_x, sigma_beta)
    n = _context_length(n)
    s2 = _noise(noise_var)
    m = (n + 1) * sx @ sb @ sx + (np.trace(sb @ sx) + s2) * sx
    return sb @ sx @ np.linalg.pinv(m, hermitian=True)


def icl_loss(W, sigma_x, sigma_beta, n, noise_var=0.0):
    r"""Population ICL loss :math:`\mathcal L(W)` (test MSE, noise included) of weights ``W``.

    ``W`` is one ``d x d`` matrix or a stack ``(..., d, d)``; returns a float or an array over the
    stack. Averaged over tasks :math:`\beta\sim\mathcal N(0,\Sigma_\beta)`, contexts and queries.
    """
    sx, sb = _pair(sigma_x, sigma_beta)
    n = _context_length(n)
    s2 = _noise(noise_var)
    W = as_host(W)
    d = sx.shape[0]
    if W.ndim < 2 or W.shape[-2:] != (d, d):
        raise ValueError(f"W must have shape (..., {d}, {d}), got {W.shape}")
    m = (n + 1) * sx @ sb @ sx + (np.trace(sb @ sx) + s2) * sx
    lin = np.einsum("...ij,ji->...", W, sx @ sb @ sx)        # tr(W Sx Sb Sx) = tr(Sx W Sx Sb)
    quad = np.einsum("ij,...jk,kl,...il->...", sx, W, m, W)  # tr(Sx W M W^T)
    out = np.trace(sx @ sb) - 2 * n * lin + n * quad + s2
    return float(out) if np.ndim(out) == 0 else out


def fixed_task_loss(W, sigma_x, beta, n, noise_var=0.0):
    r"""ICL loss of weights ``W`` on a *fixed* task ``beta``, averaged over fresh contexts and queries:

    .. math::
        \beta^\top\Sigma\beta - 2n\,\beta^\top\Sigma W\Sigma\beta + n(n+1)\,\beta^\top\Sigma W^\top\Sigma W\Sigma\beta
        + n\big(\beta^\top\Sigma\beta + \sigma^2\big)\operatorname{tr}(W^\top\Sigma W\Sigma) + \sigma^2 .

    ``W``: ``(d, d)`` or a stack ``(..., d, d)``; ``beta``: ``(d,)``.
    """
    sx = as_host(_validate.psd_matrix(sigma_x, "sigma_x"), dtype=float)
    d = sx.shape[0]
    b = as_host(beta)
    if b.shape != (d,) or not np.all(np.isfinite(b)):
        raise ValueError(f"beta must be a finite vector of length {d}, got shape {b.shape}")
    n = _context_length(n)
    s2 = _noise(noise_var)
    W = as_host(W)
    if W.ndim < 2 or W.shape[-2:] != (d, d):
        raise ValueError(f"W must have shape (..., {d}, {d}), got {W.shape}")
    sb_ = sx @ b
    signal = b @ sb_
    wsb = W @ sb_                                               # W Sigma beta, (..., d)
    lin = np.einsum("i,...i->...", sb_, wsb)
    quad = np.einsum("...i,ij,...j->...", wsb, sx, wsb)
    tr = np.einsum("...ji,jk,...kl,li->...", W, sx, W, sx)       # tr(W^T Sx W Sx)
    out = signal - 2 * n * lin + n * (n + 1) * quad + n * (signal + s2) * tr + s2
    return float(out) if np.ndim(out) == 0 else out


def isotropic_icl_loss(n, d, noise_var=0.0):
    r"""ICL loss of :math:`W^\star` for :math:`\Sigma_x=\Sigma_\beta=I_d`:
    :math:`d(d+1+\sigma^2)/(n+d+1+\sigma^2) + \sigma^2`. Broadcasts over ``n`` and ``d``.

    Divided by :math:`\mathbb E\|\beta\|^2 = d` and with :math:`n=\alpha d`, :math:`d\to\infty`, it
    tends to :math:`1/(1+\alpha)` (for bounded :math:`\sigma^2`).
    """
    n_ = _validate.finite_array(n, "n (the context length)")
    d_ = as_host(d)
    if np.any(~np.isfinite(n_)) or np.any(n_ < 1):
        raise ValueError(f"n (the context length) must be >= 1, got {n!r}")
    if np.any(~np.isfinite(d_)) or np.any(d_ < 1):
        raise ValueError(f"d must be >= 1, got {d!r}")
    s2 = _noise(noise_var)
    out = d_ * (d_ + 1 + s2) / (n_ + d_ + 1 + s2) + s2
    return float(out) if out.ndim == 0 else out


# --------------------------------------------------------------------------- finite task diversity
def wishart_stieltjes(x, kappa):
    r""":math:`M_\kappa(x) = 2\big/\big(x + 1 - \tfrac1\kappa + \sqrt{(x + 1 - \tfrac1\kappa)^2 + 4x/\kappa}\big)`,
    the Stieltjes transform (at :math:`-x`) of the Marchenko–Pastur law of aspect ratio :math:`1/\kappa`,
    in the form of Lu et al.'s code. ``x`` > 0, ``kappa`` > 0; broadcasts."""
    x_ = np.asarray(_validate.nonneg(x, "x", allow_zero=False), dtype=float)
    k_ = np.asarray(_validate.nonneg(kappa, "kappa", allow_zero=False), dtype=float)
    b = x_ + 1.0 - 1.0 / k_
    out = 2.0 / (b + np.sqrt(b * b + 4.0 * x_ / k_))
    return float(out) if out.ndim == 0 else out


def finite_task_errors(alpha, kappa, tau, rho=0.0):
    r"""Asymptotic ridgeless test errors :math:`(e_{ICL}, e_{IDG})` of linear attention pretrained on
    :math:`k = \kappa d` tasks and :math:`P = \tau d^2` prompts of context length :math:`\ell = \alpha d`
    (Lu, Letey, Zavatone-Veth, Maiti and Pehlevan, PNAS 2025; transcribed from the authors' code,
    ``theory_runs/common.py``, functions ``ridgeless_icl`` and ``ridgeless_idg``).

    Normalisation of the paper: tokens :math:`\mathcal N(0, I_d/d)`, tasks of norm :math:`\sqrt d`, label
    noise variance ``rho``, errors including the noise (the zero predictor has error ``1 + rho``).
    ICL: new tasks :math:`w\sim\mathcal N(0, I_d)`; IDG: tasks drawn from the pretraining set. With
    :math:`x^\star = (1+\rho)/\alpha`, :math:`m^\star = M_\kappa(x^\star)`,
    :math:`\mu^\star = x^\star M_{\kappa/\tau}(x^\star)` (see :func:`wishart_stieltjes`). Both diverge at
    :math:`\tau = 1` (interpolation). ``alpha``, ``kappa``, ``tau`` > 0 (``tau != 1``); broadcasts.
    """
    al = np.asarray(_validate.nonneg(alpha, "alpha", allow_zero=False), dtype=float)
    ka = np.asarray(_validate.nonneg(kappa, "kappa", allow_zero=False), dtype=float)
    ta = np.asarray(_validate.nonneg(tau, "tau", allow_zero=False), dtype=float)
    rho = _noise(rho)
    if np.any(ta == 1.0):
        raise ValueError("tau must differ from 1 (the ridgeless errors diverge at tau = 1)")
    al, ka, ta = np.broadcast_arrays(al, ka, ta)
    x = (1.0 + rho) / al
    m = wishart_stieltjes(x, ka)
    mu = x * wishart_stieltjes(x, ka / ta)
    with np.errstate(divide="ignore", invalid="ignore"):
        # tau < 1
        icl_lo = (ta * (1 + x) / (1 - ta) * (1 - ta * (1 - mu) ** 2 - (x - rho) / x * mu)
                  - 2 * ta * (1 - mu) + rho + 1)
        eps = (1 - ta) * x / (ta * mu)
        c = 1.0 / (1.0 - ka / (1.0 + ka * eps / (1 - ta)) ** 2)
        idg_lo = ta * ((x + eps) ** 2 / eps
                       + (rho + x - 2 * x * (1 - ta) * (x / eps + 1)) / (1 - ta - c * (1 - ta) ** 2))
        # tau > 1
        ks = 1.0 / (1.0 - ka * (m / (ka + m)) ** 2)
        icl_hi = ((ks - 1 / (ta - 1)) * (1 + x) * (x * m) ** 2 + (3 - 2 * ta) / (ta - 1) * m * x**2
                  + ((1 + rho) / (ta - 1) * m + 1) * x + rho * m / (ta - 1) + rho)
        idg_hi = ta * (rho + x * (1 - x * m)) / (ta - 1)
    e_icl = np.where(ta < 1, icl_lo, icl_hi)
    e_idg = np.where(ta < 1, idg_lo, idg_hi)
    if e_icl.ndim == 0:
        return float(e_icl), float(e_idg)
    return e_icl, e_idg


def task_set_test_error(gamma, ell, rho=0.0, tasks=None):
    r"""Exact test error of a given :math:`\Gamma\in\mathbb R^{d\times(d+1)}` in Lu et al.'s model,
    averaged over test contexts of length ``ell``, queries and label noise ``rho`` (noise included).

    ``tasks=None``: new tasks :math:`w\sim\mathcal N(0, I_d)` (the ICL error); otherwise an array
    ``(k, d)`` of tasks drawn uniformly (the IDG error). With :math:`\hat\mu`, :math:`\hat R` the mean
    and second moment of the test tasks, :math:`q = \mathbb E(\|w\|^2/d + \rho)^2` and
    :math:`\nu = \mathbb E[w(\|w\|^2/d + \rho)]`, Gaussian moments give

    .. math::
        e(\Gamma) = \mathbb E\|w\|^2/d + \rho - \frac2d\operatorname{tr}(\Gamma A)
        + \frac1d\operatorname{tr}(\Gamma^\top\Gamma\,\mathbb E[hh^\top]),\quad
        A = \begin{pmatrix}\hat R\\ \nu^\top\end{pmatrix},\quad
        \mathbb E[hh^\top] = \begin{pmatrix}(1+\frac1\ell)\hat R + \frac{d}{\ell}\,\mathbb E(\|w\|^2/d+\rho)\,I
        & (1+\frac2\ell)\nu\\ (1+\frac2\ell)\nu^\top & (1+\frac2\ell)q\end{pmatrix}.

    For tasks of norm :math:`\sqrt d` this is the formula of the authors' code
    (``gen_err_analytical_NEW``); for Gaussian tasks :math:`q = (1+\rho)^2 + 2/d` (our derivation).
    ``gamma``: ``(d, d + 1)`` or a stack ``(..., d, d + 1)``; returns a float or an array.
    """
    g = np.asarray(gamma, dtype=float)
    if g.ndim < 2 or g.shape[-1] != g.shape[-2] + 1 or not np.all(np.isfinite(g)):
        raise ValueError(f"gamma must be a finite (..., d, d + 1) array, got shape {g.shape}")
    d = g.shape[-2]
    ell = _validate.positive_int(ell, "ell (the context length)")
    rho = _noise(rho)
    if tasks is None:
        R, nu, sig, q = np.eye(d), np.zeros(d), 1.0 + rho, (1.0 + rho) ** 2 + 2.0 / d
    else:
        w = np.asarray(tasks, dtype=float)
        if w.ndim != 2 or w.shape[1] != d or not np.all(np.isfinite(w)):
            raise ValueError(f"tasks must be a finite (k, {d}) array, got shape {w.shape}")
        r = (w * w).sum(axis=1) / d + rho
        R, nu, sig, q = w.T @ w / len(w), (w * r[:, None]).mean(axis=0), r.mean(), (r * r).mean()
    A = np.vstack([R, nu[None, :]])
    H = np.zeros((d + 1, d + 1))
    H[:d, :d] = (1 + 1 / ell) * R + (d / ell) * sig * np.eye(d)
    H[:d, d] = H[d, :d] = (1 + 2 / ell) * nu
    H[d, d] = (1 + 2 / ell) * q
    lin = np.einsum("...ij,ji->...", g, A)
    quad = np.einsum("...ki,...kj,ji->...", g, g, H)
    out = sig - 2 * lin / d + quad / d
    return float(out) if np.ndim(out) == 0 else out
