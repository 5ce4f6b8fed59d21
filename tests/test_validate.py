"""hdreg._validate, and every bad input listed in the core issue: a ValueError (or TypeError) that
names the argument, in well under a second; pathological sizes fail fast with the memory needed."""

from __future__ import annotations

import time

import numpy as np
import pytest
from _hdreg_fixtures import clean_env, power_law  # noqa: F401

from hdreg import _validate, batch, selection
from hdreg.sim import icl as sicl
from hdreg.sim import ridge as sridge
from hdreg.sim import synthetic as ssyn
from hdreg.theory import ridge, ttt

SPEC = power_law(6)
BETA = np.ones(6)


@pytest.mark.parametrize("value", [None, np.nan, np.inf, -np.inf, "3", True, [1, 2], np.ones(2),
                                   2.5, 0, -1])
def test_positive_int_refuses(value):
    with pytest.raises((ValueError, TypeError), match="n must be a positive integer") as info:
        _validate.positive_int(value, "n")
    assert "got" in str(info.value)
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)


@pytest.mark.parametrize("value", [None, np.nan, np.inf, "0.1", False, [0.1, 0.2], -0.5])
def test_nonneg_scalar_refuses(value):
    with pytest.raises(ValueError, match=r"noise_var must be a finite real scalar in \[0, inf\), got"):
        _validate.nonneg_scalar(value, "noise_var")


def test_accepted_forms():
    assert _validate.positive_int(np.int64(3), "n") == 3
    assert _validate.positive_int(3.0, "n") == 3
    assert _validate.positive_int(np.array(4), "n") == 4
    assert _validate.nonneg_scalar(np.array([0.5]), "x") == 0.5
    assert _validate.nonneg_scalar(np.float32(0.25), "x") == 0.25
    assert _validate.choices("random", "methods", ("random", "centre")) == ["random"]
    np.testing.assert_array_equal(_validate.penalties(0.1), [0.1])


def test_step_list():
    np.testing.assert_array_equal(_validate.step_list([5, 0, 5, 3], "log_steps", 5), [0, 3, 5])
    for bad in ([], [6], [-1], [1.5]):
        with pytest.raises(ValueError, match="log_steps"):
            _validate.step_list(bad, "log_steps", 5)


def test_describe_never_prints_a_big_array():
    assert _validate.describe(np.ones((1000, 1000))) == "array of shape (1000, 1000)"
    assert _validate.describe(True) == "True (bool)"


def _fast(call, match, exc=(ValueError, TypeError)):
    start = time.perf_counter()
    with pytest.raises(exc, match=match):
        call()
    assert time.perf_counter() - start < 1.0


ISSUE_CASES = {
    "ridge n=nan": (lambda: sridge.simulate_ridge_path(SPEC, BETA, np.nan, [0.1], 1.0, 2), r"\bn must"),
    "ridge n=None": (lambda: sridge.simulate_ridge_path(SPEC, BETA, None, [0.1], 1.0, 2), r"\bn must"),
    "ridge trials=inf": (lambda: sridge.simulate_ridge_path(SPEC, BETA, 8, [0.1], 1.0, np.inf),
                         "trials must"),
    "ridge lams=[]": (lambda: sridge.simulate_ridge_path(SPEC, BETA, 8, [], 1.0, 2), "lams must"),
    "ridge noise str": (lambda: sridge.simulate_ridge_path(SPEC, BETA, 8, [0.1], "1", 2), "noise_var"),
    "ridge seed float": (lambda: sridge.simulate_ridge_path(SPEC, BETA, 8, [0.1], 1.0, 2, seed=1.5),
                         "seed must"),
    "ridge_risk noise_var=[1, 2]": (lambda: ridge.ridge_risk(SPEC, BETA, 10, 0.1, [1, 2]), "noise_var"),
    "ridge_risk n/lam shapes": (lambda: ridge.ridge_risk(SPEC, BETA, [10, 20], [0.1, 0.2, 0.3], 1.0),
                                "n and lam must broadcast"),
    "ridge_risk n=None": (lambda: ridge.ridge_risk(SPEC, BETA, None, 0.1, 1.0), r"\bn must"),
    "ridge_risk lam=nan": (lambda: ridge.ridge_risk(SPEC, BETA, 10, np.nan, 1.0), "lam"),
    "select_per_class bogus": (lambda: selection.select_per_class(
        np.ones((4, 3)) + np.arange(12).reshape(4, 3) ** 0.5, np.zeros(4), np.ones((6, 3)), np.zeros(6), 2,
        methods=["bogus"]), "methods must"),
    "covariance_gap one row": (lambda: selection.covariance_gap(
        np.random.default_rng(0).standard_normal((5, 3)), np.zeros(5),
        np.random.default_rng(1).standard_normal((1, 3)), np.zeros(1), 2), "synthetic must have at least 2"),
    "mixed rank-deficient n_s > p": (lambda: ssyn.simulate_mixed_training(
        np.ones(6), np.array([1.0, 1.0, 0.0, 0.0, 0.0, 0.0]), np.ones(6), 0, 20, 0.1, 2), "spans only"),
    "cold_context_length d=nan": (lambda: ttt.cold_context_length(0.5, np.nan, 10), r"\bd must"),
    "pretrain_sgd lr=10": (lambda: sicl.pretrain_sgd(np.eye(3), np.eye(3), 5, 0.1, steps=5, batch=4,
                                                     lr=10.0), "lr must be below the stability limit"),
}


@pytest.mark.parametrize("case", sorted(ISSUE_CASES))
def test_issue_bad_inputs_fail_fast_and_name_the_argument(case):
    call, match = ISSUE_CASES[case]
    _fast(call, match)


def test_one_trial_summary_raises_instead_of_nan():
    sim = sridge.simulate_ridge_path(SPEC, BETA, 8, [0.1], 1.0, 1)
    with pytest.raises(ValueError, match="at least 2"):
        sim.mean_se()


def test_memory_budget_must_be_a_number(monkeypatch):
    for bad in ("abc", "nan", "inf", "-1", "0"):
        monkeypatch.setenv("HDREG_MEM_BUDGET_GB", bad)
        _fast(batch.memory_budget, "HDREG_MEM_BUDGET_GB")


def test_pathological_sizes_fail_fast_with_the_memory_needed():
    _fast(lambda: sridge.simulate_ridge_path(np.ones(10**6), np.ones(10**6), 10**5, [0.1], 1.0, 2),
          r"needs about [0-9.e+]+ GiB", exc=MemoryError)
    _fast(lambda: sicl.pretrain_sgd(np.eye(3), np.eye(3), 10**9, 0.1, steps=5, batch=10**4),
          "GiB", exc=MemoryError)


def test_context_length_for_large_d_is_bounded_in_time_and_memory():
    start = time.perf_counter()
    n_icl, n_ttt = ttt.context_length_for_loss(0.5, 10**6, 10**6)
    assert time.perf_counter() - start < 5.0
    assert n_icl == 10**6 + 1 and 0 < n_ttt < n_icl


# Every argument of these theory functions, replaced by a bad value, gives a ValueError/TypeError
# whose message names the argument.
def _theory_calls():
    from hdreg.theory import distillation as dist
    from hdreg.theory import icl, isotropic, marchenko_pastur, scaling, synthetic
    from hdreg.theory import random_features as rf
    from hdreg.theory import weak_to_strong as w2s

    P = 30
    spec, beta = np.arange(1, P + 1.0) ** -1.3, np.ones(P) / 5
    return {
        "ridge_risk": (ridge.ridge_risk, dict(spectrum=spec, beta=beta, n=20, lam=0.1, noise_var=0.2)),
        "rf_risk": (rf.rf_risk, dict(spectrum=spec, beta=beta, n=20, p=10, lam=0.1, noise_var=0.2)),
        "optimal_lambda": (scaling.optimal_lambda, dict(spectrum=spec, beta=beta, n=20.0, noise_var=0.2)),
        "risk_at_kappa": (scaling.risk_at_kappa, dict(spectrum=spec, beta=beta, n=20.0, kappa=0.1,
                                                      noise_var=0.2)),
        "predicted_rate": (scaling.predicted_rate, dict(alpha=1.5, r=0.5, regime="tuned")),
        "fit_rate": (scaling.fit_rate, dict(n=np.array([10.0, 20, 40, 80]), y=np.array([1, .5, .25, .12]))),
        "surrogate_risk": (dist.surrogate_risk, dict(spectrum=spec, beta_star=beta, beta_surrogate=beta,
                                                     n=20, noise_var=0.1)),
        "optimal_mask": (dist.optimal_mask, dict(spectrum=spec, n=20)),
        "two_stage_risk": (dist.two_stage_risk, dict(spectrum=spec, beta_star=beta, m=25, n=20,
                                                     noise_var=0.1)),
        "student_risk": (w2s.student_risk, dict(spectrum=spec, beta=beta, noise_var=0.1, n_teacher=25,
                                                lam_teacher=0.01, n_student=20, lam_student=0.01)),
        "pretrained_weights": (icl.pretrained_weights, dict(sigma_x=np.eye(3), sigma_beta=np.eye(3), n=5)),
        "isotropic_ttt": (ttt.isotropic_ttt, dict(n=10, k=5, d=10)),
        "isotropic_losses": (ttt.isotropic_losses, dict(alpha=1.0, gamma=1.0)),
        "mixed_training_risk": (synthetic.mixed_training_risk, dict(sigma_t=np.eye(4), sigma_s=np.eye(4),
                                                                    n_t=10, n_s=10, noise_var=0.1)),
        "isotropic_risk": (isotropic.isotropic_risk, dict(gamma=0.5, lam=0.1, signal=1.0, noise_var=0.1)),
        "mp_density": (marchenko_pastur.mp_density, dict(x=np.array([0.5]), gamma=0.5)),
    }


@pytest.mark.parametrize("bad", [None, "x", np.nan, np.inf, True, [np.nan]], ids=repr)
@pytest.mark.parametrize("name", sorted(_theory_calls()))
def test_theory_bad_arguments_are_named(name, bad):
    fn, kwargs = _theory_calls()[name]
    fn(**kwargs)  # the good call works
    for arg in kwargs:
        args = dict(kwargs, **{arg: bad})
        with pytest.raises((ValueError, TypeError)) as info:
            fn(**args)
        assert arg in str(info.value), (name, arg, str(info.value))
