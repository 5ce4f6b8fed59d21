"""Checks of the data-uniformity exercises: the reference answer passes, wrong ones fail."""

from __future__ import annotations

import math

import pytest
from scipy.special import erf

from hdreg.exercises import ExerciseError, NotAnswered
from hdreg.exercises import uniformity as ex


def _l2(w, s):
    inside = ((erf(0.5 / (s * math.sqrt(2))) + erf(1.5 / (s * math.sqrt(2)))) / 2) ** 2
    return w**2 / (4 * math.pi * s**2) + 2 * w * (1 - w) / 4 * inside + (1 - w) ** 2 / 4


def reference(w, s):
    return (_l2(w, s) / 0.25) ** (-1 / 2)


def test_reference_passes(capsys):
    ex.check_hmin_ratio(reference)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", [
    lambda w, s: (_l2(w, s) / 0.25) ** (-1.0),           # exponent -1 instead of -1/d
    lambda w, s: (_l2(w, s) / 0.25) ** 0.5,              # inverted
    lambda w, s: ((w**2 / (4 * math.pi * s**2) + (1 - w) ** 2 / 4) / 0.25) ** -0.5,  # no cross term
    lambda w, s: 1.0,                                    # bias does nothing
])
def test_wrong_answers_fail(wrong):
    with pytest.raises(ExerciseError):
        ex.check_hmin_ratio(wrong)


def test_unanswered():
    def blank(w, s):
        raise NotImplementedError

    with pytest.raises(NotAnswered):
        ex.check_hmin_ratio(blank)
