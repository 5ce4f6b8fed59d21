import pytest

from hdreg.exercises import ExerciseError, NotAnswered
from hdreg.exercises import softmax_attention as ex


def test_gd_exponent_right_and_wrong():
    ex.check_gd_exponent(lambda a: (a - 1) / (3 * a))
    with pytest.raises(ExerciseError):
        ex.check_gd_exponent(lambda a: (a - 1) / a)          # forgot that rates go like lambda^3
    with pytest.raises(NotAnswered):
        ex.check_gd_exponent(lambda a: (_ for _ in ()).throw(NotImplementedError()))


def test_steps_to_halve_right_and_wrong():
    ex.check_steps_to_halve(lambda a, t: 2 ** (3 * a / (a - 1)))
    with pytest.raises(ExerciseError):
        ex.check_steps_to_halve(lambda a, t: 2 ** ((a - 1) / (3 * a)))
    with pytest.raises(ExerciseError):
        ex.check_steps_to_halve(lambda a, t: "many")
