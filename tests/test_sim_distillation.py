"""hdreg.sim.distillation: batched surrogate-to-target and two-stage simulators against explicit solves."""

from __future__ import annotations

import numpy as np
import pytest
from _hdreg_fixtures import PerTrial, clean_env, power_law  # noqa: F401

from hdreg.sim.distillation import (digits_weak_to_strong, simulate_surrogate_target,
                                    simulate_two_stage)
from hdreg.sim.ridge import simulate_ridge_path


def _problem(p=40):
    spec = power_law(p, 1.5)
    return spec, np.sqrt(np.arange(1, p + 1) ** -1.5 / spec)


def _fit(X, y, lam):
    n, p = X.shape
    if lam == 0:
        return np.linalg.lstsq(X, y, rcond=None)[0]
    return np.linalg.solve(X.T @ X + n * lam * np.eye(p), X.T @ y)


@pytest.mark.parametrize("n", [15, 60])  # over- and under-parameterised target
def test_surrogate_target_matches_explicit_solves(n):
    spec, beta = _problem()
    rs = np.random.default_rng(0)
    surr = np.stack([beta, 0.5 * beta, rs.standard_normal(40)])
    lams = [0.0, 0.05]
    trials, noise = 4, 0.2
    sim = simulate_surrogate_target(spec, beta, surr, n, noise, trials=trials, lams=lams, seed=3,
                                    return_mean_coef=True)
    gen = PerTrial(3, trials)
    X = gen.standard_normal((trials, n, 40)) * np.sqrt(spec)
    eps = np.sqrt(noise) * gen.standard_normal((trials, n, 1))[:, :, 0]
    ref = np.empty((trials, 3, 2))
    coef = np.zeros((40, 3, 2))
    for t in range(trials):
        for s_, b_s in enumerate(surr):
            for j, lam in enumerate(lams):
                b = _fit(X[t], X[t] @ b_s + eps[t], lam)
                ref[t, s_, j] = np.sum(spec * (b - beta) ** 2)
                coef[:, s_, j] += b / trials
    np.testing.assert_allclose(sim.risk, ref, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(sim.coef_mean, coef, rtol=1e-7, atol=1e-10)


def test_ground_truth_surrogate_reproduces_ridge_path():
    spec, beta = _problem()
    a = simulate_surrogate_target(spec, beta, beta, 25, 0.3, trials=5, lams=[0.0, 0.1], seed=8)
    b = simulate_ridge_path(spec, beta, 25, [0.0, 0.1], 0.3, trials=5, seed=8)
    np.testing.assert_allclose(a.risk[:, 0, :], b.risk, rtol=1e-8)


def test_chunking_does_not_change_results(monkeypatch):
    spec, beta = _problem()
    whole = simulate_surrogate_target(spec, beta, beta, 20, 0.1, trials=6, seed=2)
    monkeypatch.setenv("HDREG_MEM_BUDGET_GB", str(2.5e5 / 2**30))  # room for about one trial
    parts = simulate_surrogate_target(spec, beta, beta, 20, 0.1, trials=6, seed=2)
    np.testing.assert_allclose(parts.risk, whole.risk, rtol=1e-12)  # per-trial values, not shapes
    longer = simulate_surrogate_target(spec, beta, beta, 20, 0.1, trials=9, seed=2)
    np.testing.assert_allclose(longer.risk[:6], whole.risk, rtol=1e-12)


@pytest.mark.parametrize("k,m", [(10, 30), (30, 20)])  # under- and over-parameterised teacher
def test_two_stage_matches_explicit_solves(k, m):
    spec, beta = _problem()
    n, trials, noise, tnoise = 25, 3, 0.2, 0.05
    sim = simulate_two_stage(spec, beta, m, n, noise, trials=trials, features=k, lam_teacher=0.0,
                             lams=[0.0, 0.02], target_noise_var=tnoise, seed=6)
    gen = PerTrial(6, trials)
    Xs = gen.standard_normal((trials, m, 40)) * np.sqrt(spec)
    ys = Xs @ beta + np.sqrt(noise) * gen.standard_normal((trials, m))
    X = gen.standard_normal((trials, n, 40)) * np.sqrt(spec)
    eps = gen.standard_normal((trials, n))
    for t in range(trials):
        b_s = np.zeros(40)
        b_s[:k] = _fit(Xs[t][:, :k], ys[t], 0.0)
        assert sim.teacher[t] == pytest.approx(np.sum(spec * (b_s - beta) ** 2), rel=1e-7)
        for j, lam in enumerate([0.0, 0.02]):
            b = _fit(X[t], X[t] @ b_s + np.sqrt(tnoise) * eps[t], lam)
            assert sim.student[t, j] == pytest.approx(np.sum(spec * (b - beta) ** 2), rel=1e-7)
            b = _fit(X[t], X[t] @ beta + np.sqrt(noise) * eps[t], lam)
            assert sim.strong[t, j] == pytest.approx(np.sum(spec * (b - beta) ** 2), rel=1e-7)
    g, se = sim.gap("student", "teacher")
    assert g.shape == (2,) and np.all(se >= 0)


def test_two_stage_chunking_does_not_change_results(monkeypatch):
    spec, beta = _problem()
    args = dict(spectrum=spec, beta_star=beta, m=20, n=25, noise_var=0.2, features=10, lams=[0.0, 0.1])
    whole = simulate_two_stage(trials=5, seed=4, **args)
    monkeypatch.setenv("HDREG_MEM_BUDGET_GB", str(1.5e5 / 2**30))
    parts = simulate_two_stage(trials=5, seed=4, **args)
    for field in ("teacher", "student", "strong"):
        np.testing.assert_allclose(getattr(parts, field), getattr(whole, field), rtol=1e-12)


def test_digits_protocol_runs_offline():
    res = digits_weak_to_strong(2, m=60, n=100, teacher="pca", weak_size=4, n_test=100, seed=1)
    assert res.teacher.shape == res.student.shape == res.strong.shape == (2,)
    assert np.all(res.strong > 0)
    with pytest.raises(ValueError, match="teacher"):
        digits_weak_to_strong(2, m=60, n=100, teacher="svm")
    with pytest.raises(ValueError, match="exceeds"):
        digits_weak_to_strong(2, m=1000, n=1000)


BAD = [
    (lambda s, b: simulate_surrogate_target(s, b, b[:-1], 10, 0.1, trials=2), "surrogates"),
    (lambda s, b: simulate_surrogate_target(s, b, np.ones((2, 2, s.size)), 10, 0.1, trials=2), "surrogates"),
    (lambda s, b: simulate_surrogate_target(s, b, b * np.inf, 10, 0.1, trials=2), "finite"),
    (lambda s, b: simulate_surrogate_target(s, b[:-1], b, 10, 0.1, trials=2), "beta_star"),
    (lambda s, b: simulate_surrogate_target(s, b, b, 10, -0.1, trials=2), "noise_var"),
    (lambda s, b: simulate_surrogate_target(s, b, b, 0, 0.1, trials=2), "n"),
    (lambda s, b: simulate_surrogate_target(s, b, b, 10, 0.1, trials=0), "trials"),
    (lambda s, b: simulate_surrogate_target(s, b, b, 10, 0.1, trials=2, lams=[-1.0]), "lams"),
    (lambda s, b: simulate_surrogate_target(s, b, b, s.size, 0.1, trials=2), "threshold"),
    (lambda s, b: simulate_surrogate_target(-s, b, b, 10, 0.1, trials=2), "non-negative"),
    (lambda s, b: simulate_two_stage(s, b, 10, 10, 0.1, trials=2, features=10), "threshold"),
    (lambda s, b: simulate_two_stage(s, b, 20, 10, 0.1, trials=2, features=np.ones(3, dtype=bool)), "features"),
    (lambda s, b: simulate_two_stage(s, b, 20, 10, 0.1, trials=2, lam_teacher=-1.0), "lam_teacher"),
    (lambda s, b: simulate_two_stage(s, b, 20, 10, 0.1, trials=2, target_noise_var=-1.0), "target_noise_var"),
    (lambda s, b: simulate_two_stage(s, b, 0, 10, 0.1, trials=2), "m"),
]


@pytest.mark.parametrize("case", range(len(BAD)))
def test_bad_input_raises(case):
    spec, beta = _problem()
    fn, word = BAD[case]
    with pytest.raises(ValueError, match=word):
        fn(spec, beta)


# --- risks conditioned on the design (noise integrated, signs of beta averaged)


def _small_problem(p=30):
    i = np.arange(1, p + 1)
    spec = i ** -1.0
    return spec, np.sqrt(i ** -1.2 / spec)


def test_conditional_surrogate_risk_has_the_raw_mean():
    spec, beta = _small_problem()
    surr = np.stack([beta, 0.5 * beta])
    raw = simulate_surrogate_target(spec, beta, surr, 20, 0.3, trials=3000, lams=[0.0, 0.1], seed=1)
    cond = simulate_surrogate_target(spec, beta, surr, 20, 0.3, trials=400, lams=[0.0, 0.1], seed=2,
                                     conditional=True)
    mr, sr = raw.mean_se()
    mc, sc_ = cond.mean_se()
    assert np.all(np.abs(mr - mc) <= 4 * np.sqrt(sr**2 + sc_**2))
    assert np.all(cond.risk.std(axis=0) < 0.5 * raw.risk.std(axis=0))  # the point of conditioning


def test_conditional_two_stage_has_the_raw_mean():
    spec, beta = _small_problem()
    kw = dict(features=10, lams=[0.0, 0.05], target_noise_var=0.1)
    raw = simulate_two_stage(spec, beta, 25, 20, 0.2, trials=3000, seed=3, **kw)
    cond = simulate_two_stage(spec, beta, 25, 20, 0.2, trials=400, seed=4, conditional=True, **kw)
    for f in ("teacher", "student", "strong"):
        mr, sr = raw.mean_se(f)
        mc, sc_ = cond.mean_se(f)
        assert np.all(np.abs(mr - mc) <= 4 * np.sqrt(sr**2 + sc_**2)), f


def test_conditional_rejects_mean_coef():
    spec, beta = _small_problem()
    with pytest.raises(ValueError, match="conditional"):
        simulate_surrogate_target(spec, beta, beta, 20, 0.1, trials=2, conditional=True,
                                  return_mean_coef=True)


def test_sign_averaged_risk_is_the_average_over_all_signs():
    import itertools

    from hdreg.sim.distillation import sign_averaged_risk

    g = np.random.default_rng(0)
    p, q = 4, 3
    spec = np.array([2.0, 1.0, 0.5, 0.1])
    A, N = g.standard_normal((1, p, p, 1)), g.standard_normal((1, p, q, 1))
    b, beta = g.standard_normal(p), g.standard_normal(p)
    brute = 0.0
    for signs in itertools.product([-1.0, 1.0], repeat=p):
        s = np.array(signs)
        err = A[0, :, :, 0] @ (s * b) - s * beta
        brute += np.sum(spec * err**2) / 2**p
    brute += 0.3 * np.sum(spec[:, None] * N[0, :, :, 0] ** 2)
    got = sign_averaged_risk(spec, A, b, beta, N, 0.3)
    assert got.shape == (1, 1)
    assert np.allclose(got[0, 0], brute, rtol=1e-12)
    two = sign_averaged_risk(spec, A, np.stack([b, 2 * b]), beta, N, 0.3)
    assert two.shape == (1, 2, 1) and np.isclose(two[0, 0, 0], brute)


# --- covariance shift (appended)

from hdreg.sim.distillation import simulate_covariance_shift  # noqa: E402
from hdreg.theory import distillation as _dist  # noqa: E402


def test_covariance_shift_without_shift_is_the_two_stage_simulation():
    spec, beta = _small_problem()
    a = simulate_covariance_shift(spec, beta, spec, 25, 20, 0.2, trials=6, seed=4, conditional=True)
    b = simulate_two_stage(spec, beta, 25, 20, 0.2, trials=6, seed=4, conditional=True)
    np.testing.assert_allclose(a.student[:, 0], b.student[:, 0], rtol=1e-10)
    np.testing.assert_allclose(a.teacher[:, 0], b.teacher, rtol=1e-10)
    np.testing.assert_allclose(a.strong, b.strong[:, 0], rtol=1e-10)


def test_covariance_shift_matches_explicit_solves():
    spec, beta = _small_problem()
    spec_s = np.stack([spec, _dist.power_shift_spectrum(spec, 0.3)])
    m, n, noise, tnoise = 40, 20, 0.2, 0.05
    sim = simulate_covariance_shift(spec, beta, spec_s, m, n, noise, trials=3, seed=7,
                                    target_noise_var=tnoise)
    from hdreg.batch import TrialRNG

    for i in range(3):
        gen = TrialRNG(7, i, i + 1, np)
        G = gen.standard_normal((1, m, spec.size))[0]
        X = gen.standard_normal((1, n, spec.size))[0] * np.sqrt(spec)
        eps_t = gen.standard_normal((1, m))[0]
        eps_s = gen.standard_normal((1, n))[0]
        strong = _fit(X, X @ beta + np.sqrt(noise) * eps_s, 0.0)
        assert np.isclose(sim.strong[i], np.sum(spec * (strong - beta) ** 2), rtol=1e-8)
        for j in range(2):
            Xt = G * np.sqrt(spec_s[j])
            bs = _fit(Xt, Xt @ beta + np.sqrt(noise) * eps_t, 0.0)
            bt = _fit(X, X @ bs + np.sqrt(tnoise) * eps_s, 0.0)
            assert np.isclose(sim.teacher[i, j], np.sum(spec * (bs - beta) ** 2), rtol=1e-8)
            assert np.isclose(sim.student[i, j], np.sum(spec * (bt - beta) ** 2), rtol=1e-8)


def test_conditional_covariance_shift_has_the_raw_mean():
    spec, beta = _small_problem()
    spec_s = _dist.power_shift_spectrum(spec, 0.5)
    kw = dict(target_noise_var=0.1)
    raw = simulate_covariance_shift(spec, beta, spec_s, 25, 20, 0.2, trials=3000, seed=3, **kw)
    cond = simulate_covariance_shift(spec, beta, spec_s, 25, 20, 0.2, trials=400, seed=4,
                                     conditional=True, **kw)
    for f in ("teacher", "student", "strong"):
        mr, sr = raw.mean_se(f)
        mc, sc_ = cond.mean_se(f)
        assert np.all(np.abs(mr - mc) <= 4 * np.sqrt(sr**2 + sc_**2)), f


BAD_SHIFT = [
    (lambda s, b: simulate_covariance_shift(s, b, s[:-1], 20, 10, 0.1, trials=2), "teacher_spectra"),
    (lambda s, b: simulate_covariance_shift(s, b, -s, 20, 10, 0.1, trials=2), "teacher_spectra"),
    (lambda s, b: simulate_covariance_shift(s, b, 0 * s, 20, 10, 0.1, trials=2), "positive"),
    (lambda s, b: simulate_covariance_shift(s, b, s * np.nan, 20, 10, 0.1, trials=2), "teacher_spectra"),
    (lambda s, b: simulate_covariance_shift(s, b, s, s.size, 10, 0.1, trials=2), "threshold"),
    (lambda s, b: simulate_covariance_shift(s, b, s, 20, s.size, 0.1, trials=2), "threshold"),
    (lambda s, b: simulate_covariance_shift(s, b, s, 20, 10, -0.1, trials=2), "noise_var"),
    (lambda s, b: simulate_covariance_shift(s, b, s, 20, 10, 0.1, trials=0), "trials"),
    (lambda s, b: simulate_covariance_shift(s, b, s, 20, 10, 0.1, trials=2, lam_teacher=-1.0),
     "lam_teacher"),
]


@pytest.mark.parametrize("case", range(len(BAD_SHIFT)))
def test_covariance_shift_bad_input_raises(case):
    spec, beta = _problem()
    fn, word = BAD_SHIFT[case]
    with pytest.raises(ValueError, match=word):
        fn(spec, beta)
