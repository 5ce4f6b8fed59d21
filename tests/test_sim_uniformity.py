"""hdreg.sim.uniformity: h_min predictions, bounds, kernel GD step counts, the two-layer net."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hdreg import selection
from hdreg.sim import uniformity as u


def test_ball_volume_and_bad_d():
    assert u.ball_volume(1) == pytest.approx(2.0)
    assert u.ball_volume(2) == pytest.approx(math.pi)
    assert u.ball_volume(3) == pytest.approx(4 * math.pi / 3)
    with pytest.raises(ValueError, match="d must be"):
        u.ball_volume(0)


def test_mixture_density_l2_limits_and_monte_carlo():
    assert u.mixture_density_l2(w=0.0) == pytest.approx(0.25)
    assert u.mixture_density_l2(w=1.0, s=0.1) == pytest.approx(1 / (4 * math.pi * 0.01), rel=1e-9)
    # E p(X) = int p^2, estimated by Monte Carlo with the exact mixture density
    X = u.biased_pool(200_000, seed=1)
    g = np.exp(-((X - 0.5) ** 2).sum(1) / (2 * 0.01)) / (2 * math.pi * 0.01)
    p = 0.7 * g + 0.3 * 0.25 * np.all(np.abs(X) <= 1, axis=1)
    assert p.mean() == pytest.approx(u.mixture_density_l2(), rel=0.02)


def test_iid_prediction_matches_simulation_roughly():
    ns = [100, 400]
    H = u.iid_min_distance(ns, 300, lambda n, g: g.standard_normal((n, 2)), seed=0)
    pred = u.iid_hmin_prediction(np.array(ns), 2, 1 / (4 * math.pi))
    np.testing.assert_allclose(H.mean(1) / pred, 1.0, atol=0.1)


def test_iid_min_distance_is_reproducible_and_uses_selection():
    f = lambda n, g: g.random((n, 3))  # noqa: E731
    a = u.iid_min_distance([20, 30], 5, f, seed=4)
    np.testing.assert_array_equal(a, u.iid_min_distance([20, 30], 5, f, seed=4))
    g0 = np.random.default_rng(np.random.SeedSequence(4).spawn(10)[0])
    assert a[0, 0] == selection.min_pairwise_distance(g0.random((20, 3)))


def test_packing_bound_holds_for_a_grid_and_covering_bound_is_below_it():
    k = 10
    g = np.linspace(0, 1, k)
    G = np.array(np.meshgrid(g, g)).reshape(2, -1).T
    assert selection.min_pairwise_distance(G) <= u.packing_bound(k * k, 2)[0]
    n = np.array([10, 100, 1000])
    assert np.all(u.covering_bound(n, 2) < u.packing_bound(n, 2))
    assert np.isinf(u.packing_bound(1, 2)[0])


def test_gershgorin_is_a_lower_bound():
    X = np.random.default_rng(0).random((30, 2))
    K = u.gaussian_kernel(X, ell=0.05)
    assert u.gershgorin_bound(K) <= np.linalg.eigvalsh(K)[0] + 1e-12


def test_gd_iterations_equal_an_actual_gd_run():
    g = np.random.default_rng(2)
    X = g.random((25, 2))
    K = np.asarray(u.gaussian_kernel(X, ell=0.3))
    y = u.target_function(X)
    eta = 1 / np.linalg.eigvalsh(K)[-1]
    f, t = np.zeros_like(y), 0
    while ((f - y) ** 2).mean() > 1e-3:
        f = f - eta * K @ (f - y)
        t += 1
    assert u.gd_iterations(K, y, 1e-3) == t
    # several outputs: the summed loss
    Y = np.stack([y, 2 * y], axis=1)
    F, t2 = np.zeros_like(Y), 0
    while ((F - Y) ** 2).sum(1).mean() > 1e-3:
        F = F - eta * K @ (F - Y)
        t2 += 1
    assert u.gd_iterations(K, Y, 1e-3) == t2
    lam = np.linalg.eigvalsh(K)
    assert t <= u.gd_iteration_bound(lam[0], lam[-1], (y ** 2).sum(), 25, 1e-3)


def test_gd_iterations_batched_and_bad_input():
    X = np.random.default_rng(3).random((4, 10, 2))
    K = np.asarray(u.gaussian_kernel(X, ell=0.2))
    y = u.target_function(X)
    batch = u.gd_iterations(K, y, 1e-2)
    assert batch.shape == (4,)
    assert all(batch[i] == u.gd_iterations(K[i], y[i], 1e-2) for i in range(4))
    with pytest.raises(ValueError, match="square"):
        u.gd_iterations(np.ones((3, 4)), np.ones(3), 1e-3)
    with pytest.raises(ValueError, match="symmetric"):
        u.gd_iterations(np.array([[1.0, 0.5], [0.0, 1.0]]), np.ones(2), 1e-3)
    with pytest.raises(ValueError, match="semi-definite"):
        u.gd_iterations(np.array([[1.0, 2.0], [2.0, 1.0]]), np.ones(2), 1e-3)
    with pytest.raises(ValueError, match="y must have shape"):
        u.gd_iterations(K[0], np.ones(3), 1e-3)
    with pytest.raises(ValueError, match="eps must be"):
        u.gd_iterations(K[0], y[0], -1.0)
    with pytest.raises(ValueError, match="finite"):
        u.gd_iterations(K[0], np.full(10, np.nan), 1e-3)
    with pytest.raises(ValueError, match="eta"):
        u.gd_iterations(K[0], y[0], 1e-3, eta=10.0)


@pytest.mark.parametrize("method", u.SUBSET_METHODS)
def test_select_subset_returns_distinct_rows(method):
    X = u.biased_pool(400, seed=2)
    idx = u.select_subset(X, 20, method, np.random.default_rng(0))
    assert len(set(map(int, idx))) == 20 and idx.max() < 400


def test_kcenter_does_not_increase_the_covering_radius():
    X = u.biased_pool(600, seed=5)
    g1, g2 = np.random.default_rng(1), np.random.default_rng(1)
    greedy = u.select_subset(X, 15, "greedy", g1)
    kc = u.select_subset(X, 15, "k-center", g2)
    radius = lambda idx: np.sqrt(((X[:, None] - X[idx][None]) ** 2).sum(-1).min(1).max())  # noqa: E731
    assert radius(kc) <= radius(greedy) + 1e-12


def test_select_subset_bad_input():
    X = np.zeros((5, 2))
    with pytest.raises(ValueError, match="method must be"):
        u.select_subset(X, 2, "best", np.random.default_rng(0))
    with pytest.raises(ValueError, match="at most the pool size"):
        u.select_subset(X, 6, "random", np.random.default_rng(0))


def test_kernel_study_shapes_and_orderings():
    st = u.kernel_gd_study(2, pool_size=500, m=30, methods=("random", "greedy"), n_test=200)
    assert st.hmin.shape == st.iterations.shape == (2, 2)
    assert st.points.shape == (2, 2, 30, 2)
    assert np.all(st.hmin[1] > st.hmin[0])
    assert np.all(st.iterations <= st.bound)
    with pytest.raises(ValueError, match="methods"):
        u.kernel_gd_study(1, methods=("nope",))


def test_dispersion_ratio_is_within_the_guarantee():
    r = u.max_min_dispersion_ratio(20, n=9, m=3)
    assert np.all(r >= 1.0) and np.all(r <= 2.0)


def test_two_layer_net_gradient_is_right():
    g = np.random.default_rng(0)
    X, y = g.random((1, 12, 2)), g.random((1, 12))
    _, c1 = u.train_two_layer(X, y, width=8, lr=1e-4, steps=1, seed=3)
    _, c2 = u.train_two_layer(X, y, width=8, lr=2e-4, steps=1, seed=3)
    # a tiny step decreases the loss, twice as much for twice the step (first order)
    d1, d2 = c1[0, 0] - c1[0, 1], c2[0, 0] - c2[0, 1]
    assert d1 > 0 and d2 / d1 == pytest.approx(2.0, rel=1e-3)


def test_two_layer_net_trains_and_is_batched_consistently():
    X = np.random.default_rng(1).random((3, 20, 2))
    y = u.target_function(X)
    hit, curve = u.train_two_layer(X, y, width=50, lr=1.0, steps=300, eps=1e-2, seed=0,
                                   record_every=50)
    assert curve.shape == (3, 7) and np.all(curve[:, -1] < curve[:, 0])
    hit0, _ = u.train_two_layer(X[:1], y[:1], width=50, lr=1.0, steps=300, eps=1e-2, seed=0)
    assert hit0[0] == hit[0]
    with pytest.raises(ValueError, match="X must be"):
        u.train_two_layer(X[0], y[0])
    with pytest.raises(ValueError, match="finite"):
        u.train_two_layer(np.full((1, 3, 2), np.nan), np.zeros((1, 3)))
    with pytest.raises(ValueError, match="lr must be"):
        u.train_two_layer(X, y, lr=-1.0)


def test_bad_pool_arguments():
    with pytest.raises(ValueError, match="w must be"):
        u.biased_pool(10, w=1.5)
    with pytest.raises(ValueError, match="seed must be"):
        u.biased_pool(10, seed=-1)
    with pytest.raises(ValueError, match="n must be"):
        u.iid_hmin_prediction(1, 2, 1.0)
    with pytest.raises(ValueError, match="ell must be"):
        u.gaussian_kernel(np.zeros((2, 2)), ell=0.0)
