"""hdreg.theory.icl: closed forms of Chapter 5 against worked values, optimality and Monte Carlo."""

from __future__ import annotations

import numpy as np
import pytest

from _hdreg_fixtures import clean_env  # noqa: F401  (autouse fixture)
from hdreg.theory import icl


def _cov(d, seed, shift=0.3):
    g = np.random.default_rng(seed)
    b = g.standard_normal((d, d)) / np.sqrt(d)
    return b @ b.T + shift * np.eye(d)


@pytest.mark.parametrize("d,n,s2,gamma,risk", [(10, 40, 0.1, 0.7828, 2.2722), (5, 10, 0.0, 0.625, 1.875)])
def test_isotropic_worked_values(d, n, s2, gamma, risk):
    W = icl.pretrained_weights(np.eye(d), np.eye(d), n, s2)
    np.testing.assert_allclose(n * W, gamma * np.eye(d), atol=1e-4)
    assert icl.icl_loss(W, np.eye(d), np.eye(d), n, s2) == pytest.approx(risk, abs=1e-4)
    assert icl.isotropic_icl_loss(n, d, s2) == pytest.approx(risk, abs=1e-4)


def test_wstar_is_the_unique_minimiser():
    d, n, s2 = 6, 12, 0.4
    sx, sb = np.diag(np.linspace(0.5, 2, d)), _cov(d, 1)
    W = icl.pretrained_weights(sx, sb, n, s2)
    L = icl.icl_loss(W, sx, sb, n, s2)
    g = np.random.default_rng(2)
    D = 1e-3 * g.standard_normal((20, d, d))
    assert np.all(icl.icl_loss(W + D, sx, sb, n, s2) > L)
    # closed-form loss at the optimum
    assert L == pytest.approx(np.trace(sx @ sb) - n * np.trace(sx @ W @ sx @ sb) + s2, rel=1e-12)
    # large n: n W* -> Sigma_x^{-1}
    Wbig = icl.pretrained_weights(sx, sb, 10**7, s2)
    np.testing.assert_allclose(10**7 * Wbig, np.linalg.inv(sx), rtol=1e-4, atol=1e-5)


def test_icl_loss_against_direct_monte_carlo():
    d, n, s2, T = 4, 6, 0.3, 200_000
    sx, sb = np.diag([0.5, 1.0, 1.5, 2.0]), _cov(d, 3)
    W = icl.pretrained_weights(sx, sb, n, s2) + 0.01
    g = np.random.default_rng(4)
    beta = g.standard_normal((T, d)) @ np.linalg.cholesky(sb).T
    X = g.standard_normal((T, n, d)) * np.sqrt(np.diag(sx))
    y = np.einsum("tnd,td->tn", X, beta) + np.sqrt(s2) * g.standard_normal((T, n))
    x = g.standard_normal((T, d)) * np.sqrt(np.diag(sx))
    u = np.einsum("tnd,tn->td", X, y)
    err = (np.einsum("td,td->t", x, beta) + np.sqrt(s2) * g.standard_normal(T)
           - np.einsum("td,de,te->t", x, W, u))
    sq = err**2
    assert abs(sq.mean() - icl.icl_loss(W, sx, sb, n, s2)) < 4 * sq.std() / np.sqrt(T)


def test_fixed_task_loss_averages_to_icl_loss():
    d, n, s2 = 5, 7, 0.2
    sx, sb = np.diag(np.linspace(0.5, 2, d)), _cov(d, 5)
    W = icl.pretrained_weights(sx, sb, n, s2)
    ev, vec = np.linalg.eigh(sb)
    c = icl.fixed_task_loss(W, sx, np.zeros(d), n, s2)           # the beta-independent part
    avg = c + sum(icl.fixed_task_loss(W, sx, np.sqrt(l) * v, n, s2) - c for l, v in zip(ev, vec.T))
    assert avg == pytest.approx(icl.icl_loss(W, sx, sb, n, s2), rel=1e-12)
    # stacks broadcast
    stack = np.stack([W, 2 * W])
    np.testing.assert_allclose(icl.fixed_task_loss(stack, sx, vec[:, 0], n, s2),
                               [icl.fixed_task_loss(W, sx, vec[:, 0], n, s2),
                                icl.fixed_task_loss(2 * W, sx, vec[:, 0], n, s2)])


def test_isotropic_limit():
    d = 10**6
    assert icl.isotropic_icl_loss(2 * d, d) / d == pytest.approx(1 / 3, rel=1e-5)


def test_context_second_moment_isotropic():
    M = icl.context_second_moment(np.eye(3), np.eye(3), 5, 0.5)
    np.testing.assert_allclose(M, 5 * (6 + 3 + 0.5) * np.eye(3))


@pytest.mark.parametrize("sx,sb,n,s2,match", [
    (np.ones((2, 3)), np.eye(2), 3, 0.0, "square"),
    (np.eye(2), np.eye(3), 3, 0.0, "same shape"),
    (np.array([[1.0, 0.5], [0.0, 1.0]]), np.eye(2), 3, 0.0, "symmetric"),
    (np.diag([1.0, -0.5]), np.eye(2), 3, 0.0, "positive semi-definite"),
    (np.eye(2), np.diag([1.0, -0.5]), 3, 0.0, "sigma_beta"),
    (np.eye(2), np.eye(2), 0, 0.0, "n"),
    (np.eye(2), np.eye(2), 2.5, 0.0, "n"),
    (np.eye(2), np.eye(2), 3, -1.0, "noise_var"),
])
def test_bad_input(sx, sb, n, s2, match):
    with pytest.raises(ValueError, match=match):
        icl.pretrained_weights(sx, sb, n, s2)


def test_bad_input_losses():
    with pytest.raises(ValueError, match="W must have shape"):
        icl.icl_loss(np.eye(3), np.eye(2), np.eye(2), 3)
    with pytest.raises(ValueError, match="beta"):
        icl.fixed_task_loss(np.eye(2), np.eye(2), np.ones(3), 3)
    with pytest.raises(ValueError, match="n"):
        icl.isotropic_icl_loss(0, 3)
    with pytest.raises(ValueError, match="d"):
        icl.isotropic_icl_loss(3, 0)


# --------------------------------------------------------------------------- finite task diversity
def test_wishart_stieltjes_solves_the_marchenko_pastur_equation():
    x, ka = np.array([0.1, 0.5, 2.0]), np.array([0.3, 1.0, 4.0])
    m = icl.wishart_stieltjes(x, ka)
    # M = 1 / (x + 1 / (1 + M / kappa)): the self-consistent equation of the code's closed form
    np.testing.assert_allclose(m, 1 / (x + 1 / (1 + m / ka)), rtol=1e-12)
    with pytest.raises(ValueError, match="kappa"):
        icl.wishart_stieltjes(1.0, 0.0)


def test_finite_task_errors_limits_and_values():
    al, rho = 2.0, 0.01
    x = (1 + rho) / al
    e_icl, e_idg = icl.finite_task_errors(al, 1e7, 1e7, rho)
    assert np.isclose(e_icl, rho + x / (1 + x), rtol=1e-5)
    assert np.isclose(e_idg, e_icl, rtol=1e-4)
    # memorisation at low diversity, merging at high diversity (both branches of tau)
    for tau in (0.5, 4.0):
        e_icl_, e_idg_ = icl.finite_task_errors(al, np.array([0.1, 50.0]), tau, rho)
        gap = e_icl_ - e_idg_
        assert gap[0] > 5 * gap[1] > 0
    # a value from an independent transcription of the authors' formula
    e = icl.finite_task_errors(2.0, 1.0, 4.0, 0.01)
    assert np.allclose(e, (0.643, 0.349), atol=1e-3)
    # the peak at tau = 1
    assert icl.finite_task_errors(2.0, 1.0, 1.02, 0.01)[0] > 5 * e[0]
    with pytest.raises(ValueError, match="tau"):
        icl.finite_task_errors(2.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="alpha"):
        icl.finite_task_errors(-1.0, 1.0, 2.0)
    with pytest.raises(ValueError, match="noise_var"):
        icl.finite_task_errors(1.0, 1.0, 2.0, rho=-0.1)


def test_task_set_test_error_against_monte_carlo_and_scalar_step():
    d, ell, rho = 6, 12, 0.2
    gen = np.random.default_rng(0)
    G = gen.standard_normal((d, d + 1)) / d
    W = gen.standard_normal((3, d))
    W = W / np.linalg.norm(W, axis=1, keepdims=True) * np.sqrt(d)
    m = 400000
    for tasks in (None, W):
        w = gen.standard_normal((m, d)) if tasks is None else W[gen.integers(0, 3, m)]
        x = gen.standard_normal((m, ell + 1, d)) / np.sqrt(d)
        y = (x * w[:, None]).sum(-1) + np.sqrt(rho) * gen.standard_normal((m, ell + 1))
        h = np.concatenate([(d / ell) * (y[:, :ell, None] * x[:, :ell]).sum(1),
                            (y[:, :ell] ** 2).mean(-1)[:, None]], axis=-1)
        err = (y[:, ell] - ((x[:, ell] @ G) * h).sum(-1)) ** 2
        assert abs(err.mean() - icl.task_set_test_error(G, ell, rho, tasks)) < 4 * err.std() / np.sqrt(m)
    # scalar step [c I, 0]: 1 + rho - 2c + c^2 (1 + 1/ell + (1 + rho) d/ell), for any normalised set
    c = 0.4
    g0 = np.hstack([c * np.eye(d), np.zeros((d, 1))])
    ref = 1 + rho - 2 * c + c * c * (1 + 1 / ell + (1 + rho) * d / ell)
    assert np.isclose(icl.task_set_test_error(g0, ell, rho), ref)
    assert np.isclose(icl.task_set_test_error(g0, ell, rho, W), ref)
    assert np.shape(icl.task_set_test_error(np.stack([g0, G]), ell, rho)) == (2,)
    with pytest.raises(ValueError, match="gamma"):
        icl.task_set_test_error(np.eye(d), ell)
    with pytest.raises(ValueError, match="tasks"):
        icl.task_set_test_error(g0, ell, tasks=np.ones((3, d + 1)))
    with pytest.raises(ValueError, match="context length"):
        icl.task_set_test_error(g0, 0)
