"""Checks for the toy fixture chapter (``toy_chapter.md``), written like ``hdreg.exercises.<topic>``."""

from __future__ import annotations

import numpy as np

from hdreg.exercises import ExerciseError, attempt, close, expect

__all__ = ["check_noiseless_risk", "check_mp_edges", "ExerciseError"]


def check_noiseless_risk(predicted_risk) -> None:
    """Ridgeless risk of isotropic ridge without noise, ``r^2 = 1``: 0 below gamma = 1, 1 - 1/gamma above."""
    gammas = np.array([0.25, 0.5, 0.9, 1.5, 2.0, 4.0])
    values = np.asarray(attempt(predicted_risk, gammas), dtype=float)
    expect(values.shape == gammas.shape, "one risk per gamma",
           f"predicted_risk(gammas) should return an array of shape {gammas.shape}, got "
           f"{values.shape}", "use NumPy operations (np.where) so that the function is vectorised")
    under = gammas < 1
    expect(np.allclose(values[under], 0.0), "the interpolator is exact when p < n",
           "for gamma < 1 the risk should vanish without noise",
           "with n > p samples and no noise, least squares recovers beta exactly")
    close(values[~under], 1 - 1 / gammas[~under], rtol=1e-8, what="the risk for gamma > 1",
          hint="the interpolator keeps the projection of beta on the row space of X, of dimension n")


def check_mp_edges(mp_edges) -> None:
    """Edges of the Marchenko-Pastur bulk for aspect ratio gamma (unit variance)."""
    gammas = np.array([0.1, 0.5, 2.0])
    lo, hi = (np.asarray(v, dtype=float) for v in attempt(mp_edges, gammas))
    expect(np.all(lo < hi), "the lower edge is below the upper edge",
           "the lower edge should be smaller than the upper edge", None)
    close(lo * hi, (1 - gammas) ** 2, rtol=1e-8, what="the product of the edges",
          hint="the edges are (1 -/+ sqrt(gamma))^2")
    close(hi, (1 + np.sqrt(gammas)) ** 2, rtol=1e-8, what="the upper edge",
          hint="the upper edge grows with gamma")
