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

__all__ = ["RidgePathSim", "simulate_ridge_path", "sample_covariance_eigenvalues", "memory_budget"]


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
