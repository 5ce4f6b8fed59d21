"""The exercise checks of the attention-and-collapse chapter accept the reference solutions and
reject wrong answers with an ExerciseError (never revealing the value)."""

import numpy as np
import pytest

from _hdreg_fixtures import clean_env  # noqa: F401
from hdreg.exercises import ExerciseError, NotAnswered
from hdreg.exercises import attention_collapse as ex


def coefficient(pi_pos, pi_neg, eta):
    return 0.5 * eta * (0.5 * np.asarray(pi_pos) - 0.5 * np.asarray(pi_neg))


def nc1_metric(H, labels, K):
    H = np.asarray(H, dtype=float)
    mu = np.stack([H[labels == c].mean(0) for c in range(K)])
    dev = H - mu[labels]
    SW = dev.T @ dev / len(H)
    B = mu - mu.mean(0)
    SB = B.T @ B / K
    return float(np.trace(SW @ np.linalg.pinv(SB, rcond=1e-10)) / K)


def test_reference_solutions_pass(capsys):
    ex.check_one_step_coefficient(coefficient)
    ex.check_nc1(nc1_metric)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", [
    lambda pp, pm, eta: eta * (0.5 * pp - 0.5 * pm),              # forgot sigma(0) = 1/2
    lambda pp, pm, eta: 0.5 * eta * (0.5 * pp + 0.5 * pm),        # unsigned frequency
    lambda pp, pm, eta: 0.5 * eta * (pp - pm),                    # forgot the class prior
    lambda pp, pm, eta: 1.0,                                      # not a vector
])
def test_wrong_coefficients_fail(wrong):
    with pytest.raises(ExerciseError, match="not yet"):
        ex.check_one_step_coefficient(wrong)


@pytest.mark.parametrize("wrong", [
    lambda H, lab, K: nc1_metric(H, lab, K) * K,                  # forgot 1/K
    lambda H, lab, K: float(np.trace(np.cov(np.asarray(H).T))),  # total variance
    lambda H, lab, K: "zero",
])
def test_wrong_nc1_fails(wrong):
    with pytest.raises(ExerciseError, match="not yet"):
        ex.check_nc1(wrong)


def test_unanswered_is_reported():
    def blank(*args):
        raise NotImplementedError("your answer here")
    with pytest.raises(NotAnswered):
        ex.check_one_step_coefficient(blank)
    with pytest.raises(NotAnswered):
        ex.check_nc1(blank)


def test_messages_do_not_reveal_values():
    try:
        ex.check_one_step_coefficient(lambda pp, pm, eta: eta * (0.5 * pp - 0.5 * pm))
    except ExerciseError as err:
        true = 0.5 * (0.5 * (6 / 60) - 0.0)
        assert f"{true:.4g}" not in str(err)
