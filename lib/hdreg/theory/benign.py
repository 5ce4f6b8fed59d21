r"""Effective ranks of benign overfitting, read off from the deterministic equivalent (the ridge chapter, label ``ch-ridge``).

For a spectrum :math:`\lambda_1 \ge \lambda_2 \ge \dots` (sorted here) the two effective ranks of
Bartlett, Long, Lugosi and Tsigler (2020) are

.. math:: r_k = \frac{\sum_{i>k}\lambda_i}{\lambda_{k+1}}, \qquad
          R_k = \frac{(\sum_{i>k}\lambda_i)^2}{\sum_{i>k}\lambda_i^2},

and the critical index is :math:`k^* = \min\{k \ge 0 : r_k \ge b n\}`. The minimum-norm interpolator's
variance is of order :math:`\sigma^2(k^*/n + n/R_{k^*})`; in the book's notation it is
:math:`\sigma^2\mathrm{df}_2(\tau)/(n - \mathrm{df}_2(\tau))` with :math:`\mathrm{df}_1(\tau) = n`
(:func:`hdreg.theory.ridge.ridge_risk` at ``lam = 0``), and :func:`variance_proxy` is the
approximation of that formula by the effective ranks.
"""

from __future__ import annotations

import numpy as np

from .. import _validate
from ..backend import to_numpy

__all__ = ["effective_ranks", "critical_index", "variance_proxy"]


def _sorted(spectrum) -> np.ndarray:
    spec = np.asarray(to_numpy(_validate.spectrum(spectrum)), dtype=np.float64)
    spec = np.sort(spec)[::-1]
    if not spec[0] > 0:
        raise ValueError("spectrum must have at least one positive eigenvalue")
    return spec


def effective_ranks(spectrum):
    r"""``(r, R)``: arrays over ``k = 0, ..., p - 1`` of :math:`r_k` and :math:`R_k` (``inf``/``nan``
    where the tail is zero)."""
    spec = _sorted(spectrum)
    tail1 = np.cumsum(spec[::-1])[::-1]  # sum_{i >= k+1} (1-based), index k
    tail2 = np.cumsum((spec ** 2)[::-1])[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(spec > 0, tail1 / spec, np.inf)
        R = np.where(tail2 > 0, tail1 ** 2 / tail2, np.nan)
    return r, R


def critical_index(spectrum, n, b: float = 1.0) -> np.ndarray:
    r""":math:`k^* = \min\{k : r_k \ge b n\}` for each ``n`` (``p`` where no ``k`` qualifies)."""
    n_a = np.atleast_1d(np.asarray(n, dtype=np.float64))
    _validate.nonneg(n_a, "n", allow_zero=False)
    b = float(_validate.nonneg(b, "b", allow_zero=False))
    r, _ = effective_ranks(spectrum)
    ok = r[None, :] >= b * n_a[:, None]
    k = np.where(ok.any(axis=1), ok.argmax(axis=1), r.size)
    return k.reshape(np.shape(n)) if np.ndim(n) else k[0]


def variance_proxy(spectrum, n, b: float = 1.0) -> np.ndarray:
    r""":math:`k^*/n + n/R_{k^*}` for each ``n`` (``inf`` where :math:`k^* = p`)."""
    n_a = np.atleast_1d(np.asarray(n, dtype=np.float64))
    k = np.atleast_1d(critical_index(spectrum, n_a, b))
    _, R = effective_ranks(spectrum)
    Rk = np.array([R[j] if j < R.size else np.nan for j in k])
    out = np.where(k < R.size, k / n_a + n_a / Rk, np.inf)
    return out.reshape(np.shape(n)) if np.ndim(n) else out[0]
