"""The weak-to-strong chapter's exercise checks accept the reference answers and reject wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

from hdreg.exercises import ExerciseError, NotAnswered
from hdreg.exercises import w2s_random_features as ex
from hdreg.theory import scaling as sc
from hdreg.theory import weak_to_strong as w2s


def test_linear_part_error():
    spec, beta = sc.power_law_problem(200, 1.5, 0.5)
    ex.check_linear_part_error(lambda st, s, b: np.sum(s * ((b - st.mean) ** 2 + st.var)), spec, beta)
    with pytest.raises(ExerciseError):  # forgets the variance
        ex.check_linear_part_error(lambda st, s, b: np.sum(s * (b - st.mean) ** 2), spec, beta)


def test_unlabelled_student():
    spec, beta = sc.power_law_problem(2000, 2.0, 0.5)
    ref = lambda ns: [w2s.tuned_student(spec, beta, 0.2, 100, 0.0, v)[0] for v in ns]  # noqa: E731
    ex.check_unlabelled_student(ref, spec, beta, 0.2, 100)
    with pytest.raises(ExerciseError):
        ex.check_unlabelled_student(lambda ns: [sc.optimal_lambda(spec, beta, 100, 0.2).risk[0]] * 3,
                                    spec, beta, 0.2, 100)


def test_unanswered():
    def todo(*args):
        raise NotImplementedError
    spec, beta = sc.power_law_problem(50, 1.5, 0.5)
    with pytest.raises(NotAnswered):
        ex.check_linear_part_error(todo, spec, beta)


def test_width_for():
    spec, beta = sc.power_law_problem(20_000, 2.0, 0.25)

    def ref(n, eps):
        lam = w2s.tuned_student(spec, beta, 0.2, n, 0.0, n)[1]
        wc = w2s.width_correction(spec, beta, 0.2, n, 0.0, n, lam, 1.0)
        return wc.first_order / (eps * wc.kernel)

    ex.check_width_for(ref, spec, beta, 0.2)
    with pytest.raises(ExerciseError):  # forgets to divide by the kernel risk
        ex.check_width_for(lambda n, eps: ref(n, eps) * w2s.tuned_student(
            spec, beta, 0.2, n, 0.0, n)[0], spec, beta, 0.2)
    with pytest.raises(ExerciseError):  # takes the width proportional to n
        ex.check_width_for(lambda n, eps: n / eps / 10, spec, beta, 0.2)
