"""hdreg.selection.farthest_point and min_pairwise_distance: exact, tie rules, bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from hdreg import selection as sel


def _naive_farthest(X, m, start=0):
    S = [start]
    for _ in range(1, m):
        D = ((X[:, None, :] - X[S][None]) ** 2).sum(-1).min(1)
        D[S] = -1.0
        S.append(int(np.argmax(D)))
    return np.array(S)


def _naive_hmin(X):
    D = np.sqrt(((X[:, None, :] - X[None]) ** 2).sum(-1))
    D[np.tril_indices(len(X))] = np.inf
    return D.min()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("d", [1, 2, 7])
def test_farthest_point_equals_the_definition(seed, d):
    X = np.random.default_rng(seed).standard_normal((300, d)) * 10.0 + 100.0
    start = 17 * seed
    np.testing.assert_array_equal(sel.farthest_point(X, 40, start=start),
                                  _naive_farthest(X, 40, start))


def test_ties_go_to_the_lowest_index_on_a_grid():
    G = np.array([[i, j] for i in range(10) for j in range(10)], float)
    out = sel.farthest_point(G, 30)
    np.testing.assert_array_equal(out, _naive_farthest(G, 30))
    assert list(out[:4]) == [0, 99, 9, 90]  # the corners, ties broken by index


def test_duplicates_are_picked_last_lowest_index_first():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0], [1.0, 0.0], [5.0, 5.0]])
    out = sel.farthest_point(X, 5)
    np.testing.assert_array_equal(out, [0, 4, 1, 2, 3])


def test_farthest_point_is_a_permutation_prefix_and_small_blocks_change_nothing(monkeypatch):
    X = np.random.default_rng(9).random((500, 3))
    ref = sel.farthest_point(X, 500)
    assert sorted(ref) == list(range(500))
    monkeypatch.setattr(sel, "BLOCK_BYTES", 64)
    np.testing.assert_array_equal(sel.farthest_point(X, 500), ref)


def test_greedy_is_a_two_approximation_of_max_min_dispersion():
    g = np.random.default_rng(3)
    for _ in range(30):
        X = g.random((10, 2))
        best = max(sel.min_pairwise_distance(X[list(c)]) for c in itertools.combinations(range(10), 4))
        got = sel.min_pairwise_distance(X[sel.farthest_point(X, 4)])
        assert best / 2 <= got <= best + 1e-15


@pytest.mark.parametrize("n,d", [(2, 1), (3, 5), (200, 2), (400, 16), (60, 64)])
def test_min_pairwise_distance_equals_the_definition(n, d):
    X = np.random.default_rng(n + d).standard_normal((n, d)) + 1e3
    assert sel.min_pairwise_distance(X) == pytest.approx(_naive_hmin(X), rel=1e-12)


def test_min_pairwise_distance_blocks_and_duplicates(monkeypatch):
    X = np.random.default_rng(1).random((300, 4))
    ref = _naive_hmin(X)
    monkeypatch.setattr(sel, "BLOCK_BYTES", 8 * 300 * 7)   # 7 rows per block
    assert sel.min_pairwise_distance(X) == pytest.approx(ref, rel=1e-12)
    X[250] = X[3]
    assert sel.min_pairwise_distance(X) == 0.0


def test_min_pairwise_distance_sees_a_tiny_gap_among_large_coordinates():
    X = np.random.default_rng(2).random((100, 3)) * 1e6
    X[77] = X[12] + np.array([1e-3, 0.0, 0.0])
    assert sel.min_pairwise_distance(X) == pytest.approx(1e-3, rel=1e-6)


def test_backend_namespace_is_respected():
    from hdreg import backend

    X = np.random.default_rng(0).random((50, 3))
    out = sel.farthest_point(backend.asarray(X), 5)
    assert isinstance(out, np.ndarray) and out.dtype.kind == "i"
    assert isinstance(sel.min_pairwise_distance(backend.asarray(X)), float)


@pytest.mark.parametrize("bad,match", [
    (np.zeros(5), "2-D"), (np.zeros((0, 2)), "2-D"), (np.zeros((3, 0)), "2-D"),
    (np.array([[0.0, np.nan], [1.0, 2.0]]), "finite"), (np.array([[np.inf, 0.0], [1.0, 1.0]]), "finite"),
])
def test_bad_points(bad, match):
    with pytest.raises(ValueError, match=match):
        sel.farthest_point(bad, 1)
    with pytest.raises(ValueError, match=match):
        sel.min_pairwise_distance(bad)


def test_min_pairwise_distance_needs_two_points():
    with pytest.raises(ValueError, match="at least 2"):
        sel.min_pairwise_distance(np.zeros((1, 3)))


@pytest.mark.parametrize("m", [0, 11, 2.5, True, -1])
def test_bad_m(m):
    with pytest.raises(ValueError, match="m must be"):
        sel.farthest_point(np.zeros((10, 2)), m)


@pytest.mark.parametrize("start", [-1, 10, 1.0, True])
def test_bad_start(start):
    with pytest.raises(ValueError, match="start must be"):
        sel.farthest_point(np.zeros((10, 2)), 3, start=start)


def test_min_pairwise_distance_batched_equals_one_by_one(monkeypatch):
    P = np.random.default_rng(4).standard_normal((9, 40, 5))
    P[5, 7] = P[5, 30]
    ref = np.array([_naive_hmin(X) for X in P])
    np.testing.assert_allclose(sel.min_pairwise_distance(P), ref, rtol=1e-12)
    assert sel.min_pairwise_distance(P)[5] == 0.0
    monkeypatch.setattr(sel, "BLOCK_BYTES", 8 * 40 * 5)   # the per-set path, 5 rows per block
    np.testing.assert_allclose(sel.min_pairwise_distance(P), ref, rtol=1e-12)


@pytest.mark.parametrize("bad", [np.zeros((0, 4, 2)), np.zeros((3, 1, 2)), np.zeros((3, 4, 0)),
                                 np.full((2, 3, 2), np.nan)])
def test_min_pairwise_distance_bad_batches(bad):
    with pytest.raises(ValueError, match="points"):
        sel.min_pairwise_distance(bad)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_sweep_path_in_low_dimension(d):
    g = np.random.default_rng(d)
    P = g.standard_normal((7, 60, d))
    P[2, :, 0] = 0.3          # every row shares the sort coordinate's value in one set
    P[3, 11] = P[3, 50]       # a duplicate
    ref = np.array([_naive_hmin(X) for X in P])
    np.testing.assert_allclose(sel.min_pairwise_distance(P), ref, rtol=1e-12)
    assert sel.min_pairwise_distance(P[4]) == pytest.approx(ref[4], rel=1e-12)
