import numpy as np
import pytest

from hdreg._validate import InvalidParameterError
from hdreg.sim import pruning as prs


def _problem(seed=0, T=3, d=8, n=20):
    g = np.random.default_rng(seed)
    X = g.standard_normal((T, n, d))
    H = np.einsum("tni,tnj->tij", X, X) / n
    return g.standard_normal((T, d)), H


def test_hard_threshold():
    w = np.array([[0.1, -3.0, 2.0, 0.5]])
    assert np.array_equal(prs.hard_threshold(w, 2), [[0.0, -3.0, 2.0, 0.0]])
    with pytest.raises(InvalidParameterError):
        prs.hard_threshold(w, 5)


def test_single_obs_step_is_the_constrained_minimiser():
    w, H = _problem()
    Hinv = np.linalg.inv(H)
    sal = prs.obs_saliency(w, Hinv)
    q = np.array([0, 3, 5])
    w1, _ = prs.obs_remove(w, Hinv, q)
    for t in range(3):
        assert w1[t, q[t]] == 0.0
        keep = np.ones(8, bool)
        keep[q[t]] = False
        # brute force: minimise (theta - w)^T H (theta - w) over theta with theta_q = 0
        Hk = H[t][np.ix_(keep, keep)]
        rhs = H[t][keep] @ w[t]
        theta = np.zeros(8)
        theta[keep] = np.linalg.solve(Hk, rhs)
        assert np.allclose(w1[t], theta)
        e = theta - w[t]
        assert 0.5 * e @ H[t] @ e == pytest.approx(sal[t, q[t]])


def test_greedy_obs_equals_mask_projection_on_its_mask():
    w, H = _problem(seed=1)
    theta = prs.obs_prune(w, H, 3)
    keep = theta != 0
    assert np.all(keep.sum(1) == 3)
    assert np.allclose(prs.mask_projection(w, H, keep), theta)
    inc_obs = prs.quadratic_increase(theta, w, H)
    inc_mag = prs.quadratic_increase(prs.hard_threshold(w, 3), w, H)
    assert np.all(inc_obs <= inc_mag + 1e-12)


def test_pruning_bad_input():
    w, H = _problem()
    with pytest.raises(InvalidParameterError):
        prs.obs_prune(w, -H, 3)                            # not positive definite
    with pytest.raises(InvalidParameterError):
        prs.obs_prune(w[:, :5], H, 3)                      # wrong shape
    with pytest.raises(InvalidParameterError):
        prs.obs_saliency(np.full_like(w, np.nan), np.linalg.inv(H))
    with pytest.raises(InvalidParameterError):
        prs.mask_projection(w, H, np.ones_like(w))         # keep not boolean
    with pytest.raises(InvalidParameterError):
        prs.sparse_recovery("newton", trials=2, steps=2)
    with pytest.raises(InvalidParameterError):
        prs.sparse_recovery("kiht", n=100, d=128, trials=2, steps=2)
    with pytest.raises(InvalidParameterError):
        prs.sparse_recovery("kiht", k_star=20, k=10, trials=2, steps=2)
    with pytest.raises(InvalidParameterError):
        prs.one_shot_pruning(40, 10, 5, 1.0, 2)


def test_sparse_recovery_contraction_and_common_random_numbers():
    a = prs.sparse_recovery("topk_iobs", n=64, d=32, k_star=4, k=12, steps=400, trials=3, seed=2)
    b = prs.sparse_recovery("kiht", n=64, d=32, k_star=4, k=12, steps=400, trials=3, seed=2)
    assert np.array_equal(a["wstar"], b["wstar"]) and np.allclose(a["loss"][:, 0], b["loss"][:, 0])
    # once the support is kept the distance shrinks by exactly 1 - 2/n per step
    assert np.all(a["recovered"][:, -50:])
    ratio = a["dist"][:, -1] / a["dist"][:, -2]
    assert np.allclose(ratio, 1 - 2 / 64, rtol=1e-9)
    # per-trial streams: the first two trials of a 3-trial run are the 2-trial run
    c = prs.sparse_recovery("topk_iobs", n=64, d=32, k_star=4, k=12, steps=400, trials=2, seed=2)
    assert np.array_equal(c["dist"], a["dist"][:2])
    # MSE at step 0 is ||X (w0 - w*)||^2 / n
    assert np.all(a["loss"] >= 0)


def test_gpu_path_under_the_strict_standin(monkeypatch):
    import fake_cupy

    import hdreg
    fake_cupy.install(monkeypatch)
    assert hdreg.backend.get_backend().name == "cupy"
    w, H = _problem(seed=3)
    for out in (prs.hard_threshold(w, 3), prs.obs_saliency(w, np.linalg.inv(H)),
                prs.obs_prune(w, H, 3), prs.mask_projection(w, H, np.abs(w) > 0.5 * 0 + np.sort(
                    np.abs(w), 1)[:, [4]]),
                prs.quadratic_increase(w, 0 * w, H)):
        assert isinstance(out, np.ndarray)
    r = prs.sparse_recovery("kiht", n=64, d=32, k_star=4, k=12, steps=5, trials=2, seed=1)
    assert all(isinstance(v, np.ndarray) for v in r.values())
    o = prs.one_shot_pruning(40, 10, 5, 0.5, 2, seed=1)
    assert all(isinstance(v, np.ndarray) for v in o.values())


@pytest.mark.parametrize("fn", ["sparse_recovery", "one_shot_pruning"])
def test_chunking_does_not_change_the_numbers(fn, monkeypatch):
    call = {"sparse_recovery": lambda: prs.sparse_recovery("kiht", n=64, d=32, k_star=4, k=12,
                                                           steps=20, trials=3, seed=5),
            "one_shot_pruning": lambda: prs.one_shot_pruning(40, 10, 5, 0.5, 3, seed=5)}[fn]
    whole = call()
    budget = {"sparse_recovery": "5e-5", "one_shot_pruning": "2e-5"}[fn]   # one trial per chunk
    monkeypatch.setenv("HDREG_MEM_BUDGET_GB", budget)
    one = call()
    for key in whole:
        assert np.array_equal(whole[key], one[key]), key
