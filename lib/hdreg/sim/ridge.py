r"""Monte-Carlo ridge regression, batched over trials and over a whole λ-path (Chapter 1).

One eigendecomposition of the smaller Gram matrix per trial serves every penalty on the path:

* ``n < p``: :math:`XX^\top = U D U^\top`, and
  :math:`\hat\beta_\lambda = X^\top U (D + n\lambda)^{-1} U^\top y`;
* ``n >= p``: :math:`X^\top X = V D V^\top`, and
  :math:`\hat\beta_\lambda = V (D + n\lambda)^{-1} V^\top X^\top y`.

``λ = 0`` gives the minimum-norm least-squares solution (the pseudo-inverse). Trials are processed in
chunks so that memory stays under a budget; everything runs on the active backend (NumPy or CuPy)
and only the small per-trial summaries come back as NumPy arrays.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .. import _validate
from ..backend import get_backend, rng, to_numpy
from ..profiles import progress

__all__ = ["RidgePathSim", "simulate_ridge_path", "RidgeDesignSim", "simulate_ridge_path_given_design",
           "sample_covariance_eigenvalues", "memory_budget"]


def memory_budget() -> int:
    """Bytes one batched computation may use: ``HDREG_MEM_BUDGET_GB`` if set, else a quarter of the
    free device memory (CuPy) or 2 GiB (NumPy)."""
    env = os.environ.get("HDREG_MEM_BUDGET_GB")
    if env:
        value = float(env)
        if not value > 0:
            raise ValueError(f"HDREG_MEM_BUDGET_GB must be > 0, got {env!r}")
        return int(value * 2**30)
    b = get_backend()
    if b.name == "cupy":
        free, _ = b.module.cuda.runtime.memGetInfo()
        return int(free // 4)
    return 2 * 2**30


def _chunk(per_trial_bytes: int, trials: int, what: str) -> int:
    budget = memory_budget()
    if per_trial_bytes > budget:
        raise MemoryError(
            f"{what}: one trial needs about {per_trial_bytes / 2**30:.2f} GiB but the memory budget is "
            f"{budget / 2**30:.2f} GiB. Reduce the sizes or raise HDREG_MEM_BUDGET_GB."
        )
    return max(1, min(trials, budget // per_trial_bytes))


@dataclass(frozen=True)
class RidgePathSim:
    """Per-trial results, NumPy arrays of shape ``(trials, len(lams))``.

    ``coef`` (only with ``return_coef=True``) has shape ``(trials, p, len(lams))``.
    """

    lams: np.ndarray
    risk: np.ndarray
    train_error: np.ndarray
    coef: np.ndarray | None = None

    @property
    def trials(self) -> int:
        return self.risk.shape[0]

    def mean_se(self, field: str = "risk"):
        """Mean over trials and its standard error (``ddof=1``)."""
        a = getattr(self, field)
        return a.mean(axis=0), a.std(axis=0, ddof=1) / np.sqrt(a.shape[0])


def _design(gen, xp, t, n, sqrt_spec):
    return gen.standard_normal((t, n, sqrt_spec.shape[0]), dtype=xp.float64) * sqrt_spec


def simulate_ridge_path(spectrum, beta, n: int, lams, noise_var: float, trials: int, seed: int = 0,
                        return_coef: bool = False, desc: str = "ridge trials") -> RidgePathSim:
    r"""Simulate ridge on ``trials`` independent data sets for every penalty in ``lams``.

    Data: ``x ~ N(0, diag(spectrum))``, ``y = x^T beta + eps``, ``Var eps = noise_var``. Returns the
    excess risk :math:`\|\hat\beta_\lambda - \beta\|_\Sigma^2` and the training error
    :math:`\frac1n\|y - X\hat\beta_\lambda\|^2` for each trial and penalty.
    """
    xp = get_backend().module
    spec_h = np.asarray(to_numpy(_validate.spectrum(spectrum)))
    beta_h = np.asarray(to_numpy(_validate.vector_like(beta, spec_h, "beta")))
    n = _validate.positive_int(n, "n")
    trials = _validate.positive_int(trials, "trials")
    lams_h = _validate.penalties(lams)
    sigma = float(np.sqrt(float(_validate.nonneg(noise_var, "noise_var"))))
    p = spec_h.size
    rank = int(np.count_nonzero(spec_h > 0))
    if np.any(lams_h == 0) and n == rank:
        raise ValueError(f"ridgeless (lam = 0) with n = rank(Sigma) = {rank} is the interpolation "
                         "threshold, where the risk has no finite mean; use lam > 0 or n != rank")
    L = lams_h.size
    m = min(n, p)
    per_trial = 8 * (2 * n * p + 3 * m * m + 3 * p * L + 2 * n * L + n + p)
    step = _chunk(per_trial, trials, "simulate_ridge_path")

    spec = xp.asarray(spec_h)
    sqrt_spec = xp.sqrt(spec)
    b_star = xp.asarray(beta_h)
    nlam = xp.asarray(n * lams_h)
    gen = rng(seed)
    risks, trains, coefs = [], [], []
    for start in progress(range(0, trials, step), desc=desc):
        t = min(step, trials - start)
        X = _design(gen, xp, t, n, sqrt_spec)
        y = X @ b_star + sigma * gen.standard_normal((t, n), dtype=xp.float64)
        if n < p:
            d, U = xp.linalg.eigh(X @ X.transpose(0, 2, 1))
            a = (U.transpose(0, 2, 1) @ y[..., None])[..., 0]  # (t, n)
        else:
            d, V = xp.linalg.eigh(X.transpose(0, 2, 1) @ X)
            a = (V.transpose(0, 2, 1) @ (X.transpose(0, 2, 1) @ y[..., None]))[..., 0]  # (t, p)
        d = xp.clip(d, 0.0, None)
        shifted = d[..., None] + nlam  # (t, m, L)
        tol = xp.max(d, axis=1, keepdims=True)[..., None] * max(n, p) * np.finfo(float).eps
        inv = xp.where(shifted > tol, 1.0 / xp.where(shifted > tol, shifted, 1.0), 0.0)
        coef_eig = a[..., None] * inv  # (t, m, L)
        if n < p:
            B = X.transpose(0, 2, 1) @ (U @ coef_eig)  # (t, p, L)
            resid = a[..., None] * (1.0 - d[..., None] * inv)  # residual in the U basis
            train = (resid * resid).sum(axis=1) / n
        else:
            B = V @ coef_eig
            R = y[..., None] - X @ B
            train = (R * R).sum(axis=1) / n
        err = B - b_star[None, :, None]
        risks.append(to_numpy((spec[None, :, None] * err * err).sum(axis=1)))
        trains.append(to_numpy(train))
        if return_coef:
            coefs.append(to_numpy(B))
    return RidgePathSim(lams_h, np.concatenate(risks), np.concatenate(trains),
                        np.concatenate(coefs) if return_coef else None)


def sample_covariance_eigenvalues(spectrum, n: int, trials: int, seed: int = 0) -> np.ndarray:
    r"""Eigenvalues of :math:`\hat\Sigma = X^\top X/n` for ``trials`` draws, shape ``(trials, p)``,
    ascending (``p - n`` exact zeros first when ``p > n``)."""
    xp = get_backend().module
    spec_h = np.asarray(to_numpy(_validate.spectrum(spectrum)))
    n = _validate.positive_int(n, "n")
    trials = _validate.positive_int(trials, "trials")
    p = spec_h.size
    m = min(n, p)
    step = _chunk(8 * (n * p + 3 * m * m), trials, "sample_covariance_eigenvalues")
    sqrt_spec = xp.sqrt(xp.asarray(spec_h))
    gen = rng(seed)
    out = []
    for start in range(0, trials, step):
        t = min(step, trials - start)
        X = _design(gen, xp, t, n, sqrt_spec)
        gram = X @ X.transpose(0, 2, 1) if n < p else X.transpose(0, 2, 1) @ X
        ev = xp.clip(xp.linalg.eigvalsh(gram), 0.0, None) / n
        if n < p:
            ev = xp.concatenate([xp.zeros((t, p - n)), ev], axis=1)
        out.append(to_numpy(ev))
    return np.concatenate(out)


@dataclass(frozen=True)
class RidgeDesignSim:
    r"""Per-trial risks *given the design*, NumPy arrays of shape ``(trials, len(lams))``.

    Each entry is an expectation over the label noise with the design :math:`X` held fixed,
    computed exactly: ``bias`` is :math:`\|\mathbb E[\hat\beta_\lambda\mid X] - \beta\|_\Sigma^2`,
    ``variance`` is :math:`\sigma^2\operatorname{tr}\Sigma A_\lambda A_\lambda^\top` with
    :math:`\hat\beta_\lambda = A_\lambda y`, ``risk = bias + variance`` and ``train_error`` is
    :math:`\mathbb E[\frac1n\|y - X\hat\beta_\lambda\|^2\mid X]`. ``coef`` (only with
    ``return_coef=True``, shape ``(trials, p, len(lams))``) is :math:`\mathbb E[\hat\beta_\lambda\mid X]`.
    """

    lams: np.ndarray
    risk: np.ndarray
    bias: np.ndarray
    variance: np.ndarray
    train_error: np.ndarray
    coef: np.ndarray | None = None

    @property
    def trials(self) -> int:
        return self.risk.shape[0]

    def mean_se(self, field: str = "risk"):
        """Mean over trials and its standard error (``ddof=1``)."""
        a = getattr(self, field)
        return a.mean(axis=0), a.std(axis=0, ddof=1) / np.sqrt(a.shape[0])


def simulate_ridge_path_given_design(spectrum, beta, n: int, lams, noise_var: float, trials: int,
                                     seed: int = 0, return_coef: bool = False,
                                     desc: str = "ridge trials") -> RidgeDesignSim:
    r"""Like :func:`simulate_ridge_path`, but the label noise is integrated out exactly.

    Only the design :math:`X` is drawn (``x ~ N(0, diag(spectrum))``); for each trial and penalty
    the excess risk, its bias and variance and the training error are returned as expectations
    over :math:`\varepsilon` given :math:`X` (closed forms in the eigenbasis of the Gram matrix).
    Their mean over trials estimates the same quantities as :func:`simulate_ridge_path` with a
    smaller standard error: the noise contributes no Monte-Carlo error.
    """
    xp = get_backend().module
    spec_h = np.asarray(to_numpy(_validate.spectrum(spectrum)))
    beta_h = np.asarray(to_numpy(_validate.vector_like(beta, spec_h, "beta")))
    n = _validate.positive_int(n, "n")
    trials = _validate.positive_int(trials, "trials")
    lams_h = _validate.penalties(lams)
    s2 = float(_validate.nonneg(noise_var, "noise_var"))
    p = spec_h.size
    rank = int(np.count_nonzero(spec_h > 0))
    if np.any(lams_h == 0) and n == rank:
        raise ValueError(f"ridgeless (lam = 0) with n = rank(Sigma) = {rank} is the interpolation "
                         "threshold, where the risk has no finite mean; use lam > 0 or n != rank")
    L = lams_h.size
    m = min(n, p)
    per_trial = 8 * (3 * n * p + 3 * m * m + 3 * p * L + 3 * m * L + n + p)
    step = _chunk(per_trial, trials, "simulate_ridge_path_given_design")

    spec = xp.asarray(spec_h)
    sqrt_spec = xp.sqrt(spec)
    b_star = xp.asarray(beta_h)
    nlam = xp.asarray(n * lams_h)
    gen = rng(seed)
    out = {k: [] for k in ("risk", "bias", "variance", "train", "coef")}
    for start in progress(range(0, trials, step), desc=desc):
        t = min(step, trials - start)
        X = _design(gen, xp, t, n, sqrt_spec)
        Xt = X.transpose(0, 2, 1)
        if n < p:
            # X X^T = U D U^T; beta_hat = W (D + n lam)^{-1} U^T y with W = X^T U (p x n).
            d, U = xp.linalg.eigh(X @ Xt)
            W = Xt @ U  # (t, p, n); column j has squared norm d_j
            a = (U.transpose(0, 2, 1) @ (X @ b_star[:, None]))[..., 0]  # U^T X beta, (t, n)
        else:
            # X^T X = V D V^T; beta_hat = V (D + n lam)^{-1} V^T X^T y.
            d, V = xp.linalg.eigh(Xt @ X)
            W = V
            a = (V.transpose(0, 2, 1) @ b_star[:, None])[..., 0]  # V^T beta, (t, p)
        d = xp.clip(d, 0.0, None)
        shifted = d[..., None] + nlam  # (t, m, L)
        tol = xp.max(d, axis=1, keepdims=True)[..., None] * max(n, p) * np.finfo(float).eps
        inv = xp.where(shifted > tol, 1.0 / xp.where(shifted > tol, shifted, 1.0), 0.0)
        keep = d[..., None] * inv  # d/(d + n lam) on the non-null space, 0 on the null space
        w = (spec[None, :, None] * W * W).sum(axis=1)  # (t, m): ||Sigma^{1/2} w_j||^2
        if n < p:
            mean_coef = W @ (a[..., None] * inv)  # (t, p, L)
            var = s2 * (w[..., None] * inv * inv).sum(axis=1)
            # residual in the U basis: (1 - d/(d + n lam)) (U^T y); E over the noise
            train = (((1.0 - keep) ** 2) * (a[..., None] ** 2 + s2)).sum(axis=1) / n
        else:
            mean_coef = V @ (a[..., None] * keep)
            var = s2 * (w[..., None] * d[..., None] * inv * inv).sum(axis=1)
            nonnull = (d[..., None] > tol).astype(d.dtype)
            resid_in = ((1.0 - keep) ** 2 * nonnull * (d[..., None] * a[..., None] ** 2 + s2))
            train = (resid_in.sum(axis=1) + s2 * (n - nonnull.sum(axis=1))) / n
        err = mean_coef - b_star[None, :, None]
        bias = (spec[None, :, None] * err * err).sum(axis=1)
        out["risk"].append(to_numpy(bias + var))
        out["bias"].append(to_numpy(bias))
        out["variance"].append(to_numpy(var))
        out["train"].append(to_numpy(train))
        if return_coef:
            out["coef"].append(to_numpy(mean_coef))
    cat = {k: np.concatenate(v) for k, v in out.items() if v}
    return RidgeDesignSim(lams_h, cat["risk"], cat["bias"], cat["variance"], cat["train"],
                          cat.get("coef"))
