"""hdreg.theory.random_features: the coupled fixed point, the risk formula, its limits, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from _hdreg_fixtures import clean_env  # noqa: F401
from scipy.optimize import brentq

from hdreg.sim.random_features import simulate_rf_path
from hdreg.theory import random_features as rft
from hdreg.theory.ridge import ridge_risk


def power_law(D, alpha=1.5, r=0.4):
    i = np.arange(1, D + 1, dtype=float)
    return i ** -alpha, np.sqrt(i ** -(1 + 2 * alpha * r) / i ** -alpha)


SPEC, BETA = power_law(400)


def _df(spec, nu):
    s = spec / (spec + nu)
    return s.sum(), (s * s).sum()


def _nu2_brentq(spec, n, p, lam, mvar=0.0):
    """Reference: scalar root of lam = nu (1 - d/p)(1 - d/n) on d < min(n, p)."""
    d1 = lambda nu: _df(spec, nu)[0] + mvar / nu  # noqa: E731
    k = min(n, p)
    lo = brentq(lambda nu: d1(nu) - k, 1e-14, 1e6, xtol=1e-300, rtol=1e-15)
    if lam == 0:
        return lo
    h = lambda nu: nu * (1 - d1(nu) / p) * (1 - d1(nu) / n) - lam  # noqa: E731
    return brentq(h, lo, lam + 1e6, xtol=1e-300, rtol=1e-15)


@pytest.mark.parametrize("mvar", [0.0, 0.3])
def test_nu2_matches_brentq_and_solves_fixed_point(mvar):
    ns = np.array([50.0, 120.0, 300.0])
    ps = np.array([20.0, 90.0, 250.0, 1000.0])
    lams = np.array([0.0, 1e-8, 1e-4, 1e-1, 10.0])
    N, P, L = np.meshgrid(ns, ps, lams, indexing="ij")
    ok = ~((L == 0) & (N == P))
    nu1, nu2 = rft.rf_effective_regularization(SPEC, N[ok], P[ok], L[ok], nonlinear_var=mvar)
    ref = np.array([_nu2_brentq(SPEC, n, p, lam, mvar) for n, p, lam in zip(N[ok], P[ok], L[ok])])
    np.testing.assert_allclose(nu2, ref, rtol=1e-9)
    d1 = np.array([_df(SPEC, v)[0] for v in nu2]) + mvar / nu2
    np.testing.assert_allclose(nu1, nu2 * (1 - d1 / P[ok]), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(nu1 * (1 - d1 / N[ok]), L[ok], rtol=1e-8, atol=1e-13)


def test_kernel_limit_and_ridgeless_limits():
    lams = np.array([0.0, 1e-3, 0.1])
    np.testing.assert_allclose(rft.rf_risk(SPEC, BETA, 150, 1e12, lams, 0.2).risk,
                               ridge_risk(SPEC, BETA, 150, lams, 0.2).risk, rtol=1e-7)
    p = np.array([10.0, 60.0, 140.0])
    out = rft.rf_risk(SPEC, BETA, 150, p, 0.0, 0.2)
    A = rft.rf_approximation_error(SPEC, BETA, p)
    np.testing.assert_allclose(out.variance, 0.2 * p / (150 - p), rtol=1e-10)
    np.testing.assert_allclose(out.bias, A * 150 / (150 - p), rtol=1e-10)
    np.testing.assert_allclose(rft.rf_risk(SPEC, BETA, 1e14, p, 0.0, 0.2).risk, A, rtol=1e-8)
    assert np.all(out.nu1 == 0)


def test_matches_the_defilippis_form():
    """E = nu2^2 [b S (S + nu)^-2 b + chi b S^2 (S + nu)^-2 b] and Upsilon = df_F / n."""
    n, p, lam = 120.0, 200.0, 1e-3
    out = rft.rf_risk(SPEC, BETA, n, p, lam, 0.1)
    nu = out.nu2
    df1, df2 = _df(SPEC, nu)
    chi = (SPEC / (SPEC + nu) ** 2).sum() / (p - df2)
    E = nu**2 * ((SPEC * BETA**2 / (SPEC + nu) ** 2).sum() + chi * (SPEC**2 * BETA**2 / (SPEC + nu) ** 2).sum())
    rho = out.nu1 / nu
    ups = p / n * ((1 - rho) ** 2 + rho**2 * df2 / (p - df2))
    np.testing.assert_allclose(out.approx, E, rtol=1e-10)
    np.testing.assert_allclose(out.df_features / n, ups, rtol=1e-10)
    np.testing.assert_allclose(out.bias, E / (1 - ups), rtol=1e-10)
    np.testing.assert_allclose(out.variance, 0.1 * ups / (1 - ups), rtol=1e-10)


def test_nonlinear_var_is_a_flat_infinite_tail():
    M, m = 200000, 0.3
    spec = np.concatenate([SPEC, np.full(M, m / M)])
    beta = np.concatenate([BETA, np.zeros(M)])
    a = rft.rf_risk(SPEC, BETA, 100, [50, 300], [0.0, 1e-3], 0.1, nonlinear_var=m)
    b = rft.rf_risk(spec, beta, 100, [50, 300], [0.0, 1e-3], 0.1)
    np.testing.assert_allclose(a.risk, b.risk, rtol=2e-3)


def test_risk_at_nu_round_trip_and_tuning():
    out = rft.rf_risk(SPEC, BETA, 100, [30, 80, 250], [1e-4, 1e-2, 0.0], 0.1)
    back = rft.rf_risk_at_nu(SPEC, BETA, 100, [30, 80, 250], out.nu2, 0.1)
    np.testing.assert_allclose(back.lam, out.lam, rtol=1e-8, atol=1e-14)
    np.testing.assert_allclose(back.risk, out.risk, rtol=1e-10)
    best, lam = rft.rf_tuned_risk(SPEC, BETA, 100, 250, 0.1)
    grid = rft.rf_risk(SPEC, BETA, 100, 250, np.concatenate([[0.0], np.geomspace(1e-8, 10, 2000)]), 0.1)
    assert best <= grid.risk.min() * (1 + 1e-6)
    assert best >= grid.risk.min() * (1 - 1e-3)
    np.testing.assert_allclose(rft.rf_risk(SPEC, BETA, 100, 250, lam, 0.1).risk, best, rtol=1e-8)


def test_scaling_helpers_run_and_are_sane():
    pc = rft.features_needed(SPEC, BETA, [100, 1000], 0.1, factor=4, p_grid=np.geomspace(2, 300, 30),
                             grid=60)
    assert np.all(np.diff(pc) > 0)
    n_opt, p_opt, r_opt = rft.compute_optimal_split(SPEC, BETA, [1e4, 1e5], 0.1, splits=15, grid=60)
    np.testing.assert_allclose(n_opt * p_opt, [1e4, 1e5], rtol=1e-10)
    assert r_opt[1] < r_opt[0]


def test_relu_coefficients_and_equivalent():
    mu0, mu1, mus = rft.relu_coefficients()
    assert mu1 == 0.5 and abs(mu0 - 0.3989422804014327) < 1e-15
    assert abs(mus**2 + mu0**2 + mu1**2 - 0.5) < 1e-15
    spec, beta, m = rft.relu_gaussian_equivalent(np.full(50, 2.0), np.ones(50))
    np.testing.assert_allclose(spec, 0.25 / 50)
    np.testing.assert_allclose(beta, np.sqrt(100) / 0.5)
    assert m == pytest.approx(0.25 - 1 / (2 * np.pi))


def test_monte_carlo_agreement_small():
    out = simulate_rf_path(SPEC, BETA, 80, 40, [0.0, 1e-2], 0.1, trials=60, seed=3)
    mean, se = out.mean_se("risk")
    th = rft.rf_risk(SPEC, BETA, 80, 40, [0.0, 1e-2], 0.1).risk
    assert np.all(np.abs(mean - th) < 5 * se)


def test_scalar_in_scalar_out_and_broadcast_shapes():
    out = rft.rf_risk(SPEC, BETA, 100, 50, 0.01, 0.1)
    assert isinstance(out.risk, float) and isinstance(out.nu2, float)
    out = rft.rf_risk(SPEC, BETA, np.array([50, 100])[:, None, None], np.array([20, 200])[None, :, None],
                      np.array([0.0, 1e-3, 1.0]), 0.1)
    assert out.risk.shape == (2, 2, 3) and np.all(np.isfinite(out.risk)) and np.all(out.risk > 0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(lam=-1.0), "lam"),
    (dict(p=0), "p"),
    (dict(n=-5), "n"),
    (dict(noise_var=-0.1), "noise_var"),
    (dict(beta=np.ones(3)), "beta"),
    (dict(spectrum=-SPEC), "spectrum"),
    (dict(spectrum=np.ones((4, 4)), beta=np.ones((4, 4))), "spectrum"),
    (dict(nonlinear_var=-1.0), "nonlinear_var"),
    (dict(n=100, p=100, lam=0.0), "interpolation threshold"),
])
def test_bad_input(kwargs, match):
    args = dict(spectrum=SPEC, beta=BETA, n=100, p=50, lam=0.1, noise_var=0.1)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        rft.rf_risk(**args)


def test_bad_input_other_functions():
    with pytest.raises(ValueError, match="isotropic"):
        rft.relu_gaussian_equivalent(SPEC, BETA)
    with pytest.raises(ValueError, match="nu"):
        rft.rf_risk_at_nu(SPEC, BETA, 100, 50, 1e-12, 0.1)
    with pytest.raises(ValueError, match="grid"):
        rft.rf_tuned_risk(SPEC, BETA, 100, 50, 0.1, grid=3)
    with pytest.raises(ValueError, match="factor"):
        rft.features_needed(SPEC, BETA, [100], 0.1, factor=1.0)
    with pytest.raises(ValueError, match="budgets"):
        rft.compute_optimal_split(SPEC, BETA, [-1.0], 0.1)
    with pytest.raises(ValueError, match="p"):
        rft.rf_approximation_error(SPEC, BETA, 0)


# ---- (ell, q) phase diagram ----------------------------------------------------------------------

def test_phase_rate_regions_and_optimum():
    a, r = 1.5, 0.4
    rate, region, gamma = rft.rf_phase_rate(a, r, 0.3, 1.5)
    assert rft.PHASE_REGIONS[region] == "bias" and rate == pytest.approx(2 * r * 0.3)
    rate, region, _ = rft.rf_phase_rate(a, r, 1.0, 1.2)
    assert rft.PHASE_REGIONS[region] == "variance" and rate == pytest.approx(1 - 1.0 / a)
    rate, region, _ = rft.rf_phase_rate(a, r, 2.0, 0.3)
    assert rft.PHASE_REGIONS[region] == "approximation" and rate == pytest.approx(2 * a * r * 0.3)
    # best rate at ell = alpha / (2 alpha r + 1), q >= q*
    ell, q = np.meshgrid(np.linspace(0.05, 3, 300), np.linspace(0.05, 2, 200), indexing="ij")
    best = rft.rf_phase_rate(a, r, ell, q)[0].max()
    assert best == pytest.approx(2 * a * r / (2 * a * r + 1), rel=1e-2)
    # interpolation past ell = alpha with p > n: no decay
    assert rft.rf_phase_rate(a, r, 2.0, 1.5)[0] == pytest.approx(0.0)
    # r > 1/2: the feature term can limit even when ell < alpha q
    rate, region, gamma = rft.rf_phase_rate(1.5, 0.75, 0.46, 0.45)
    assert gamma == pytest.approx(0.46) and rft.PHASE_REGIONS[region] == "approximation"


def test_ray_exponent_matches_rate_inside_a_region():
    i = np.arange(1, 20001)
    spec = i ** -1.5
    beta = np.sqrt(i ** -2.2 / spec)
    got = rft.rf_ray_exponent(spec, beta, 1.0, 0.3, 1.5, 1e12)
    assert got == pytest.approx(0.24, rel=0.03)
    arr = rft.rf_ray_exponent(spec, beta, 1.0, np.array([0.3, 0.3]), 1.5, 1e12)
    assert arr.shape == (2,) and np.allclose(arr, got)


@pytest.mark.parametrize("kw", [dict(alpha=-1.0), dict(r=0.0), dict(ell=np.nan), dict(q=-0.5)])
def test_phase_rate_bad_input(kw):
    args = dict(alpha=1.5, r=0.4, ell=0.5, q=1.0)
    args.update(kw)
    with pytest.raises(ValueError):
        rft.rf_phase_rate(**args)


def test_ray_exponent_bad_input():
    spec = np.arange(1, 101) ** -1.5
    beta = np.ones(100)
    with pytest.raises(ValueError, match="factor"):
        rft.rf_ray_exponent(spec, beta, 1.0, 0.3, 1.5, 1e4, factor=1.0)
    with pytest.raises(ValueError, match="n_hi"):
        rft.rf_ray_exponent(spec, beta, 1.0, 0.3, 1.5, -1.0)
    with pytest.raises(ValueError, match="ell"):
        rft.rf_ray_exponent(spec, beta, 1.0, 0.0, 1.5, 1e4)
