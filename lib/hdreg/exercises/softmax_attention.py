"""Checks for the exercises of the chapter on softmax self-attention (``ch-softmax-attention``).

Each check calls the student's function, compares with ``hdreg.theory.softmax_attention`` and says
what is right, or raises :class:`~hdreg.exercises.ExerciseError` with a hint (never the value).
"""

from __future__ import annotations

from . import ExerciseError, attempt, close, expect
from ..theory import softmax_attention as sa

__all__ = ["check_gd_exponent", "check_steps_to_halve"]


def check_gd_exponent(exponent) -> None:
    """``exponent(a)``: the decay exponent s of plain GD's excess ~ t^(-s) on lambda_i = i^(-a)."""
    for a in (1.25, 1.5, 2.0, 3.0):
        close(attempt(exponent, a), sa.gd_exponent(a), rtol=1e-9, what=f"the exponent at a={a:g}",
              hint="substitute u = 4 eta t i^(-3a) in the sum over modes and count the powers of t")
    vals = [float(attempt(exponent, a)) for a in (1.5, 3.0, 10.0)]
    expect(vals[0] < vals[1] < vals[2] < 1 / 3, "the exponent grows with a but stays below 1/3",
           "the exponent should grow with a and stay below 1/3")


def check_steps_to_halve(steps_to_halve) -> None:
    """``steps_to_halve(a, t)``: the factor by which t must grow for plain GD's excess to halve."""
    for a in (1.5, 2.0, 3.0):
        out = attempt(steps_to_halve, a, 1e4)
        try:
            val = float(out)
        except (TypeError, ValueError):
            raise ExerciseError("not yet: return one number, the factor t'/t") from None
        close(val, 2.0 ** (1.0 / sa.gd_exponent(a)), rtol=1e-6, what=f"the factor at a={a:g}",
              hint="solve (t'/t)^(-s) = 1/2 for t'/t")
    expect(float(attempt(steps_to_halve, 2.0, 1e4)) > 50,
           "halving the loss of plain GD takes more than fifty times the steps at a = 2",
           "for a = 2 the factor should be large: the exponent is small")
