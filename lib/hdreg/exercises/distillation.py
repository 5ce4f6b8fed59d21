"""Checks for the exercises of the distillation chapter (``chapters/distillation.md``)."""

from __future__ import annotations

import numpy as np

from ..theory import distillation as dist
from . import attempt, close, expect

__all__ = ["check_mask_fractions", "check_noise_shift", "check_best_teacher_features"]


def _fractions(alpha):
    i1 = (np.pi / alpha) / np.sin(np.pi / alpha)  # int_0^inf dx / (1 + x^alpha)
    return (np.sqrt(alpha) - 1) ** (-1 / alpha) / i1, (alpha - 1) ** (-1 / alpha) / i1


def check_mask_fractions(fractions) -> None:
    """``fractions(alpha)`` returns ``(kept, amplified)``: the numbers of features the optimal mask
    keeps and the optimal surrogate amplifies, as multiples of ``n``, for ``lambda_i = i^-alpha`` and
    ``p/n -> infinity``."""
    for alpha in (1.5, 2.0, 3.0):
        got = attempt(fractions, alpha)
        got = np.asarray(got, dtype=float).reshape(-1)
        kept, amp = _fractions(alpha)
        expect(got.size == 2, "", f"fractions({alpha}) should return two numbers (kept, amplified)")
        close(got[0], kept, rtol=1e-6, what=f"the kept fraction at alpha={alpha}",
              hint="with tau = i0^(-alpha), the mask keeps i < i0 (sqrt(alpha) - 1)^(-1/alpha); "
                   "then find i0 / n from df1(tau) = n, i.e. n = i0 * int_0^inf dx / (1 + x^alpha)")
        close(got[1], amp, rtol=1e-6, what=f"the amplified fraction at alpha={alpha}",
              hint="the amplification threshold is lambda_i > c tau with c -> alpha - 1")
    expect(True, "your fractions are the p/n -> infinity limits of the mask and amplification sets", "")


def check_noise_shift(shift, spectrum, beta_star) -> None:
    """``shift(n, noise_var)``: by how much every surrogate's risk (ground truth, mask, optimal)
    grows when the target's label noise goes from 0 to ``noise_var``."""
    spec = np.asarray(spectrum, dtype=float)
    b = np.asarray(beta_star, dtype=float)
    for n in (100, 200, 2 * spec.size):
        for noise in (0.1, 1.0):
            got = attempt(shift, n, noise)
            for sur in (b, dist.optimal_surrogate(spec, b, n)):
                want = dist.surrogate_risk(spec, b, sur, n, noise) - dist.surrogate_risk(spec, b, sur, n, 0.0)
                close(got, want, rtol=1e-8, what=f"your shift at n={n}, sigma^2={noise}",
                      hint="which term of the model-shift lemma contains sigma^2, and what is c when "
                           "n > p?")
    expect(True, "the noise adds the same c sigma^2 to every surrogate (sigma^2 p/(n - p) for n > p)", "")


def check_best_teacher_features(best_k, spectrum, beta_star, n: int = 200) -> None:
    """``best_k(m, noise_var)``: the number of leading features ``k`` in ``range(10, 400, 10)`` that
    minimises the equivalent of the student's risk (ridgeless teacher on ``m`` samples, student on
    ``n``)."""
    ks = np.arange(10, 400, 10)
    for m, noise in ((400, 0.2), (1000, 0.2), (1000, 0.01)):
        got = attempt(best_k, m, noise)
        risks = [dist.two_stage_risk(spectrum, beta_star, m, n, noise, features=int(k)).student for k in ks]
        want = int(ks[int(np.argmin(risks))])
        expect(int(got) == want, f"k = {got} is the best teacher width at m={m}, sigma^2={noise}",
               f"k = {got} is not the minimiser at m={m}, sigma^2={noise}",
               hint="evaluate dist.two_stage_risk(...).student for every k of the grid and take the "
                    "argmin; the teacher must stay away from its interpolation threshold k = m")


__all__ += ["check_best_shift"]


def check_best_shift(best_shift, spectrum, beta_star, n: int = 200, noise_var: float = 0.2) -> None:
    """``best_shift(m)``: the exponent ``a`` in ``np.linspace(0, 1.5, 31)`` of the trace-matched power
    shift (:func:`hdreg.theory.distillation.power_shift_spectrum`) that minimises the student's risk
    under covariance shift, for a ridgeless teacher on ``m`` samples (student on ``n``)."""
    spec = np.asarray(spectrum, dtype=float)
    grid = np.linspace(0, 1.5, 31)
    found = {}
    for m in (300, 700):
        got = attempt(best_shift, m)
        risks = [dist.covariance_shift_risk(spec, beta_star, dist.power_shift_spectrum(spec, a), m, n,
                                            noise_var).student for a in grid]
        want = float(grid[int(np.argmin(risks))])
        close(got, want, rtol=1e-9, atol=1e-9, what=f"the best shift exponent at m={m}",
              hint="evaluate dist.covariance_shift_risk(...).student with the teacher spectrum "
                   "dist.power_shift_spectrum(spectrum, a) for every a of the grid and take the argmin")
        sqrt_rule = dist.covariance_shift_risk(spec, beta_star, dist.optimal_teacher_spectrum(spec, n), m, n,
                                               noise_var).student
        found[m] = (want, min(risks), sqrt_rule)
    lines = [f"m = {m}: best a = {a:.2f} (risk {r:.4f}); square-root rule {q:.4f}"
             for m, (a, r, q) in found.items()]
    expect(True, "; ".join(lines), "")
