import numpy as np
import pytest

from hdreg._validate import InvalidParameterError
from hdreg.sim import heavy_ball as hbs
from hdreg.theory import heavy_ball as hbt


def test_mode_rate_matches_companion_matrix():
    for alpha, beta, lam in ((0.1, 0.5, 3.0), (0.3, 0.0, 1.0), (0.05, 0.9, 10.0), (1.0, 0.2, 5.0)):
        M = np.array([[1 + beta - alpha * lam, -beta], [1.0, 0.0]])
        assert hbt.mode_rate(alpha, beta, lam) == pytest.approx(np.abs(np.linalg.eigvals(M)).max())


def test_optimal_parameters():
    a, b, r = hbt.optimal_heavy_ball(1.0, 100.0)
    assert r == pytest.approx(9 / 11) and b == pytest.approx((9 / 11) ** 2)
    lam = np.linspace(1.0, 100.0, 50)
    assert hbt.heavy_ball_rate(a, b, lam) == pytest.approx(r, rel=1e-6)
    ag, rg = hbt.optimal_gd(1.0, 100.0)
    assert hbt.gd_rate(ag, lam) == pytest.approx(rg) and rg == pytest.approx(99 / 101)
    assert hbt.effective_step(0.01, 0.9) == pytest.approx(0.1)
    assert hbt.critical_momentum(0.25, 1.0) == pytest.approx(0.25)
    assert hbt.underdamped(a, b, 50.0)


def test_theory_bad_input():
    with pytest.raises(InvalidParameterError):
        hbt.mode_rate(-0.1, 0.5, 1.0)
    with pytest.raises(InvalidParameterError):
        hbt.mode_rate(0.1, 1.0, 1.0)
    with pytest.raises(InvalidParameterError):
        hbt.mode_rate(0.1, 0.5, [1.0, np.nan])
    with pytest.raises(InvalidParameterError):
        hbt.optimal_heavy_ball(2.0, 1.0)
    with pytest.raises(InvalidParameterError):
        hbt.steps_to_reach(1.5, 1e-3)


def test_least_squares_rates_and_seeding():
    r = hbs.least_squares_heavy_ball(200, 40, "heavy_ball", 300, 3, seed=1)
    rate = hbs.empirical_rate(r["dist"], ceiling=1e-8, floor=1e-30)
    assert np.allclose(rate, np.sqrt(r["beta"]), rtol=0.03)
    r2 = hbs.least_squares_heavy_ball(200, 40, "heavy_ball", 300, 2, seed=1)
    assert np.array_equal(r2["dist"], r["dist"][:2])      # trial i depends on (seed, i) only
    with pytest.raises(InvalidParameterError):
        hbs.least_squares_heavy_ball(50, 60, "gd", 10, 2)
    with pytest.raises(InvalidParameterError):
        hbs.least_squares_heavy_ball(50, 10, "adam", 10, 2)


def _net(seed=0, T=2, N=6, n=7, d=3):
    g = np.random.default_rng(seed)
    return (g.standard_normal((T, N)), g.standard_normal((T, N, d)),
            g.standard_normal((T, n, d)), g.standard_normal((T, n)))


def test_mean_field_gradient_matches_finite_differences():
    a, W, X, y = _net()
    N = a.shape[1]
    loss, ga, gW = hbs.two_layer_loss_grad(a, W, X, y)
    eps = 1e-6
    for (t, i) in ((0, 1), (1, 4)):
        ap, am = a.copy(), a.copy()
        ap[t, i] += eps
        am[t, i] -= eps
        fd = (hbs.two_layer_loss_grad(ap, W, X, y)[0][t]
              - hbs.two_layer_loss_grad(am, W, X, y)[0][t]) / (2 * eps)
        assert ga[t, i] == pytest.approx(N * fd, rel=1e-6)
        for j in range(W.shape[2]):
            Wp, Wm = W.copy(), W.copy()
            Wp[t, i, j] += eps
            Wm[t, i, j] -= eps
            fd = (hbs.two_layer_loss_grad(a, Wp, X, y)[0][t]
                  - hbs.two_layer_loss_grad(a, Wm, X, y)[0][t]) / (2 * eps)
            assert gW[t, i, j] == pytest.approx(N * fd, rel=1e-6)


def test_dropout_gap_is_the_average_over_all_halves():
    from itertools import combinations
    a, W, X, y = _net(seed=2, T=1, N=6)
    base = hbs.two_layer_loss_grad(a, W, X, y)[0]
    losses = []
    for S in combinations(range(6), 3):
        keep = np.zeros((1, 6), bool)
        keep[0, list(S)] = True
        losses.append(hbs.dropout_loss(a, W, X, y, keep))
    assert np.mean(losses) - base == pytest.approx(hbs.dropout_gap(a, W, X, y), rel=1e-10)
    with pytest.raises(InvalidParameterError):
        hbs.dropout_gap(a[:, :5], W[:, :5], X, y)


def test_train_two_layer_common_random_numbers_and_bad_input():
    r1 = hbs.train_two_layer(10, 20, 0.01, 0.9, 2, seed=3, record_every=5)
    r2 = hbs.train_two_layer(10, 20, 0.1, 0.0, 2, seed=3, record_every=5)
    assert np.array_equal(r1.X, r2.X) and r1.loss[0, 0] == r2.loss[0, 0]
    assert r1.loss.shape == (2, 5)
    with pytest.raises(InvalidParameterError):
        hbs.train_two_layer(11, 20, 0.01, 0.9, 2)
    with pytest.raises(InvalidParameterError):
        hbs.train_two_layer(10, 20, -0.01, 0.9, 2)
    with pytest.raises(InvalidParameterError):
        hbs.two_layer_loss_grad(*_net()[:3], np.full((2, 7), np.nan))


def test_gpu_path_under_the_strict_standin(monkeypatch):
    import fake_cupy

    import hdreg
    fake_cupy.install(monkeypatch)
    assert hdreg.backend.get_backend().name == "cupy"
    r = hbs.least_squares_heavy_ball(40, 8, "heavy_ball", 10, 2, seed=1)
    assert all(isinstance(v, np.ndarray) for v in r.values())
    run = hbs.train_two_layer(4, 3, 0.01, 0.9, 2, seed=1, record_every=1)
    assert isinstance(run.loss, np.ndarray) and isinstance(run.dropout_gap, np.ndarray)
    a, W, X, y = _net()
    assert all(isinstance(v, np.ndarray) for v in hbs.two_layer_loss_grad(a, W, X, y))
    assert isinstance(hbs.dropout_gap(a, W, X, y), np.ndarray)


def test_mode_trajectories():
    lam = np.array([0.2, 1.0, 2.5])
    tr = hbs.mode_trajectories(0.5, 0.5, lam, 200)
    assert tr.shape == (3, 201) and tr[0, 0] == pytest.approx(np.sqrt(2))
    fit = hbs.empirical_rate(tr, start=50, ceiling=1.0, floor=1e-250)
    assert np.allclose(fit, hbt.mode_rate(0.5, 0.5, lam), rtol=1e-2)
    with pytest.raises(InvalidParameterError):
        hbs.mode_trajectories(0.5, 1.2, lam, 10)
    with pytest.raises(InvalidParameterError):
        hbs.mode_trajectories(0.5, 0.5, [[1.0]], 10)
    with pytest.raises(InvalidParameterError):
        hbs.empirical_rate(tr[:, :2], start=0)


def test_chunking_does_not_change_the_numbers(monkeypatch):
    ls = hbs.least_squares_heavy_ball(40, 8, "gd", 10, 3, seed=5)
    net = hbs.train_two_layer(6, 5, 0.01, 0.9, 3, seed=5, record_every=2)
    monkeypatch.setenv("HDREG_MEM_BUDGET_GB", "5e-6")        # one trial per chunk
    ls1 = hbs.least_squares_heavy_ball(40, 8, "gd", 10, 3, seed=5)
    monkeypatch.setenv("HDREG_MEM_BUDGET_GB", "4e-5")
    net1 = hbs.train_two_layer(6, 5, 0.01, 0.9, 3, seed=5, record_every=2)
    for key in ls:
        assert np.array_equal(ls[key], ls1[key]), key
    for f in ("steps", "loss", "dropout_gap", "a", "W", "X", "y"):
        assert np.array_equal(getattr(net, f), getattr(net1, f)), f
