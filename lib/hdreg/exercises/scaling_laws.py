"""Checks for the exercises of the scaling-laws chapter (``chapters/scaling_laws.md``)."""

from __future__ import annotations

import numpy as np

from ..theory import scaling as sc
from . import attempt, close, expect

__all__ = ["check_noiseless_exponent", "check_optimal_penalty_constant",
           "check_ridgeless_crossover"]

_GRID = [(1.5, 0.5), (1.5, 1.5), (1.5, 3.0), (2.0, 0.3), (3.0, 0.8)]


def check_noiseless_exponent(predicted_exponent) -> None:
    """``predicted_exponent(alpha, r)``: the rate of the noiseless ridgeless equivalent."""
    for alpha, r in _GRID:
        got = attempt(predicted_exponent, alpha, r)
        close(got, sc.predicted_rate(alpha, r, "noiseless_ridgeless"), rtol=1e-9,
              what=f"your exponent at alpha={alpha}, r={r}",
              hint="the bias filter kappa^2/(lambda_i + kappa)^2 cannot decay faster than kappa^2; "
                   "what does that do for r > 1?" if r > 1 else
                   "combine tau ~ n^(-alpha) with the bias ~ tau^(2m) of the lemma")
    expect(True, "your exponents match the theorem, saturation included", "")


def _constant(alpha, r, noise_var):
    m = min(r, 1.0)
    A = sc.bias_constant(alpha, r)
    D = noise_var * (1 - 1 / alpha) * sc.capacity_constant(alpha)
    return (D / (2 * m * alpha * A)) ** (alpha / (2 * alpha * m + 1))


def check_optimal_penalty_constant(optimal_penalty_constant) -> None:
    """``optimal_penalty_constant(alpha, r, noise_var)``: the c of lambda* = c n^(-alpha/(2 alpha m+1))
    for r < 1, from the leading-order risk of the exercise."""
    for alpha, r, s2 in [(2.0, 0.3, 1.0), (3.0, 0.5, 0.25), (1.5, 0.8, 2.0)]:
        got = attempt(optimal_penalty_constant, alpha, r, s2)
        close(got, _constant(alpha, r, s2), rtol=1e-8,
              what=f"your constant at alpha={alpha}, r={r}, sigma^2={s2}",
              hint="set the derivative of J lam^(2m) + D lam^(-1/alpha) / n to zero, with "
                   "D = sigma^2 (1 - 1/alpha) C_alpha, and solve for lam")
    expect(True, "your constant is the leading-order optimum", "")


def check_ridgeless_crossover(crossover_n) -> None:
    """``crossover_n(alpha, r, noise_var)``: the leading-order sample size where the noisy
    interpolator's bias meets its tempered variance (Proposition ``prop-crossover``)."""
    from ..theory import crossover as cx

    for alpha, r in _GRID:
        for s2 in (0.1, 1e-3):
            got = attempt(crossover_n, alpha, r, s2)
            close(got, cx.ridgeless_crossover_n(alpha, r, s2), rtol=1e-8,
                  what=f"your n* at alpha={alpha}, r={r}, sigma^2={s2}",
                  hint="the ridgeless bias is J tau^(2m) / (1 - df2/n) with df2/n -> 1 - 1/alpha "
                       "and tau from C_alpha tau^(-1/alpha) = n; the variance tends to "
                       "sigma^2 (alpha - 1); use sc.capacity_constant and sc.bias_constant")
    expect(True, "your crossover sample size matches at every (alpha, r, sigma^2) tried", "")
