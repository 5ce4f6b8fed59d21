"""Checks of the random-feature chapter's exercises: the reference passes, wrong answers fail."""

import numpy as np
import pytest

from hdreg.exercises import ExerciseError, NotAnswered
from hdreg.exercises import random_features as ex
from hdreg.theory import random_features as rft

i = np.arange(1, 401)
SPEC = i ** -1.5
BETA = np.sqrt(i ** -(1 + 2 * 1.5 * 0.4) / SPEC)
N, NV = 100, 0.1


def reference(p):
    p = np.asarray(p, float)
    return rft.rf_approximation_error(SPEC, BETA, p) * N / (N - p) + NV * p / (N - p)


def test_ridgeless_reference_passes(capsys):
    ex.check_ridgeless_rf_risk(reference, SPEC, BETA, N, NV)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", [
    lambda p: rft.rf_approximation_error(SPEC, BETA, np.asarray(p, float)) * N / (N - np.asarray(p)),
    lambda p: rft.rf_approximation_error(SPEC, BETA, np.asarray(p, float)) + NV * np.asarray(p) / N,
    lambda p: 1.0,
])
def test_ridgeless_wrong_fails(wrong):
    with pytest.raises(ExerciseError):
        ex.check_ridgeless_rf_risk(wrong, SPEC, BETA, N, NV)


def test_unanswered():
    def blank(p):
        raise NotImplementedError
    with pytest.raises(NotAnswered):
        ex.check_ridgeless_rf_risk(blank, SPEC, BETA, N, NV)


def test_exponent():
    ex.check_features_exponent(lambda a, r: (1 + a * (2 * r - 1)) / (2 * a * r + 1))
    with pytest.raises(ExerciseError, match="only at r = 1/2"):
        ex.check_features_exponent(lambda a, r: 1 / (2 * a * r + 1))
    with pytest.raises(ExerciseError):
        ex.check_features_exponent(lambda a, r: (1 + a) / (2 * a + 1))
