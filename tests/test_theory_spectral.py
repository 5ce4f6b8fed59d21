"""hdreg.theory.spectral: Chebyshev interpolants of the spectral sums, and the interpolated kappa solver."""

from __future__ import annotations

import numpy as np
import pytest
from _hdreg_fixtures import clean_env, kappa_brentq, power_law, two_level  # noqa: F401

from hdreg.theory import ridge, spectral
from hdreg.theory.spectral import SpectralSums, chebyshev_degree, error_bound, exact_sums

SPECTRA = {
    "power_law_1.1": power_law(300, 1.1),
    "power_law_3": power_law(200, 3.0),
    "two_level": two_level(40, 160),
    "two_level_gap": two_level(40, 160, hi=1e3, lo=1e-5),
    "isotropic": np.ones(50),
    "with_zeros": np.concatenate([power_law(120, 1.0), np.zeros(80)]),
    "wide_range": np.logspace(2, -10, 100),
}


def test_degree_meets_the_bound():
    for h in (0.25, 0.5, 1.0, 2.0):
        d = chebyshev_degree(h)
        assert d % 2 == 0
        assert error_bound(h, d) <= 1e-15 < error_bound(h, d - 2)
        assert error_bound(h, d, power=1) <= error_bound(h, d, power=2)
    assert chebyshev_degree(1.0, 1e-8) < chebyshev_degree(1.0, 1e-15)
    with pytest.raises(ValueError):
        chebyshev_degree(0.0)
    with pytest.raises(ValueError):
        chebyshev_degree(1.0, 0.0)


@pytest.mark.parametrize("half_width", [0.5, 1.0])
@pytest.mark.parametrize("name", sorted(SPECTRA))
def test_interpolants_match_exact_sums(name, half_width):
    spec = SPECTRA[name]
    rs = np.random.default_rng(7)
    w = rs.random(spec.size) * spec
    sums = SpectralSums(spec, weights=w, half_width=half_width)
    assert sums.rank == np.count_nonzero(spec)
    u = np.concatenate([rs.uniform(sums.u0, sums.u1, 4000), sums.nodes])
    k = np.exp(u)
    df1, df2, wsum, c1, c2 = sums.moments(k, complements=True)
    ex = exact_sums(sums.spec, k, np, sums.weights)
    # each sum to a few eps relative to *itself* (the bound is 1e-15 before rounding), including the
    # complements, which decide kappa near the interpolation threshold
    for got, key in ((df1, "df1"), (df2, "df2"), (wsum, "W"), (c1, "c1"), (c2, "c2")):
        np.testing.assert_allclose(got, ex[key], rtol=5e-14, atol=0, err_msg=key)
    np.testing.assert_allclose(-sums.ddf1_du(k), ex["q"], rtol=5e-14, atol=0)
    np.testing.assert_allclose(sums.df1(k), df1, rtol=0)
    np.testing.assert_allclose(sums.df2(k), df2, rtol=0)
    np.testing.assert_allclose(sums.weighted(k), wsum, rtol=0)


@pytest.mark.parametrize("half_width", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("name", sorted(SPECTRA))
def test_cell_polynomials_of_the_solver_match_exact_sums(name, half_width):
    """The solver's Newton steps evaluate short local polynomials on each cell between nodes; they
    carry the table's accuracy (a few eps relative to each function)."""
    sums = SpectralSums(SPECTRA[name], half_width=half_width)
    cells = sums._cells()
    assert cells["coef"].shape == (cells["degree"] + 1, 2, sums.size - 1)
    rs = np.random.default_rng(3)
    u = rs.uniform(sums.u0, sums.u1, 4000)
    a = np.clip(np.searchsorted(sums.nodes, u) - 1, 0, sums.size - 2)
    s = (u - cells["centre"][a]) / cells["rad"][a]
    assert np.all(np.abs(s) <= 1 + 1e-9)
    co = cells["coef"][:, :, a]
    vals = co[-1].copy()
    for k in range(cells["degree"] - 1, -1, -1):
        vals = vals * s + co[k]
    vals *= np.exp(cells["slope"][:, a] * (cells["pcentre"][a] - u))
    ex = exact_sums(sums.spec, np.exp(u), np)
    f0 = np.where(cells["high"][a], ex["c1"], ex["df1"])
    np.testing.assert_allclose(vals[0], f0, rtol=5e-14, atol=0)
    np.testing.assert_allclose(vals[1], ex["q"], rtol=5e-14, atol=0)


def test_exact_sums_match_the_definitions():
    spec = np.array([4.0, 1.0, 0.25])
    w = np.array([1.0, 2.0, 3.0])
    k = np.array([0.0, 0.5, 3.0])
    ex = exact_sums(spec, k, np, w)
    r = spec / (spec + k[:, None])
    np.testing.assert_allclose(ex["df1"], r.sum(1), rtol=1e-15)
    np.testing.assert_allclose(ex["df2"], (r * r).sum(1), rtol=1e-15)
    np.testing.assert_allclose(ex["c1"], (1 - r).sum(1), rtol=1e-15, atol=0)
    np.testing.assert_allclose(ex["c2"], (1 - r * r).sum(1), rtol=1e-15, atol=0)
    np.testing.assert_allclose(ex["q"], (r * (1 - r)).sum(1), rtol=1e-15, atol=0)
    np.testing.assert_allclose(ex["W"], (w * (1 - r) ** 2).sum(1), rtol=1e-15, atol=0)


def test_outside_the_table_falls_back_to_exact_sums():
    spec = power_law(80, 1.5)
    w = np.linspace(0, 1, 80)
    sums = SpectralSums(spec, weights=w, u_range=(-3.0, 1.0))
    k = np.array([0.0, np.exp(-3.5), np.exp(-30.0), np.exp(1.5), 1e30, np.exp(-2.0)])
    df1, df2, wsum = sums.moments(k)
    ex = exact_sums(sums.spec, k, np, sums.weights)
    out = np.array([False, True, True, True, True, False])
    np.testing.assert_allclose(df1[out], ex["df1"][out], rtol=1e-15, atol=0)  # the exact sums
    np.testing.assert_allclose(wsum[out], ex["W"][out], rtol=1e-15, atol=0)
    assert df1[0] == df2[0] == 80.0 and wsum[0] == 0.0  # kappa = 0: exact constants
    np.testing.assert_allclose(df1[5], ex["df1"][5], rtol=5e-14)
    assert sums.moments(np.array([[1.0, 2.0]]))[0].shape == (1, 2)


def test_small_range_and_default_range():
    spec = power_law(30, 1.5)
    one = SpectralSums(spec, u_range=(0.2, 0.2))  # a single panel of the nominal width
    assert one.panels == 1 and one.u0 < 0.2 < one.u1
    default = SpectralSums(spec)
    assert default.u0 <= np.log(spec.min()) - 10 + 1e-12 and default.u1 >= np.log(spec.max()) + 10 - 1e-12
    assert default.size == default.panels * default.degree + 1
    assert default.bound <= 1e-15


@pytest.mark.parametrize("kwargs, word", [
    (dict(spectrum=np.array([1.0, -1.0])), "spectrum"),
    (dict(spectrum=np.zeros(3)), "spectrum"),
    (dict(weights=np.ones(3)), "weights"),
    (dict(weights=-np.ones(4)), "weights"),
    (dict(weights=np.array([1.0, np.nan, 1.0, 1.0])), "weights"),
    (dict(u_range=(1.0, 0.0)), "u_range"),
    (dict(u_range=(-np.inf, 0.0)), "u_range"),
    (dict(u_range=(-800.0, 0.0)), "u_range"),
])
def test_bad_construction(kwargs, word):
    args = dict(spectrum=np.array([1.0, 0.5, 0.25, 0.0]))
    args.update(kwargs)
    with pytest.raises(ValueError, match=word):
        SpectralSums(**args)


def test_bad_evaluation():
    sums = SpectralSums(np.array([1.0, 0.5]))
    for bad in (-1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="kappa"):
            sums.moments(np.array([1.0, bad]))
        with pytest.raises(ValueError, match="kappa"):
            sums.ddf1_du(bad)
    with pytest.raises(ValueError, match="weights"):
        sums.weighted(1.0)


# -- the solver -------------------------------------------------------------------------------


def _kappa(spec, n, lam, method):
    s, xp, n_h, lam_h, rank, _ = ridge._prepare(spec, n, lam)
    return ridge._solve_kappa(s, xp, n_h, lam_h, rank, method=method)


STRESS = dict(
    **{f"power_law_{a}_{p}": power_law(p, a) for a in (1.1, 1.5, 3.0) for p in (10, 200, 5000)},
    two_level=two_level(40, 160),
    two_level_gap=two_level(40, 160, hi=1e3, lo=1e-5),
    with_zeros=np.concatenate([power_law(120, 1.0), np.zeros(80)]),
    wide_range=np.logspace(2, -10, 100),
    isotropic=np.ones(150),
)


def _stress_grid(spec):
    rank = int(np.count_nonzero(spec))
    ns = np.concatenate([np.geomspace(1, 100 * spec.size, 30),
                         [rank - 1, rank + 1, rank - 0.5, rank + 0.5, rank - 1e-3, rank + 1e-3, 0.37]])
    ns = np.unique(ns[(ns > 0) & (ns != rank)])
    lams = np.concatenate([[0.0], np.logspace(-12, 6, 28)])
    return np.meshgrid(ns, lams, indexing="ij")


@pytest.mark.parametrize("name", sorted(STRESS))
def test_interpolated_solver_matches_exact_and_brentq(name):
    spec = STRESS[name]
    N, L = _stress_grid(spec)
    ki = _kappa(spec, N, L, "interp")
    ke = _kappa(spec, N, L, "exact")
    pos = ke > 0
    np.testing.assert_array_equal(ki > 0, pos)
    np.testing.assert_allclose(ki[pos], ke[pos], rtol=1e-12, atol=0)
    # and both against an independent, well-conditioned brentq on a subsample (all n near rank)
    rank = int(np.count_nonzero(spec))
    rs = np.random.default_rng(len(name))
    pick = np.flatnonzero((np.abs(N - rank) <= 1).ravel() | (rs.random(N.size) < 0.08))
    ref = np.array([kappa_brentq(spec, N.flat[i], L.flat[i]) for i in pick])
    np.testing.assert_allclose(ki.flat[pick], ref, rtol=1e-12, atol=0)
    np.testing.assert_allclose(ke.flat[pick], ref, rtol=1e-12, atol=0)


def test_naive_brentq_agrees_away_from_the_threshold():
    spec = power_law(500, 1.5)
    n = np.array([3.0, 50.0, 400.0, 2000.0])[:, None]
    lam = np.array([0.0, 1e-8, 1e-3, 1.0, 1e4])[None, :]
    got = _kappa(spec, n, lam, "interp")
    for i in range(n.shape[0]):
        for j in range(lam.shape[1]):
            want = kappa_brentq(spec, n[i, 0], lam[0, j])
            assert got[i, j] == pytest.approx(want, rel=1e-11, abs=0)


def test_roots_on_nodes_and_outside_the_table():
    spec = power_law(300, 1.5)
    s, xp, _, _, rank, _ = ridge._prepare(spec, 100.0, 0.1)
    sums = SpectralSums(s, u_range=(-6.0, 1.0))
    # points whose root is exactly a node: lam = kappa (1 - df1(kappa)/n) at kappa = e^{node}
    nodes = sums.nodes[1:-1:7]  # a root on the table's end is 'outside' (g(u0) < 0 is required)
    k = np.exp(nodes)
    df1 = exact_sums(s, k, np)["df1"]
    n = np.full(k.shape, 150.0)
    lam = k * (1.0 - df1 / n)
    # and points outside the table, on both sides
    n = np.concatenate([n, [150.0, 150.0, 299.9]])
    lam = np.concatenate([lam, [1e-9, 1e3, 1e-12]])
    u, found = sums.solve(n, lam)
    assert np.all(found[:k.size]) and not np.any(found[k.size:])
    np.testing.assert_allclose(u[:k.size], nodes, rtol=0, atol=1e-13)
    ref = np.array([kappa_brentq(spec, a, b) for a, b in zip(n, lam)])
    got = _kappa(spec, n, lam, "interp")  # out-of-table points by the exact path
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=0)


def test_extreme_penalties_with_the_interpolated_path():
    spec = np.concatenate([power_law(150, 1.0), np.zeros(30)])
    n = np.array([1.0, 40.0, 149.0, 151.0, 1e4])[:, None]
    lam = np.concatenate([[0.0], np.logspace(-300, 300, 25)])[None, :]
    got = _kappa(spec, n, lam, "interp")
    want = _kappa(spec, n, lam, "exact")
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


def test_auto_picks_the_interpolated_path_only_when_it_pays():
    def uses_table(spec, n, lam):
        tables = []
        s, xp, n_h, lam_h, rank, _ = ridge._prepare(spec, n, lam)
        ridge._solve_kappa(s, xp, n_h, lam_h, rank, tables=tables)
        return bool(tables)

    n = np.geomspace(10, 10_000, 100)[:, None]
    n[np.abs(n - 1000) < 0.5] = 1000.5
    lam = np.concatenate([[0.0], np.logspace(-4, 1, 99)])[None, :]
    assert uses_table(power_law(1000), n, lam)
    assert not uses_table(power_law(1000), n[:3], lam[:, :3])  # few points
    assert not uses_table(power_law(20), n, lam)  # tiny spectrum: exact sums are cheaper
    with pytest.raises(ValueError, match="method"):
        s, xp, n_h, lam_h, rank, _ = ridge._prepare(power_law(10), 5.0, 0.1)
        ridge._solve_kappa(s, xp, n_h, lam_h, rank, method="chebyshev")


@pytest.mark.parametrize("name", ["power_law_1.1_5000", "power_law_3.0_10", "two_level",
                                  "with_zeros", "wide_range"])
def test_ridge_risk_fields_match_the_exact_path(name, monkeypatch):
    spec = STRESS[name]
    beta = np.random.default_rng(3).standard_normal(spec.size)
    N, L = _stress_grid(spec)
    monkeypatch.setattr(spectral, "_INTERP_MIN_P", 0)
    monkeypatch.setattr(spectral, "_INTERP_SHARE", 0.0)
    monkeypatch.setattr(spectral, "table_for", _force(spectral.table_for))
    fast = ridge.ridge_risk(spec, beta, N, L, 0.3)
    monkeypatch.setattr(spectral, "table_for", lambda *a, **k: None)
    slow = ridge.ridge_risk(spec, beta, N, L, 0.3)
    for field in ("kappa", "df1", "df2", "bias", "variance", "risk", "train_error"):
        a, b = getattr(fast, field), getattr(slow, field)
        np.testing.assert_array_equal(a == 0, b == 0, err_msg=field)
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=0, err_msg=field)


def _force(make):
    def forced(*args, **kwargs):
        kwargs["force"] = True
        return make(*args, **kwargs)
    return forced
