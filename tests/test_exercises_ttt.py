"""hdreg.exercises.ttt: the checks accept the reference answer and reject wrong ones."""

from __future__ import annotations

import pytest

from hdreg.exercises import ExerciseError, NotAnswered
from hdreg.exercises import ttt as ex
from hdreg.theory import ttt


def right(d, alpha):
    n, k = int(round(alpha * d)), int(round(ttt.warm_start_threshold(alpha) * d))
    return ttt.isotropic_ttt(n, k, d, "warm").after, ttt.isotropic_ttt(n, k, d, "cold").after


def test_accepts_the_reference(capsys):
    ex.check_threshold_losses(right)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", [
    lambda d, a: tuple(reversed(right(d, a))),                                  # swapped
    lambda d, a: (float(ttt.isotropic_losses(a, ttt.warm_start_threshold(a)).warm),
                  float(ttt.isotropic_losses(a, ttt.warm_start_threshold(a)).cold)),  # limits
    lambda d, a: 0.5,                                                           # not a pair
])
def test_rejects_wrong_answers(wrong):
    with pytest.raises(ExerciseError):
        ex.check_threshold_losses(wrong)


def test_unanswered_scaffold_is_reported():
    def scaffold(d, alpha):
        raise NotImplementedError("your answer here")
    with pytest.raises(NotAnswered):
        ex.check_threshold_losses(scaffold)


def shifted_right(n, d, s):
    w = s / (n + d + 1)
    return 1 - 2 * n * w + w**2 * n * (n + d + 1)


def test_shifted_icl_loss_accepts_the_reference(capsys):
    ex.check_shifted_icl_loss(shifted_right)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", [
    lambda n, d, s: shifted_right(n, d, 1.0),                      # shift ignored
    lambda n, d, s: 1 - (2 * s - s * s) * n / (n + d),             # the +1 of the fourth moment
    lambda n, d, s: (0.5, 0.5),                                    # not a number
])
def test_shifted_icl_loss_rejects_wrong_answers(wrong):
    with pytest.raises(ExerciseError):
        ex.check_shifted_icl_loss(wrong)
