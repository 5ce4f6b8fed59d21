"""hdreg.exercises.icl: the checks accept the reference answers and reject wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

from hdreg.exercises import ExerciseError, NotAnswered
from hdreg.exercises import icl as ex


def right_prediction(n, d, s2):
    return 1 / (n + d + 1 + s2), (d + 1 + s2) / (n + d + 1 + s2)


def right_bayes(n, d, s2, draws=20, seed=0):
    g = np.random.default_rng(seed)
    vals = []
    for _ in range(draws):
        X = g.standard_normal((n, d))
        vals.append(s2 * np.sum(1 / (np.linalg.eigvalsh(X.T @ X) + s2)) / d)
    return float(np.mean(vals))


def test_noise_prediction_accepts_the_reference(capsys):
    ex.check_noise_prediction(right_prediction)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", [
    lambda n, d, s2: (1 / (n + d + 1), (d + 1 + s2) / (n + d + 1 + s2)),   # noise forgotten in W*
    lambda n, d, s2: (1 / (n + d + 1 + s2), (d + s2) / (n + d + s2)),       # the +1 forgotten
    lambda n, d, s2: 1.0,                                                    # not a pair
])
def test_noise_prediction_rejects_wrong_answers(wrong):
    with pytest.raises(ExerciseError) as info:
        ex.check_noise_prediction(wrong)
    assert "hint" in str(info.value) or "pair" in str(info.value)


def test_unanswered_scaffold_is_reported():
    def scaffold(n, d, s2):
        raise NotImplementedError("your answer here")
    with pytest.raises(NotAnswered):
        ex.check_noise_prediction(scaffold)
    with pytest.raises(NotAnswered):
        ex.check_bayes_excess(scaffold)


def test_bayes_excess_accepts_the_reference(capsys):
    ex.check_bayes_excess(right_bayes)
    assert "correct" in capsys.readouterr().out


def test_bayes_excess_rejects_the_linear_attention_loss():
    with pytest.raises(ExerciseError):
        ex.check_bayes_excess(lambda n, d, s2: (d + 1 + s2) / (n + d + 1 + s2))
    with pytest.raises(ExerciseError):   # prior precision forgotten: noise / n^2 scale slip
        ex.check_bayes_excess(lambda n, d, s2: right_bayes(n, d, s2 / 4))


def right_unlimited(alpha, rho):
    x = (1 + rho) / alpha
    return rho + x / (1 + x)


def test_unlimited_diversity_accepts_the_reference(capsys):
    ex.check_unlimited_diversity(right_unlimited)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", [
    lambda a, r: 1 / (1 + a),                        # noise forgotten
    lambda a, r: r + 1 / (1 + a),                    # noise not acting as extra dimensions
    lambda a, r: (r, r),                             # not a number
])
def test_unlimited_diversity_rejects_wrong_answers(wrong):
    with pytest.raises(ExerciseError):
        ex.check_unlimited_diversity(wrong)
