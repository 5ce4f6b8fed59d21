"""Checks for the exercises of the chapter on data uniformity (``ch-data-uniformity``)."""

from __future__ import annotations

import numpy as np

from . import attempt, close, expect
from ..sim.uniformity import mixture_density_l2

__all__ = ["check_hmin_ratio"]


def _reference_ratio(w, s):
    return (mixture_density_l2(d=2, w=w, s=s) / mixture_density_l2(d=2, w=0.0, s=s)) ** (-1 / 2)


def check_hmin_ratio(hmin_ratio):
    """``hmin_ratio(w, s)``: predicted typical h_min of n i.i.d. points from the biased pool
    (weight ``w`` on N((0.5, 0.5), s^2 I), the rest uniform on [-1, 1]^2) divided by that of n
    uniform points on [-1, 1]^2, for large n."""
    r0 = attempt(hmin_ratio, 0.0, 0.1)
    close(r0, 1.0, rtol=1e-6, what="the ratio at w = 0 (no bias)",
          hint="with w = 0 the two densities are the same")
    cases = [(0.3, 0.1), (0.7, 0.1), (0.7, 0.2), (1.0, 0.05)]
    got = np.array([float(attempt(hmin_ratio, w, s)) for w, s in cases])
    expect(np.all(got < 1.0), "a biased density gives a smaller typical h_min",
           "a ratio >= 1 for a biased density", "Cauchy–Schwarz: the biased density has the larger "
           "integral of p squared")
    ratio_sq = np.array([_reference_ratio(w, s) for w, s in cases])
    if np.allclose(got, ratio_sq ** 2, rtol=1e-3):
        expect(False, "", "your ratio is the square of the right one",
               "h_min scales like (integral of p^2) to the power -1/d, with d = 2")
    close(got, ratio_sq, rtol=2e-3, what="the predicted ratios",
          hint="integral of p^2 for the mixture: expand (w g + (1-w) u)^2; the cross term needs the "
               "Gaussian mass inside the square, which is essentially 1 here but not exactly")
    print(f"(for w = 0.7, s = 0.1 the typical h_min shrinks by a factor {1 / got[1]:.2f};\n"
          " run the cell below to see it measured)")
