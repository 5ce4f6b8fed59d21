"""hdreg.selection: covariance matching (fast rank-one version against the naive one) and baselines."""

from __future__ import annotations

import numpy as np
import pytest

from hdreg import selection as sel


def _data(seed, n_real=40, n_syn=200, d=12):
    g = np.random.default_rng(seed)
    A = g.standard_normal((d, d))
    real = g.standard_normal((n_real, d)) @ A + 3.0
    syn = np.vstack([g.standard_normal((n_syn // 2, d)) @ A * 0.5,
                     g.standard_normal((n_syn - n_syn // 2, d)) @ A * 1.5 - 2.0])
    return real, syn


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n_components", [None, 5])
def test_fast_equals_naive(seed, n_components):
    real, syn = _data(seed)
    fast = sel.covariance_matching(real, syn, 25, n_components=n_components)
    naive = sel.covariance_matching_naive(real, syn, 25, n_components=n_components)
    np.testing.assert_array_equal(fast, naive)


def test_output_is_valid_and_matches_the_covariance():
    real, syn = _data(7)
    idx = sel.covariance_matching(real, syn, 60, n_components=None)
    assert idx.shape == (60,) and len(set(idx)) == 60 and idx.min() >= 0 and idx.max() < len(syn)
    T = np.cov(real, rowvar=False)
    gap = lambda rows: np.linalg.norm(np.cov(syn[rows], rowvar=False) - T)  # noqa: E731
    rand = [gap(np.random.default_rng(s).choice(len(syn), 60, replace=False)) for s in range(20)]
    assert gap(idx) < min(rand)
    # translating real and synthetic data together changes nothing
    np.testing.assert_array_equal(sel.covariance_matching(real + 5.0, syn + 5.0, 60, n_components=None),
                                  idx)


def test_k_equal_one_and_all():
    real, syn = _data(1, n_syn=30)
    assert sel.covariance_matching(real, syn, 1).shape == (1,)
    assert sorted(sel.covariance_matching(real, syn, 30)) == list(range(30))


@pytest.mark.parametrize("fn", list(sel.METHODS.values()) + [sel.covariance_matching_naive])
def test_all_methods_return_k_distinct_rows(fn):
    real, syn = _data(3)
    idx = fn(real, syn, 17)
    assert len(idx) == 17 and len(set(map(int, idx))) == 17 and max(idx) < len(syn)


def test_center_matching_picks_nearest_to_the_real_mean():
    real, syn = _data(5)
    idx = sel.center_matching(real, syn, 5, n_components=None)
    d = np.linalg.norm(syn - real.mean(axis=0), axis=1)
    np.testing.assert_array_equal(np.sort(idx), np.sort(np.argsort(d)[:5]))


def test_select_per_class():
    real, syn = _data(2)
    yr = np.arange(len(real)) % 2
    ys = np.arange(len(syn)) % 2
    out = sel.select_per_class(real, yr, syn, ys, 6, n_components=4)
    assert set(out) == set(sel.METHODS)
    for idx in out.values():
        assert len(idx) == 12 and np.all(np.bincount(ys[idx]) == 6)
    g = sel.covariance_gap(real, yr, syn[out["covariance"]], ys[out["covariance"]], 4)
    assert g >= 0


@pytest.mark.parametrize("real,syn,k,match", [
    (np.ones(5), np.ones((4, 5)), 2, "real"),
    (np.ones((4, 5)), np.ones((4, 6)), 2, "synthetic must have 5 columns"),
    (np.ones((4, 5)), np.ones((4, 5)), 0, "k must be an integer"),
    (np.ones((4, 5)), np.ones((4, 5)), 5, "k must be an integer"),
    (np.ones((4, 5)), np.ones((4, 5)), 1.5, "k must be an integer"),
    (np.ones((1, 5)), np.ones((4, 5)), 2, "at least 2 rows"),
    (np.full((4, 5), np.nan), np.ones((4, 5)), 2, "finite"),
])
def test_bad_input(real, syn, k, match):
    with pytest.raises(ValueError, match=match):
        sel.covariance_matching(real, syn, k)


def test_bad_components_and_labels():
    real, syn = _data(0)
    with pytest.raises(ValueError, match="n_components"):
        sel.covariance_matching(real, syn, 3, n_components=0)
    with pytest.raises(ValueError, match="y_real"):
        sel.select_per_class(real, np.zeros(3), syn, np.zeros(len(syn)), 2)
