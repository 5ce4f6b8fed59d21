"""Checks for the exercises of the chapter on gradient-descent dynamics (``ch-gd-dynamics``)."""

from __future__ import annotations

import numpy as np

from ..theory import gradient_flow as gf_theory
from . import attempt, close, expect

__all__ = ["check_growth_constant"]


def check_growth_constant(fn) -> None:
    """``fn(noise_var)`` should return c sigma^2 with V(t) ~ c sigma^2 sqrt(t) at gamma = 1."""
    for s2 in (0.25, 1.0):
        value = attempt(fn, s2)
        expect(np.ndim(value) == 0 and np.isfinite(value), "a finite number",
               f"growth_constant({s2}) should be one finite number, got {value!r}")
        t = 1e8
        target = gf_theory.isotropic_risk(1.0, t, 1.0, s2).variance / np.sqrt(t)
        close(value, target, rtol=2e-3, what=f"growth_constant({s2})",
              hint="expand the density near zero as 1/(pi sqrt(s)) and substitute u = t s; "
                   "the answer is proportional to noise_var")
