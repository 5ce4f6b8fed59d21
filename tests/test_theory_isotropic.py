"""hdreg.theory.isotropic: the HMRT closed forms for Sigma = I."""

from __future__ import annotations

import numpy as np
import pytest
from _hdreg_fixtures import clean_env  # noqa: F401  (autouse)
from scipy.optimize import minimize_scalar

from hdreg.theory import isotropic
from hdreg.theory.ridge import effective_regularization

GAMMAS = np.array([0.1, 0.5, 0.9, 1.0, 1.1, 2.0, 10.0])
LAMS = np.array([0.0, 1e-8, 1e-3, 0.1, 1.0, 100.0])


def test_kappa_solves_the_quadratic():
    g, l = np.meshgrid(GAMMAS, LAMS, indexing="ij")
    ok = ~((g == 1) & (l == 0))
    k = isotropic.isotropic_kappa(g[ok], l[ok])
    resid = k**2 + (1 - l[ok] - g[ok]) * k - l[ok]
    assert np.max(np.abs(resid) / np.maximum(1.0, k**2)) < 1e-13
    assert np.all(k >= l[ok])
    assert np.all(k[l[ok] > 0] > 0)
    # the positive root; ridgeless: kappa = max(gamma - 1, 0)
    np.testing.assert_allclose(isotropic.isotropic_kappa(GAMMAS[GAMMAS != 1], 0.0),
                               np.maximum(GAMMAS[GAMMAS != 1] - 1, 0), atol=1e-15)
    assert isinstance(isotropic.isotropic_kappa(2.0, 0.1), float)


def test_kappa_small_lambda_relative_accuracy():
    # gamma < 1: kappa = lam / (1 - gamma) + O(lam^2); the naive root formula cancels.
    for gamma in (0.1, 0.5, 0.9):
        for lam in (1e-10, 1e-13, 1e-200):  # O(lam^3) terms below 1e-15 relative
            want = lam / (1 - gamma) * (1 - lam * gamma / (1 - gamma) ** 2)
            assert isotropic.isotropic_kappa(gamma, lam) == pytest.approx(want, rel=1e-12, abs=0)


def test_kappa_agrees_with_general_solver():
    p = 500
    for gamma in (0.5, 2.0):
        # tiny lam with gamma < 1: kappa ~ lam / (1 - gamma) must keep its relative accuracy
        for lam in (0.0, 1e-14, 1e-10, 1e-6, 0.01, 1.0):
            want = effective_regularization(np.ones(p), p / gamma, lam)
            assert isotropic.isotropic_kappa(gamma, lam) == pytest.approx(want, rel=1e-11, abs=1e-300)


@pytest.mark.parametrize("gamma", [0.2, 0.7, 1.3, 3.0])
def test_small_lambda_limit_is_the_ridgeless_risk(gamma):
    r2, s2 = 2.0, 0.5
    ridgeless = isotropic.ridgeless_isotropic_risk(gamma, r2, s2)
    assert isotropic.isotropic_risk(gamma, 0.0, r2, s2).risk == pytest.approx(ridgeless, rel=1e-14)
    lams = np.array([1e-4, 1e-6, 1e-8])
    risks = isotropic.isotropic_risk(gamma, lams, r2, s2).risk
    err = np.abs(risks - ridgeless)
    assert err[-1] < 1e-6 * ridgeless
    assert np.all(np.diff(err) < 0)  # converges as lam -> 0


def test_ridgeless_formula_values():
    np.testing.assert_allclose(isotropic.ridgeless_isotropic_risk(0.5, 1.0, 1.0), 1.0)
    np.testing.assert_allclose(isotropic.ridgeless_isotropic_risk(2.0, 1.0, 1.0), 0.5 + 1.0)
    out = isotropic.ridgeless_isotropic_risk(np.array([0.5, 2.0]), 3.0, 0.0)
    np.testing.assert_allclose(out, [0.0, 1.5])


@pytest.mark.parametrize("gamma, r2, s2", [(0.5, 1.0, 0.25), (2.0, 1.0, 1.0), (1.0, 3.0, 0.1),
                                           (5.0, 0.5, 2.0)])
def test_optimal_lambda_minimises_the_risk(gamma, r2, s2):
    lam_star = isotropic.optimal_lambda(gamma, r2, s2)

    def risk_of_log_lam(t):
        return isotropic.isotropic_risk(gamma, np.exp(t), r2, s2).risk

    res = minimize_scalar(risk_of_log_lam, bounds=(np.log(lam_star) - 5, np.log(lam_star) + 5),
                          method="bounded", options=dict(xatol=1e-12, maxiter=500))
    assert np.exp(res.x) == pytest.approx(lam_star, rel=1e-6)
    # and it is a minimum on a grid too
    grid = lam_star * np.array([0.5, 0.9, 1.1, 2.0])
    assert np.all(isotropic.isotropic_risk(gamma, grid, r2, s2).risk
                  > isotropic.isotropic_risk(gamma, lam_star, r2, s2).risk)


def test_risk_shapes_and_types():
    out = isotropic.isotropic_risk(GAMMAS[:, None], LAMS[None, 1:], 1.0, 1.0)
    assert out.risk.shape == (7, 5)
    np.testing.assert_allclose(out.risk, out.bias + out.variance)
    single = isotropic.isotropic_risk(2.0, 0.1, 1.0, 1.0)
    assert all(isinstance(getattr(single, f), float) for f in ("kappa", "bias", "variance", "risk"))


@pytest.mark.parametrize("call, word", [
    (lambda: isotropic.isotropic_kappa(0.0, 0.1), "gamma"),
    (lambda: isotropic.isotropic_kappa(-1.0, 0.1), "gamma"),
    (lambda: isotropic.isotropic_kappa(2.0, -0.1), "lam"),
    (lambda: isotropic.isotropic_kappa(np.nan, 0.1), "gamma"),
    (lambda: isotropic.isotropic_kappa(1.0, 0.0), "interpolation threshold"),
    (lambda: isotropic.isotropic_risk(2.0, 0.1, -1.0, 1.0), "signal"),
    (lambda: isotropic.isotropic_risk(2.0, 0.1, 1.0, -1.0), "noise_var"),
    (lambda: isotropic.isotropic_risk(1.0, 0.0, 1.0, 1.0), "interpolation threshold"),
    (lambda: isotropic.ridgeless_isotropic_risk(1.0, 1.0, 1.0), "interpolation threshold"),
    (lambda: isotropic.ridgeless_isotropic_risk(0.0, 1.0, 1.0), "gamma"),
    (lambda: isotropic.optimal_lambda(2.0, 0.0, 1.0), "signal"),
    (lambda: isotropic.optimal_lambda(2.0, 1.0, -1.0), "noise_var"),
])
def test_bad_input(call, word):
    with pytest.raises(ValueError, match=word):
        call()


def test_isotropic_risk_finite_n():
    from hdreg.theory.isotropic import isotropic_risk, isotropic_risk_finite_n
    # lam = 0: inverse-Wishart means
    assert isotropic_risk_finite_n(200, 150, 0.0, 1.0, 0.25) == pytest.approx(0.25 * 150 / 49)
    assert isotropic_risk_finite_n(100, 300, 0.0, 2.0, 0.5) == pytest.approx(
        2.0 * (1 - 100 / 300) + 0.5 * 100 / 199)
    # lam > 0: the limit plus an O(1/n) correction that vanishes as n grows
    lim = isotropic_risk(0.5, 0.3, 1.0, 0.25).risk
    gaps = [abs(isotropic_risk_finite_n(n, n // 2, 0.3, 1.0, 0.25) - lim) for n in (100, 1000)]
    assert gaps[1] < gaps[0] / 5
    with pytest.raises(ValueError):
        isotropic_risk_finite_n(100, 100, 0.0, 1.0, 0.25)
    with pytest.raises(ValueError):
        isotropic_risk_finite_n(100, 50, -0.1, 1.0, 0.25)
