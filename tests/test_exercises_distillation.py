"""The distillation chapter's exercise checks accept the reference answers and reject wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

from hdreg.exercises import ExerciseError, NotAnswered
from hdreg.exercises import distillation as ex
from hdreg.theory import distillation as dist


def _problem(p=500):
    i = np.arange(1, p + 1)
    spec = i ** -2.0
    return spec, np.sqrt(i ** -1.5 / spec)


def _fractions(alpha):
    i1 = (np.pi / alpha) / np.sin(np.pi / alpha)
    return (np.sqrt(alpha) - 1) ** (-1 / alpha) / i1, (alpha - 1) ** (-1 / alpha) / i1


def test_mask_fractions():
    ex.check_mask_fractions(_fractions)
    with pytest.raises(ExerciseError):
        ex.check_mask_fractions(lambda a: _fractions(a)[::-1])  # swapped
    # the limits are what the library finds at large p
    spec = np.arange(1, 200_001) ** -2.0
    n = 200
    kept = dist.optimal_mask(spec, n).sum() / n
    assert abs(kept / _fractions(2.0)[0] - 1) < 0.03


def test_noise_shift():
    spec, beta = _problem()

    def shift(n, noise):
        return dist.surrogate_risk_terms(spec, beta, beta, n, 0.0).c * noise

    ex.check_noise_shift(shift, spec, beta)
    with pytest.raises(ExerciseError):
        ex.check_noise_shift(lambda n, s2: s2, spec, beta)


def test_best_teacher_features():
    spec, beta = _problem()
    ks = np.arange(10, 400, 10)

    def best_k(m, noise):
        r = [dist.two_stage_risk(spec, beta, m, 200, noise, features=int(k)).student for k in ks]
        return int(ks[int(np.argmin(r))])

    ex.check_best_teacher_features(best_k, spec, beta)
    with pytest.raises(ExerciseError):
        ex.check_best_teacher_features(lambda m, s2: int(dist.optimal_mask(spec, 200).sum()), spec, beta)


def test_unanswered():
    def todo(*args):
        raise NotImplementedError
    with pytest.raises(NotAnswered):
        ex.check_mask_fractions(todo)


def test_best_shift():
    spec, beta = _problem()
    grid = np.linspace(0, 1.5, 31)

    def best_shift(m):
        r = [dist.covariance_shift_risk(spec, beta, dist.power_shift_spectrum(spec, a), m, 200, 0.2).student
             for a in grid]
        return float(grid[int(np.argmin(r))])

    ex.check_best_shift(best_shift, spec, beta)
    with pytest.raises(ExerciseError):
        ex.check_best_shift(lambda m: 1.0, spec, beta)  # no shift is never the best here
    with pytest.raises(NotAnswered):
        ex.check_best_shift(lambda m: (_ for _ in ()).throw(NotImplementedError()), spec, beta)
