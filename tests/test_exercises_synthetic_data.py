"""Checks of the synthetic-data chapter's exercises: the reference passes, wrong answers fail."""

import numpy as np
import pytest

from hdreg.exercises import ExerciseError, NotAnswered
from hdreg.exercises import synthetic_data as ex
from hdreg.theory import synthetic as th

P = 60
SIG_T = th.kms_covariance(P, 0.9)
SHIFT = th.shift_spectrum(SIG_T, th.trace_normalised(SIG_T, th.kms_covariance(P, 0.5)))


def test_matched():
    ex.check_matched_finite_n(lambda p, n, v: v * p / (n - p - 1))
    with pytest.raises(ExerciseError, match="limit"):
        ex.check_matched_finite_n(lambda p, n, v: v * p / (n - p))
    with pytest.raises(ExerciseError):
        ex.check_matched_finite_n(lambda p, n, v: p / (n - p - 1))


def test_eta():
    ref = lambda e: th.mixed_risk_from_shift(np.asarray(e)[:, None] ** 2 * SHIFT, 120, 120, 1.0)  # noqa
    ex.check_risk_vs_eta(ref, SHIFT, 120, 120, 1.0)
    with pytest.raises(ExerciseError, match="eta\\^2"):
        ex.check_risk_vs_eta(lambda e: th.mixed_risk_from_shift(np.asarray(e)[:, None] * SHIFT,
                                                                120, 120, 1.0), SHIFT, 120, 120, 1.0)
    with pytest.raises(ExerciseError):
        ex.check_risk_vs_eta(lambda e: np.ones(len(e)), SHIFT, 120, 120, 1.0)

    def blank(e):
        raise NotImplementedError
    with pytest.raises(NotAnswered):
        ex.check_risk_vs_eta(blank, SHIFT, 120, 120, 1.0)
