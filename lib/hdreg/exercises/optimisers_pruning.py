"""Checks for the exercises of the chapter on momentum and pruning (``ch-optimisers-pruning``).

Each check calls the student's function, compares with :mod:`hdreg.theory.heavy_ball` or the
pruning algebra, and says what is right, or raises :class:`~hdreg.exercises.ExerciseError` with a
hint (never the value).
"""

from __future__ import annotations

import numpy as np

from . import ExerciseError, attempt, close, expect
from ..theory import heavy_ball as hb

__all__ = ["check_optimal_momentum", "check_iobs_contraction", "check_steps_to_shrink"]


def _number(out, what):
    try:
        return float(out)
    except (TypeError, ValueError):
        raise ExerciseError(f"not yet: {what} should be one number") from None


def check_optimal_momentum(optimal_momentum) -> None:
    """``optimal_momentum(kappa)``: Polyak's optimal momentum beta* for condition number kappa."""
    for kappa in (2.0, 10.0, 100.0, 1e4):
        val = _number(attempt(optimal_momentum, kappa), "the momentum")
        close(val, hb.optimal_heavy_ball(1.0, kappa)[1], rtol=1e-8,
              what=f"the momentum at kappa={kappa:g}",
              hint="make the two roots of every mode's characteristic polynomial complex with "
                   "the same modulus at both ends of the spectrum, then solve for beta")
    vals = [_number(attempt(optimal_momentum, k), "the momentum") for k in (2.0, 1e2, 1e6)]
    expect(0 < vals[0] < vals[1] < vals[2] < 1, "the momentum grows towards 1 with kappa",
           "the optimal momentum should lie in (0, 1) and grow with kappa")


def check_iobs_contraction(contraction) -> None:
    """``contraction(n)``: the factor by which Topk-I-OBS (the authors' code) shrinks ||w - w*|| per
    step once the support is found, for ``n`` samples."""
    for n in (64, 256, 1000):
        val = _number(attempt(contraction, n), "the factor")
        close(val, 1.0 - 2.0 / n, rtol=1e-10, what=f"the factor at n={n}",
              hint="the gradient of the mean squared error carries 2/n, the Hessian X^T X does not; "
                   "on a quadratic H^{-1} grad is proportional to w - w*")


def check_steps_to_shrink(steps_to_shrink) -> None:
    """``steps_to_shrink(n, factor)``: steps for Topk-I-OBS to divide the distance by ``factor``."""
    for n, f in ((256, 10.0), (256, 100.0), (1000, 10.0)):
        val = _number(attempt(steps_to_shrink, n, f), "the number of steps")
        close(val, np.log(f) / -np.log1p(-2.0 / n), rtol=1e-6, what=f"the steps at n={n}, factor={f:g}",
              hint="solve rate^t = 1/factor for t (a real number; do not round)")
