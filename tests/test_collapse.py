"""Unit tests: hdreg.sim.collapse (NC1 metric, loss bound, mean-field network)."""

import numpy as np
import pytest

from _hdreg_fixtures import clean_env  # noqa: F401
from hdreg import _validate
from hdreg.sim import collapse as C


def _features(K=3, k=4, per=15, spread=0.5, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(K), per)
    H = 2 * rng.standard_normal((K, k))[labels] + spread * rng.standard_normal((K * per, k))
    return H, labels


def _nc1_reference(H, labels, K):
    mu = np.stack([H[labels == c].mean(0) for c in range(K)])
    dev = H - mu[labels]
    SW = dev.T @ dev / len(H)
    B = mu - mu.mean(0)
    SB = B.T @ B / K
    return np.trace(SW @ np.linalg.pinv(SB)) / K


def test_nc1_matches_reference_and_invariances():
    H, lab = _features()
    val = C.nc1(H, lab, 3)[0]
    assert val == pytest.approx(_nc1_reference(H, lab, 3), rel=1e-10)
    assert C.nc1(10 * H, lab, 3)[0] == pytest.approx(val, rel=1e-10)      # scale invariant
    assert C.nc1(H + 5.0, lab, 3)[0] == pytest.approx(val, rel=1e-10)     # shift invariant
    mu = np.stack([H[lab == c].mean(0) for c in range(3)])
    assert abs(C.nc1(mu[lab], lab, 3)[0]) < 1e-12                          # collapsed
    batch = C.nc1(np.stack([H, 2 * H]), np.stack([lab, lab]), 3)
    assert batch.shape == (2,) and np.allclose(batch, val)


def test_nc1_bound_holds():
    rng = np.random.default_rng(2)
    for _ in range(20):
        H, lab = _features(spread=rng.uniform(0.01, 2), seed=int(rng.integers(1000)))
        H = np.eye(3)[lab] + 0.3 * rng.standard_normal((len(lab), 3)) + H[:, :3] * 0.05
        loss = 0.5 * ((H - np.eye(3)[lab]) ** 2).sum() / len(lab)
        assert C.nc1(H, lab, 3)[0] <= C.nc1_bound(H, lab, 3, loss)[0] + 1e-12


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2, 11, 4))
    lab = rng.integers(0, 3, (2, 11))
    a = rng.standard_normal((2, 6, 3))
    W = rng.standard_normal((2, 6, 4)) / 2
    loss, ga, gW, h = C.mean_field_grads(X, lab, a, W)
    N, eps = 6, 1e-6
    for _ in range(4):
        da = rng.standard_normal(a.shape)
        dW = rng.standard_normal(W.shape)
        num = (C.mean_field_grads(X, lab, a + eps * da, W + eps * dW)[0]
               - C.mean_field_grads(X, lab, a - eps * da, W - eps * dW)[0]) / (2 * eps)
        # the returned gradients are N times the true ones (mean-field step)
        assert np.allclose(num, ((ga * da).sum((1, 2)) + (gW * dW).sum((1, 2))) / N,
                           rtol=1e-6, atol=1e-10)


def test_gaussian_classes_per_trial():
    d4 = C.gaussian_classes(3, 5, 7, sep=2.0, trials=4, seed=1, n_test_per=3)
    d2 = C.gaussian_classes(3, 5, 7, sep=2.0, trials=2, seed=1, n_test_per=3)
    assert d4["X"].shape == (4, 21, 5) and d4["X_test"].shape == (4, 9, 5)
    assert np.array_equal(d4["X"][:2], d2["X"]) and np.array_equal(d4["labels"][0],
                                                                   np.repeat(np.arange(3), 7))


def test_training_reduces_loss_and_nc1_and_nests_widths():
    d = C.gaussian_classes(3, 6, 10, sep=4.0, trials=1, seed=2, n_test_per=5)
    r = C.train_mean_field(d["X"][0], d["labels"][0], 3, 40, 100, 2.0, [0, 100], trials=3,
                           seed=5, X_test=d["X_test"][0], labels_test=d["labels_test"][0])
    assert np.all(r["loss"][:, 1] < 0.2 * r["loss"][:, 0])
    assert np.all(r["nc1"][:, 1] < r["nc1"][:, 0])
    assert np.all(r["nc1"] <= r["bound"] + 1e-12)
    assert r["nc1_test"].shape == (3, 2) and r["h"].shape == (3, 30, 3)
    # trial i depends only on (seed, i)
    r1 = C.train_mean_field(d["X"][0], d["labels"][0], 3, 40, 100, 2.0, [0, 100], trials=1,
                            seed=5)
    assert np.allclose(r1["loss"][0], r["loss"][0])
    # nested widths: at step 0 a width-N net is the first N neurons of the width-2N one
    h20 = C.train_mean_field(d["X"][0], d["labels"][0], 3, 20, 0, 1.0, [0], seed=5)["h"]
    a, W = _first_neurons(5, 40, 3, 6)
    phi = np.tanh(d["X"][0] @ W[:20].T)
    assert np.allclose(h20[0], phi @ a[:20] / 20)


def _first_neurons(seed, width, K, d):
    from hdreg.batch import TrialRNG
    z = TrialRNG(seed, 0, 1, np).standard_normal((1, width, K + d))[0]
    return z[:, :K], z[:, K:] / np.sqrt(d)


def test_bad_input():
    H, lab = _features()
    with pytest.raises(_validate.InvalidParameterError, match="labels"):
        C.nc1(H, lab + 5, 3)
    with pytest.raises(_validate.InvalidParameterError, match="finite"):
        C.nc1(H * np.nan, lab, 3)
    with pytest.raises(_validate.InvalidParameterError, match="class"):
        C.nc1(H, np.zeros_like(lab), 3)
    with pytest.raises(_validate.InvalidParameterError, match="K"):
        C.nc1(H, lab, 1)
    with pytest.raises(_validate.InvalidParameterError, match="loss"):
        C.nc1_bound(H, lab, 3, [-1.0])
    with pytest.raises(_validate.InvalidParameterError, match="sep"):
        C.gaussian_classes(3, 5, 7, sep=-1.0)
    X = np.zeros((6, 2))
    with pytest.raises(_validate.InvalidParameterError, match="width"):
        C.train_mean_field(X, np.arange(6) % 2, 2, 0, 5, 1.0, [0])
    with pytest.raises(_validate.InvalidParameterError, match="lr"):
        C.train_mean_field(X, np.arange(6) % 2, 2, 4, 5, -1.0, [0])
    with pytest.raises(_validate.InvalidParameterError, match="log_steps"):
        C.train_mean_field(X, np.arange(6) % 2, 2, 4, 5, 1.0, [9])
    with pytest.raises(_validate.InvalidParameterError, match="X"):
        C.train_mean_field(np.full((6, 2), np.inf), np.arange(6) % 2, 2, 4, 5, 1.0, [0])
    with pytest.raises(_validate.InvalidParameterError, match="shapes"):
        C.mean_field_grads(np.zeros((1, 3, 2)), np.zeros((1, 3)), np.zeros((1, 4, 2)),
                           np.zeros((1, 5, 2)))


def test_chunking_does_not_change_results(monkeypatch):
    d = C.gaussian_classes(3, 4, 6, sep=3.0, trials=1, seed=1)
    kw = dict(K=3, width=16, steps=10, lr=1.0, log_steps=[0, 10], trials=3, seed=4)
    one = C.train_mean_field(d["X"][0], d["labels"][0], **kw)
    monkeypatch.setenv("HDREG_MEM_BUDGET_GB", "0.00002")   # one trial per chunk
    many = C.train_mean_field(d["X"][0], d["labels"][0], **kw)
    for k in ("loss", "nc1", "h"):
        assert np.allclose(one[k], many[k]), k


def test_runs_on_the_gpu_stand_in(monkeypatch):
    import fake_cupy

    import hdreg.backend
    mod = fake_cupy.install(monkeypatch)
    assert hdreg.backend.get_backend().name == "cupy"
    d = C.gaussian_classes(3, 4, 6, sep=3.0, trials=1, seed=1, n_test_per=2)
    r = C.train_mean_field(d["X"][0], d["labels"][0], 3, 8, 5, 1.0, [0, 5], trials=2, seed=4,
                           X_test=d["X_test"][0], labels_test=d["labels_test"][0])
    for k, val in list(d.items()) + list(r.items()):
        assert isinstance(val, np.ndarray), k
    H = mod.asarray(r["h"])
    assert isinstance(C.nc1(H, np.stack([d["labels"][0]] * 2), 3), np.ndarray)


def test_initial_feature_energy():
    from hdreg.theory import collapse as TC
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 7)) * np.array([[0.1], [1.0], [2.0], [3.0], [0.0]])
    e = TC.initial_feature_energy(X, 3)
    g = rng.standard_normal(400000)
    s = np.sqrt((X ** 2).sum(1) / 7)
    mc = 3 * np.tanh(s[:, None] * g) ** 2
    assert np.allclose(e, mc.mean(1), atol=4 * mc.std(1).max() / np.sqrt(g.size) + 1e-12)
    assert e[-1] == 0.0
    with pytest.raises(_validate.InvalidParameterError, match="X"):
        TC.initial_feature_energy(np.ones(3), 3)
    with pytest.raises(_validate.InvalidParameterError, match="K"):
        TC.initial_feature_energy(X, 0)
