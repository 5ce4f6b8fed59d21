"""Checks for the exercises of the chapter on in-context learning with linear attention.

Each check calls the student's function on a few inputs, compares with the library's closed forms
(``hdreg.theory.icl``, ``hdreg.theory.marchenko_pastur``) and says what is right, or raises
:class:`~hdreg.exercises.ExerciseError` with a hint (never the expected value).
"""

from __future__ import annotations

import numpy as np

from . import ExerciseError, attempt, close, expect
from ..theory import icl
from ..theory.marchenko_pastur import mp_stieltjes

__all__ = ["check_noise_prediction", "check_bayes_excess", "check_unlimited_diversity"]

_CASES = ((40, 20, 0.0), (40, 20, 20.0), (100, 50, 5.0), (10, 30, 3.0))


def check_noise_prediction(predicted) -> None:
    """``predicted(n, d, noise_var)`` returns ``(step, excess)``: the diagonal entry of the isotropic
    :math:`W^\\star` and the normalised excess loss :math:`(\\mathcal L(W^\\star) - \\sigma^2)/d`."""
    for n, d, s2 in _CASES:
        out = attempt(predicted, n, d, s2)
        try:
            step, excess = (float(v) for v in out)
        except (TypeError, ValueError):
            raise ExerciseError("not yet: return a pair (step, excess) of two numbers") from None
        w = icl.pretrained_weights(np.eye(d), np.eye(d), n, s2)[0, 0]
        close(step, w, rtol=1e-9, what=f"the step at n={n}, d={d}, noise {s2:g}",
              hint="write M for isotropic covariances: which terms of M grow with the noise?")
        close(excess, (icl.isotropic_icl_loss(n, d, s2) - s2) / d, rtol=1e-9,
              what=f"the excess loss at n={n}, d={d}, noise {s2:g}",
              hint="L(W*) = d - n tr(W*) + noise; subtract the noise and divide by d")
    steps = [attempt(predicted, 40, 20, s2)[0] for s2 in (0.0, 20.0)]
    expect(steps[1] < steps[0], "noise shrinks the step, as if it added dimensions",
           "the step should shrink when the noise grows")


def _bayes_reference(n, d, s2):
    lam = s2 / n
    return float(lam * mp_stieltjes(lam, d / n))


def check_bayes_excess(bayes_excess) -> None:
    """``bayes_excess(n, d, noise_var)`` returns the Bayes (posterior-mean) excess loss divided by
    :math:`d` for :math:`\\Sigma_x = \\Sigma_\\beta = I_d` (a Monte-Carlo estimate or a formula).
    Compared with the Marchenko–Pastur deterministic equivalent within 3% (the finite-``d`` error)."""
    for n, d, s2 in ((50, 100, 25.0), (100, 100, 25.0), (400, 100, 100.0)):
        val = attempt(bayes_excess, n, d, s2)
        close(val, _bayes_reference(n, d, s2), rtol=0.03,
              what=f"the Bayes excess loss at n={n}, d={d}, noise {s2:g}",
              hint="the posterior covariance of beta is noise * (X^T X + noise I)^{-1}; the excess "
                   "loss is its trace (isotropic query)")
        lin = (icl.isotropic_icl_loss(n, d, s2) - s2) / d
        expect(val < lin, f"at n={n} the Bayes predictor beats W* (as it must)",
               f"at n={n} your Bayes loss is not below the loss of W*, which it must be")


def check_unlimited_diversity(unlimited_diversity_error) -> None:
    """``unlimited_diversity_error(alpha, rho)`` returns the ICL error of linear attention pretrained
    with unlimited task diversity and data (Lu et al.'s scaling: the zero predictor has error 1 + rho)."""
    for alpha, rho in ((2.0, 0.01), (0.5, 0.5), (10.0, 0.0), (1.0, 2.0)):
        val = attempt(unlimited_diversity_error, alpha, rho)
        try:
            val = float(val)
        except (TypeError, ValueError):
            raise ExerciseError("not yet: return one number, the limiting ICL error") from None
        ref = icl.finite_task_errors(alpha, 1e7, 1e7, rho)[0]
        close(val, ref, rtol=1e-4, what=f"the limiting error at alpha={alpha:g}, rho={rho:g}",
              hint="minimise 1 + rho - 2c + c^2 (1 + (1 + rho)/alpha) over c (the 1/n term "
                   "vanishes in the limit)")
    expect(attempt(unlimited_diversity_error, 1.0, 0.0) < 1.0,
           "the limit beats the zero predictor, whose error is 1 + rho",
           "your limit should be below 1 + rho, the error of predicting zero")
