"""The ridge chapter's exercise checks accept the reference answers and reject wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

from hdreg.exercises import ExerciseError, NotAnswered
from hdreg.exercises import ridge as ex


def test_optimal_penalty():
    ex.check_optimal_penalty(lambda g, r2, s2: s2 * g / r2)
    with pytest.raises(ExerciseError):
        ex.check_optimal_penalty(lambda g, r2, s2: s2 / r2)


def test_noiseless_risk():
    ex.check_noiseless_risk(lambda g: np.where(g < 1, 0.0, 1 - 1 / g))
    with pytest.raises(ExerciseError):
        ex.check_noiseless_risk(lambda g: np.where(g < 1, 0.0, 1 / g))


def test_gcv():
    def gcv(X, y, lams):
        n, p = X.shape
        out = []
        for lam in lams:
            A = X @ np.linalg.solve(X.T @ X + n * lam * np.eye(p), X.T)
            r = y - A @ y
            out.append((r @ r / n) / (1 - np.trace(A) / n) ** 2)
        return np.array(out)
    ex.check_gcv(gcv)
    with pytest.raises(ExerciseError):
        ex.check_gcv(lambda X, y, lams: gcv(X, y, lams) * (1 - 0.1))


def test_unanswered():
    def todo(*args):
        raise NotImplementedError("your answer here")
    with pytest.raises(NotAnswered):
        ex.check_noiseless_risk(todo)


def test_elliptical_ridgeless():
    ex.check_elliptical_ridgeless(lambda b, v, a: b + a / (a - 1) * v)
    with pytest.raises(ExerciseError):
        ex.check_elliptical_ridgeless(lambda b, v, a: b + v)  # the Gaussian equivalent
    with pytest.raises(ExerciseError):
        ex.check_elliptical_ridgeless(lambda b, v, a: a / (a - 1) * (b + v))


def test_effective_ranks():
    def ranks(s, k):
        t = s[k:]
        return t.sum() / t[0], t.sum() ** 2 / (t ** 2).sum()
    ex.check_effective_ranks(ranks)
    with pytest.raises(ExerciseError):  # off by one: lambda_k instead of lambda_{k+1}
        ex.check_effective_ranks(lambda s, k: (s[k:].sum() / s[max(k - 1, 0)],
                                               ranks(s, k)[1]))
    with pytest.raises(ExerciseError):
        ex.check_effective_ranks(lambda s, k: ranks(s, k)[0])
