"""Checks for the exercises of the chapter on test-time training for in-context learning.

Each check calls the student's function, compares with ``hdreg.theory.ttt`` and says what is right,
or raises :class:`~hdreg.exercises.ExerciseError` with a hint (never the expected value).
"""

from __future__ import annotations

from . import ExerciseError, attempt, close, expect
from ..theory import ttt

__all__ = ["check_threshold_losses", "check_shifted_icl_loss"]


def check_threshold_losses(losses_at_threshold) -> None:
    """``losses_at_threshold(d, alpha)`` returns ``(warm, cold)``: the exact finite-size normalised
    losses after one optimal TTT step (fresh contexts) at ``n = round(alpha d)`` and
    ``k = round(gamma*(alpha) d)``, from the pretrained weights and from zero."""
    for d, alpha in ((50, 1.0), (20, 0.5), (200, 2.0)):
        out = attempt(losses_at_threshold, d, alpha)
        try:
            warm, cold = (float(v) for v in out)
        except (TypeError, ValueError):
            raise ExerciseError("not yet: return a pair (warm, cold) of two numbers") from None
        n = int(round(alpha * d))
        k = int(round(ttt.warm_start_threshold(alpha) * d))
        close(warm, ttt.isotropic_ttt(n, k, d, "warm").after, rtol=1e-9,
              what=f"the warm-start loss at d={d}, alpha={alpha:g}",
              hint="use ttt.isotropic_ttt(n, k, d, start) with k from ttt.warm_start_threshold; "
                   "'after' is the loss after the optimal step")
        close(cold, ttt.isotropic_ttt(n, k, d, "cold").after, rtol=1e-9,
              what=f"the cold-start loss at d={d}, alpha={alpha:g}",
              hint="the cold start is W0 = 0: start='cold'")
    warm, cold = attempt(losses_at_threshold, 50, 1.0)
    expect(warm < cold, "at the limiting threshold, warm start wins at finite d",
           "compare the two losses again: which one is smaller at d = 50?")


def check_shifted_icl_loss(icl_loss_shifted) -> None:
    """``icl_loss_shifted(n, d, s)`` returns the exact normalised ICL loss of the isotropic pretrained
    :math:`W^\\star = I/(n+d+1)` on test covariates :math:`\\mathcal N(0, sI_d)` (no TTT)."""
    for n, d, s in ((50, 100, 1.0), (50, 100, 2.0), (10, 40, 0.5), (200, 50, 3.0)):
        val = attempt(icl_loss_shifted, n, d, s)
        try:
            val = float(val)
        except (TypeError, ValueError):
            raise ExerciseError("not yet: return one number, the normalised loss") from None
        close(val, ttt.shifted_ttt(n, 1, d, s).before, rtol=1e-9,
              what=f"the ICL loss at n={n}, d={d}, s={s:g}",
              hint="divide predictions and targets by sqrt(s): the pretrained step becomes "
                   "s/(n+d+1) on isotropic data; then use the fixed-task loss of a scalar step")
    worse = [attempt(icl_loss_shifted, 50, 100, s) > 1 for s in (1.9, 2.1)]
    expect(worse == [False, True], "the pretrained model loses to zero exactly beyond s = 2",
           "check where your loss crosses 1, the loss of predicting zero")
