r"""Monte-Carlo ridge regression, batched over trials and over a whole λ-path.

See the chapter *Ridge regression in high dimensions*, label ``ch-ridge``.

One eigendecomposition of the smaller Gram matrix per trial serves every penalty on the path:

* ``n < p``: :math:`XX^\top = U D U^\top`, and
  :math:`\hat\beta_\lambda = X^\top U (D + n\lambda)^{-1} U^\top y`;
* ``n >= p``: :math:`X^\top X = V D V^\top`, and
  :math:`\hat\beta_\lambda = V (D + n\lambda)^{-1} V^\top X^\top y`.

``λ = 0`` gives the minimum-norm least-squares solution (the pseudo-inverse). Trials are processed in
chunks so that memory stays under a budget; everything runs on the active backend (NumPy or CuPy)
and only the small per-trial summaries come back as NumPy arrays. Trial ``i`` draws from its own
random stream (:mod:`hdreg.batch`), so chunking never changes the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate
from ..batch import TrialRNG, chunk_size, chunks, memory_budget
from ..backend import get_backend, namespace_of, to_numpy
from ._summary import RiskTrials

__all__ = ["RidgePathSim", "simulate_ridge_path", "RidgeDesignSim", "simulate_ridge_path_given_design",
           "sample_covariance_eigenvalues", "memory_budget", "ridge_path", "ridge_path_given_design",
           "gram_eigensystem", "ridgeless_threshold_check"]


def ridge_path(X, Y, nlam, train: bool = False):
    r"""Ridge coefficients for a batch, every penalty from one eigendecomposition per trial.

    ``X``: ``(t, n, p)`` designs; ``Y``: ``(t, n)`` or ``(t, n, S)`` responses (``S`` response vectors
    sharing each design); ``nlam``: ``(L,)`` penalties times ``n`` (the normalised convention
    :math:`\frac1n\|y - X\beta\|^2 + \lambda\|\beta\|^2`), on the same namespace. Returns the
    coefficients, ``(t, p, L)`` or ``(t, p, S, L)``, and with ``train=True`` also the training mean
    squared errors ``(t, L)`` or ``(t, S, L)``.

    With the smaller Gram matrix (``XX^T = U D U^T`` when ``n < p``, else ``X^T X = V D V^T``):
    :math:`\hat\beta_\lambda = X^\top U (D + n\lambda)^{-1} U^\top y` or
    :math:`V (D + n\lambda)^{-1} V^\top X^\top y`. Eigenvalues below ``max(D) max(n, p) eps`` count
    as exact zeros, so ``λ = 0`` is the minimum-norm least-squares solution. This is the one ridge
    kernel of :mod:`hdreg.sim`; every simulator calls it.
    """
    xp = namespace_of(X)
    single = Y.ndim == 2
    if single:
        Y = Y[:, :, None]
    t, n, p = X.shape
    S, L = Y.shape[2], nlam.shape[0]
    Xt = X.transpose(0, 2, 1)
    if n < p:
        d, U = xp.linalg.eigh(X @ Xt)
        A = U.transpose(0, 2, 1) @ Y  # (t, n, S)
    else:
        d, U = xp.linalg.eigh(Xt @ X)
        A = U.transpose(0, 2, 1) @ (Xt @ Y)  # (t, p, S)
    d = xp.clip(d, 0.0, None)
    shifted = d[:, :, None] + nlam[None, None, :]  # (t, r, L)
    tol = xp.max(d, axis=1, keepdims=True)[..., None] * max(n, p) * np.finfo(float).eps
    keep = shifted > tol
    inv = xp.where(keep, 1.0 / xp.where(keep, shifted, 1.0), 0.0)
    C = A[:, :, :, None] * inv[:, :, None, :]  # (t, r, S, L)
    r = C.shape[1]
    flat = C.reshape(t, r, S * L)
    B = (Xt @ (U @ flat) if n < p else U @ flat).reshape(t, p, S, L)
    if not train:
        return B[:, :, 0, :] if single else B
    if n < p:  # residual in the U basis: a_j (1 - d_j inv_j), exact since U spans R^n
        resid = A[:, :, :, None] * (1.0 - d[:, :, None, None] * inv[:, :, None, :])
        mse = (resid * resid).sum(axis=1) / n  # (t, S, L)
    else:
        R = Y[:, :, :, None] - (X @ B.reshape(t, p, S * L)).reshape(t, n, S, L)
        mse = (R * R).sum(axis=1) / n
    if single:
        return B[:, :, 0, :], mse[:, 0, :]
    return B, mse


def ridge_path_given_design(X, beta, nlam, noise_var: float, spec):
    r"""Design-conditioned ridge quantities for a batch, every penalty from one eigendecomposition.

    ``X``: ``(t, n, p)`` designs; ``beta``: ``(p,)`` true coefficients; ``nlam``: ``(L,)`` penalties
    times ``n`` (the convention of :func:`ridge_path`); ``noise_var``: the label-noise variance
    :math:`\sigma^2`; ``spec``: ``(p,)`` the diagonal of the population covariance :math:`\Sigma`
    that the risk is measured in; arrays on the same namespace. Returns ``(coef, bias, variance,
    train)``: :math:`\mathbb E[\hat\beta_\lambda\mid X]` ``(t, p, L)``, and ``(t, L)`` each,
    :math:`\|\mathbb E[\hat\beta_\lambda\mid X] - \beta\|_\Sigma^2`,
    :math:`\sigma^2\operatorname{tr}\Sigma A_\lambda A_\lambda^\top` (:math:`\hat\beta_\lambda
    = A_\lambda y`) and :math:`\mathbb E[\frac1n\|y - X\hat\beta_\lambda\|^2\mid X]` for
    :math:`y = X\beta + \varepsilon`, the noise integrated exactly.

    Same eigendecomposition and the same null-space threshold as :func:`ridge_path` (``λ = 0`` is the
    minimum-norm least-squares solution); the closed forms are in the eigenbasis of the smaller Gram
    matrix. The kernel of :func:`simulate_ridge_path_given_design` and
    :func:`hdreg.sim.universality.simulate_ridge_path_designs`.
    """
    xp = namespace_of(X)
    _, n, p = X.shape
    s2 = noise_var
    Xt = X.transpose(0, 2, 1)
    if n < p:
        # X X^T = U D U^T; beta_hat = W (D + n lam)^{-1} U^T y with W = X^T U (p x n).
        d, U = xp.linalg.eigh(X @ Xt)
        W = Xt @ U  # (t, p, n); column j has squared norm d_j
        a = (U.transpose(0, 2, 1) @ (X @ beta[:, None]))[..., 0]  # U^T X beta, (t, n)
    else:
        # X^T X = V D V^T; beta_hat = V (D + n lam)^{-1} V^T X^T y.
        d, W = xp.linalg.eigh(Xt @ X)
        a = (W.transpose(0, 2, 1) @ beta[:, None])[..., 0]  # V^T beta, (t, p)
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
        mean_coef = W @ (a[..., None] * keep)
        var = s2 * (w[..., None] * d[..., None] * inv * inv).sum(axis=1)
        nonnull = (d[..., None] > tol).astype(d.dtype)
        resid_in = ((1.0 - keep) ** 2 * nonnull * (d[..., None] * a[..., None] ** 2 + s2))
        train = (resid_in.sum(axis=1) + s2 * (n - nonnull.sum(axis=1))) / n
    err = mean_coef - beta[None, :, None]
    bias = (spec[None, :, None] * err * err).sum(axis=1)
    return mean_coef, bias, var, train


def gram_eigensystem(X):
    r"""Eigen-decomposition of the design through the smaller Gram matrix, batched.

    ``X``: (trials, n, p). Returns ``(s, A, B)`` with ``s`` (trials, m) the non-negative eigenvalues of
    :math:`\hat\Sigma` (``m = min(n, p)``), ``A`` (trials, n, m) orthonormal left vectors and ``B``
    (trials, p, m) right vectors scaled so that :math:`X = \sqrt n\,A\,\mathrm{diag}(\sqrt s)\,B^\top`
    (``B`` orthonormal on the columns with ``s > 0``).

    The same eigendecomposition of the smaller Gram matrix as :func:`ridge_path`, returned as a thin
    SVD for spectral filters other than ridge's (gradient flow and gradient descent,
    :func:`hdreg.sim.gradient_flow.simulate_gradient_flow`). For ``n = p`` it decomposes
    :math:`XX^\top`.
    """
    xp = namespace_of(X)
    _, n, p = X.shape
    if n <= p:
        d, A = xp.linalg.eigh(X @ X.transpose(0, 2, 1))
        d = xp.clip(d, 0.0, None)
        sq = xp.sqrt(d)
        tol = xp.max(sq, axis=1, keepdims=True) * max(n, p) * np.finfo(float).eps
        inv = xp.where(sq > tol, 1.0 / xp.where(sq > tol, sq, 1.0), 0.0)
        B = (X.transpose(0, 2, 1) @ A) * inv[:, None, :]
    else:
        d, B = xp.linalg.eigh(X.transpose(0, 2, 1) @ X)
        d = xp.clip(d, 0.0, None)
        sq = xp.sqrt(d)
        tol = xp.max(sq, axis=1, keepdims=True) * max(n, p) * np.finfo(float).eps
        inv = xp.where(sq > tol, 1.0 / xp.where(sq > tol, sq, 1.0), 0.0)
        A = (X @ B) * inv[:, None, :]
    return d / n, A, B


def ridgeless_threshold_check(lams, n: int, rank: int, what: str = "ridgeless (lam = 0)",
                              size_name: str = "n", rank_name: str = "rank(Sigma)") -> None:
    """Refuse ``λ = 0`` at ``n = rank``: the interpolation threshold, where the risk has no finite
    mean."""
    if np.any(np.asarray(lams) == 0) and n == rank:
        raise ValueError(f"{what} with {size_name} = {rank_name} = {rank} is the interpolation "
                         "threshold, where the risk has no finite mean; use lam > 0 or another "
                         f"{size_name}")


@dataclass(frozen=True)
class RidgePathSim(RiskTrials):
    """Per-trial results, NumPy arrays of shape ``(trials, len(lams))``; row ``i`` is trial ``i``
    (its numbers depend only on the seed and ``i``).

    ``coef`` (only with ``return_coef=True``) has shape ``(trials, p, len(lams))``.
    """

    lams: np.ndarray
    risk: np.ndarray
    train_error: np.ndarray
    coef: np.ndarray | None = None


def _design(gen, xp, t, n, sqrt_spec):
    return gen.standard_normal((t, n, sqrt_spec.shape[0]), dtype=xp.float64) * sqrt_spec


def _path_inputs(spectrum, beta, n, lams, noise_var, trials, seed):
    """The validated inputs of the Gaussian-design simulators, on the host; refuses ``λ = 0`` at the
    interpolation threshold."""
    spec_h = to_numpy(_validate.spectrum(spectrum))
    beta_h = to_numpy(_validate.vector_like(beta, spec_h, "beta"))
    n = _validate.positive_int(n, "n")
    trials = _validate.positive_int(trials, "trials")
    seed = _validate.seed(seed)
    lams_h = _validate.penalties(lams)
    s2 = _validate.nonneg_scalar(noise_var, "noise_var")
    ridgeless_threshold_check(lams_h, n, int(np.count_nonzero(spec_h > 0)))
    return spec_h, beta_h, n, trials, seed, lams_h, s2


def simulate_ridge_path(spectrum, beta, n: int, lams, noise_var: float, trials: int, seed: int = 0,
                        return_coef: bool = False, desc: str = "ridge trials") -> RidgePathSim:
    r"""Simulate ridge on ``trials`` independent data sets for every penalty in ``lams``.

    Data: ``x ~ N(0, diag(spectrum))``, ``y = x^T beta + eps``, ``Var eps = noise_var``. Returns the
    excess risk :math:`\|\hat\beta_\lambda - \beta\|_\Sigma^2` and the training error
    :math:`\frac1n\|y - X\hat\beta_\lambda\|^2` for each trial and penalty. Trial ``i`` draws its
    design then its noise from its own stream (:class:`hdreg.batch.TrialRNG`).
    """
    xp = get_backend().module
    spec_h, beta_h, n, trials, seed, lams_h, s2 = _path_inputs(spectrum, beta, n, lams, noise_var,
                                                               trials, seed)
    sigma = float(np.sqrt(s2))
    p, L, m = spec_h.size, lams_h.size, min(n, spec_h.size)
    per_trial = 8 * (2 * n * p + 3 * m * m + 3 * p * L + 2 * m * L + n + p)
    step = chunk_size(per_trial, trials, "simulate_ridge_path")

    spec = xp.asarray(spec_h)
    sqrt_spec = xp.sqrt(spec)
    b_star = xp.asarray(beta_h)
    nlam = xp.asarray(n * lams_h)
    risks, trains, coefs = [], [], []
    for start, stop in chunks(trials, step, desc):
        gen = TrialRNG(seed, start, stop, xp)
        t = stop - start
        X = _design(gen, xp, t, n, sqrt_spec)
        y = X @ b_star + sigma * gen.standard_normal((t, n), dtype=xp.float64)
        B, train = ridge_path(X, y, nlam, train=True)
        err = B - b_star[None, :, None]
        risks.append(to_numpy((spec[None, :, None] * err * err).sum(axis=1)))
        trains.append(to_numpy(train))
        if return_coef:
            coefs.append(to_numpy(B))
    return RidgePathSim(lams_h, np.concatenate(risks), np.concatenate(trains),
                        np.concatenate(coefs) if return_coef else None)


@dataclass(frozen=True)
class RidgeDesignSim(RiskTrials):
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


def simulate_ridge_path_given_design(spectrum, beta, n: int, lams, noise_var: float, trials: int,
                                     seed: int = 0, return_coef: bool = False,
                                     desc: str = "ridge trials") -> RidgeDesignSim:
    r"""Like :func:`simulate_ridge_path`, but the label noise is integrated out exactly.

    Only the design :math:`X` is drawn (``x ~ N(0, diag(spectrum))``); for each trial and penalty
    the excess risk, its bias and variance and the training error are returned as expectations
    over :math:`\varepsilon` given :math:`X` (closed forms in the eigenbasis of the Gram matrix).
    Their mean over trials estimates the same quantities as :func:`simulate_ridge_path` with a
    smaller standard error: the noise contributes no Monte-Carlo error. Trial ``i`` draws its
    design from its own stream, the same as trial ``i`` of :func:`simulate_ridge_path` with the same
    seed (which then draws its noise), so the two are paired.
    """
    xp = get_backend().module
    spec_h, beta_h, n, trials, seed, lams_h, s2 = _path_inputs(spectrum, beta, n, lams, noise_var,
                                                               trials, seed)
    p, L, m = spec_h.size, lams_h.size, min(n, spec_h.size)
    per_trial = 8 * (3 * n * p + 3 * m * m + 3 * p * L + 3 * m * L + n + p)
    step = chunk_size(per_trial, trials, "simulate_ridge_path_given_design")

    spec = xp.asarray(spec_h)
    sqrt_spec = xp.sqrt(spec)
    b_star = xp.asarray(beta_h)
    nlam = xp.asarray(n * lams_h)
    out = {k: [] for k in ("risk", "bias", "variance", "train", "coef")}
    for start, stop in chunks(trials, step, desc):
        gen = TrialRNG(seed, start, stop, xp)
        t = stop - start
        X = _design(gen, xp, t, n, sqrt_spec)
        mean_coef, bias, var, train = ridge_path_given_design(X, b_star, nlam, s2, spec)
        out["risk"].append(to_numpy(bias + var))
        out["bias"].append(to_numpy(bias))
        out["variance"].append(to_numpy(var))
        out["train"].append(to_numpy(train))
        if return_coef:
            out["coef"].append(to_numpy(mean_coef))
    cat = {k: np.concatenate(v) for k, v in out.items() if v}
    return RidgeDesignSim(lams_h, cat["risk"], cat["bias"], cat["variance"], cat["train"],
                          cat.get("coef"))


def sample_covariance_eigenvalues(spectrum, n: int, trials: int, seed: int = 0) -> np.ndarray:
    r"""Eigenvalues of :math:`\hat\Sigma = X^\top X/n` for ``trials`` draws, shape ``(trials, p)``,
    ascending (``p - n`` exact zeros first when ``p > n``)."""
    xp = get_backend().module
    spec_h = to_numpy(_validate.spectrum(spectrum))
    n = _validate.positive_int(n, "n")
    trials = _validate.positive_int(trials, "trials")
    seed = _validate.seed(seed)
    p = spec_h.size
    m = min(n, p)
    step = chunk_size(8 * (n * p + 3 * m * m), trials, "sample_covariance_eigenvalues")
    sqrt_spec = xp.sqrt(xp.asarray(spec_h))
    out = []
    for start, stop in chunks(trials, step, "sample covariances"):
        gen = TrialRNG(seed, start, stop, xp)
        t = stop - start
        X = _design(gen, xp, t, n, sqrt_spec)
        gram = X @ X.transpose(0, 2, 1) if n < p else X.transpose(0, 2, 1) @ X
        ev = xp.clip(xp.linalg.eigvalsh(gram), 0.0, None) / n
        if n < p:
            ev = xp.concatenate([xp.zeros((t, p - n)), ev], axis=1)
        out.append(to_numpy(ev))
    return np.concatenate(out)
