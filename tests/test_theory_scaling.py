"""hdreg.theory.scaling: power-law problems, predicted rates, optimal penalty, rate fits."""

from __future__ import annotations

import numpy as np
import pytest
from _hdreg_fixtures import clean_env  # noqa: F401
from scipy.optimize import minimize_scalar

from hdreg.sim.ridge import simulate_ridge_path
from hdreg.theory import ridge
from hdreg.theory import scaling as sc


def test_power_law_problem_definition():
    spec, beta = sc.power_law_problem(50, 2.0, 0.7)
    i = np.arange(1, 51)
    np.testing.assert_allclose(spec, i ** -2.0)
    np.testing.assert_allclose(spec * beta**2, i ** -(1 + 2 * 2.0 * 0.7))
    assert np.all(beta > 0)


@pytest.mark.parametrize("alpha", [1.5, 2.0, 3.0])
def test_capacity_constant_matches_df_sums(alpha):
    spec, _ = sc.power_law_problem(200000, alpha, 1.0)
    kappa = np.array([1e-4, 1e-5])
    df1, df2 = ridge.degrees_of_freedom(spec, kappa)
    C = sc.capacity_constant(alpha)
    # Lemma lem-df: df1 = C k^(-1/a) - 1/2, df2 = (1 - 1/a) C k^(-1/a) - 1/2, up to o(1) + truncation
    tail = spec.size ** (1 - alpha) / ((alpha - 1) * kappa)
    np.testing.assert_allclose(df1 + tail, C * kappa ** (-1 / alpha) - 0.5, rtol=1e-4)
    np.testing.assert_allclose(df2, (1 - 1 / alpha) * C * kappa ** (-1 / alpha) - 0.5, rtol=2e-3)


@pytest.mark.parametrize("r", [0.3, 0.5, 0.8, 1.5])
def test_bias_constant_matches_sum(r):
    alpha = 2.0
    spec, beta = sc.power_law_problem(200000, alpha, r)
    kappa = 1e-6
    num = kappa**2 * np.sum(spec * beta**2 / (spec + kappa) ** 2)
    assert num == pytest.approx(sc.bias_constant(alpha, r) * kappa ** (2 * min(r, 1)), rel=2e-2)
    assert sc.bias_constant(alpha, 1.0) == np.inf


def test_predicted_rates_closed_forms():
    assert sc.predicted_rate(2.0, 0.5, "noiseless_ridgeless") == pytest.approx(2.0)
    assert sc.predicted_rate(2.0, 1.5, "noiseless_ridgeless") == pytest.approx(4.0)  # saturation
    assert sc.predicted_rate(2.0, 0.5, "tuned") == pytest.approx(2 / 3)
    assert sc.predicted_rate(2.0, 3.0, "tuned") == pytest.approx(0.8)
    assert sc.predicted_rate(2.0, 0.5, "noisy_ridgeless") == 0.0
    # fixed lambda: min(2 ell m, 1 - ell/alpha), and 0 once ell >= alpha
    rates = sc.predicted_rate(2.0, 0.5, "fixed_lambda", ell=np.array([0.2, 2 / 3, 1.0, 2.5]))
    np.testing.assert_allclose(rates, [0.2, 2 / 3, 0.5, 0.0])
    # the tuned rate is the maximum over ell, attained at ell* = alpha / (2 alpha m + 1)
    for a, r in [(1.5, 0.3), (2.0, 0.5), (3.0, 1.5)]:
        ell = np.linspace(0.01, a - 0.01, 20001)
        best = sc.predicted_rate(a, r, "fixed_lambda", ell).max()
        assert best == pytest.approx(sc.predicted_rate(a, r, "tuned"), abs=1e-4)
        assert ell[np.argmax(sc.predicted_rate(a, r, "fixed_lambda", ell))] == pytest.approx(
            sc.optimal_lambda_exponent(a, r), abs=1e-3)


def test_tempered_variance_matches_equivalent():
    spec, beta = sc.power_law_problem(10**6, 3.0, 0.5)
    n = np.array([50.0, 200.0])
    v = ridge.ridge_risk(spec, beta, n, 0.0, 0.5).variance
    np.testing.assert_allclose(v, sc.tempered_variance(3.0, 0.5, n), rtol=1e-4)
    assert sc.tempered_variance(3.0, 0.5) == pytest.approx(1.0)


def test_risk_at_kappa_inverts_the_fixed_point():
    spec, beta = sc.power_law_problem(400, 1.5, 0.6)
    n, lam = np.array([50.0, 200.0, 800.0]), np.array([1e-3, 1e-2, 1e-4])
    ref = ridge.ridge_risk(spec, beta, n, lam, 0.3)
    got = sc.risk_at_kappa(spec, beta, n, ref.kappa, 0.3)
    np.testing.assert_allclose(got.risk, ref.risk, rtol=1e-10)
    np.testing.assert_allclose(ref.kappa * (1 - got.df1 / n), lam, rtol=1e-8)
    with pytest.raises(ValueError, match="tau"):
        sc.risk_at_kappa(spec, beta, 50.0, 0.5 * ridge.ridgeless_tau(spec, 50.0), 0.3)


def test_optimal_lambda_matches_scalar_minimisation():
    spec, beta = sc.power_law_problem(300, 2.0, 0.5)
    n = np.array([40.0, 150.0, 600.0])
    opt = sc.optimal_lambda(spec, beta, n, 0.25)
    for j, nn in enumerate(n):
        res = minimize_scalar(lambda u: ridge.ridge_risk(spec, beta, nn, np.exp(u), 0.25).risk,
                              bounds=(np.log(1e-9), np.log(10.0)), method="bounded",
                              options={"xatol": 1e-9})
        assert opt.risk[j] <= res.fun * (1 + 1e-6)
        assert opt.lam[j] == pytest.approx(np.exp(res.x), rel=2e-2)
    # noiseless: the best non-negative penalty is the interpolator (lam = 0)
    assert np.all(sc.optimal_lambda(spec, beta, np.array([40.0, 150.0]), 0.0).lam == 0.0)


def test_optimal_lambda_risk_matches_simulation():
    spec, beta = sc.power_law_problem(200, 2.0, 0.5)
    opt = sc.optimal_lambda(spec, beta, 60.0, 0.25)
    out = simulate_ridge_path(spec, beta, 60, [opt.lam[0]], 0.25, trials=200, seed=3)
    mean, se = out.mean_se("risk")
    assert abs(mean[0] - opt.risk[0]) < 4 * se[0]


def test_fit_rate_exact_and_se_propagation():
    n = np.logspace(1, 4, 7)
    fit = sc.fit_rate(n, 3.0 * n**-0.7)
    assert fit.rate == pytest.approx(0.7) and fit.se < 1e-12
    assert sc.fit_rate(n, n**-0.7, n_min=100).n.min() >= 100
    # delta-method s.e. equals the spread of fitted rates over noisy replicates
    rng = np.random.default_rng(0)
    y = n**-0.7
    rel = 0.05
    rates = [sc.fit_rate(n, y * (1 + rel * rng.standard_normal(n.size))).rate for _ in range(4000)]
    se = sc.fit_rate(n, y, se=rel * y).se
    assert np.std(rates) == pytest.approx(se, rel=0.1)


def test_crossover_and_windows():
    n = np.logspace(0, 4, 41)
    assert sc.bias_variance_crossover(n, 100 * n**-1.0, n**-0.5) == pytest.approx(1e4 ** 1.0, rel=1e-9)
    assert np.isnan(sc.bias_variance_crossover(n, n**-1.0, 10 * n**-0.5))
    lo, hi = sc.ridgeless_window(2.0, 0.5, 10**6)
    assert lo == pytest.approx(100.0) and hi > 2e4
    spec, beta = sc.power_law_problem(10**5, 2.0, 0.5)
    ns = np.geomspace(lo, min(hi, 1e5 / 50), 4)
    out = ridge.ridge_risk(spec, beta, ns, 0.0, 0.0)
    size = sc.correction_size(2.0, 0.5, 10**5, ns, out.kappa, out.df1, out.df2, ridgeless=True)
    assert np.all(size <= 0.011)


def test_fit_capacity_source_recovers_exponents():
    # the tail sums see the end of the spectrum: keep the window far from the last index
    i = np.arange(1, 10**6 + 1, dtype=float)
    a, r = 1.4, 0.3
    alpha, r_hat = sc.fit_capacity_source(i**-a, i ** -(1 + 2 * a * r), window=(10, 300))
    assert alpha == pytest.approx(a, abs=1e-9)
    assert r_hat == pytest.approx(r, abs=5e-3)


def test_kernel_spectrum_and_source_linear_kernel():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 5))
    y = X @ np.arange(1.0, 6.0)
    mu, src = sc.kernel_spectrum_and_source(X @ X.T, y)
    assert np.all(np.diff(mu) <= 1e-12)
    assert src.sum() == pytest.approx(np.var(y), rel=1e-10)  # Parseval on the centred target


@pytest.mark.parametrize("call, match", [
    (lambda: sc.power_law_problem(0, 2.0, 0.5), "P"),
    (lambda: sc.power_law_problem(10, 1.0, 0.5), "alpha"),
    (lambda: sc.power_law_problem(10, 2.0, -0.1), "r"),
    (lambda: sc.predicted_rate(2.0, 0.5, "fast"), "regime"),
    (lambda: sc.predicted_rate(2.0, 0.5, "fixed_lambda"), "ell"),
    (lambda: sc.predicted_rate(2.0, 0.5, "tuned", ell=0.5), "ell"),
    (lambda: sc.predicted_rate(2.0, 0.5, "fixed_lambda", ell=-1.0), "ell"),
    (lambda: sc.tempered_variance(2.0, -1.0), "noise_var"),
    (lambda: sc.risk_at_kappa(np.ones(3), np.ones(4), 5.0, 1.0, 0.1), "beta"),
    (lambda: sc.risk_at_kappa(np.ones(3), np.ones(3), 5.0, -1.0, 0.1), "kappa"),
    (lambda: sc.optimal_lambda(np.array([1.0, -1.0]), np.ones(2), 5.0, 0.1), "spectrum"),
    (lambda: sc.optimal_lambda(np.ones(3), np.ones(3), 5.0, -0.1), "noise_var"),
    (lambda: sc.optimal_lambda(np.ones(3), np.ones(3), -5.0, 0.1), "n"),
    (lambda: sc.fit_rate([1, 2, 3], [1, 2]), "same length"),
    (lambda: sc.fit_rate([1, 2, 3], [1, -2, 3]), "> 0"),
    (lambda: sc.fit_rate([1, 2, 3, 4], [1, 2, 3, 4], n_min=3.5), "at least 3"),
    (lambda: sc.fit_rate([1, 2, 3], [1, 2, 3], se=[1, 1]), "se"),
    (lambda: sc.bias_variance_crossover([1, 2], [1, 2, 3], [1, 2]), "same length"),
    (lambda: sc.ridgeless_window(1.5, 0.5, 1000), "increase P"),
    (lambda: sc.correction_size(2.0, 0.5, 100, 10.0, -1.0, 1.0, 1.0, True), "> 0"),
    (lambda: sc.fit_capacity_source(np.ones(10), np.ones(9)), "same length"),
    (lambda: sc.fit_capacity_source(np.arange(10.0, 0, -1), np.ones(10), window=(5, 20)), "window"),
    (lambda: sc.kernel_spectrum_and_source(np.ones((3, 4)), np.ones(3)), "square"),
    (lambda: sc.kernel_spectrum_and_source(np.array([[1.0, 2.0], [0.0, 1.0]]), np.ones(2)), "symmetric"),
    (lambda: sc.kernel_spectrum_and_source(np.array([[1.0, 2.0], [2.0, 1.0]]), np.ones(2)), "semi-definite"),
    (lambda: sc.kernel_spectrum_and_source(np.eye(3), np.ones(4)), "target"),
])
def test_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()
