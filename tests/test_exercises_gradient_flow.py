"""Exercise checks of the gradient-descent chapter: the reference passes, wrong answers fail."""

from __future__ import annotations

import numpy as np
import pytest

from hdreg.exercises import ExerciseError, NotAnswered
from hdreg.exercises import gradient_flow as ex


def test_reference_solution_passes():
    ex.check_growth_constant(lambda s2: s2 * 2 * (2 - np.sqrt(2)) / np.sqrt(np.pi))


@pytest.mark.parametrize("wrong", [
    lambda s2: s2 * 2 * (2 - np.sqrt(2)) / np.pi,  # forgot a sqrt(pi)
    lambda s2: 2 * (2 - np.sqrt(2)) / np.sqrt(np.pi),  # no noise_var
    lambda s2: np.array([1.0, 2.0]),
    lambda s2: np.nan,
])
def test_wrong_answers_fail(wrong):
    with pytest.raises(ExerciseError):
        ex.check_growth_constant(wrong)


def test_unanswered():
    def growth_constant(noise_var):
        raise NotImplementedError("your answer here")

    with pytest.raises(NotAnswered):
        ex.check_growth_constant(growth_constant)
