"""The scaling-laws chapter's exercise checks accept the reference answers and reject wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

from hdreg.exercises import ExerciseError, NotAnswered
from hdreg.exercises import scaling_laws as ex
from hdreg.theory import scaling as sc


def test_noiseless_exponent():
    ex.check_noiseless_exponent(lambda a, r: 2 * a * min(r, 1.0))
    with pytest.raises(ExerciseError):
        ex.check_noiseless_exponent(lambda a, r: 2 * a * r)  # forgets saturation


def _ref(alpha, r, s2):
    m = min(r, 1.0)
    D = s2 * (1 - 1 / alpha) * sc.capacity_constant(alpha)
    return (D / (2 * m * alpha * sc.bias_constant(alpha, r))) ** (alpha / (2 * alpha * m + 1))


def test_optimal_penalty_constant():
    ex.check_optimal_penalty_constant(_ref)
    with pytest.raises(ExerciseError):
        ex.check_optimal_penalty_constant(lambda a, r, s2: _ref(a, r, s2) * 1.05)
    # the constant really gives the optimal penalty of the equivalent at large n
    spec, beta = sc.power_law_problem(10**5, 2.0, 0.3)
    n = np.array([1e8, 1e9])
    lam = sc.optimal_lambda(spec, beta, n, 1.0).lam
    ratio = lam / (_ref(2.0, 0.3, 1.0) * n ** (-2.0 / 2.2))
    assert np.all(np.abs(ratio - 1) < 0.15)


def test_unanswered():
    def todo(*args):
        raise NotImplementedError
    with pytest.raises(NotAnswered):
        ex.check_noiseless_exponent(todo)


def test_ridgeless_crossover():
    from hdreg.theory import scaling as sc

    def ref(alpha, r, s2):
        m = min(r, 1.0)
        C, J = sc.capacity_constant(alpha), sc.bias_constant(alpha, r)
        return C * (alpha * J / (s2 * (alpha - 1))) ** (1 / (2 * alpha * m))
    ex.check_ridgeless_crossover(ref)
    with pytest.raises(ExerciseError):  # forgets the 1/(1 - df2/n) -> alpha factor
        ex.check_ridgeless_crossover(
            lambda a, r, s2: ref(a, r, s2) / a ** (1 / (2 * a * min(r, 1.0))))
    with pytest.raises(ExerciseError):  # uses 2 alpha r instead of 2 alpha m
        ex.check_ridgeless_crossover(
            lambda a, r, s2: ref(a, r, s2) ** (min(r, 1.0) / r))
