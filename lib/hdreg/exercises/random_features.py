"""Checks for the exercises of the random-feature chapter (``chapters/random_features.md``)."""

from __future__ import annotations

import numpy as np

from ..theory import random_features as rft
from . import ExerciseError, attempt, close, expect

__all__ = ["check_ridgeless_rf_risk", "check_features_exponent", "check_few_features_rate",
           "check_saturated_rate"]


def check_ridgeless_rf_risk(ridgeless_rf_risk, spectrum, beta, n: int, noise_var: float) -> None:
    """``ridgeless_rf_risk(p)`` should give the ridgeless risk for ``p < n`` features (item 2 of the
    three-limits proposition), as an array for an array of ``p``."""
    p = np.unique(np.linspace(2, n - 2, 25).astype(int))
    got = attempt(ridgeless_rf_risk, p)
    ref = rft.rf_risk(spectrum, beta, n, p, 0.0, noise_var).risk
    got = np.asarray(got, dtype=float) if got is not None else None
    if got is None or got.shape != ref.shape:
        raise ExerciseError(f"not yet: return one risk per entry of p (shape {ref.shape})")
    hint = ("the approximation error A(p) is inflated by the same factor n/(n - p) as the noise; "
            "rft.rf_approximation_error gives A(p)")
    if np.all(np.isfinite(got)) and np.allclose(got, ref - noise_var * p / (n - p), rtol=1e-6):
        raise ExerciseError("not yet: the noise term sigma^2 p / (n - p) is missing\nhint: " + hint)
    close(got, ref, rtol=1e-6, what="your ridgeless risk for p < n", hint=hint)
    k = int(np.argmin(got))
    expect(0 < k < p.size - 1, f"the risk is U-shaped in p, smallest near p = {p[k]}",
           "the smallest risk sits at the edge of (0, n)", hint)


def check_features_exponent(features_exponent) -> None:
    """``features_exponent(alpha, r)``: exponent q of the number of features p ~ n^q needed for the
    rate 2 alpha r / (2 alpha r + 1), for 1/2 <= r <= 1."""
    cases = [(1.5, 0.5), (1.5, 0.75), (1.5, 1.0), (2.0, 0.6), (1.2, 0.9)]
    got = np.array([float(attempt(features_exponent, a, r)) for a, r in cases])
    ref = np.array([(1 + a * (2 * r - 1)) / (2 * a * r + 1) for a, r in cases])
    at_half = np.array([1 / (2 * a * r + 1) for a, r in cases])
    if np.allclose(got, at_half, rtol=1e-6) and not np.allclose(got, ref, rtol=1e-6):
        raise ExerciseError("not yet: that is q* = 1/(2 alpha r + 1), right only at r = 1/2\n"
                            "hint: for r > 1/2 the third term nu^(1 - 1/alpha)/p must not exceed "
                            "the bias nu^(2r) at the kernel optimum nu_n")
    close(got, ref, rtol=1e-9, what="your exponent q(alpha, r)",
          hint="balance nu^(1 - 1/alpha)/p against nu^(2r) at nu_n = n^(-alpha/(2 alpha r + 1))")


def check_few_features_rate(few_features_rate, alpha: float, r: float) -> None:
    """``few_features_rate(q)``: the best decay exponent over all penalty exponents ``ell`` when
    ``p = n^q`` with ``q`` below ``q* = 1/(2 alpha r + 1)`` (``r <= 1/2``), as an array for an array
    of ``q``."""
    q_star = 1 / (2 * alpha * r + 1)
    q = np.linspace(0.1, 0.95, 8) * q_star
    got = attempt(few_features_rate, q)
    got = np.asarray(got, dtype=float) if got is not None else None
    ell = np.linspace(0.01, 4 * alpha, 4000)
    ref = rft.rf_phase_rate(alpha, r, ell[None, :], q[:, None])[0].max(axis=1)
    if got is None or got.shape != ref.shape:
        raise ExerciseError(f"not yet: return one rate per entry of q (shape {ref.shape})")
    if np.allclose(got, 1 - q, rtol=1e-3):
        raise ExerciseError("not yet: 1 - q is the variance exponent, which is not the smallest "
                            "term below q*\nhint: compare the three exponents at gamma = alpha q")
    close(got, ref, rtol=5e-3, what="your best rate with few features",
          hint="with few features nu_2 cannot go below p^-alpha, so gamma <= alpha q")


def check_saturated_rate(best_rate) -> None:
    """``best_rate(alpha, r)``: the best decay exponent of random-feature ridge over all ``(ell, q)``,
    for any ``r > 0`` (including ``r > 1``)."""
    cases = [(1.5, 0.4), (1.5, 0.75), (1.5, 1.0), (2.0, 1.5), (1.2, 3.0)]
    ell, q = np.meshgrid(np.linspace(0.01, 6, 600), np.linspace(0.05, 2.5, 120), indexing="ij")
    ref = np.array([rft.rf_phase_rate(a, r, ell, q)[0].max() for a, r in cases])
    got = np.array([float(attempt(best_rate, a, r)) for a, r in cases])
    naive = np.array([2 * a * r / (2 * a * r + 1) for a, r in cases])
    if np.allclose(got, naive, rtol=1e-6):
        raise ExerciseError("not yet: right for r <= 1, but the bias of ridge saturates\n"
                            "hint: sum_i w_i (1 - s_i)^2 decays as nu^(2 min(r, 1))")
    close(got, ref, rtol=1e-2, what="your best rate",
          hint="the bias exponent is 2 min(r, 1) gamma; balance it against the variance")
