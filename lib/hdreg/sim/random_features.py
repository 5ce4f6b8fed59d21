r"""Monte-Carlo random-feature ridge regression, batched over trials and a whole λ-path.

See the chapter *Random-feature ridge regression*, label ``ch-random-features``.

Each trial draws fresh inputs :math:`X\in\mathbb R^{n\times D}` (rows :math:`\mathcal N(0,\Sigma)`),
labels :math:`y = X\beta_\star+\varepsilon`, and fresh feature weights :math:`F\in\mathbb R^{D\times p}`,
then fits ridge on the features :math:`Z` with the normalised penalty
:math:`\frac1n\|y-Zw\|^2+\lambda\|w\|^2` for every λ on the path from one eigendecomposition of the
smaller Gram matrix (:math:`ZZ^\top` if ``n < p``, else :math:`Z^\top Z`), exactly as
:mod:`hdreg.sim.ridge` does for plain ridge. ``λ = 0`` is the minimum-norm solution.

Two feature maps:

``"linear"``
    :math:`z = F^\top x/\sqrt p`, :math:`F_{ij}\sim\mathcal N(0,1)`; any diagonal Σ. The excess risk
    :math:`\|\Sigma^{1/2}(F\hat w/\sqrt p-\beta_\star)\|^2` is computed exactly.
``"relu"``
    :math:`z_j = (\mathrm{relu}(u_j) - \mu_0)/\sqrt p`, :math:`u_j = f_j^\top x/\sqrt{sD}` with
    :math:`\|f_j\| = \sqrt D` (uniform on the sphere) and isotropic inputs Σ = sI (``spectrum``
    constant), so that every :math:`u_j\sim\mathcal N(0,1)`. The excess risk
    :math:`\mathbb E_x[(z(x)^\top\hat w - x^\top\beta_\star)^2]` is computed exactly from the
    arc-cosine kernel :math:`\mathbb E[\mathrm{relu}(u)\mathrm{relu}(v)]
    = \frac{1}{2\pi}(\sqrt{1-\rho^2} + (\pi-\arccos\rho)\rho)` and Stein's lemma
    :math:`\mathbb E[\mathrm{relu}(u)\,x^\top\beta_\star] = \tfrac12\operatorname{Cov}(u, x^\top\beta_\star)`.

Trials are processed in chunks under :func:`hdreg.sim.ridge.memory_budget`; everything runs on the
active backend (NumPy or CuPy) and only per-trial summaries come back as NumPy arrays, in a
:class:`hdreg.sim.ridge.RidgePathSim` (fields ``lams``, ``risk``, ``train_error``; ``mean_se``).
"""

from __future__ import annotations

import numpy as np

from .. import _validate
from ..backend import get_backend, to_numpy
from ..batch import TrialRNG, chunk_size, chunks
from ..features import FEATURES, FeatureMap
from .ridge import RidgePathSim, ridge_path, ridgeless_threshold_check

__all__ = ["simulate_rf_path", "simulate_projection_error", "FEATURES", "single_index_coefficients",
           "simulate_rf_single_index"]


def simulate_rf_path(spectrum, beta, n: int, p: int, lams, noise_var: float, trials: int,
                     seed: int = 0, features: str = "linear",
                     desc: str = "random-feature trials") -> RidgePathSim:
    r"""Simulate random-feature ridge on ``trials`` independent draws of data *and* features.

    Parameters
    ----------
    spectrum, beta : (D,) eigenvalues of Σ and :math:`\beta_\star` in its eigenbasis.
    n, p : numbers of samples and of random features (positive integers).
    lams : penalties (normalised convention), a scalar or 1-D array; ``0`` is the min-norm solution.
    noise_var : label-noise variance. trials, seed : number of trials and seed (trial ``i`` draws
        from its own stream, :class:`hdreg.batch.TrialRNG`: inputs, noise, then feature weights).
    features : ``"linear"`` or ``"relu"`` (isotropic ``spectrum`` only), see :mod:`hdreg.features`.

    Returns a :class:`hdreg.sim.ridge.RidgePathSim` with ``risk`` (excess test error) and
    ``train_error`` of shape ``(trials, len(lams))``; compare with
    :func:`hdreg.theory.random_features.rf_risk` (for ReLU, through
    :func:`~hdreg.theory.random_features.relu_gaussian_equivalent`).
    """
    xp = get_backend().module
    spec_h = to_numpy(_validate.spectrum(spectrum))
    beta_h = to_numpy(_validate.vector_like(beta, spec_h, "beta"))
    n = _validate.positive_int(n, "n")
    p = _validate.positive_int(p, "p")
    trials = _validate.positive_int(trials, "trials")
    seed = _validate.seed(seed)
    features = _validate.choice(features, "features", FEATURES)
    if features == "relu" and not np.allclose(spec_h, spec_h[0], rtol=1e-12, atol=0):
        raise ValueError("features='relu' needs isotropic inputs: spectrum must be constant")
    lams_h = _validate.penalties(lams)
    sigma = float(np.sqrt(_validate.nonneg_scalar(noise_var, "noise_var")))
    D = spec_h.size
    rank = int(np.count_nonzero(spec_h > 0))
    feat_rank = p if features == "relu" else min(p, rank)
    ridgeless_threshold_check(lams_h, n, feat_rank, rank_name="the rank of the features")
    L = lams_h.size
    m = min(n, p)
    per_trial = 8 * (n * D + 2 * D * p + 2 * n * p + 3 * m * m + 2 * p * L + 2 * D * L + 2 * m * L
                     + (2 * p * p + p * L if features == "relu" else 0))
    step = chunk_size(per_trial, trials, "simulate_rf_path")

    spec = xp.asarray(spec_h)
    sqrt_spec = xp.sqrt(spec)
    b_star = xp.asarray(beta_h)
    nlam = xp.asarray(n * lams_h)
    signal = float((spec_h * beta_h * beta_h).sum())
    risks, trains = [], []
    for start, stop in chunks(trials, step, desc):
        gen = TrialRNG(seed, start, stop, xp)
        t = stop - start
        X = gen.standard_normal((t, n, D), dtype=xp.float64) * sqrt_spec
        y = X @ b_star + sigma * gen.standard_normal((t, n), dtype=xp.float64)
        fmap = FeatureMap(xp, gen, t, D, p, features, float(spec_h[0]))
        W, train = ridge_path(fmap(X), y, nlam, train=True)
        risks.append(to_numpy(fmap.risk(W, spec, b_star, signal)))
        trains.append(to_numpy(train))
    return RidgePathSim(lams_h, np.concatenate(risks), np.concatenate(trains))


def simulate_projection_error(spectrum, beta, p: int, trials: int, seed: int = 0) -> np.ndarray:
    r"""Approximation error of ``p`` Gaussian random features, one value per trial (shape ``(trials,)``):
    :math:`\min_a\|\Sigma^{1/2}(Fa/\sqrt p-\beta_\star)\|^2 = \|(I-P)\Sigma^{1/2}\beta_\star\|^2` with
    :math:`P` the orthogonal projection on the columns of :math:`\Sigma^{1/2}F` (the ``n -> inf``,
    ``lam -> 0`` limit of random-feature ridge; compare with
    :func:`hdreg.theory.random_features.rf_approximation_error`)."""
    xp = get_backend().module
    spec_h = to_numpy(_validate.spectrum(spectrum))
    beta_h = to_numpy(_validate.vector_like(beta, spec_h, "beta"))
    p = _validate.positive_int(p, "p")
    trials = _validate.positive_int(trials, "trials")
    seed = _validate.seed(seed)
    D = spec_h.size
    step = chunk_size(8 * (2 * D * p + 3 * p * p + 2 * D), trials, "simulate_projection_error")
    sqrt_spec = xp.sqrt(xp.asarray(spec_h))
    v = sqrt_spec * xp.asarray(beta_h)
    vv = float((spec_h * beta_h * beta_h).sum())
    out = []
    for start, stop in chunks(trials, step, "projection trials"):
        gen = TrialRNG(seed, start, stop, xp)
        t = stop - start
        G = gen.standard_normal((t, D, p), dtype=xp.float64) * sqrt_spec[None, :, None]
        Gt = G.transpose(0, 2, 1)
        # projection of v on the columns of G through the eigendecomposition of the p x p Gram matrix
        d, V = xp.linalg.eigh(Gt @ G)
        c = (V.transpose(0, 2, 1) @ (Gt @ v)[..., None])[..., 0]  # (t, p)
        keep = d > xp.max(d, axis=1, keepdims=True) * max(D, p) * np.finfo(float).eps
        explained = xp.where(keep, c * c / xp.where(keep, d, 1.0), 0.0).sum(axis=1)
        out.append(to_numpy(vv - explained))
    return np.concatenate(out)


def single_index_coefficients(link, points: int = 48001):
    r"""Hermite coefficients of a link ``g`` at a standard Gaussian :math:`u`: returns
    ``(mu0, mu1, mu_star2)`` with :math:`\mu_0=\mathbb E g(u)`, :math:`\mu_1=\mathbb E[u\,g(u)]` and
    :math:`\mu_\star^2=\operatorname{Var}g(u)-\mu_1^2`, by the trapezoidal rule on ``points`` nodes
    in :math:`[-12, 12]` (accurate to about :math:`10^{-8}` also for kinks such as the ReLU, where
    Gauss-Hermite quadrature is not)."""
    if not callable(link):
        raise TypeError(f"link must be callable, got {type(link).__name__}")
    points = _validate.positive_int(points, "points")
    if points < 101:
        raise ValueError(f"points must be >= 101, got {points}")
    u = np.linspace(-12.0, 12.0, points)
    wts = np.exp(-u * u / 2) / np.sqrt(2 * np.pi) * (u[1] - u[0])
    wts[[0, -1]] *= 0.5
    g = np.asarray(link(u), dtype=np.float64)
    if g.shape != u.shape or not np.all(np.isfinite(g)):
        raise ValueError("link must map an array of Gaussian nodes to finite values of the same shape")
    mu0 = float(wts @ g)
    mu1 = float(wts @ (u * g))
    mu_star2 = max(float(wts @ (g * g)) - mu0**2 - mu1**2, 0.0)
    return mu0, mu1, mu_star2


def simulate_rf_single_index(spectrum, beta, n: int, p: int, lams, noise_var: float, link,
                             trials: int, seed: int = 0):
    r"""Linear random features on a single-index target, and its Gaussian equivalent, on common
    random numbers.

    Labels are :math:`y = s\,(g(u) - \mu_0) + \varepsilon` with :math:`s=\|\beta_\star\|_\Sigma`,
    :math:`u = x^\top\beta_\star/s\sim\mathcal N(0,1)` and the coefficients of
    :func:`single_index_coefficients`. Its best linear predictor is :math:`\mu_1 x^\top\beta_\star`,
    and the rest, of variance :math:`s^2\mu_\star^2`, is uncorrelated with every linear function of
    :math:`x` (but not independent of :math:`x`). Each trial draws :math:`X, F, \varepsilon` once and
    fits ridge on :math:`z = F^\top x/\sqrt p` twice: on these labels, and on the *equivalent* labels
    :math:`\mu_1 x^\top\beta_\star + s\mu_\star\xi + \varepsilon` with an independent
    :math:`\xi\sim\mathcal N(0,1)` per sample. Both risks are the exact excess errors over the best
    linear predictor, :math:`\|\Sigma^{1/2}(F\hat w/\sqrt p - \mu_1\beta_\star)\|^2` (the test error
    adds :math:`s^2\mu_\star^2 + \sigma^2`).

    Returns ``(nonlinear, equivalent, (mu0, mu1, mu_star2))``, two
    :class:`hdreg.sim.ridge.RidgePathSim` of shape ``(trials, len(lams))``; compare with
    :func:`hdreg.theory.random_features.rf_risk` for target ``mu1 * beta`` and noise
    ``noise_var + s^2 mu_star2``.
    """
    xp = get_backend().module
    spec_h = np.asarray(to_numpy(_validate.spectrum(spectrum)))
    beta_h = np.asarray(to_numpy(_validate.vector_like(beta, spec_h, "beta")))
    n = _validate.positive_int(n, "n")
    p = _validate.positive_int(p, "p")
    trials = _validate.positive_int(trials, "trials")
    seed = _validate.seed(seed)
    lams_h = _validate.penalties(lams)
    sigma = float(np.sqrt(_validate.nonneg_scalar(noise_var, "noise_var")))
    mu0, mu1, mu_star2 = single_index_coefficients(link)
    scale = float(np.sqrt((spec_h * beta_h * beta_h).sum()))
    if scale == 0:
        raise ValueError("beta has zero signal (||beta||_Sigma = 0): the index is undefined")
    D = spec_h.size
    ridgeless_threshold_check(lams_h, n, min(p, int(np.count_nonzero(spec_h > 0))))
    L = lams_h.size
    m = min(n, p)
    per_trial = 16 * (n * D + 2 * D * p + 2 * n * p + 3 * m * m + 2 * p * L + 2 * D * L + n * L)
    step = chunk_size(per_trial, trials, "simulate_rf_single_index")
    spec = xp.asarray(spec_h)
    sqrt_spec = xp.sqrt(spec)
    b_star = xp.asarray(beta_h)
    nlam = xp.asarray(n * lams_h)
    out = {"nl": ([], []), "eq": ([], [])}
    for start, stop in chunks(trials, step, "single-index trials"):
        gen = TrialRNG(seed, start, stop, xp)  # trial i's draws depend only on (seed, i)
        t = stop - start
        X = gen.standard_normal((t, n, D), dtype=xp.float64) * sqrt_spec
        eps = sigma * gen.standard_normal((t, n), dtype=xp.float64)
        xi = gen.standard_normal((t, n), dtype=xp.float64)
        F = gen.standard_normal((t, D, p), dtype=xp.float64)
        u = (X @ b_star) / scale
        labels = {"nl": scale * (xp.asarray(link(u)) - mu0) + eps,
                  "eq": mu1 * scale * u + scale * np.sqrt(mu_star2) * xi + eps}
        Z = (X @ F) / np.sqrt(p)
        for key, y in labels.items():
            W, train = ridge_path(Z, y, nlam, train=True)
            err = (F @ W) / np.sqrt(p) - mu1 * b_star[None, :, None]
            out[key][0].append(to_numpy((spec[None, :, None] * err * err).sum(axis=1)))
            out[key][1].append(to_numpy(train))
    res = [RidgePathSim(lams_h, np.concatenate(out[k][0]), np.concatenate(out[k][1]))
           for k in ("nl", "eq")]
    return res[0], res[1], (mu0, mu1, mu_star2)
