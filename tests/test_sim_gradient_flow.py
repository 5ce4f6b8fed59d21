"""hdreg.sim.gradient_flow: exactness against the iteration, per-trial seeding, theory, input."""

from __future__ import annotations

import numpy as np
import pytest
from _hdreg_fixtures import clean_env  # noqa: F401  (autouse)

from hdreg.sim import gradient_flow as sg
from hdreg.theory import gradient_flow as gf


@pytest.mark.parametrize("n,p", [(30, 50), (50, 30)])
def test_matches_explicit_gradient_descent(n, p):
    rng = np.random.default_rng(np.random.SeedSequence(3).spawn(1)[0])
    X = rng.standard_normal((n, p))
    e = rng.standard_normal(n)
    spec = np.linspace(0.5, 2, p)
    beta = np.sin(np.arange(p))
    Xs = X * np.sqrt(spec)
    y = Xs @ beta + 0.5 * e
    eta, b, risks, trains = 0.1, np.zeros(p), [], []
    for k in range(1, 201):
        b = b + eta * Xs.T @ (y - Xs @ b) / n
        if k in (10, 50, 200):
            risks.append(((b - beta) ** 2 * spec).sum())
            trains.append(((y - Xs @ b) ** 2).mean())
    out = sg.simulate_gradient_flow(spec, beta, n, eta * np.array([10, 50, 200]), 0.25, trials=1,
                                    seed=3, step=eta)
    np.testing.assert_allclose(out.risk[0], risks, rtol=1e-10)
    np.testing.assert_allclose(out.train_error[0], trains, rtol=1e-10)
    np.testing.assert_array_equal(out.steps, [10, 50, 200])


def test_trials_depend_on_seed_and_index_only(monkeypatch):
    spec = np.ones(20)
    a = sg.simulate_gradient_flow(spec, spec / 5, 10, [0.5, 2.0], 0.1, trials=5, seed=4)
    monkeypatch.setenv("HDREG_MEM_BUDGET_GB", str(2e-5))  # forces chunks of one trial
    b = sg.simulate_gradient_flow(spec, spec / 5, 10, [0.5, 2.0], 0.1, trials=5, seed=4)
    np.testing.assert_allclose(a.risk, b.risk, rtol=1e-12)
    c = sg.simulate_gradient_flow(spec, spec / 5, 10, [0.5, 2.0], 0.1, trials=3, seed=4)
    np.testing.assert_allclose(a.risk[:3], c.risk, rtol=1e-12)


def test_conditional_mean_equals_realised_mean_and_theory():
    n, p = 100, 200
    spec = np.ones(p)
    beta = np.full(p, p**-0.5)
    t = np.array([0.0, 1.0, 10.0])
    out = sg.simulate_gradient_flow(spec, beta, n, t, 0.5, trials=60, seed=1)
    assert np.allclose(out.cond_risk[:, 0], 1.0) and np.allclose(out.variance[:, 0], 0.0)
    m, se = out.mean_se("cond_risk")
    th = gf.isotropic_risk(p / n, t[1:], 1.0, 0.5).risk
    assert np.all(np.abs(m[1:] - th) < 4 * se[1:] + 0.02 * th)
    d = out.risk - out.cond_risk
    assert np.all(np.abs(d.mean(0)) <= 4 * d.std(0, ddof=1) / np.sqrt(60) + 1e-12)


def test_bad_input():
    spec = np.ones(5)
    with pytest.raises(ValueError, match="times"):
        sg.simulate_gradient_flow(spec, spec, 4, [-1.0], 0.1, trials=2)
    with pytest.raises(ValueError, match="multiples"):
        sg.simulate_gradient_flow(spec, spec, 4, [0.15], 0.1, trials=2, step=0.1)
    with pytest.raises(ValueError, match="step"):
        sg.simulate_gradient_flow(spec, spec, 4, [1.0], 0.1, trials=2, step=-0.1)
    with pytest.raises(ValueError, match="trials"):
        sg.simulate_gradient_flow(spec, spec, 4, [1.0], 0.1, trials=0)
    with pytest.raises(ValueError, match="spectrum"):
        sg.simulate_gradient_flow([np.nan] * 5, spec, 4, [1.0], 0.1, trials=2)
    with pytest.raises(ValueError, match="noise_var"):
        sg.simulate_gradient_flow(spec, spec, 4, [1.0], -0.1, trials=2)


def test_gram_eigensystem_reconstructs():
    rng = np.random.default_rng(0)
    for n, p in ((6, 9), (9, 6)):
        X = rng.standard_normal((2, n, p))
        s, A, B = sg.gram_eigensystem(X)
        rec = np.sqrt(n) * (A * np.sqrt(s)[:, None, :]) @ B.transpose(0, 2, 1)
        np.testing.assert_allclose(rec, X, atol=1e-10)


def test_large_step_oscillating_modes():
    # eta s > 1 for the top modes: (1 - eta s)^k has a negative base and needs integer k
    n, p = 40, 20
    rng = np.random.default_rng(np.random.SeedSequence(5).spawn(1)[0])
    X = rng.standard_normal((n, p))
    e = rng.standard_normal(n)
    spec, beta = np.ones(p), np.linspace(-1, 1, p)
    y = X @ beta + 0.3 * e
    s_max = np.linalg.eigvalsh(X.T @ X / n).max()
    eta = 1.8 / s_max
    b = np.zeros(p)
    for _ in range(7):
        b = b + eta * X.T @ (y - X @ b) / n
    out = sg.simulate_gradient_flow(spec, beta, n, [7 * eta], 0.09, trials=1, seed=5, step=eta)
    assert np.isfinite(out.risk).all()
    np.testing.assert_allclose(out.risk[0, 0], ((b - beta) ** 2).sum(), rtol=1e-9)


@pytest.mark.parametrize("n,p", [(30, 50), (50, 30)])
def test_initialisation_matches_explicit_iteration(n, p):
    init = 0.7
    rng = np.random.default_rng(np.random.SeedSequence(9).spawn(1)[0])
    X = rng.standard_normal((n, p))
    e = rng.standard_normal(n)
    b0 = np.sqrt(init / p) * rng.standard_normal(p)
    spec = np.linspace(0.5, 2, p)
    beta = np.cos(np.arange(p))
    Xs = X * np.sqrt(spec)
    y = Xs @ beta + 0.5 * e
    eta, b = 0.1, b0.copy()
    for _ in range(40):
        b = b + eta * Xs.T @ (y - Xs @ b) / n
    out = sg.simulate_gradient_flow(spec, beta, n, [40 * eta], 0.25, trials=1, seed=9, step=eta,
                                    init_var=init)
    np.testing.assert_allclose(out.risk[0, 0], ((b - beta) ** 2 * spec).sum(), rtol=1e-10)
    np.testing.assert_allclose(out.train_error[0, 0], ((y - Xs @ b) ** 2).mean(), rtol=1e-10)


def test_initialisation_conditional_mean_and_theory():
    n, p = 100, 200
    spec = np.ones(p)
    beta = np.full(p, p**-0.5)
    t = np.array([0.0, 1.0, 10.0])
    out = sg.simulate_gradient_flow(spec, beta, n, t, 0.25, trials=60, seed=2, init_var=1.0)
    np.testing.assert_allclose(out.bias[:, 0], 2.0, rtol=0.25)  # signal + init, up to 1/sqrt(p)
    th = gf.isotropic_risk(p / n, t[1:], 1.0, 0.25, init_var=1.0)
    m, se = out.mean_se("cond_risk")
    assert np.all(np.abs(m[1:] - th.risk) < 4 * se[1:] + 0.02 * th.risk)
    mt, st = out.mean_se("cond_train")
    assert np.all(np.abs(mt[1:] - th.train_error) < 4 * st[1:] + 0.02 * th.train_error)
    d = out.risk - out.cond_risk
    assert np.all(np.abs(d.mean(0)) <= 4 * d.std(0, ddof=1) / np.sqrt(60) + 1e-12)
    with pytest.raises(ValueError, match="init_var"):
        sg.simulate_gradient_flow(spec, beta, n, t, 0.25, trials=2, init_var=-1.0)
