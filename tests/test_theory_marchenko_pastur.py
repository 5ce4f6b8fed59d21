"""hdreg.theory.marchenko_pastur: density, edges and Stieltjes transform."""

from __future__ import annotations

import numpy as np
import pytest
from _hdreg_fixtures import clean_env  # noqa: F401  (autouse)
from scipy.integrate import quad

from hdreg.sim.ridge import sample_covariance_eigenvalues
from hdreg.theory.marchenko_pastur import mp_density, mp_edges, mp_stieltjes

CASES = [(0.25, 1.0), (0.5, 2.0), (0.9, 1.0), (2.0, 1.0), (4.0, 0.5)]


@pytest.mark.parametrize("gamma, sigma2", CASES)
def test_edges(gamma, sigma2):
    lo, hi = mp_edges(gamma, sigma2)
    assert lo == pytest.approx(sigma2 * (1 - np.sqrt(gamma)) ** 2)
    assert hi == pytest.approx(sigma2 * (1 + np.sqrt(gamma)) ** 2)
    assert 0 <= lo < hi
    inside = np.linspace(lo, hi, 9)[1:-1]
    assert np.all(mp_density(inside, gamma, sigma2) > 0)
    outside = np.array([lo - 1e-3, hi + 1e-3, hi * 2, -1.0])
    np.testing.assert_array_equal(mp_density(outside, gamma, sigma2), 0.0)


@pytest.mark.parametrize("gamma, sigma2", CASES)
def test_density_mass(gamma, sigma2):
    lo, hi = mp_edges(gamma, sigma2)
    mass, err = quad(lambda x: mp_density(x, gamma, sigma2), lo, hi, limit=200, epsabs=1e-12)
    assert mass == pytest.approx(min(1.0, 1.0 / gamma), abs=1e-8)
    # mean of the full law (atom included) is sigma2
    mean, _ = quad(lambda x: x * mp_density(x, gamma, sigma2), lo, hi, limit=200, epsabs=1e-12)
    assert mean == pytest.approx(sigma2, rel=1e-8)


@pytest.mark.parametrize("gamma, sigma2", CASES)
@pytest.mark.parametrize("lam", [1e-2, 0.3, 5.0])
def test_stieltjes_matches_integral(gamma, sigma2, lam):
    lo, hi = mp_edges(gamma, sigma2)
    bulk, _ = quad(lambda x: mp_density(x, gamma, sigma2) / (x + lam), lo, hi, limit=200,
                   epsabs=1e-13, epsrel=1e-12)
    atom = max(0.0, 1.0 - 1.0 / gamma) / lam
    assert mp_stieltjes(lam, gamma, sigma2) == pytest.approx(bulk + atom, rel=1e-8)


def test_stieltjes_solves_its_quadratic_and_broadcasts():
    gamma, s = 2.0, 1.5
    lam = np.logspace(-3, 2, 11)
    m = mp_stieltjes(lam, gamma, s)
    assert m.shape == (11,)
    assert np.all(m > 0) and np.all(np.diff(m) < 0)
    resid = s * gamma * lam * m**2 + (lam + s * (1 - gamma)) * m - 1
    assert np.max(np.abs(resid)) < 1e-12
    assert isinstance(mp_stieltjes(0.5, gamma, s), float)


@pytest.mark.parametrize("gamma, sigma2", [(0.25, 1.0), (0.5, 2.0), (0.9, 1.0)])
def test_stieltjes_small_lambda_limit(gamma, sigma2):
    # gamma < 1: m(0) = E[1/x] = 1 / (sigma2 (1 - gamma)); the naive root formula cancels here.
    # m(-lam) = E[1/x] - lam E[1/x^2] + O(lam^2), E[1/x^2] = 1 / (sigma2^2 (1 - gamma)^3)
    m0 = 1.0 / (sigma2 * (1.0 - gamma))
    m1 = 1.0 / (sigma2**2 * (1.0 - gamma) ** 3)
    for lam in (1e-9, 1e-12, 1e-16):
        assert mp_stieltjes(lam, gamma, sigma2) == pytest.approx(m0 - lam * m1, rel=1e-12, abs=0)
    # gamma > 1: the atom dominates, m ~ (1 - 1/gamma) / lam
    assert mp_stieltjes(1e-12, 4.0) * 1e-12 == pytest.approx(0.75, rel=1e-9)


def test_stieltjes_against_sample_eigenvalues():
    # A finite-size sanity check tying the theory to hdreg.sim: p = 200, n = 400 (gamma = 1/2).
    ev = sample_covariance_eigenvalues(np.ones(200), n=400, trials=4, seed=5)
    assert ev.shape == (4, 200)
    for lam in (0.1, 1.0):
        emp = np.mean(1.0 / (ev + lam))
        assert emp == pytest.approx(mp_stieltjes(lam, 0.5), rel=0.02)


@pytest.mark.parametrize("call, word", [
    (lambda: mp_edges(0.0), "gamma"),
    (lambda: mp_edges(-1.0), "gamma"),
    (lambda: mp_edges(np.inf), "gamma"),
    (lambda: mp_edges(1.0, 0.0), "sigma2"),
    (lambda: mp_density(1.0, -0.5), "gamma"),
    (lambda: mp_density(1.0, 0.5, -1.0), "sigma2"),
    (lambda: mp_stieltjes(0.0, 0.5), "lam"),
    (lambda: mp_stieltjes(-1.0, 0.5), "lam"),
    (lambda: mp_stieltjes(np.array([0.1, np.nan]), 0.5), "lam"),
    (lambda: mp_stieltjes(0.1, 0.0), "gamma"),
])
def test_bad_input(call, word):
    with pytest.raises(ValueError, match=word):
        call()
