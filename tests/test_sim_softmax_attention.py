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


# ---- tasks integrated out: loss, paired excess, fit, pretraining sweep


def test_task_loss_matches_average_over_sampled_tasks():
    p = _batch(n=6, prompts=3, seed=4)
    W = np.random.default_rng(1).standard_normal((3, 3)) * 0.5
    v, s2 = 0.8, 0.2
    exact, _, _ = S.softmax_task_loss_grad(W, v, p["X"], p["xq"], s2)
    g = np.random.default_rng(2)
    T_ = 200_000
    w = g.standard_normal((T_, 3))
    yhat_p = S.softmax_forward(W, v, p["X"], p["y"], p["xq"])[1]      # weights (3, 6)
    mc = 0.0
    for b in range(3):
        y = p["X"][b] @ w.T + np.sqrt(s2) * g.standard_normal((6, T_))
        yq = w @ p["xq"][b] + np.sqrt(s2) * g.standard_normal(T_)
        mc += np.mean((v * yhat_p[b] @ y - yq) ** 2) / 3
    assert mc == pytest.approx(exact, rel=0.01)


def test_task_loss_gradients_match_finite_differences():
    p = _batch(n=7, prompts=5, seed=3)
    W = np.random.default_rng(0).standard_normal((3, 3))
    v, s2, eps = 0.7, 0.3, 1e-6
    _, gW, gv = S.softmax_task_loss_grad(W, v, p["X"], p["xq"], s2)
    num = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            E = np.zeros((3, 3))
            E[i, j] = eps
            num[i, j] = (S.softmax_task_loss_grad(W + E, v, p["X"], p["xq"], s2)[0]
                         - S.softmax_task_loss_grad(W - E, v, p["X"], p["xq"], s2)[0]) / (2 * eps)
    assert np.allclose(num, gW, atol=1e-7)
    numv = (S.softmax_task_loss_grad(W, v + eps, p["X"], p["xq"], s2)[0]
            - S.softmax_task_loss_grad(W, v - eps, p["X"], p["xq"], s2)[0]) / (2 * eps)
    assert numv == pytest.approx(gv, rel=1e-6)


def test_paired_excess_benchmarks_and_trial_rule():
    lam = np.ones(3)
    out = S.paired_excess(np.eye(3), 1.0, lam, 20, 0.5, 3000, seed=5, linear=T.toy_optimum(lam, 20, 0.5))
    for key, th in (("ols", T.ols_excess(20, 3, 0.5)), ("linear", T.linear_attention_excess(20, 3, 0.5))):
        se = out[key].std() / np.sqrt(out[key].size)
        assert abs(out[key].mean() - th) < 4 * se
    first = S.paired_excess(np.eye(3), 1.0, lam, 20, 0.5, 100, seed=5)
    assert np.allclose(first["softmax"], out["softmax"][:100])       # prompt i from (seed, i)
    assert "linear" not in first


def test_fit_softmax_descends_and_reaches_the_rate():
    lam = np.ones(3)
    f = S.fit_softmax(lam, 64, 0.5, 400, 8, seed=1)
    assert f.train_loss.shape == (9,) and f.train_loss[-1] < f.train_loss[0]
    ex = S.paired_excess(f.W, f.v, lam, 64, 0.5, 2000, seed=9)["softmax"].mean()
    assert 0.8 < ex / T.softmax_excess(64, lam, 0.5) < 1.2


def test_pretrain_sweep_shapes_nesting_and_decay():
    lam = np.ones(2)
    r = S.pretrain_sweep(lam, 8, 0.5, [32, 256], 6, steps=15, seed=1, test_prompts=300)
    assert r.shape == (6, 2) and np.all(np.isfinite(r))
    assert r[:, 1].mean() < r[:, 0].mean()
    again = S.pretrain_sweep(lam, 8, 0.5, [32, 256], 3, steps=15, seed=1, test_prompts=300)
    assert np.allclose(again, r[:3])                                # replicate r from (seed, r)
    rec = S.pretrain_sweep(lam, 8, 0.5, [32], 2, steps=4, seed=1, test_prompts=200, record=[0, 4])
    assert rec.shape == (2, 1, 2)


def test_bad_inputs_tasks_integrated():
    p = _batch()
    with pytest.raises(ValueError, match="noise_var"):
        S.softmax_task_loss_grad(np.eye(3), 1.0, p["X"], p["xq"], -0.1)
    with pytest.raises(ValueError, match="W must have shape"):
        S.softmax_task_loss_grad(np.eye(2), 1.0, p["X"], p["xq"], 0.1)
    with pytest.raises(ValueError, match="xq must be finite"):
        S.softmax_task_loss_grad(np.eye(3), 1.0, p["X"], np.full((5, 3), np.nan), 0.1)
    with pytest.raises(ValueError, match="n must be > d"):
        S.paired_excess(np.eye(3), 1.0, LAM, 3, 0.1, 10)
    with pytest.raises(ValueError, match="W must be a finite"):
        S.paired_excess(np.full((3, 3), np.nan), 1.0, LAM, 8, 0.1, 10)
    with pytest.raises(ValueError, match="linear"):
        S.paired_excess(np.eye(3), 1.0, LAM, 8, 0.1, 10, linear=np.ones(2))
    with pytest.raises(ValueError, match="v must be"):
        S.paired_excess(np.eye(3), np.inf, LAM, 8, 0.1, 10)
    with pytest.raises(ValueError, match="temperature"):
        S.fit_softmax(LAM, 8, 0.1, 10, 2, temperature=-1.0)
    with pytest.raises(ValueError, match="lr"):
        S.fit_softmax(LAM, 8, 0.1, 10, 2, lr=0.0)
    with pytest.raises(ValueError, match="sizes"):
        S.pretrain_sweep(LAM, 8, 0.1, [], 2)
    with pytest.raises(ValueError, match="sizes"):
        S.pretrain_sweep(LAM, 8, 0.1, [0, 4], 2)
    with pytest.raises(ValueError, match="record"):
        S.pretrain_sweep(LAM, 8, 0.1, [4], 2, steps=3, record=[5])
    with pytest.raises(ValueError, match="replicates"):
        S.pretrain_sweep(LAM, 8, 0.1, [4], 0)
