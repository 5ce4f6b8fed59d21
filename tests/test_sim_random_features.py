"""hdreg.sim.random_features: the batched random-feature ridge simulator and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from _hdreg_fixtures import PerTrial, clean_env  # noqa: F401

from hdreg import features as feat
from hdreg.sim.random_features import simulate_projection_error, simulate_rf_path
from hdreg.theory import random_features as rft

D = 150
I = np.arange(1, D + 1, dtype=float)
SPEC = I ** -1.5
BETA = np.sqrt(I ** -2.2 / SPEC)


def _direct(seed, n, p, lam, features="linear"):
    """One trial by hand with the same random stream: returns (risk, train)."""
    gen = PerTrial(seed, 1)
    X = gen.standard_normal((1, n, D)) * np.sqrt(SPEC)
    y = X @ BETA + 0.3 * gen.standard_normal((1, n))
    F = gen.standard_normal((1, D, p))
    Z = (X @ F)[0] / np.sqrt(p)
    w = np.linalg.pinv(Z) @ y[0] if lam == 0 else np.linalg.solve(Z.T @ Z + n * lam * np.eye(p), Z.T @ y[0])
    err = F[0] @ w / np.sqrt(p) - BETA
    return (SPEC * err * err).sum(), np.mean((y[0] - Z @ w) ** 2)


@pytest.mark.parametrize("n, p", [(40, 25), (30, 70)])
def test_one_trial_matches_a_direct_solve(n, p):
    lams = [0.0, 1e-3, 0.5]
    out = simulate_rf_path(SPEC, BETA, n, p, lams, 0.09, trials=1, seed=11)
    for k, lam in enumerate(lams):
        risk, train = _direct(11, n, p, lam)
        np.testing.assert_allclose(out.risk[0, k], risk, rtol=1e-7)
        np.testing.assert_allclose(out.train_error[0, k], train, rtol=1e-6, atol=1e-20)


def test_chunking_does_not_change_results(monkeypatch):
    for features, spec, beta in (("linear", SPEC, BETA), ("relu", np.ones(40), np.ones(40) / 6)):
        a = simulate_rf_path(spec, beta, 30, 20, [0.0, 0.1], 0.1, trials=6, seed=5, features=features)
        monkeypatch.setenv("HDREG_MEM_BUDGET_GB", "0.0002")  # forces several chunks
        b = simulate_rf_path(spec, beta, 30, 20, [0.0, 0.1], 0.1, trials=6, seed=5, features=features)
        monkeypatch.delenv("HDREG_MEM_BUDGET_GB")
        c = simulate_rf_path(spec, beta, 30, 20, [0.0, 0.1], 0.1, trials=3, seed=5, features=features)
        np.testing.assert_allclose(b.risk, a.risk, rtol=1e-12)
        np.testing.assert_allclose(b.train_error, a.train_error, rtol=1e-12)
        np.testing.assert_allclose(c.risk, a.risk[:3], rtol=1e-12)
    p1 = simulate_projection_error(SPEC, BETA, 30, trials=4, seed=3)
    monkeypatch.setenv("HDREG_MEM_BUDGET_GB", str(1e5 / 2**30))
    np.testing.assert_allclose(simulate_projection_error(SPEC, BETA, 30, trials=4, seed=3), p1,
                               rtol=1e-10, atol=1e-14)


def test_relu_kernel_matches_monte_carlo():
    gen = np.random.default_rng(0)
    for rho in (-0.6, 0.0, 0.3, 0.9):
        u = gen.standard_normal(400000)
        v = rho * u + np.sqrt(1 - rho**2) * gen.standard_normal(400000)
        mu0 = 1 / np.sqrt(2 * np.pi)
        mc = np.mean((np.maximum(u, 0) - mu0) * (np.maximum(v, 0) - mu0))
        assert abs(feat.relu_kernel(np.array(rho), np) - mc) < 4e-3


def test_relu_agrees_with_gaussian_equivalent():
    spec, beta = np.ones(60), np.full(60, 60 ** -0.5)
    out = simulate_rf_path(spec, beta, 80, 40, [0.0, 1e-2], 0.1, trials=30, seed=2, features="relu")
    mean, se = out.mean_se("risk")
    s_eq, b_eq, m = rft.relu_gaussian_equivalent(spec, beta)
    th = rft.rf_risk(s_eq, b_eq, 80, 40, [0.0, 1e-2], 0.1, nonlinear_var=m).risk
    assert np.all(np.abs(mean - th) < 5 * se)


def test_projection_error():
    A = simulate_projection_error(SPEC, BETA, 30, trials=80, seed=1)
    assert A.shape == (80,) and np.all(A >= -1e-12)
    m, se = A.mean(), A.std(ddof=1) / np.sqrt(A.size)
    assert abs(m - rft.rf_approximation_error(SPEC, BETA, 30)) < 5 * se
    assert np.all(np.abs(simulate_projection_error(SPEC, BETA, D + 5, trials=2, seed=1)) < 1e-10)


@pytest.mark.parametrize("kwargs, match", [
    (dict(n=0), "n"),
    (dict(p=2.5), "p"),
    (dict(trials=0), "trials"),
    (dict(lams=[-1.0]), "lams"),
    (dict(lams=np.ones((2, 2))), "lams"),
    (dict(noise_var=-1.0), "noise_var"),
    (dict(beta=np.ones(3)), "beta"),
    (dict(features="tanh"), "features"),
    (dict(features="relu"), "isotropic"),
    (dict(n=20, p=20, lams=[0.0]), "interpolation threshold"),
])
def test_bad_input(kwargs, match):
    args = dict(spectrum=SPEC, beta=BETA, n=20, p=10, lams=[0.1], noise_var=0.1, trials=2)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        simulate_rf_path(**args)
