"""hdreg.theory.weak_to_strong: the student's finite-width correction and the width it needs."""

from __future__ import annotations

import numpy as np
import pytest
from _hdreg_fixtures import clean_env  # noqa: F401

from hdreg.theory import scaling as sc
from hdreg.theory import weak_to_strong as w2s


def _problem(D=3000, alpha=2.0, r=0.25):
    return sc.power_law_problem(D, alpha, r)


def test_first_order_correction_converges_to_the_exact_difference():
    spec, beta = _problem()
    lam = w2s.tuned_student(spec, beta, 0.2, 200, 0.0, 200)[1]
    ps = np.array([400.0, 4000.0, 40000.0])
    for mult in (1.0, 3.0):  # at the tuned penalty and away from it (shift term active)
        wc = w2s.width_correction(spec, beta, 0.2, 200, 0.0, 200, mult * lam, ps)
        err = np.abs(wc.first_order / wc.exact - 1)
        assert np.all(np.diff(err) < 0)  # error of the expansion falls with p
        assert err[-1] < 2e-3
        # the error is second order: it scales like df1 / p
        assert err[1] / err[0] == pytest.approx(0.1, rel=0.3)
        assert np.all(wc.exact > 0)
    # at the tuned penalty the shift of the effective regularisation does not contribute
    wc = w2s.width_correction(spec, beta, 0.2, 200, 0.0, 200, lam, 1000.0)
    assert abs(wc.shift) < 0.02 * wc.first_order
    wc3 = w2s.width_correction(spec, beta, 0.2, 200, 0.0, 200, 3 * lam, 1000.0)
    assert wc3.shift > 0.1 * wc3.first_order


def test_width_correction_fields_and_scaling_in_p():
    spec, beta = _problem()
    wc = w2s.width_correction(spec, beta, 0.2, 200, 0.0, 200, 1e-3, [100.0, 200.0])
    assert isinstance(wc.kernel, float) and isinstance(wc.df1, float)
    assert wc.first_order.shape == (2,)
    assert wc.first_order[0] == pytest.approx(2 * wc.first_order[1], rel=1e-12)  # exactly 1/p
    ref = w2s.student_risk(spec, beta, 0.2, 200, 0.0, 200, 1e-3, None, 100.0).risk
    assert wc.kernel + wc.exact[0] == pytest.approx(ref, rel=1e-12)
    scalar = w2s.width_correction(spec, beta, 0.2, 200, 0.0, 200, 1e-3, 100.0)
    assert isinstance(scalar.exact, float)


def test_predicted_width_rate():
    for r in (0.1, 0.25, 0.4):
        q_star = 1 / (2 * 2.0 * r + 1)
        qs = np.array([0.5 * q_star, q_star, 1.5 * q_star, 1.0])
        rate, qs_out = w2s.predicted_width_rate(2.0, r, qs)
        assert qs_out == pytest.approx(q_star)
        np.testing.assert_allclose(rate, 2 * 2.0 * r * np.minimum(qs, q_star), rtol=1e-12)
    # above r = 1/2 the feature term raises the threshold (random-features chapter)
    rate, q_star = w2s.predicted_width_rate(2.0, 0.75, np.array([0.3, 0.5, 0.8]))
    assert q_star == pytest.approx((1 + 2.0 * (1.5 - 1)) / (2 * 2.0 * 0.75 + 1))
    assert rate[1] == pytest.approx(0.75) and rate[2] == pytest.approx(0.75) and rate[0] < 0.75
    assert isinstance(w2s.predicted_width_rate(2.0, 0.25, 0.3)[0], float)


def test_width_scan_fields():
    out = w2s.width_scan(2.0, 0.25, 5000, np.array([100.0, 300.0]), np.array([0.5, 1.0]), 0.2)
    assert out.tuned.shape == (2, 2) and out.p.shape == (2, 2) and out.kernel.shape == (2,)
    assert np.all(out.tuned <= out.at_kernel_lam * (1 + 1e-12))
    assert np.all(out.tuned >= out.kernel[:, None])  # more features never hurt a tuned student
    assert np.all(out.teacher > out.kernel)
    np.testing.assert_allclose(out.p[:, 1], [100.0, 300.0])


@pytest.mark.parametrize("kwargs, match", [
    (dict(p_student=-1.0), "p_student"),
    (dict(p_student=np.nan), "p_student"),
    (dict(lam_student=0.0), "lam_student"),
    (dict(lam_student=-1e-3), "lam_student"),
    (dict(n_student=[100, 200]), "n_student"),
    (dict(beta=np.ones(3)), "beta"),
])
def test_width_correction_bad_input(kwargs, match):
    spec, beta = _problem(D=300)
    args = dict(spectrum=spec, beta=beta, noise_var=0.2, n_teacher=100, lam_teacher=0.0,
                n_student=100, lam_student=1e-3, p_student=50.0)
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=match):
        w2s.width_correction(**args)


def test_width_rate_and_scan_bad_input():
    with pytest.raises(ValueError, match="q"):
        w2s.predicted_width_rate(2.0, 0.25, -0.5)
    with pytest.raises(ValueError, match="alpha"):
        w2s.predicted_width_rate(0.0, 0.25, 0.5)
    with pytest.raises(ValueError, match="r"):
        w2s.predicted_width_rate(2.0, np.nan, 0.5)
    with pytest.raises(ValueError, match="ns"):
        w2s.width_scan(2.0, 0.25, 1000, np.array([100.0]), np.array([0.5]), 0.2)
    with pytest.raises(ValueError, match="qs"):
        w2s.width_scan(2.0, 0.25, 1000, np.array([100.0, 200.0]), np.array([0.0]), 0.2)
    with pytest.raises(ValueError, match="tune_span"):
        w2s.width_scan(2.0, 0.25, 1000, np.array([100.0, 200.0]), np.array([0.5]), 0.2,
                       tune_span=1.0)
