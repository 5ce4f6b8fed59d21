import numpy as np
import pytest

from hdreg.sim import softmax_attention as S
from hdreg.theory import softmax_attention as T

LAM = np.array([1.0, 0.5, 0.25])


def _batch(n=7, prompts=5, seed=1):
    return S.sample_prompts(LAM, n, prompts, 0.1, seed=seed)


def test_gradients_match_finite_differences():
    p = _batch()
    W = np.random.default_rng(0).standard_normal((3, 3))
    v = 0.7
    args = (p["X"], p["y"], p["xq"], p["yq"])
    _, gW, gv = S.softmax_loss_grad(W, v, *args)
    eps = 1e-6
    num = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            E = np.zeros((3, 3))
            E[i, j] = eps
            num[i, j] = (S.softmax_loss_grad(W + E, v, *args)[0]
                         - S.softmax_loss_grad(W - E, v, *args)[0]) / (2 * eps)
    assert np.allclose(num, gW, atol=1e-7)
    numv = (S.softmax_loss_grad(W, v + eps, *args)[0] - S.softmax_loss_grad(W, v - eps, *args)[0]) / (2 * eps)
    assert numv == pytest.approx(gv, rel=1e-7)


def test_forward_is_a_weighted_average():
    p = _batch()
    yhat, att = S.softmax_forward(np.zeros((3, 3)), 1.0, p["X"], p["y"], p["xq"])
    assert np.allclose(att.sum(axis=1), 1.0)
    assert np.allclose(yhat, p["y"].mean(axis=1))      # W = 0: uniform weights
    big = S.softmax_forward(50 * np.eye(3), 1.0, p["X"], p["y"], p["xq"])[0]
    assert np.all(np.isfinite(big))                     # stable for large scores


def test_long_prompt_limit_and_gap():
    W = 0.2 * np.eye(3)
    g = S.long_prompt_gap(W, 1.0, LAM, [16, 256, 4096], 400, 0.0, seed=2)
    m = g.mean(axis=0)
    assert g.shape == (400, 3) and m[0] > m[1] > m[2]
    assert 8 < m[0] / m[2] * 16 / 4096 * 16 < 32         # roughly 1/n
    w = np.array([[1.0, 2.0, 3.0]])
    xq = np.array([[0.5, -1.0, 2.0]])
    assert T.long_prompt_prediction(np.eye(3), 2.0, LAM, w, xq)[0] == pytest.approx(
        2.0 * (0.5 - 1.0 + 1.5))


def test_training_runs_and_precond_starts_near_optimum():
    r = S.train_softmax(LAM, 32, 0.1, 20, 64, 0.1, method="gd", test_prompts=500, record=10)
    assert r.steps.tolist() == [0, 10, 20] and np.all(np.isfinite(r.test_loss))
    q = S.train_softmax(LAM, 32, 0.1, 20, 64, 0.1, method="precond", test_prompts=500, record=10)
    assert q.test_loss[0] < r.test_loss[0]
    assert r.final_losses.shape == (500,)


def test_ols_design_risk_mean():
    risks = S.ols_design_risk(np.ones(4), 30, 0.5, 4000, seed=0)
    se = risks.std() / np.sqrt(risks.size)
    assert abs(risks.mean() - T.ols_risk(30, 4, 0.5)) < 4 * se


@pytest.mark.parametrize("kwargs, match", [
    (dict(W=np.eye(2)), "W must have shape"),
    (dict(v=np.nan), "v must be"),
    (dict(X=np.zeros((5, 7))), "X must have shape"),
    (dict(y=np.zeros((5, 6))), "y must have shape"),
    (dict(xq=np.full((5, 3), np.nan)), "xq must be finite"),
    (dict(yq=np.zeros(4)), "yq must have shape"),
])
def test_bad_batches(kwargs, match):
    p = _batch()
    args = dict(W=np.eye(3), v=1.0, X=p["X"], y=p["y"], xq=p["xq"], yq=p["yq"])
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        S.softmax_loss_grad(**args)


def test_bad_inputs():
    with pytest.raises(ValueError, match="method"):
        S.train_softmax(LAM, 8, 0.1, 5, 4, 0.1, method="adam")
    with pytest.raises(ValueError, match="lr"):
        S.train_softmax(LAM, 8, 0.1, 5, 4, -0.1)
    with pytest.raises(ValueError, match="noise_var"):
        S.sample_prompts(LAM, 8, 4, -1.0)
    with pytest.raises(ValueError, match="non-negative"):
        S.sample_prompts(np.array([1.0, -1.0]), 8, 4)
    with pytest.raises(ValueError, match="n must be >= d"):
        S.ols_design_risk(np.ones(4), 3, 0.5, 10)
    with pytest.raises(ValueError, match="ns"):
        S.long_prompt_gap(np.eye(3), 1.0, LAM, [0, 4], 10)
