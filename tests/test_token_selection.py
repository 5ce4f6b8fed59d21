"""Unit tests: hdreg.theory.token_selection and hdreg.sim.token_selection."""

import numpy as np
import pytest
from scipy.optimize import minimize

from _hdreg_fixtures import clean_env  # noqa: F401
from hdreg import _validate
from hdreg.sim import token_selection as S
from hdreg.theory import token_selection as T

PP, PM = T.token_laws(vocab=12, group=2, boost=5.0, neutral_boost=3.0)


def _random_state(trials=2, n=9, V=12, D=16, seed=0, scale=0.7):
    rng = np.random.default_rng(seed)
    counts, y = S.sample_counts(PP, PM, n=n, T=5, trials=trials, seed=seed)
    E = scale * rng.standard_normal((trials, V, D))
    p = scale * rng.standard_normal((trials, D))
    v = rng.standard_normal((trials, D))
    return counts, y, E, p, v


# ------------------------------------------------------------------ theory

def test_token_laws_and_relevance():
    pp, pm = T.token_laws()
    assert pp.sum() == pytest.approx(1) and pm.sum() == pytest.approx(1)
    rel = T.relevant_tokens(pp, pm)
    assert np.all(rel[:5] == 1) and np.all(rel[5:10] == -1) and np.all(rel[10:] == 0)
    c = T.signed_frequency(pp, pm)
    assert np.all(c[:5] > 0) and np.all(c[5:10] < 0) and np.allclose(c[10:], 0)
    assert np.allclose(T.one_step_coefficient(pp, pm, 3.0), 1.5 * c)
    # prior: q pi+ - (1 - q) pi-
    assert np.allclose(T.signed_frequency(pp, pm, prior=0.8), 0.8 * pp - 0.2 * pm)


def test_theory_bad_input():
    with pytest.raises(_validate.InvalidParameterError, match="vocab"):
        T.token_laws(vocab=5, group=2)
    with pytest.raises(_validate.InvalidParameterError, match="pi_pos"):
        T.signed_frequency(PP * 2, PM)
    with pytest.raises(_validate.InvalidParameterError, match="pi_neg"):
        T.signed_frequency(PP, PM[:-1])
    with pytest.raises(_validate.InvalidParameterError, match="eta"):
        T.one_step_coefficient(PP, PM, -1.0)
    with pytest.raises(_validate.InvalidParameterError, match="A"):
        T.max_margin_direction(np.array([[np.nan, 1.0]]))
    with pytest.raises(_validate.InvalidParameterError, match="prior"):
        T.signed_frequency(PP, PM, prior=1.5)


def test_max_margin_matches_a_generic_solver():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((15, 6)) + np.array([2.0, 0, 0, 0, 0, 0])
    p = T.max_margin_direction(A)
    assert (A @ p).min() >= 1 - 1e-9
    ref = minimize(lambda q: 0.5 * q @ q, np.ones(6) * 3, jac=lambda q: q, method="SLSQP",
                   constraints=[dict(type="ineq", fun=lambda q: A @ q - 1, jac=lambda q: A)])
    assert np.linalg.norm(p) == pytest.approx(np.linalg.norm(ref.x), rel=1e-4)
    assert np.allclose(p, ref.x, atol=1e-3)
    # the normalised margin of p_mm is 1/||p_mm||, the largest of any direction
    m = T.svm_margins(A, p).min()
    assert m == pytest.approx(1 / np.linalg.norm(p), rel=1e-6)
    for _ in range(20):
        q = p + 0.1 * rng.standard_normal(6)
        assert T.svm_margins(A, q).min() <= m + 1e-9


def test_max_margin_infeasible_raises():
    A = np.array([[1.0, 0.0], [-1.0, 0.0]])
    with pytest.raises(ValueError, match="infeasible"):
        T.max_margin_direction(A)


def test_svm_constraints_and_optimal_tokens():
    counts, y, E, p, v = _random_state(trials=1)
    o = T.optimal_tokens(E[0], v[0], counts[0], y[0])
    u = E[0] @ v[0]
    for i in range(counts.shape[1]):
        present = np.nonzero(counts[0, i])[0]
        assert o[i] == present[np.argmax(y[0, i] * u[present])]
    A = T.svm_constraints(E[0], v[0], counts[0], y[0])
    assert A.shape[1] == E.shape[2]
    sel = counts[0].argmax(1)
    A2 = T.svm_constraints(E[0], v[0], counts[0], y[0], selected=sel)
    assert A2.shape[1] == E.shape[2]
    rel = T.relevant_tokens(PP, PM)
    A3 = T.svm_constraints(E[0], v[0], counts[0], y[0], rel, rule="set")
    assert A3.shape[1] == E.shape[2]
    with pytest.raises(_validate.InvalidParameterError, match="rule"):
        T.svm_constraints(E[0], v[0], counts[0], y[0], rule="set")
    with pytest.raises(_validate.InvalidParameterError, match="selected"):
        bad = np.where(counts[0] == 0)[1][:counts.shape[1]]
        T.svm_constraints(E[0], v[0], counts[0], y[0], selected=bad)
    with pytest.raises(_validate.InvalidParameterError, match="y"):
        T.svm_constraints(E[0], v[0], counts[0], 2 * y[0])
    with pytest.raises(_validate.InvalidParameterError, match="v"):
        T.svm_constraints(E[0], v[0][:-1], counts[0], y[0])


# ------------------------------------------------------------------ simulator

def test_counts_are_per_trial_and_follow_the_laws():
    c4, y4 = S.sample_counts(PP, PM, n=50, T=7, trials=4, seed=9)
    c2, y2 = S.sample_counts(PP, PM, n=50, T=7, trials=2, seed=9)
    assert np.array_equal(c4[:2], c2) and np.array_equal(y4[:2], y2)
    assert np.all(c4.sum(-1) == 7)
    assert np.all(c4[y4 > 0][:, 2:4] == 0)        # negative-only tokens never in positives
    big, yb = S.sample_counts(PP, PM, n=20000, T=4, trials=1, seed=1)
    freq = big[0][yb[0] > 0].sum(0) / (4 * (yb[0] > 0).sum())
    assert np.allclose(freq, PP, atol=0.01)


def test_gradients_match_finite_differences():
    counts, y, E, p, v = _random_state()
    loss, gE, gp = S.logistic_grads(counts, y, E, p, v)
    eps = 1e-6
    rng = np.random.default_rng(1)
    for _ in range(5):
        dE = rng.standard_normal(E.shape)
        num = (S.logistic_grads(counts, y, E + eps * dE, p, v)[0]
               - S.logistic_grads(counts, y, E - eps * dE, p, v)[0]) / (2 * eps)
        assert np.allclose(num, (gE * dE).sum((1, 2)), rtol=1e-6, atol=1e-9)
        dp = rng.standard_normal(p.shape)
        num = (S.logistic_grads(counts, y, E, p + eps * dp, v)[0]
               - S.logistic_grads(counts, y, E, p - eps * dp, v)[0]) / (2 * eps)
        assert np.allclose(num, (gp * dp).sum(1), rtol=1e-6, atol=1e-9)


def test_forward_is_an_average_and_stable():
    counts, y, E, p, v = _random_state()
    a, f = S.attention_forward(counts, E, 0 * p, v)
    assert np.allclose(a.sum(-1), 1)
    assert np.allclose(a, counts / counts.sum(-1, keepdims=True))
    a, f = S.attention_forward(counts, E, 1e4 * p, v)
    assert np.all(np.isfinite(f)) and np.allclose(a.sum(-1), 1)


def test_one_step_is_parallel_to_v_and_matches_the_formula():
    r = S.one_step_embeddings(PP, PM, n=200, T=6, D=8, eta=2.0, trials=2, seed=4,
                              init_scale=0.5)
    assert r["orth"].max() < 1e-12
    # exact: eta * mean[y sigma(-y f) n_s / T] with f at p = 0
    u = np.einsum("tvd,td->tv", r["E0"], r["v"])
    f = (r["counts"] * u[:, None, :]).sum(-1) / 6
    w = r["y"] / (1 + np.exp(r["y"] * f))
    exact = 2.0 * (w[..., None] * r["counts"] / 6).mean(1)
    assert np.allclose(r["coef"], exact, atol=1e-12)
    small = S.one_step_embeddings(PP, PM, n=200, T=6, D=8, eta=2.0, trials=2, seed=4,
                                  init_scale=1e-6)
    assert np.allclose(small["coef"], 0.5 * 2.0 * small["freq"], atol=1e-8)


def test_training_selects_and_logs():
    pp, pm = T.token_laws(vocab=30)
    r = S.train_token_selection(pp, pm, n=200, T=8, D=32, eta_E=30.0, eta_p=0.5, steps=150,
                                log_steps=[0, 50, 150], trials=2, seed=3)
    assert r["loss"].shape == (2, 3) and r["cos"].shape == (2, 3)
    assert np.all(r["mass_rel"][:, -1] > r["mass_rel"][:, 0])
    assert np.all(r["cos_local"] > 0.8)
    assert np.all(r["frac_sel_relevant"] > 0.9)
    r1 = S.train_token_selection(pp, pm, n=200, T=8, D=32, eta_E=30.0, eta_p=0.5, steps=150,
                                 log_steps=[0, 50, 150], trials=1, seed=3)
    assert np.allclose(r1["loss"][0], r["loss"][0])


def test_simulator_bad_input():
    counts, y, E, p, v = _random_state()
    with pytest.raises(_validate.InvalidParameterError, match="E"):
        S.attention_forward(counts, E[:, :-1], p, v)
    with pytest.raises(_validate.InvalidParameterError, match="p"):
        S.attention_forward(counts, E, p[:, :-1], v)
    with pytest.raises(_validate.InvalidParameterError, match="finite"):
        S.attention_forward(counts, E * np.nan, p, v)
    with pytest.raises(_validate.InvalidParameterError, match="counts"):
        S.attention_forward(-counts, E, p, v)
    with pytest.raises(_validate.InvalidParameterError, match="y"):
        S.logistic_grads(counts, 3 * y, E, p, v)
    with pytest.raises(_validate.InvalidParameterError, match="n"):
        S.sample_counts(PP, PM, n=0, T=3)
    with pytest.raises(_validate.InvalidParameterError, match="eta"):
        S.one_step_embeddings(PP, PM, n=5, T=3, D=4, eta=0.0)
    with pytest.raises(_validate.InvalidParameterError, match="log_steps"):
        S.train_token_selection(PP, PM, n=5, T=3, D=16, eta_E=1.0, eta_p=0.1, steps=3,
                                log_steps=[5])


def test_chunking_does_not_change_results(monkeypatch):
    pp, pm = T.token_laws(vocab=30)
    kw = dict(n=100, T=6, D=32, eta_E=30.0, eta_p=0.5, steps=20, log_steps=[0, 20], trials=3,
              seed=8)
    one = S.train_token_selection(pp, pm, **kw)
    o1 = S.one_step_embeddings(PP, PM, n=50, T=5, D=8, eta=1.0, trials=3, seed=2)
    monkeypatch.setenv("HDREG_MEM_BUDGET_GB", "0.0006")     # one trial per chunk
    many = S.train_token_selection(pp, pm, **kw)
    o2 = S.one_step_embeddings(PP, PM, n=50, T=5, D=8, eta=1.0, trials=3, seed=2)
    for k in ("loss", "cos", "cos_local", "scores"):
        assert np.allclose(one[k], many[k], equal_nan=True), k
    assert np.array_equal(o1["coef"], o2["coef"])


def test_anchored_task_has_one_important_token_per_sequence():
    L = T.anchored_token_laws(30, group=3)
    c, y = S.sample_counts(L["rest"], L["rest"], n=200, T=8, trials=2, seed=3,
                           anchor=(L["anchor_pos"], L["anchor_neg"]))
    assert np.all(c[..., :6].sum(-1) == 1) and np.all(c.sum(-1) == 8)
    pos = y > 0
    assert np.all(c[pos][:, 3:6] == 0) and np.all(c[~pos][:, :3] == 0)
    avg = T.position_average(L["anchor_pos"], L["rest"], 8)
    assert avg.sum() == pytest.approx(1) and avg[0] == pytest.approx(1 / 24)
    with pytest.raises(_validate.InvalidParameterError, match="anchor"):
        S.sample_counts(L["rest"], L["rest"], n=5, T=3, anchor=L["anchor_pos"])


def test_runs_on_the_gpu_stand_in(monkeypatch):
    import fake_cupy

    import hdreg.backend
    mod = fake_cupy.install(monkeypatch)
    assert hdreg.backend.get_backend().name == "cupy"
    pp, pm = T.token_laws(vocab=30)
    r = S.train_token_selection(pp, pm, n=60, T=6, D=32, eta_E=30.0, eta_p=0.5, steps=10,
                                log_steps=[0, 10], trials=2, seed=1)
    o = S.one_step_embeddings(PP, PM, n=30, T=5, D=8, eta=1.0, trials=2, seed=2)
    c, y = S.sample_counts(PP, PM, n=10, T=4, trials=2, seed=3)
    for out in (r, o, {"c": c, "y": y}):
        for k, val in out.items():
            assert isinstance(val, np.ndarray), k
