"""Checks for the exercises of the synthetic-data chapter (``chapters/synthetic_data.md``)."""

from __future__ import annotations

import numpy as np

from ..theory import synthetic as th
from . import ExerciseError, attempt, close, expect

__all__ = ["check_matched_finite_n", "check_risk_vs_eta"]


def check_matched_finite_n(matched_risk) -> None:
    """``matched_risk(p, n, noise_var)``: the exact mean of the noise-averaged risk of least squares
    on ``n`` rows with ``Sigma_s = Sigma_t`` and no means."""
    cases = [(50, 200, 1.0), (150, 600, 0.5), (100, 130, 2.0)]
    got = np.array([float(attempt(matched_risk, p, n, v)) for p, n, v in cases])
    ref = np.array([v * p / (n - p - 1) for p, n, v in cases])
    limit = np.array([v * p / (n - p) for p, n, v in cases])
    if np.allclose(got, limit, rtol=1e-9):
        raise ExerciseError("not yet: that is the deterministic equivalent sigma^2 p/(n - p), the "
                            "limit\nhint: the exact mean uses E[W^-1] for a Wishart matrix W")
    close(got, ref, rtol=1e-9, what="your finite-n matched risk",
          hint="E[W^-1] = I/(n - p - 1) for W ~ Wishart_p(n, I)")


def check_risk_vs_eta(risk_vs_eta, shift, n_t: int, n_s: int, noise_var: float) -> None:
    """``risk_vs_eta(etas)``: the mixed-training risk when the synthetic covariance (shift spectrum
    ``shift``) is scaled by ``eta**2``, for each eta."""
    etas = np.array([0.5, 1.0, 2.0, 4.0, 10.0])
    got = attempt(risk_vs_eta, etas)
    ref = th.mixed_risk_from_shift(etas[:, None] ** 2 * np.asarray(shift)[None, :], n_t, n_s,
                                   noise_var)
    got = None if got is None else np.asarray(got, dtype=float)
    if got is None or got.shape != ref.shape:
        raise ExerciseError(f"not yet: return one risk per eta (shape {ref.shape})")
    if np.allclose(got, th.mixed_risk_from_shift(etas[:, None] * np.asarray(shift)[None, :],
                                                 n_t, n_s, noise_var), rtol=1e-6):
        raise ExerciseError("not yet: scaling M by eta scales C = M^T M by eta^2, not eta")
    close(got, ref, rtol=1e-6, what="your risks", hint="scale every c_i by eta^2 and use "
          "th.mixed_risk_from_shift")
    expect(np.all(np.diff(got) < 0), "the risk decreases as eta grows (part (i) of the theorem)",
           "the risk should decrease in eta")
