"""Checks for the exercises of the chapter on softmax self-attention (``ch-softmax-attention``).

Each check calls the student's function, compares with ``hdreg.theory.softmax_attention`` and says
what is right, or raises :class:`~hdreg.exercises.ExerciseError` with a hint (never the value).
"""

from __future__ import annotations

import numpy as np

from . import ExerciseError, attempt, close, expect
from ..theory import softmax_attention as sa

__all__ = ["check_gd_exponent", "check_steps_to_halve", "check_softmax_constant",
           "check_prompts_to_balance"]


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


def check_softmax_constant(softmax_constant) -> None:
    """``softmax_constant(d, noise_var)``: C_soft = min over 0 < u < 1/2 of V(u) for Lambda = I_d."""
    for d, s2 in ((1, 1.0), (4, 0.5), (8, 0.5), (16, 0.1)):
        close(attempt(softmax_constant, d, s2), sa.softmax_rate_constant(np.ones(d), s2)[0],
              rtol=1e-3, what=f"the constant at d={d}, noise_var={s2:g}",
              hint="minimise (1-2u)^(-d/2) [(d + s2)/u + d/(1-2u)] over 0 < u < 1/2 on a fine grid "
                   "or with a scalar minimiser")
    vals = [float(attempt(softmax_constant, d, 0.5)) for d in (4, 8, 16)]
    lin = [d * (1 + d + 0.5) for d in (4, 8, 16)]
    expect(all(c > li for c, li in zip(vals, lin)),
           "one softmax layer's constant exceeds the optimal linear-attention layer's d(1+d+s2)",
           "the softmax constant should exceed the linear-attention constant d(1+d+s2)")


def check_prompts_to_balance(prompts_to_balance) -> None:
    """``prompts_to_balance(B, n, d, noise_var)``: the P at which B/P equals the context term
    C_soft/(n + C_soft/d) of the scaling law, for Lambda = I_d."""
    for B, n, d, s2 in ((70.0, 8, 4, 0.5), (200.0, 64, 8, 0.5), (10.0, 1000, 2, 1.0)):
        out = attempt(prompts_to_balance, B, n, d, s2)
        try:
            val = float(out)
        except (TypeError, ValueError):
            raise ExerciseError("not yet: return one number, the number of prompts P") from None
        close(val, B / sa.softmax_excess(n, np.ones(d), s2), rtol=1e-6,
              what=f"P at B={B:g}, n={n}, d={d}", hint="solve B/P = C/(n + C/tr Lambda) for P, "
              "with C from hdreg.theory.softmax_attention.softmax_rate_constant")
    small = float(attempt(prompts_to_balance, 70.0, 8, 4, 0.5))
    large = float(attempt(prompts_to_balance, 70.0, 512, 4, 0.5))
    expect(large > small, "longer prompts need more pretraining prompts to balance the two terms",
           "P should grow with the context length n: the context term shrinks as n grows")
