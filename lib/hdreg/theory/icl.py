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
           "context_second_moment"]


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
