"""Checks for the exercises of the chapter on progressive distillation
(``ch-progressive-distillation``).

Each check calls the student's function, compares with ``hdreg.theory.parity`` and says what is
right, or raises :class:`~hdreg.exercises.ExerciseError` with a hint (never the value).
"""

from __future__ import annotations

from . import ExerciseError, attempt, close, expect
from ..theory import parity as tpar

__all__ = ["check_neuron_coefficient"]


def check_neuron_coefficient(neuron_coefficient) -> None:
    """``neuron_coefficient(k, j)``: the Fourier coefficient of relu(x_1 + ... + x_k) on an
    in-support monomial of degree j (j = 0 is the mean)."""
    for k in (2, 3, 4, 5, 6):
        for j in range(0, k + 1):
            out = attempt(neuron_coefficient, k, j)
            try:
                val = float(out)
            except (TypeError, ValueError):
                raise ExerciseError("not yet: return one number, the coefficient") from None
            if abs(val - tpar.aligned_neuron_coefficient(k, j)) > 1e-9:
                hint = ("average relu(x_1 + ... + x_k) times x_1 ... x_j over all 2^k sign "
                        "patterns (not the correlation: do not divide by the norm)")
                if j % 2 == 1 and j > 1:
                    hint = "the odd part of relu(s) is s/2: which odd degrees can it reach?"
                close(val, tpar.aligned_neuron_coefficient(k, j), rtol=1e-9, atol=1e-12,
                      what=f"the coefficient at k={k}, degree {j}", hint=hint)
    expect(abs(float(attempt(neuron_coefficient, 5, 3))) < 1e-12,
           "odd degrees above one vanish, and every coefficient for k = 2..6 is right",
           "the degree-3 coefficient at k = 5 should vanish")
