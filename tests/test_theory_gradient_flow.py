"""hdreg.theory.gradient_flow: isotropic quadrature, Talbot deterministic equivalent, filters."""

from __future__ import annotations

import numpy as np
import pytest
from _hdreg_fixtures import clean_env  # noqa: F401  (autouse)
from scipy.integrate import quad

from hdreg.theory import gradient_flow as gf
from hdreg.theory import isotropic, ridge


def _theta_quad(f, g):
    """int f dmu over the Marchenko-Pastur bulk, by adaptive quadrature in theta
    (s = 1 + g + 2 sqrt(g) cos theta removes the square-root edges)."""
    sq = np.sqrt(g)

    def integrand(th):
        s = 1 + g + 2 * sq * np.cos(th)
        return f(s) * (2 / np.pi) * np.sin(th) ** 2 / s

    return quad(integrand, 0, np.pi, epsabs=0, epsrel=1e-10, limit=500)[0]


def _quad_bias(g, t):
    return _theta_quad(lambda s: np.exp(-2 * t * s), g) + max(0.0, 1 - 1 / g)


def _quad_var(g, t):
    return g * _theta_quad(lambda s: (-np.expm1(-t * s)) ** 2 / s, g)


@pytest.mark.parametrize("g", [0.3, 0.9, 1.0, 2.0])
@pytest.mark.parametrize("t", [0.05, 1.0, 30.0, 1e4])
def test_isotropic_quadrature_matches_scipy(g, t):
    out = gf.isotropic_risk(g, t, 1.0, 1.0)
    assert out.bias == pytest.approx(_quad_bias(g, t), rel=1e-7, abs=1e-12)
    assert out.variance == pytest.approx(_quad_var(g, t), rel=1e-7)


def test_isotropic_limits_and_shapes():
    g = np.array([0.5, 2.0, 4.0])
    out = gf.isotropic_risk(g, np.inf, 1.0, 0.25)
    np.testing.assert_allclose(out.risk, isotropic.ridgeless_isotropic_risk(g, 1.0, 0.25))
    late = gf.isotropic_risk(g, 1e6, 1.0, 0.25)
    np.testing.assert_allclose(late.risk, out.risk, rtol=1e-6)
    zero = gf.isotropic_risk(g, 0.0, 2.0, 0.25)
    np.testing.assert_allclose(zero.bias, 2.0)
    np.testing.assert_allclose(zero.train_error, 2.25)
    grid = gf.isotropic_risk(g[:, None], np.array([0.0, 1.0, 10.0, np.inf]), 1.0, 0.25)
    assert grid.risk.shape == (3, 4)
    assert isinstance(gf.isotropic_risk(0.5, 1.0, 1.0, 0.25).risk, float)
    # gamma = 1 is finite at finite t and grows like sqrt(t)
    v = gf.isotropic_risk(1.0, np.array([1e4, 4e4]), 1.0, 1.0).variance
    assert v[1] / v[0] == pytest.approx(2.0, rel=0.02)


def test_isotropic_bad_input():
    with pytest.raises(ValueError, match="gamma"):
        gf.isotropic_risk(-1.0, 1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="t"):
        gf.isotropic_risk(0.5, -1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="t"):
        gf.isotropic_risk(0.5, np.nan, 1.0, 1.0)
    with pytest.raises(ValueError, match="interpolation"):
        gf.isotropic_risk(1.0, np.inf, 1.0, 1.0)
    with pytest.raises(ValueError, match="noise_var"):
        gf.isotropic_risk(0.5, 1.0, 1.0, -1.0)


def test_gd_approaches_gf_and_stability():
    g = 2.0
    t = 5.0
    gf_r = gf.isotropic_risk(g, t, 1.0, 0.25).risk
    errs = [abs(gf.isotropic_gd_risk(g, t / eta, eta, 1.0, 0.25).risk - gf_r)
            for eta in (0.1, 0.05, 0.025)]
    assert errs[0] > errs[1] > errs[2]
    assert errs[1] / errs[2] == pytest.approx(2.0, rel=0.1)  # first order in eta
    with pytest.raises(ValueError, match="unstable"):
        gf.isotropic_gd_risk(g, 10, 1.1 * gf.max_stable_step(g), 1.0, 0.25)
    with pytest.raises(ValueError, match="integer"):
        gf.isotropic_gd_risk(g, 2.5, 0.1, 1.0, 0.25)
    late = gf.isotropic_gd_risk(g, np.inf, 0.1, 1.0, 0.25)
    assert late.risk == pytest.approx(isotropic.ridgeless_isotropic_risk(g, 1.0, 0.25))


@pytest.mark.parametrize("g", [0.5, 1.0, 2.0])
def test_general_risk_reduces_to_isotropic(g):
    n = 300
    p = int(g * n)
    ts = np.array([0.0, 0.1, 1.0, 10.0, 300.0, np.inf if g != 1 else 3e3])
    a = gf.isotropic_risk(g, ts, 1.0, 0.3)
    b = gf.risk(np.ones(p), np.full(p, p**-0.5), n, ts, 0.3)
    np.testing.assert_allclose(b.bias, a.bias, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(b.variance, a.variance, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(b.train_error, a.train_error, rtol=1e-6, atol=1e-8)


def test_general_risk_limits_and_population():
    idx = np.arange(1, 301)
    spec = idx**-1.5
    beta = idx**-0.5
    n = 100
    rl = ridge.ridge_risk(spec, beta, n, 0.0, 0.1)
    late = gf.risk(spec, beta, n, np.array([1e7, np.inf]), 0.1)
    np.testing.assert_allclose(late.risk, rl.risk, rtol=1e-5)
    # n -> infinity: the population (bias-only) curve
    big = gf.risk(spec, beta, 1e7, np.array([1.0, 10.0]), 0.0)
    np.testing.assert_allclose(big.bias, gf.population_risk(spec, beta, [1.0, 10.0]), rtol=1e-4)
    # monotone training error
    tr = gf.risk(spec, beta, n, np.logspace(-1, 3, 9), 0.1).train_error
    assert np.all(np.diff(tr) < 0)


def test_general_risk_bad_input():
    spec = np.ones(10)
    with pytest.raises(ValueError, match="spectrum"):
        gf.risk(-spec, spec, 5, 1.0, 0.1)
    with pytest.raises(ValueError, match="beta"):
        gf.risk(spec, np.ones(3), 5, 1.0, 0.1)
    with pytest.raises(ValueError, match="n must"):
        gf.risk(spec, spec, 0, 1.0, 0.1)
    with pytest.raises(ValueError, match="t "):
        gf.risk(spec, spec, 5, -1.0, 0.1)
    with pytest.raises(ValueError, match="noise_var"):
        gf.risk(spec, spec, 5, 1.0, np.nan)


def test_talbot_inverse_known_transforms():
    t = np.array([0.1, 1.0, 10.0])
    np.testing.assert_allclose(gf.talbot_inverse(lambda lam: 1 / (lam + 2.0), t), np.exp(-2 * t),
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(gf.talbot_inverse(lambda lam: 1 / lam**2, t), t, rtol=1e-6)
    with pytest.raises(ValueError):
        gf.talbot_inverse(lambda lam: 1 / lam, 0.0)


def test_filters_and_akt_constant():
    x_star, c = gf.filter_ratio_bound()
    assert 1.68 < c <= gf.AKT_CONSTANT
    x = np.logspace(-3, 2, 500)
    ratio = (gf.gf_filter(x, 1.0) / gf.ridge_filter(x, 1.0)) ** 2
    assert ratio.max() <= c * (1 + 1e-9)
    assert np.all(np.exp(-x) * (1 + x) <= 1 + 1e-15)  # bias filter ratio
    np.testing.assert_allclose(gf.gd_filter(x, 1000, 1e-3), gf.gf_filter(x, 1.0), atol=2e-3)


def test_empirical_bayes_risk():
    s = np.array([[0.0, 0.5, 2.0]])
    b, v = gf.empirical_bayes_risk(s, 10, 3.0, 1.0, t=np.inf if False else 1.0)
    phi = 1 - np.exp(-s[0])
    assert b[0] == pytest.approx(3.0 * np.mean((1 - phi) ** 2))
    assert v[0] == pytest.approx((phi[1] ** 2 / 0.5 + phi[2] ** 2 / 2.0) / 10)
    b0, v0 = gf.empirical_bayes_risk(s, 10, 3.0, 1.0, lam=0.0)
    assert b0[0] == pytest.approx(1.0) and v0[0] == pytest.approx((2 + 0.5) / 10)
    with pytest.raises(ValueError, match="exactly one"):
        gf.empirical_bayes_risk(s, 10, 1.0, 1.0)
    with pytest.raises(ValueError, match="eigenvalues"):
        gf.empirical_bayes_risk(-s, 10, 1.0, 1.0, t=1.0)


def test_initialisation_adds_to_signal():
    a = gf.isotropic_risk(2.0, [1.0, 10.0, np.inf], 1.0, 0.25, init_var=0.5)
    b = gf.isotropic_risk(2.0, [1.0, 10.0, np.inf], 1.5, 0.25)
    np.testing.assert_allclose(a.risk, b.risk)
    # frozen subspace: the excess at convergence is init_var (1 - 1/gamma)
    c = gf.isotropic_risk(2.0, np.inf, 1.0, 0.25)
    assert a.risk[-1] - c.risk == pytest.approx(0.5 * (1 - 1 / 2.0))
    n, p = 200, 400
    g = gf.risk(np.ones(p), np.full(p, p**-0.5), n, [1.0, 10.0, np.inf], 0.25, init_var=0.5)
    np.testing.assert_allclose(g.risk, a.risk, rtol=1e-6)
    with pytest.raises(ValueError, match="init_var"):
        gf.isotropic_risk(2.0, 1.0, 1.0, 0.25, init_var=-1.0)
    with pytest.raises(ValueError, match="init_var"):
        gf.risk(np.ones(4), np.ones(4), 2, 1.0, 0.25, init_var=np.nan)
