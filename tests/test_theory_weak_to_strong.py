"""hdreg.theory.weak_to_strong: teacher moments, the student's equivalent, predicted rates, scans."""

from __future__ import annotations

import numpy as np
import pytest
from _hdreg_fixtures import clean_env  # noqa: F401

from hdreg.sim.weak_to_strong import simulate_w2s
from hdreg.theory import distillation as dist
from hdreg.theory import random_features as rf
from hdreg.theory import ridge
from hdreg.theory import scaling as sc
from hdreg.theory import weak_to_strong as w2s


def _problem(D=200, alpha=1.5, r=0.5):
    return sc.power_law_problem(D, alpha, r)


def test_kernel_limit_is_the_two_stage_theorem():
    spec, beta = _problem()
    lams = np.array([0.0, 1e-3, 1e-2, 0.1])
    for lam_t in (0.0, 1e-2):
        got = w2s.student_risk(spec, beta, 0.2, 150, lam_t, 120, lams)
        ref = dist.two_stage_risk(spec, beta, 150, 120, 0.2, lam_t, lams)
        np.testing.assert_allclose(got.risk, ref.student, rtol=1e-10)
        assert got.teacher == pytest.approx(ref.teacher, rel=1e-12)
        np.testing.assert_allclose(got.risk, got.mean_error + got.passed + got.own, rtol=1e-12)


def test_parts_match_the_kernel_formula():
    spec, beta = _problem()
    out = w2s.student_risk(spec, beta, 0.2, 150, 0.0, 120, 1e-2)
    st = out.state
    s = spec / (spec + out.nu)
    t = st.mean / beta
    c = float(ridge.degrees_of_freedom(spec, out.nu)[1])
    c = c / (120 - c)
    assert out.mean_error == pytest.approx(np.sum(spec * (s * t - 1) ** 2 * beta**2), rel=1e-12)
    assert out.passed == pytest.approx(np.sum(spec * s**2 * st.var), rel=1e-12)
    own = c * np.sum(spec * (1 - s) ** 2 * (t**2 * beta**2 + st.var))
    assert out.own == pytest.approx(own, rel=1e-9)


def test_linear_teacher_moments_sum_to_rf_risk():
    spec, beta = _problem()
    for n, p, lam in [(100, 60, 0.0), (100, 300, 0.0), (150, 80, 1e-2), (80, 400, 1e-3)]:
        st = w2s.teacher_state(spec, beta, 0.2, n, lam, p_teacher=p)
        err = np.sum(spec * ((st.mean - beta) ** 2 + st.var))
        ref = rf.rf_risk(spec, beta, n, p, lam, 0.2).risk
        assert err == pytest.approx(ref, rel=1e-10)
        assert st.risk == pytest.approx(ref, rel=1e-12)
        assert st.nonlinear == 0.0


def test_large_p_tends_to_kernel_limit():
    spec, beta = _problem(100)
    lams = np.array([1e-3, 1e-2])
    ker = w2s.student_risk(spec, beta, 0.1, 60, 0.0, 80, lams).risk
    big = w2s.student_risk(spec, beta, 0.1, 60, 0.0, 80, lams, p_teacher=1e7, p_student=1e7).risk
    np.testing.assert_allclose(big, ker, rtol=1e-4)


def test_student_with_ground_truth_teacher_in_limit():
    """A teacher with infinitely many noiseless samples is beta_star: the student is plain (RF) ridge."""
    spec, beta = _problem(100)
    lams = np.array([1e-3, 1e-2])
    got = w2s.student_risk(spec, beta, 0.0, 1e9, 1e-12, 80, lams, p_student=50).risk
    ref = rf.rf_risk(spec, beta, 80, 50, lams, 0.0).risk
    np.testing.assert_allclose(got, ref, rtol=1e-5)


def test_relu_teacher_has_nonlinear_part_and_matches_kernel_limit_shift():
    spec, beta = np.ones(50), np.ones(50) / np.sqrt(50)
    s_eq, b_eq, mu2 = rf.relu_gaussian_equivalent(spec, beta)
    st = w2s.teacher_state(s_eq, b_eq, 0.2, 80, 0.0, 40, nonlinear_var=mu2)
    assert st.nonlinear > 0
    assert st.risk == pytest.approx(rf.rf_risk(s_eq, b_eq, 80, 40, 0.0, 0.2, mu2).risk, rel=1e-12)
    # kernel limit: the nonlinear part acts as the extra penalty mu2 / n
    k = w2s.teacher_state(s_eq, b_eq, 0.2, 80, 1e-3, None, nonlinear_var=mu2)
    ref = ridge.ridge_risk(s_eq, b_eq, 80, 1e-3 + mu2 / 80, 0.2).risk
    assert k.risk == pytest.approx(ref, rel=1e-10)


def test_broadcasting_and_scalar_output():
    spec, beta = _problem(100)
    out = w2s.student_risk(spec, beta, 0.1, 60, 0.0, 80, 1e-2)
    assert isinstance(out.risk, float) and isinstance(out.nu, float)
    grid = w2s.student_risk(spec, beta, 0.1, 60, 0.0, np.array([[40.0], [80.0]]), np.array([1e-3, 1e-2]),
                            p_student=np.array([50.0, 150.0]))
    assert grid.risk.shape == (2, 2)
    one = w2s.student_risk(spec, beta, 0.1, 60, 0.0, 80, 1e-2, p_student=150.0).risk
    assert grid.risk[1, 1] == pytest.approx(one, rel=1e-12)


def test_tuned_student_beats_grid_and_teacher():
    spec, beta = _problem(300, 2.0, 0.5)
    best, lam = w2s.tuned_student(spec, beta, 0.2, 100, 0.0, 100)
    grid = w2s.student_risk(spec, beta, 0.2, 100, 0.0, 100, np.geomspace(1e-6, 1, 40)).risk
    assert best <= grid.min() * (1 + 1e-9)
    assert best < w2s.student_risk(spec, beta, 0.2, 100, 0.0, 100, lam).teacher


def test_predicted_rates():
    t, s = w2s.predicted_rates(2.0, 0.5)
    assert (t, s) == (0.0, pytest.approx(2 / 3))
    t, s = w2s.predicted_rates(2.0, 0.5, ell=1.0)
    assert t == pytest.approx(0.5) and s == pytest.approx(2 / 3)
    t, s = w2s.predicted_rates(2.0, 0.5, ell=0.25)
    assert t == pytest.approx(0.25) and s == pytest.approx(0.25)  # bias-dominated: no gain
    t, s = w2s.predicted_rates(2.0, 1.5, "noiseless_rf")
    assert t == pytest.approx(2.0) and s == pytest.approx(2.4)
    t, s = w2s.predicted_rates(2.0, 0.4, "noiseless_rf")
    assert s == pytest.approx(t)  # r <= 1/2: no gain
    tt, ss = w2s.predicted_rates(2.0, np.array([0.3, 0.5]), ell=np.array([0.5, 2.5]))
    assert tt.shape == ss.shape == (2,)


def test_rate_scan_fields():
    scan = w2s.rate_scan(2.0, 0.5, 20_000, np.geomspace(100, 400, 3), 0.2)
    assert scan.student.shape == scan.teacher.shape == scan.oracle.shape == (3,)
    assert np.all(scan.student < scan.teacher) and np.all(scan.oracle < scan.student)
    assert np.all(scan.correction > 0)


def test_equivalent_against_monte_carlo_rf_to_rf():
    spec, beta = _problem(80)
    lams = np.array([3e-3, 3e-2])
    th = w2s.student_risk(spec, beta, 0.2, 60, 0.0, 70, lams, 30, 120)
    sim = simulate_w2s(spec, beta, 0.2, 60, 0.0, 70, lams, 200, 30, 120, seed=5)
    m, se = sim.mean_se("student")
    assert np.all(np.abs(m - th.risk) <= 4.5 * se)


@pytest.mark.parametrize("kwargs, match", [
    (dict(noise_var=-1.0), "noise_var"),
    (dict(n_teacher=0.0), "n_teacher"),
    (dict(lam_teacher=-0.1), "lam_teacher"),
    (dict(n_student=-5.0), "n_student"),
    (dict(lam_student=np.array([0.1, -1.0])), "lam_student"),
    (dict(p_teacher=-3.0), "p_teacher"),
    (dict(p_student=0.0), "p_student"),
    (dict(p_teacher=np.array([10.0, 20.0])), "p_teacher"),
    (dict(n_teacher=np.array([10.0, 20.0])), "n_teacher"),
    (dict(nonlinear_var=-0.1), "nonlinear_var"),
    (dict(beta=np.ones(7)), "beta"),
    (dict(spectrum=-np.ones(20)), "spectrum"),
    (dict(spectrum=np.ones((4, 5))), "spectrum"),
    (dict(spectrum=np.r_[np.ones(19), 0.0]), "spectrum"),
])
def test_bad_input(kwargs, match):
    args = dict(spectrum=np.ones(20), beta=np.ones(20), noise_var=0.1, n_teacher=10.0, lam_teacher=0.1,
                n_student=12.0, lam_student=0.1)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        w2s.student_risk(**args)


def test_bad_input_helpers():
    with pytest.raises(ValueError, match="setting"):
        w2s.predicted_rates(2.0, 0.5, "nonsense")
    with pytest.raises(ValueError, match="alpha"):
        w2s.predicted_rates(0.5, 0.5)
    with pytest.raises(ValueError, match="ell"):
        w2s.predicted_rates(2.0, 0.5, "noiseless_rf", ell=1.0)
    with pytest.raises(ValueError, match="ell"):
        w2s.predicted_rates(2.0, 0.5, ell=-1.0)
    with pytest.raises(ValueError, match="ns"):
        w2s.rate_scan(2.0, 0.5, 1000, [100.0, 200.0], 0.1)
    with pytest.raises(ValueError, match="feature_ratio"):
        w2s.rate_scan(2.0, 0.5, 1000, [100.0, 200.0, 300.0], 0.0, "noiseless_rf", feature_ratio=1.5)
    with pytest.raises(ValueError, match="lam_grid"):
        w2s.tuned_student(np.ones(20), np.ones(20), 0.1, 10, 0.1, 12, lam_grid=[0.1])
    with pytest.raises(ValueError, match="scalar"):
        w2s.tuned_student(np.ones(20), np.ones(20), 0.1, 10, 0.1, np.array([12.0, 14.0]))
