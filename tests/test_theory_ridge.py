"""hdreg.theory.ridge: the effective regularisation and the deterministic-equivalent risk."""

from __future__ import annotations

import numpy as np
import pytest
from _hdreg_fixtures import clean_env, kappa_brentq, power_law, two_level  # noqa: F401

from hdreg.sim.ridge import simulate_ridge_path
from hdreg.theory import isotropic
from hdreg.theory.ridge import (degrees_of_freedom, effective_regularization, ridge_risk,
                                ridgeless_tau)

SPECTRA = {
    "power_law": power_law(300, 1.5),
    "steep_power_law": power_law(200, 3.0),
    "two_level": two_level(40, 160),
    "isotropic": np.ones(150),
    "with_zeros": np.concatenate([power_law(120, 1.0), np.zeros(80)]),
    "wide_range": np.logspace(2, -10, 100),
}
LAMS = [0.0, 1e-12, 1e-6, 1e-3, 0.1, 1.0, 50.0]


def _ns(rank):
    # p > n, p < n, both sides of the interpolation threshold, tiny and non-integer n
    return sorted({1, 3, rank // 4, rank // 2, rank - 1, rank + 1, 2 * rank, 10 * rank, 0.37, 17.5})


@pytest.mark.parametrize("name", sorted(SPECTRA))
def test_kappa_matches_brentq(name):
    spec = SPECTRA[name]
    rank = int(np.count_nonzero(spec > 0))
    ns = np.array(_ns(rank), dtype=float)
    lams = np.array(LAMS)
    N, L = np.meshgrid(ns, lams, indexing="ij")
    ok = ~((L == 0) & (N == rank))
    got = effective_regularization(spec, N[ok], L[ok])
    ref = np.array([kappa_brentq(spec, n, lam) for n, lam in zip(N[ok], L[ok])])
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=0)
    # ridgeless and under-parameterised (n > rank): exactly zero
    zero = (L[ok] == 0) & (N[ok] > rank)
    assert np.all(got[zero] == 0.0)
    assert np.all(got[~zero] > 0.0)


def test_kappa_matches_brentq_on_random_spectra():
    rs = np.random.default_rng(2024)
    for _ in range(25):
        p = int(rs.integers(2, 300))
        spec = 10 ** rs.uniform(-rs.uniform(0, 12), rs.uniform(0, 4), p)
        spec[rs.random(p) < 0.2] = 0.0
        if not np.any(spec > 0):
            spec[0] = 1.0
        rank = int(np.count_nonzero(spec > 0))
        ns = np.concatenate([rs.integers(1, 3 * rank + 2, 4), rs.uniform(0.1, 5, 1)]).astype(float)
        lams = np.concatenate([[0.0], 10 ** rs.uniform(-10, 3, 3)])
        N, L = np.meshgrid(ns, lams, indexing="ij")
        ok = ~((L == 0) & (N == rank))
        got = effective_regularization(spec, N[ok], L[ok])
        ref = np.array([kappa_brentq(spec, n, lam) for n, lam in zip(N[ok], L[ok])])
        np.testing.assert_allclose(got, ref, rtol=1e-10, atol=0)


def test_kappa_over_extreme_penalty_ranges():
    # One call spanning lam from 1e-300 to 1e300 (coarse starting table, many Newton passes).
    spec = np.concatenate([power_law(150, 1.0), np.zeros(30)])
    n = np.array([1.0, 40.0, 149.0, 151.0, 1e4])[:, None]
    lam = np.concatenate([[0.0], np.logspace(-300, 300, 25)])[None, :]
    got = effective_regularization(spec, n, lam)
    assert np.all(np.isfinite(got))
    for i in range(n.shape[0]):
        for j in range(lam.shape[1]):
            want = kappa_brentq(spec, n[i, 0], lam[0, j])
            assert got[i, j] == pytest.approx(want, rel=1e-10, abs=0), (n[i, 0], lam[0, j])


def test_kappa_on_a_large_grid_matches_brentq():
    # The vectorised path at benchmark-like sizes (many points at once), checked on a subsample.
    spec = power_law(400, 1.5)
    n = np.geomspace(5, 2000, 40)[:, None]
    lam = np.concatenate([[0.0], np.logspace(-6, 2, 49)])[None, :]
    got = effective_regularization(spec, n, lam)
    assert got.shape == (40, 50)
    rs = np.random.default_rng(0)
    for i, j in zip(rs.integers(0, 40, 60), rs.integers(0, 50, 60)):
        assert got[i, j] == pytest.approx(kappa_brentq(spec, n[i, 0], lam[0, j]), rel=1e-10, abs=0)


@pytest.mark.parametrize("name", sorted(SPECTRA))
def test_kappa_solves_the_fixed_point(name):
    spec = SPECTRA[name]
    rank = int(np.count_nonzero(spec > 0))
    n = np.array([r for r in _ns(rank) if r != rank], dtype=float)[:, None]
    lam = np.array(LAMS)[None, :]
    k = effective_regularization(spec, n, lam)
    pos_spec = spec[spec > 0]
    df1 = (pos_spec / (pos_spec + k[..., None])).sum(-1)
    # kappa - lam = kappa df1 / n, i.e. 1 - lam/kappa = df1/n where kappa > 0
    pos = k > 0
    resid = (1.0 - np.divide(lam, k, where=pos, out=np.zeros_like(k)) - df1 / n)[pos]
    assert np.max(np.abs(resid)) < 1e-12
    # kappa = 0 only for ridgeless with n > rank, where df1 = rank < n
    assert np.all((k == 0) == ((lam == 0) & (n > rank)))


def test_kappa_broadcasting_and_scalars():
    spec = power_law(100)
    n = np.array([20.0, 50.0, 200.0])[:, None]
    lam = np.array([0.0, 0.01, 0.1, 1.0])[None, :]
    k = effective_regularization(spec, n, lam)
    assert k.shape == (3, 4)
    for i in range(3):
        for j in range(4):
            one = effective_regularization(spec, float(n[i, 0]), float(lam[0, j]))
            # the starting point depends on the batch, so agreement is to rounding, not bitwise
            assert k[i, j] == pytest.approx(one, rel=1e-14, abs=0)
    s = effective_regularization(spec, 50, 0.1)
    assert isinstance(s, float)
    assert effective_regularization(spec, [50, 60], 0.1).shape == (2,)
    assert effective_regularization(spec, 50, [0.1, 0.2]).shape == (2,)
    assert effective_regularization(spec, [[50]], 0.1).shape == (1, 1)
    assert ridgeless_tau(spec, 50) == effective_regularization(spec, 50, 0.0)


def test_kappa_monotonicity_and_lower_bound():
    spec = power_law(300, 1.2)
    n = np.geomspace(10, 3000, 25)[:, None]
    lam = np.logspace(-5, 1, 30)[None, :]
    k = effective_regularization(spec, n, lam)
    assert np.all(k >= lam)
    assert np.all(np.diff(k, axis=0) < 0)  # decreasing in n
    assert np.all(np.diff(k, axis=1) > 0)  # increasing in lam
    tau = effective_regularization(spec, n[:, 0], 0.0)
    assert np.all(tau[n[:, 0] > 300] == 0)
    assert np.all(np.diff(tau[n[:, 0] < 300]) < 0)


def test_degrees_of_freedom():
    spec = np.array([4.0, 1.0, 0.25, 0.0])
    df1, df2 = degrees_of_freedom(spec, [0.0, 1.0])
    np.testing.assert_allclose(df1, [3.0, 0.8 + 0.5 + 0.2])
    np.testing.assert_allclose(df2, [3.0, 0.64 + 0.25 + 0.04])
    with pytest.raises(ValueError, match="kappa"):
        degrees_of_freedom(spec, -1.0)


@pytest.mark.parametrize("gamma", [0.3, 0.8, 1.5, 4.0])
@pytest.mark.parametrize("lam", [0.0, 1e-4, 0.05, 1.0, 10.0])
def test_risk_matches_isotropic_closed_forms(gamma, lam):
    p = 4000
    n = p / gamma
    rs = np.random.default_rng(1)
    beta = rs.standard_normal(p)
    r2, s2 = float(beta @ beta), 0.7
    out = ridge_risk(np.ones(p), beta, n, lam, s2)
    ref = isotropic.isotropic_risk(gamma, lam, r2, s2)
    for field in ("kappa", "bias", "variance", "risk"):
        got, want = getattr(out, field), getattr(ref, field)
        if want == 0:
            assert got == 0
        else:
            assert got == pytest.approx(want, rel=1e-10, abs=0), field
    if lam == 0:
        assert out.risk == pytest.approx(isotropic.ridgeless_isotropic_risk(gamma, r2, s2),
                                         rel=1e-10, abs=0)


def test_ridgeless_underparameterised_is_ols():
    spec = np.concatenate([power_law(60), np.zeros(20)])  # rank 60
    beta = np.linspace(-1, 1, 80)
    n = np.array([61.0, 90.0, 600.0])
    out = ridge_risk(spec, beta, n, 0.0, 2.0)
    np.testing.assert_array_equal(out.kappa, 0.0)
    np.testing.assert_array_equal(out.bias, 0.0)
    np.testing.assert_allclose(out.variance, 2.0 * 60 / (n - 60), rtol=1e-14)
    np.testing.assert_allclose(out.df1, 60.0)
    # training error of OLS: sigma^2 (n - rank) / n
    np.testing.assert_allclose(out.train_error, 2.0 * (n - 60) / n, rtol=1e-12)


def test_risk_fields_and_identities():
    spec = power_law(200, 1.3)
    beta = np.random.default_rng(3).standard_normal(200) / 10
    n = np.array([50.0, 150.0, 400.0])[:, None]
    lam = np.array([0.0, 0.01, 1.0])[None, :]
    out = ridge_risk(spec, beta, n, lam, 0.5)
    for field in ("kappa", "df1", "df2", "bias", "variance", "risk", "train_error"):
        assert getattr(out, field).shape == (3, 3)
    np.testing.assert_allclose(out.risk, out.bias + out.variance)
    assert np.all(out.df2 <= out.df1 + 1e-12)
    np.testing.assert_allclose(out.kappa, effective_regularization(spec, n, lam), rtol=0)
    # interpolation (lam = 0, n < rank): zero training error
    assert np.all(out.train_error[n[:, 0] < 200, 0] == 0)
    # noise_var = 0 leaves no variance; the bias does not depend on the noise
    quiet = ridge_risk(spec, beta, n, lam, 0.0)
    np.testing.assert_array_equal(quiet.variance, 0.0)
    np.testing.assert_allclose(quiet.bias, out.bias)
    scalar = ridge_risk(spec, beta, 150, 0.01, 0.5)
    assert isinstance(scalar.risk, float)
    assert scalar.risk == pytest.approx(out.risk[1, 1], rel=1e-14)


def test_training_error_keeps_relative_accuracy_at_small_lambda():
    # train = (lam/kappa)^2 (risk + sigma^2); with lam << kappa, 1 - df1/n would cancel to noise
    spec, beta = power_law(300, 1.0), np.ones(300) / np.sqrt(300)
    lam = np.logspace(-14, -6, 9)
    out = ridge_risk(spec, beta, 100, lam, 0.3)
    want = (lam / out.kappa) ** 2 * (out.risk + 0.3)
    np.testing.assert_allclose(out.train_error, want, rtol=1e-12)
    assert np.all(np.diff(np.log(out.train_error)) > 0)
    assert ridge_risk(spec, beta, 100, 0.0, 0.3).train_error == 0.0  # interpolation


@pytest.fixture(scope="module")
def mc_setup():
    p = 200
    spec = power_law(p, 1.0)
    spec *= p / spec.sum()
    beta = np.random.default_rng(0).standard_normal(p) / np.sqrt(p)
    return spec, beta


@pytest.mark.parametrize("n", [100, 400])
def test_risk_and_training_error_match_monte_carlo(mc_setup, n):
    spec, beta = mc_setup
    s2 = 0.25
    lams = np.array([0.0, 1e-3, 1e-2, 0.1, 1.0])
    theory = ridge_risk(spec, beta, n, lams, s2)
    sim = simulate_ridge_path(spec, beta, n, lams, s2, trials=50, seed=11)
    m, se = sim.mean_se("risk")
    assert np.max(np.abs(m - theory.risk) / se) < 4.5
    mt, set_ = sim.mean_se("train_error")
    fit = ~((lams == 0) & (n < 200))  # interpolation: both exactly (numerically) zero
    assert np.max(np.abs(mt[fit] - theory.train_error[fit]) / set_[fit]) < 4.5
    assert np.all(theory.train_error[~fit] == 0)
    assert np.all(sim.train_error[:, ~fit] < 1e-20)


BAD_INPUTS = [
    (dict(spectrum=np.ones((3, 3))), "spectrum"),
    (dict(spectrum=np.array([])), "spectrum"),
    (dict(spectrum=np.array([1.0, -0.5, 2.0])), "spectrum"),
    (dict(spectrum=np.array([1.0, np.nan, 2.0])), "spectrum"),
    (dict(spectrum=np.zeros(3)), "spectrum"),
    (dict(beta=np.ones(4)), "beta"),
    (dict(beta=np.array([1.0, np.inf, 0.0])), "beta"),
    (dict(n=0), "n"),
    (dict(n=-5), "n"),
    (dict(n=np.inf), "n"),
    (dict(n=np.nan), "n"),
    (dict(lam=-1e-3), "lam"),
    (dict(lam=np.inf), "lam"),
    (dict(lam=np.array([0.1, np.nan])), "lam"),
    (dict(noise_var=-1.0), "noise_var"),
    (dict(noise_var=np.nan), "noise_var"),
    (dict(n=3, lam=0.0), "interpolation threshold"),
    (dict(n=np.array([2.0, 3.0]), lam=0.0), "interpolation threshold"),
]


@pytest.mark.parametrize("change, word", BAD_INPUTS)
def test_ridge_risk_bad_input_names_the_argument(change, word):
    args = dict(spectrum=np.array([1.0, 0.5, 0.25]), beta=np.ones(3), n=10, lam=0.1,
                noise_var=1.0)
    args.update(change)
    with pytest.raises(ValueError, match=word):
        ridge_risk(**args)


@pytest.mark.parametrize("change, word", [c for c in BAD_INPUTS
                                          if not set(c[0]) & {"beta", "noise_var"}])
def test_effective_regularization_bad_input(change, word):
    args = dict(spectrum=np.array([1.0, 0.5, 0.25]), n=10, lam=0.1)
    args.update(change)
    with pytest.raises(ValueError, match=word):
        effective_regularization(**args)


def test_threshold_uses_rank_not_dimension():
    spec = np.array([1.0, 0.5, 0.0, 0.0])  # rank 2, dimension 4
    with pytest.raises(ValueError, match=r"interpolation threshold"):
        effective_regularization(spec, 2, 0.0)
    assert effective_regularization(spec, 4, 0.0) == 0.0
    assert effective_regularization(spec, 2, 1e-3) > 0
