"""Checks for the exercises of the chapter on token selection and neural collapse
(``ch-attention-collapse``).

Each check calls the student's function, compares with the library (``hdreg.theory.token_selection``,
``hdreg.sim.collapse``) and says what is right, or raises :class:`~hdreg.exercises.ExerciseError`
with a hint (never the value).
"""

from __future__ import annotations

import numpy as np

from . import ExerciseError, attempt, close, expect
from ..sim import collapse as collapse_sim
from ..theory import token_selection as token_theory

__all__ = ["check_one_step_coefficient", "check_nc1"]


def _as_vector(out, n, what):
    try:
        arr = np.asarray(out, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise ExerciseError(f"not yet: return an array of {n} numbers ({what})") from None
    if arr.size != n:
        raise ExerciseError(f"not yet: return {n} numbers ({what}), got {arr.size}")
    return arr


def check_one_step_coefficient(coefficient) -> None:
    """``coefficient(pi_pos, pi_neg, eta)``: the predicted component along v of one gradient step on
    each token's embedding at p = 0, small initialisation, balanced classes."""
    laws = token_theory.token_laws
    cases = [laws(), laws(30, 5, 2.0, 5.0), laws(12, 3, 10.0, 1.0)]
    for k, (pp, pm) in enumerate(cases):
        for eta in (1.0, 7.5):
            out = _as_vector(attempt(coefficient, pp, pm, eta), pp.size, "one per token")
            close(out, token_theory.one_step_coefficient(pp, pm, eta), rtol=1e-9, atol=1e-12,
                  what=f"the coefficients for law {k} at eta={eta:g}",
                  hint="at p = 0 the attention is uniform; write f, differentiate in E_s, "
                       "use sigma(0) = 1/2 and average y n_s/T over the two classes")
    pp, pm = cases[0]
    out = _as_vector(attempt(coefficient, pp, pm, 1.0), pp.size, "one per token")
    expect(np.allclose(out[10:15], 0.0), "frequent tokens that ignore the label get no push",
           "tokens equally frequent in both classes should get a zero coefficient")


def check_nc1(nc1_metric) -> None:
    """``nc1_metric(H, labels, K)``: NC1 = tr(Sigma_W Sigma_B^+)/K of features H (n, k)."""
    rng = np.random.default_rng(3)
    for K, k, spread in ((3, 3, 0.3), (4, 6, 1.0), (2, 5, 0.05)):
        labels = np.repeat(np.arange(K), 20)
        means = rng.standard_normal((K, k)) * 2
        H = means[labels] + spread * rng.standard_normal((labels.size, k))
        out = attempt(nc1_metric, H, labels, K)
        try:
            val = float(np.asarray(out, dtype=float).reshape(()))
        except (TypeError, ValueError):
            raise ExerciseError("not yet: return one number") from None
        close(val, float(collapse_sim.nc1(H, labels, K)[0]), rtol=1e-8,
              what=f"NC1 for K={K} classes in {k} dimensions",
              hint="Sigma_W averages over all n samples, Sigma_B over the K class means; "
                   "use the pseudo-inverse: Sigma_B has rank K - 1")
    labels = np.repeat(np.arange(3), 10)
    H = np.eye(3)[labels] * 2.0
    expect(abs(float(np.asarray(attempt(nc1_metric, H, labels, 3)))) < 1e-12,
           "features equal to their class means have NC1 = 0",
           "collapsed features (each equal to its class mean) should give 0")
