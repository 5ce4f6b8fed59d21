import numpy as np
import pytest

from hdreg.exercises import ExerciseError, NotAnswered
from hdreg.exercises import optimisers_pruning as ex


def _stub(*args):
    raise NotImplementedError("your answer here")


def test_optimal_momentum_right_and_wrong():
    ex.check_optimal_momentum(lambda k: ((np.sqrt(k) - 1) / (np.sqrt(k) + 1)) ** 2)
    with pytest.raises(ExerciseError):                    # the rate, not its square
        ex.check_optimal_momentum(lambda k: (np.sqrt(k) - 1) / (np.sqrt(k) + 1))
    with pytest.raises(ExerciseError):
        ex.check_optimal_momentum(lambda k: "large")
    with pytest.raises(NotAnswered):
        ex.check_optimal_momentum(_stub)


def test_iobs_contraction_right_and_wrong():
    ex.check_iobs_contraction(lambda n: 1 - 2 / n)
    with pytest.raises(ExerciseError):                    # forgot the 2 of the squared error
        ex.check_iobs_contraction(lambda n: 1 - 1 / n)
    with pytest.raises(ExerciseError):                    # an undamped Newton step
        ex.check_iobs_contraction(lambda n: 0.0)
    with pytest.raises(NotAnswered):
        ex.check_iobs_contraction(_stub)


def test_steps_to_shrink_right_and_wrong():
    ex.check_steps_to_shrink(lambda n, f: np.log(f) / -np.log(1 - 2 / n))
    with pytest.raises(ExerciseError):                    # first-order approximation n/2 log f
        ex.check_steps_to_shrink(lambda n, f: n / 2 * np.log(f))
    with pytest.raises(NotAnswered):
        ex.check_steps_to_shrink(_stub)
