"""The design-conditioned ridge simulator: closed forms over the noise against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from _hdreg_fixtures import PerTrial
from hdreg.sim.ridge import simulate_ridge_path, simulate_ridge_path_given_design


def _brute(spectrum, beta, n, lams, noise_var, seed, draws=20000):
    """One design as drawn by the simulator (trials=1), noise averaged by Monte Carlo."""
    X = PerTrial(seed, 1).standard_normal((1, n, spectrum.size))[0] * np.sqrt(spectrum)
    noise_rng = np.random.default_rng(123)
    E = noise_rng.standard_normal((draws, n)) * np.sqrt(noise_var)
    Y = X @ beta + E  # (draws, n)
    risk, train = [], []
    for lam in lams:
        A = np.linalg.pinv(X.T @ X + n * lam * np.eye(spectrum.size), rcond=1e-12) @ X.T
        B = Y @ A.T  # (draws, p)
        err = B - beta
        risk.append(((err * err) @ spectrum).mean())
        R = Y - B @ X.T
        train.append((R * R).sum(axis=1).mean() / n)
    return np.array(risk), np.array(train)


@pytest.mark.parametrize("n,p", [(12, 30), (30, 12)])
def test_matches_brute_force_noise_average(n, p):
    spectrum = np.linspace(2.0, 0.2, p)
    beta = np.cos(np.arange(p))
    lams = np.array([0.0, 0.05, 0.5])
    out = simulate_ridge_path_given_design(spectrum, beta, n, lams, 0.3, trials=1, seed=5)
    risk, train = _brute(spectrum, beta, n, lams, 0.3, seed=5)
    np.testing.assert_allclose(out.risk[0], risk, rtol=0.03)
    np.testing.assert_allclose(out.train_error[0], train, rtol=0.03, atol=1e-12)
    np.testing.assert_allclose(out.risk, out.bias + out.variance)


def test_noiseless_bias_equals_sampled_risk():
    """Without noise the conditional risk is the risk itself, draw for draw."""
    spectrum, beta = np.linspace(1.0, 0.1, 40), np.ones(40) / 6
    lams = [0.0, 0.1]
    cond = simulate_ridge_path_given_design(spectrum, beta, 20, lams, 0.0, trials=3, seed=2)
    samp = simulate_ridge_path(spectrum, beta, 20, lams, 0.0, trials=3, seed=2)
    np.testing.assert_allclose(cond.risk, samp.risk, rtol=1e-9)
    np.testing.assert_allclose(cond.variance, 0.0)


def test_mean_coef_interpolates_without_noise():
    spectrum, beta = np.ones(30), np.linspace(-1, 1, 30)
    out = simulate_ridge_path_given_design(spectrum, beta, 50, [0.0], 0.5, trials=2, seed=1,
                                           return_coef=True)
    np.testing.assert_allclose(out.coef[:, :, 0], np.broadcast_to(beta, (2, 30)), atol=1e-10)
    assert out.coef.shape == (2, 30, 1)


@pytest.mark.parametrize("kwargs,match", [
    (dict(lams=[-0.1]), "lam"),
    (dict(noise_var=-1.0), "noise_var"),
    (dict(noise_var=float("nan")), "noise_var"),
    (dict(trials=0), "trials"),
    (dict(n=10, lams=[0.0]), "interpolation threshold"),
])
def test_bad_input(kwargs, match):
    args = dict(spectrum=np.ones(10), beta=np.ones(10), n=5, lams=[0.1], noise_var=0.1, trials=2)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        simulate_ridge_path_given_design(**args)


def test_bad_beta_shape():
    with pytest.raises(ValueError):
        simulate_ridge_path_given_design(np.ones(10), np.ones(9), 5, [0.1], 0.1, trials=2)


@pytest.mark.parametrize("n,p", [(6, 11), (11, 6), (8, 8)])
def test_kernel_matches_explicit_linear_algebra(n, p):
    """`ridge_path_given_design` against A = (X^T X + n lam I)^+ X^T written out, per trial."""
    from hdreg.sim.ridge import ridge_path, ridge_path_given_design

    rng = np.random.default_rng(3)
    spec = np.linspace(0.3, 2.0, p)
    beta = rng.standard_normal(p)
    X = rng.standard_normal((3, n, p)) * np.sqrt(spec)
    lams = np.array([0.0, 0.1, 1.0]) if n != p else np.array([0.1, 1.0])
    s2 = 0.4
    coef, bias, var, train = ridge_path_given_design(X, beta, n * lams, s2, spec)
    assert coef.shape == (3, p, lams.size) and bias.shape == var.shape == train.shape == (3, lams.size)
    # the noiseless coefficients are ridge_path's with y = X beta
    np.testing.assert_allclose(coef, ridge_path(X, X @ beta, n * lams), rtol=1e-9, atol=1e-12)
    for i in range(3):
        for j, lam in enumerate(lams):
            A = np.linalg.pinv(X[i].T @ X[i] + n * lam * np.eye(p), rcond=1e-12) @ X[i].T
            m = A @ X[i] @ beta
            assert np.isclose(bias[i, j], ((m - beta) ** 2 * spec).sum(), rtol=1e-8)
            assert np.isclose(var[i, j], s2 * np.trace(A.T @ np.diag(spec) @ A), rtol=1e-8)
            H = X[i] @ A
            R = np.eye(n) - H
            exp_train = (((R @ X[i] @ beta) ** 2).sum() + s2 * np.trace(R.T @ R)) / n
            assert np.isclose(train[i, j], exp_train, rtol=1e-8)
