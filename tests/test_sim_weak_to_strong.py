"""hdreg.sim.weak_to_strong: the teacher -> student simulator (shapes, limits, exact cases, bad input)."""

from __future__ import annotations

import numpy as np
import pytest
from _hdreg_fixtures import clean_env  # noqa: F401

from hdreg.sim.ridge import simulate_ridge_path
from hdreg.sim.weak_to_strong import simulate_w2s
from hdreg.theory import scaling as sc
from hdreg.theory import weak_to_strong as w2s


def test_shapes_and_gap():
    spec, beta = sc.power_law_problem(40, 1.5, 0.5)
    out = simulate_w2s(spec, beta, 0.1, 30, 0.0, 35, [1e-3, 1e-2, 0.1], 6, p_teacher=20, p_student=60)
    assert out.teacher.shape == (6,) and out.student.shape == out.oracle.shape == (6, 3)
    g, g_se = out.gap("student", "teacher")
    assert g.shape == g_se.shape == (3,)
    assert np.all(out.student >= 0) and np.all(out.teacher >= 0)


def test_noiseless_underparameterised_student_copies_linear_teacher():
    """n_S > D, ridgeless kernel student on a linear teacher's labels recovers beta_T exactly: its risk
    is the teacher's risk, trial by trial."""
    spec, beta = sc.power_law_problem(15, 1.5, 0.5)
    out = simulate_w2s(spec, beta, 0.2, 10, 0.0, 40, [0.0], 5, seed=3)
    np.testing.assert_allclose(out.student[:, 0], out.teacher, rtol=1e-8)


def test_oracle_is_plain_ridge_in_distribution():
    spec, beta = sc.power_law_problem(60, 1.5, 0.5)
    out = simulate_w2s(spec, beta, 0.2, 30, 0.0, 40, [1e-2], 300, seed=1)
    ref = simulate_ridge_path(spec, beta, 40, [1e-2], 0.2, 300, seed=2)
    m1, s1 = out.mean_se("oracle")
    m2, s2 = ref.mean_se("risk")
    assert abs(m1[0] - m2[0]) <= 4 * np.hypot(s1[0], s2[0])


def test_relu_matches_equivalent():
    from hdreg.theory import random_features as rf

    D = 40
    spec, beta = np.ones(D), np.ones(D) / np.sqrt(D)
    s_eq, b_eq, mu2 = rf.relu_gaussian_equivalent(spec, beta)
    lams = np.array([1e-3, 1e-2])
    out = simulate_w2s(spec, beta, 0.2, 60, 0.0, 80, lams, 80, 30, 100, features="relu", seed=4)
    th = w2s.student_risk(s_eq, b_eq, 0.2, 60, 0.0, 80, lams, 30, 100, mu2)
    m, se = out.mean_se("student")
    assert np.all(np.abs(m - th.risk) <= 4.5 * se)


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_teacher=0), "n_teacher"),
    (dict(n_student=2.5), "n_student"),
    (dict(trials=0), "trials"),
    (dict(p_teacher=-1), "p_teacher"),
    (dict(p_student=0), "p_student"),
    (dict(noise_var=-0.1), "noise_var"),
    (dict(lam_teacher=-1.0), "lam_teacher"),
    (dict(lams=[0.1, -0.1]), "lams"),
    (dict(lams=np.ones((2, 2))), "lams"),
    (dict(features="tanh"), "features"),
    (dict(features="relu"), "relu"),
    (dict(features="relu", p_teacher=5, p_student=5, spectrum=np.linspace(1, 2, 10)), "isotropic"),
    (dict(beta=np.ones(3)), "beta"),
    (dict(spectrum=-np.ones(10)), "spectrum"),
    (dict(lam_teacher=0.0, n_teacher=10), "interpolation"),
    (dict(lams=[0.0], n_student=10), "interpolation"),
])
def test_bad_input(kwargs, match):
    args = dict(spectrum=np.ones(10), beta=np.ones(10), noise_var=0.1, n_teacher=8, lam_teacher=0.1,
                n_student=9, lams=[0.1], trials=2)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        simulate_w2s(**args)


@pytest.mark.parametrize("pt,ps", [(None, None), (12, None), (None, 40)])
def test_conditional_w2s_has_the_raw_mean(pt, ps):
    i = np.arange(1, 31)
    spec = i ** -1.0
    beta = np.sqrt(i ** -1.2 / spec)
    args = (spec, beta, 0.2, 20, 0.0, 25, [1e-3, 1e-1])
    raw = simulate_w2s(*args, 3000, pt, ps, seed=1)
    cond = simulate_w2s(*args, 400, pt, ps, seed=2, conditional=True)
    for f in ("teacher", "student", "oracle"):
        mr, sr = raw.mean_se(f)
        mc, sc_ = cond.mean_se(f)
        assert np.all(np.abs(mr - mc) <= 4 * np.sqrt(sr**2 + sc_**2)), f


def test_conditional_w2s_relu_has_the_raw_mean():
    D = 12
    spec = np.ones(D)
    beta = np.linspace(1, -1, D) / 3
    args = (spec, beta, 0.2, 20, 0.0, 25, [1e-2], )
    raw = simulate_w2s(*args, 3000, 15, 30, features="relu", seed=1)
    cond = simulate_w2s(*args, 400, 15, 30, features="relu", seed=2, conditional=True)
    for f in ("teacher", "student", "oracle"):
        mr, sr = raw.mean_se(f)
        mc, sc_ = cond.mean_se(f)
        assert np.all(np.abs(mr - mc) <= 4 * np.sqrt(sr**2 + sc_**2)), f
