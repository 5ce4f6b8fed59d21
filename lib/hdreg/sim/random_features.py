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

__all__ = ["simulate_rf_path", "simulate_projection_error", "FEATURES"]


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
