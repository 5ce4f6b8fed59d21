"""hdreg.sim.icl: the O(n + d) prompt sampler, SGD pretraining and the TTT simulators (Chapters 5-6)."""

from __future__ import annotations

import numpy as np
import pytest

from _hdreg_fixtures import clean_env  # noqa: F401  (autouse fixture)
from hdreg.sim.icl import pretrain_sgd, sample_contexts, simulate_ttt, simulate_ttt_multistep
from hdreg.theory import icl, ttt


def test_sampler_moments_match_wishart_algebra():
    d, n, s2, T = 4, 5, 0.5, 200_000
    sx = np.diag([0.5, 1.0, 1.5, 2.0])
    g = np.random.default_rng(0)
    A = g.standard_normal((d, d)) / 2
    sb = A @ A.T + 0.2 * np.eye(d)
    beta = g.standard_normal((T, d)) @ np.linalg.cholesky(sb).T
    u = sample_contexts(sx, beta, n, s2, seed=1)
    # E[u beta^T] = n Sx Sb and E[u u^T] = n M, entrywise within 5 standard errors
    for prod, target in ((u[:, :, None] * beta[:, None, :], n * sx @ sb),
                         (u[:, :, None] * u[:, None, :], icl.context_second_moment(sx, sb, n, s2))):
        m, se = prod.mean(0), prod.std(0) / np.sqrt(T)
        assert np.all(np.abs(m - target) < 5 * se)


def test_sampler_fixed_task_matches_direct_sampling():
    d, n, T = 3, 4, 200_000
    beta = np.array([1.0, -0.5, 0.0])
    u = sample_contexts(np.eye(d), np.broadcast_to(beta, (T, d)), n, 0.0, seed=2)
    g = np.random.default_rng(3)
    X = g.standard_normal((T, n, d))
    ud = np.einsum("tnd,tn->td", X, X @ beta)
    for a, b in ((u, ud), (u**2, ud**2)):
        se = np.hypot(a.std(0), b.std(0)) / np.sqrt(T)
        assert np.all(np.abs(a.mean(0) - b.mean(0)) < 5 * se)


def test_pretrain_sgd_converges_to_wstar():
    d, n, s2 = 3, 6, 0.2
    sx, sb = np.diag([0.6, 1.0, 1.6]), np.eye(d) + 0.3
    out = pretrain_sgd(sx, sb, n, s2, steps=300, batch=256, runs=4, seed=0, record=50)
    W = icl.pretrained_weights(sx, sb, n, s2)
    assert np.abs(out.W_avg.mean(0) - W).max() < 0.03 * np.abs(W).max()
    assert out.loss.shape == (4, len(out.steps)) and out.steps[-1] == 300
    L = icl.icl_loss(W, sx, sb, n, s2)
    assert np.all(out.loss[:, -1] >= L - 1e-12) and np.all(out.loss[:, -1] < 1.01 * L)


def test_ttt_exact_evaluation_matches_sampled_fresh_prompts():
    d, n, k = 6, 8, 10
    lam, beta = np.linspace(0.5, 2, d), np.linspace(-1, 1, d)
    W0 = np.stack([np.diag(1 / (n * lam + 4.0)), np.zeros((d, d))])
    etas = np.array([[0.0, 2e-4], [0.0, 2e-4]])
    exact = simulate_ttt(lam, W0, beta, n, k, etas, trials=200, seed=5)
    sampled = simulate_ttt(lam, W0, beta, n, k, etas, trials=200, seed=5, fresh_prompts=4000)
    # the same trials (same context and demonstrations); only the evaluation differs
    diff = sampled.loss - exact.loss
    m, se = diff.mean(0), diff.std(0) / np.sqrt(200)
    assert np.all(np.abs(m) < 5 * se + 1e-12)
    # eta = 0 leaves the pretrained loss
    np.testing.assert_allclose(exact.loss[:, :, 0], exact.icl)


def test_ttt_isotropic_against_exact_theory():
    d, n, k, T = 30, 30, 45, 600
    W0 = np.stack([np.eye(d) / (n + d + 1), np.zeros((d, d))])
    for protocol in ("fresh", "same"):
        th = [ttt.isotropic_ttt(n, k, d, s, protocol) for s in ("warm", "cold")]
        out = simulate_ttt(np.ones(d), W0, np.ones(d) / np.sqrt(d), n, k, [[t.eta] for t in th], T,
                           protocol, seed=7)
        m, se = out.mean_se()
        assert np.all(np.abs(m[:, 0] - [t.after for t in th]) < 4.5 * se[:, 0])


def test_multistep_first_step_and_zero_step():
    d, n, k, T = 20, 20, 40, 400
    W0 = np.eye(d) / (n + d + 1)
    beta = np.ones(d) / np.sqrt(d)
    th = ttt.isotropic_ttt(n, k, d, "warm")
    out = simulate_ttt_multistep(np.ones(d), W0, beta, n, k, [[th.eta, 0.0]], T, seed=3)
    assert out.shape == (T, 1, 3)
    np.testing.assert_allclose(out[:, 0, 0], th.before)
    np.testing.assert_allclose(out[:, 0, 2], out[:, 0, 1])        # a zero step changes nothing
    m, se = out[:, 0, 1].mean(), out[:, 0, 1].std() / np.sqrt(T)
    assert abs(m - th.after) < 4.5 * se


def test_bad_input():
    with pytest.raises(ValueError, match="sigma_x"):
        sample_contexts(np.diag([1.0, -1.0]), np.ones((3, 2)), 4)
    with pytest.raises(ValueError, match="betas"):
        sample_contexts(np.eye(2), np.ones((3, 3)), 4)
    with pytest.raises(ValueError, match="noise_var"):
        sample_contexts(np.eye(2), np.ones((3, 2)), 4, -1.0)
    with pytest.raises(ValueError, match="same shape"):
        pretrain_sgd(np.eye(2), np.eye(3), 4, 0.0, steps=2, batch=2)
    with pytest.raises(ValueError, match="steps"):
        pretrain_sgd(np.eye(2), np.eye(2), 4, 0.0, steps=0, batch=2)
    with pytest.raises(ValueError, match="lr"):
        pretrain_sgd(np.eye(2), np.eye(2), 4, 0.0, steps=2, batch=2, lr=-1.0)
    with pytest.raises(ValueError, match="average_from"):
        pretrain_sgd(np.eye(2), np.eye(2), 4, 0.0, steps=2, batch=2, average_from=1.0)
    with pytest.raises(ValueError, match="w0"):
        simulate_ttt(np.ones(3), np.eye(2), np.ones(3), 4, 4, [0.1], 2)
    with pytest.raises(ValueError, match="beta"):
        simulate_ttt(np.ones(3), np.eye(3), np.ones(2), 4, 4, [0.1], 2)
    with pytest.raises(ValueError, match="protocol"):
        simulate_ttt(np.ones(3), np.eye(3), np.ones(3), 4, 4, [0.1], 2, protocol="stale")
    with pytest.raises(ValueError, match="etas"):
        simulate_ttt(np.ones(3), np.stack([np.eye(3)] * 2), np.ones(3), 4, 4, np.zeros((3, 1)), 2)
    with pytest.raises(ValueError, match="fresh_prompts"):
        simulate_ttt(np.ones(3), np.eye(3), np.ones(3), 4, 4, [0.1], 2, protocol="same", fresh_prompts=3)
    with pytest.raises(ValueError, match="spectrum"):
        simulate_ttt_multistep(-np.ones(3), np.eye(3), np.ones(3), 4, 4, [[0.1]], 2)


def test_prompt_losses_match_icl_loss_and_fixed_task_loss():
    from hdreg.sim.icl import prompt_losses
    d, n, s2 = 5, 7, 0.3
    sx = np.diag(np.linspace(0.5, 2.0, d))
    sb = np.eye(d) + 0.2 * np.ones((d, d))
    W = icl.pretrained_weights(sx, sb, n, s2)
    per = prompt_losses(W, sx, sb, n, s2, prompts=100_000, seed=4)
    assert per.shape == (100_000,)
    se = per.std(ddof=1) / np.sqrt(per.size)
    assert abs(per.mean() - icl.icl_loss(W, sx, sb, n, s2)) < 5 * se
    beta = np.linspace(-1.0, 1.0, d)
    per = prompt_losses(W, sx, None, n, s2, prompts=100_000, seed=5, beta=beta)
    se = per.std(ddof=1) / np.sqrt(per.size)
    assert abs(per.mean() - icl.fixed_task_loss(W, sx, beta, n, s2)) < 5 * se


@pytest.mark.parametrize("kwargs, match", [
    (dict(W=np.eye(3)), "W must be"),
    (dict(W=np.full((2, 2), np.nan)), "W must be"),
    (dict(prompts=0), "prompts"),
    (dict(noise_var=-1.0), "noise_var"),
    (dict(sigma_beta=-np.eye(2)), "sigma_beta"),
    (dict(beta=np.ones(3)), "beta must be"),
    (dict(n=0), "n"),
])
def test_prompt_losses_rejects_bad_input(kwargs, match):
    from hdreg.sim.icl import prompt_losses
    args = dict(W=np.eye(2), sigma_x=np.eye(2), sigma_beta=np.eye(2), n=3, noise_var=0.0,
                prompts=10, seed=0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        prompt_losses(**args)


def test_ttt_shift_and_label_noise_against_exact_theory():
    d, n, k, T = 30, 15, 30, 800
    beta = np.ones(d) / np.sqrt(d)
    W0 = np.stack([np.eye(d) / (n + d + 1), np.zeros((d, d))])
    for scale, noise, protocol in ((2.0, 0.0, "fresh"), (1.0, 1.5, "fresh"), (0.7, 0.5, "same")):
        th = [ttt.shifted_ttt(n, k, d, scale, noise, s, protocol) for s in ("warm", "cold")]
        etas = [[t.eta / scale**3] for t in th]
        out = simulate_ttt(scale * np.ones(d), W0, beta, n, k, etas, T, protocol, seed=3,
                           label_noise=noise * scale)
        m, se = out.mean_se()
        assert np.all(np.abs(m[:, 0] / scale - [t.after for t in th]) < 4.5 * se[:, 0] / scale)
    # default label_noise = 0 keeps the noiseless random stream
    a = simulate_ttt(np.ones(d), W0, beta, n, k, [[0.01]], 5, seed=1)
    b = simulate_ttt(np.ones(d), W0, beta, n, k, [[0.01]], 5, seed=1, label_noise=0.0)
    np.testing.assert_array_equal(a.loss, b.loss)
    with pytest.raises(ValueError, match="label_noise"):
        simulate_ttt(np.ones(d), W0, beta, n, k, [[0.01]], 5, label_noise=-1.0)


def test_finite_tasks_fit_and_paired_errors():
    from hdreg.sim.icl import simulate_finite_tasks
    d, ell, rho = 6, 12, 0.1
    r = simulate_finite_tasks(d, ell, 400, 3, rho, 4, test_prompts=20000, seed=2)
    assert r.gamma.shape == (4, d, d + 1) and r.tasks.shape == (4, 3, d)
    np.testing.assert_allclose(np.linalg.norm(r.tasks, axis=-1), np.sqrt(d))
    ex_icl = icl.task_set_test_error(r.gamma, ell, rho)
    ex_idg = np.array([icl.task_set_test_error(g, ell, rho, w) for g, w in zip(r.gamma, r.tasks)])
    assert np.all(np.abs(r.icl - ex_icl) < 0.05 * ex_icl)
    assert np.all(np.abs(r.idg - ex_idg) < 0.05 * ex_idg)
    assert np.all(ex_idg < ex_icl)                    # three tasks are memorised
    # per-trial randomness: a trial does not depend on how many trials run
    r2 = simulate_finite_tasks(d, ell, 400, 3, rho, 2, test_prompts=None, seed=2)
    np.testing.assert_allclose(r2.gamma, r.gamma[:2])
    assert r2.icl is None
    for kwargs, match in ((dict(d=0), "d"), (dict(tasks=0), "tasks"), (dict(rho=-1.0), "rho"),
                          (dict(ridge=-1.0), "ridge"), (dict(test_prompts=0), "test_prompts")):
        args = dict(d=d, ell=ell, prompts=100, tasks=3, rho=rho, trials=1) | kwargs
        with pytest.raises(ValueError, match=match):
            simulate_finite_tasks(**args)
