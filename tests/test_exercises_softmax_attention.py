import numpy as np
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


def test_softmax_constant_right_and_wrong():
    from scipy.optimize import minimize_scalar

    def right(d, s2):
        V = lambda u: (1 - 2 * u) ** (-d / 2) * ((d + s2) / u + d / (1 - 2 * u))  # noqa: E731
        return minimize_scalar(V, bounds=(1e-6, 0.45), method="bounded",
                               options=dict(xatol=1e-12)).fun
    ex.check_softmax_constant(right)
    with pytest.raises(ExerciseError):
        ex.check_softmax_constant(lambda d, s2: np.e * d * (d + s2))   # the large-d form only
    with pytest.raises(ExerciseError):
        ex.check_softmax_constant(lambda d, s2: s2 * d)                 # the OLS constant
    with pytest.raises(NotAnswered):
        ex.check_softmax_constant(lambda d, s2: (_ for _ in ()).throw(NotImplementedError()))


def test_prompts_to_balance_right_and_wrong():
    from hdreg.theory import softmax_attention as sa

    def right(B, n, d, s2):
        C, _ = sa.softmax_rate_constant(np.ones(d), s2)
        return B * (n + C / d) / C
    ex.check_prompts_to_balance(right)
    with pytest.raises(ExerciseError):
        ex.check_prompts_to_balance(lambda B, n, d, s2: B * n / sa.softmax_rate_constant(
            np.ones(d), s2)[0])                                         # shrinkage term forgotten
    with pytest.raises(ExerciseError):
        ex.check_prompts_to_balance(lambda B, n, d, s2: "many")
