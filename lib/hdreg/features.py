r"""Random feature maps shared by the simulators (random features, weak-to-strong) and the theory.

Two maps from inputs :math:`x\in\mathbb R^D` to ``p`` features (see the chapter *Random-feature ridge regression*, label
``ch-random-features``):

``"linear"``
    :math:`z = F^\top x/\sqrt p`, :math:`F_{ij}\sim\mathcal N(0,1)`; any diagonal Σ. The excess risk
    of weights :math:`w` is :math:`\|\Sigma^{1/2}(Fw/\sqrt p-\beta_\star)\|^2`, exactly.
``"relu"``
    :math:`z_j = (\mathrm{relu}(u_j) - \mu_0)/\sqrt p`, :math:`u_j = f_j^\top x/\sqrt{sD}` with
    :math:`\|f_j\| = \sqrt D` (uniform on the sphere) and isotropic inputs Σ = sI, so that every
    :math:`u_j\sim\mathcal N(0,1)`. The excess risk
    :math:`\mathbb E_x[(z(x)^\top w - x^\top\beta_\star)^2]` is exact through the centred arc-cosine
    kernel (:func:`relu_kernel`) and Stein's lemma
    :math:`\mathbb E[\mathrm{relu}(u)\,x^\top\beta_\star] = \tfrac12\operatorname{Cov}(u, x^\top\beta_\star)`.

The Hermite coefficients of the ReLU (:func:`relu_coefficients`) give its Gaussian equivalent,
:func:`hdreg.theory.random_features.relu_gaussian_equivalent`.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["FEATURES", "MU0", "MU1", "MU_STAR2", "relu_coefficients", "relu_kernel", "FeatureMap"]

FEATURES = ("linear", "relu")
#: E relu(u), E[u relu(u)], and E relu(u)^2 - mu0^2 - mu1^2 for u ~ N(0, 1)
MU0 = 1.0 / math.sqrt(2.0 * math.pi)
MU1 = 0.5
MU_STAR2 = 0.25 - 1.0 / (2.0 * math.pi)


def relu_coefficients():
    r"""``(mu0, mu1, mu_star)``: :math:`\mu_0=\mathbb E\,\mathrm{relu}(u)=1/\sqrt{2\pi}`,
    :math:`\mu_1=\mathbb E[u\,\mathrm{relu}(u)]=1/2`,
    :math:`\mu_\star^2=\mathbb E\,\mathrm{relu}(u)^2-\mu_0^2-\mu_1^2=1/4-1/(2\pi)`."""
    return MU0, MU1, math.sqrt(MU_STAR2)


def relu_kernel(rho, xp=np):
    r"""Centred arc-cosine kernel :math:`\mathbb E[(\mathrm{relu}(u)-\mu_0)(\mathrm{relu}(v)-\mu_0)]`
    for unit Gaussians of correlation ``rho``:
    :math:`\frac{1}{2\pi}(\sqrt{1-\rho^2} + (\pi-\arccos\rho)\rho) - \mu_0^2`."""
    rho = xp.clip(rho, -1.0, 1.0)
    return (xp.sqrt(1.0 - rho * rho) + (np.pi - xp.arccos(rho)) * rho) / (2.0 * np.pi) - MU0**2


class FeatureMap:
    """One feature map per trial of a chunk: ``p=None`` (identity), linear or ReLU random features.

    ``F`` is drawn from ``gen`` (a :class:`hdreg.batch.TrialRNG`), shape ``(t, D, p)``.
    """

    def __init__(self, xp, gen, t: int, D: int, p, kind: str = "linear", s: float = 1.0):
        if kind not in FEATURES:
            raise ValueError(f"features must be one of {FEATURES}, got {kind!r}")
        self.xp, self.p, self.kind, self.s, self.D = xp, p, kind, float(s), D
        self.F = None
        if p is not None:
            F = gen.standard_normal((t, D, p), dtype=xp.float64)
            if kind == "relu":
                F = F * (np.sqrt(D) / xp.sqrt((F * F).sum(axis=1, keepdims=True)))
            self.F = F

    def __call__(self, X):
        """Features of the inputs ``X`` (t, n, D): ``(t, n, p)``."""
        if self.p is None:
            return X
        if self.kind == "linear":
            return (X @ self.F) / np.sqrt(self.p)
        U = (X @ self.F) / np.sqrt(self.s * self.D)
        return (self.xp.maximum(U, 0.0) - MU0) / np.sqrt(self.p)

    def risk(self, W, spec, b_star, signal: float):
        """Excess risk of the predictors with weights ``W`` (t, dim, K) against ``x^T b_star``:
        ``(t, K)``. ``signal`` is :math:`\\|\\beta_\\star\\|_\\Sigma^2`."""
        xp = self.xp
        if self.p is None or self.kind == "linear":
            B = W if self.p is None else (self.F @ W) / np.sqrt(self.p)
            err = B - b_star[None, :, None]
            return (spec[None, :, None] * err * err).sum(axis=1)
        Ft = self.F.transpose(0, 2, 1)
        K = relu_kernel((Ft @ self.F) / self.D, xp)
        c = 0.5 * np.sqrt(self.s) * (Ft @ b_star) / np.sqrt(self.D)
        quad = (W * (K @ W)).sum(axis=1) / self.p
        lin = (c[..., None] * W).sum(axis=1) / np.sqrt(self.p)
        return quad - 2.0 * lin + signal

    def risk_columns(self, W, spec, targets):
        """Excess risk of each column of ``W`` (t, dim, C, L) against ``x^T targets[:, c]``:
        ``(t, C, L)``. Used by the design-conditioned simulators (one column per input direction
        and per noise coordinate)."""
        xp = self.xp
        if self.p is None or self.kind == "linear":
            B = W if self.p is None else xp.einsum("tdp,tpcl->tdcl", self.F, W) / np.sqrt(self.p)
            err = B - targets[None, :, :, None]
            return (spec[None, :, None, None] * err * err).sum(axis=1)
        t, p, C, L = W.shape
        Ft = self.F.transpose(0, 2, 1)
        K = relu_kernel((Ft @ self.F) / self.D, xp)
        quad = (W * (K @ W.reshape(t, p, C * L)).reshape(t, p, C, L)).sum(axis=1) / self.p
        c = 0.5 * np.sqrt(self.s) * (Ft @ targets) / np.sqrt(self.D)  # (t, p, C)
        lin = (c[..., None] * W).sum(axis=1) / np.sqrt(self.p)
        signal = (spec[:, None] * targets * targets).sum(axis=0)  # (C,)
        return quad - 2.0 * lin + signal[None, :, None]
