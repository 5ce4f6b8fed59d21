import itertools

import numpy as np
import pytest

from hdreg.exercises import ExerciseError, NotAnswered
from hdreg.exercises import progressive as ex


def _right(k, j):
    X = np.array(list(itertools.product((-1.0, 1.0), repeat=k)))
    f = np.maximum(X.sum(axis=1), 0.0)
    return float((f * X[:, :j].prod(axis=1)).mean()) if j else float(f.mean())


def test_neuron_coefficient_right_and_wrong():
    ex.check_neuron_coefficient(_right)
    norm = lambda k: np.sqrt((np.maximum(np.array(list(itertools.product((-1.0, 1.0), repeat=k))).sum(1), 0) ** 2).mean())  # noqa: E731
    with pytest.raises(ExerciseError):                     # the correlation, not the coefficient
        ex.check_neuron_coefficient(lambda k, j: _right(k, j) / norm(k))
    with pytest.raises(ExerciseError):                     # the odd part forgotten
        ex.check_neuron_coefficient(lambda k, j: _right(k, j) + (0.1 if j == 3 else 0.0))
    with pytest.raises(ExerciseError):
        ex.check_neuron_coefficient(lambda k, j: "a quarter")
    with pytest.raises(NotAnswered):
        ex.check_neuron_coefficient(lambda k, j: (_ for _ in ()).throw(NotImplementedError()))
