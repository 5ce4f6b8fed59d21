"""hdreg.sim.ridge: the batched ridge-path simulator against explicit per-trial solves."""

from __future__ import annotations

import numpy as np
import pytest
from _hdreg_fixtures import clean_env, power_law  # noqa: F401

from hdreg import backend
from hdreg.sim import ridge as simridge
from hdreg.sim.ridge import memory_budget, sample_covariance_eigenvalues, simulate_ridge_path


def _trial_gen(seed, i):
    """Trial i's generator, written out independently of hdreg.batch: the i-th spawned child."""
    return np.random.default_rng(np.random.SeedSequence(seed).spawn(i + 1)[i])


def _draws(spec, n, trials, seed):
    """Reproduce the simulator's random draws: per trial, its design then its noise."""
    Xs, Es = [], []
    for i in range(trials):
        g = _trial_gen(seed, i)
        Xs.append(g.standard_normal((n, spec.size)) * np.sqrt(spec))
        Es.append(g.standard_normal(n))
    return np.stack(Xs), np.stack(Es)


def _reference(spec, beta, n, lams, noise_var, trials, seed):
    """Per-trial ridge by numpy.linalg.solve (lam > 0) and lstsq (lam = 0, minimum norm)."""
    X, E = _draws(spec, n, trials, seed)
    y = X @ beta + np.sqrt(noise_var) * E
    p = spec.size
    coef = np.empty((trials, p, len(lams)))
    for t in range(trials):
        for j, lam in enumerate(lams):
            if lam == 0:
                coef[t, :, j] = np.linalg.lstsq(X[t], y[t], rcond=None)[0]
            else:
                coef[t, :, j] = np.linalg.solve(X[t].T @ X[t] + n * lam * np.eye(p), X[t].T @ y[t])
    err = coef - beta[None, :, None]
    risk = np.einsum("i,tij->tj", spec, err * err)
    resid = y[:, :, None] - X @ coef
    train = (resid * resid).sum(axis=1) / n
    return coef, risk, train


CASES = [
    # (n, p, spectrum kind) -- n < p and n > p, with and without zero eigenvalues
    (7, 12, "power"),
    (15, 6, "power"),
    (9, 9, "power_zeros"),   # rank 6 < n = p: ridgeless is fine (n != rank)
    (4, 10, "power_zeros"),  # n < rank = 7 < p
]


def _spec(p, kind):
    s = power_law(p, 1.0)
    if kind == "power_zeros":
        s[-(p // 3):] = 0.0  # rank 6 for p = 9, rank 7 for p = 10
    return s


@pytest.mark.parametrize("n, p, kind", CASES)
def test_matches_explicit_solves_with_the_same_draws(monkeypatch, n, p, kind):
    monkeypatch.setenv("HDREG_BACKEND", "numpy")
    monkeypatch.setenv("HDREG_MEM_BUDGET_GB", "4")  # one chunk
    spec = _spec(p, kind)
    beta = np.linspace(1.0, -0.5, p)
    lams = np.array([0.0, 1e-3, 0.05, 2.0])
    sim = simulate_ridge_path(spec, beta, n, lams, 0.3, trials=3, seed=42, return_coef=True)
    coef, risk, train = _reference(spec, beta, n, lams, 0.3, trials=3, seed=42)
    assert sim.coef.shape == (3, p, 4) and sim.risk.shape == (3, 4)
    np.testing.assert_array_equal(sim.lams, lams)
    np.testing.assert_allclose(sim.coef, coef, rtol=1e-8, atol=1e-8 * np.abs(coef).max())
    np.testing.assert_allclose(sim.risk, risk, rtol=1e-8)
    np.testing.assert_allclose(sim.train_error, train, rtol=1e-7, atol=1e-12)
    assert sim.trials == 3
    m, se = sim.mean_se()
    np.testing.assert_allclose(m, risk.mean(axis=0), rtol=1e-8)
    np.testing.assert_allclose(se, risk.std(axis=0, ddof=1) / np.sqrt(3), rtol=1e-6)


def test_without_coefficients_coef_is_none():
    sim = simulate_ridge_path(power_law(5), np.ones(5), 8, 0.1, 1.0, trials=2)
    assert sim.coef is None and sim.risk.shape == (2, 1)


def test_chunks_reproduce_the_per_trial_draws_exactly(monkeypatch):
    monkeypatch.setenv("HDREG_BACKEND", "numpy")  # the reference redraws with NumPy's generator
    spec, beta, n = power_law(30), np.ones(30) / 6, 20
    lams = np.array([0.0, 0.01, 1.0])
    monkeypatch.setenv("HDREG_MEM_BUDGET_GB", str(40_000 / 2**30))  # a few trials per chunk
    sizes = []
    real_design = simridge._design

    def spy(gen, xp, t, n_, sqrt_spec):
        sizes.append(t)
        return real_design(gen, xp, t, n_, sqrt_spec)

    monkeypatch.setattr(simridge, "_design", spy)
    sim = simulate_ridge_path(spec, beta, n, lams, 0.5, trials=11, seed=3)
    assert len(sizes) > 2 and sum(sizes) == 11
    _, risk, train = _reference(spec, beta, n, lams, 0.5, trials=11, seed=3)
    np.testing.assert_allclose(sim.risk, risk, rtol=1e-8)
    np.testing.assert_allclose(sim.train_error, train, rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("budget", [None, 200_000, 80_000, 40_000])
def test_seed_fixes_the_numbers_whatever_the_chunking(monkeypatch, budget):
    """Per-trial values, not shapes: the memory budget (hence the chunk size) changes nothing."""
    spec, beta, n = power_law(40), np.ones(40) / np.sqrt(40), 25
    lams = np.array([0.0, 0.01, 0.3])
    ref = simulate_ridge_path(spec, beta, n, lams, 0.5, trials=12, seed=1, return_coef=True)
    if budget is not None:
        monkeypatch.setenv("HDREG_MEM_BUDGET_GB", str(budget / 2**30))
    sim = simulate_ridge_path(spec, beta, n, lams, 0.5, trials=12, seed=1, return_coef=True)
    np.testing.assert_allclose(sim.risk, ref.risk, rtol=1e-12)
    np.testing.assert_allclose(sim.train_error, ref.train_error, rtol=1e-12)
    np.testing.assert_allclose(sim.coef, ref.coef, rtol=1e-11, atol=1e-13)


def test_first_trials_of_a_longer_run_are_the_shorter_run():
    spec, beta, lams = power_law(20), np.ones(20) / 4, np.array([0.0, 0.1])
    short = simulate_ridge_path(spec, beta, 12, lams, 0.5, trials=5, seed=9)
    long = simulate_ridge_path(spec, beta, 12, lams, 0.5, trials=10, seed=9)
    np.testing.assert_allclose(long.risk[:5], short.risk, rtol=1e-12)
    other = simulate_ridge_path(spec, beta, 12, lams, 0.5, trials=5, seed=10)
    assert not np.allclose(other.risk, short.risk)  # and the seed matters
    ev5 = sample_covariance_eigenvalues(spec, 12, trials=3, seed=2)
    ev9 = sample_covariance_eigenvalues(spec, 12, trials=6, seed=2)
    np.testing.assert_allclose(ev9[:3], ev5, rtol=1e-12, atol=1e-15)


def test_memory_error_when_one_trial_does_not_fit(monkeypatch):
    monkeypatch.setenv("HDREG_MEM_BUDGET_GB", "1e-6")
    with pytest.raises(MemoryError, match="HDREG_MEM_BUDGET_GB") as info:
        simulate_ridge_path(power_law(200), np.ones(200), 300, [0.1], 1.0, trials=2)
    assert "one trial needs" in str(info.value)
    with pytest.raises(MemoryError, match="sample_covariance_eigenvalues"):
        sample_covariance_eigenvalues(power_law(200), 300, trials=2)


def test_memory_budget(monkeypatch):
    monkeypatch.setenv("HDREG_BACKEND", "numpy")
    assert memory_budget() == 2 * 2**30
    monkeypatch.setenv("HDREG_MEM_BUDGET_GB", "0.5")
    assert memory_budget() == 2**29
    for bad in ("0", "-1"):
        monkeypatch.setenv("HDREG_MEM_BUDGET_GB", bad)
        with pytest.raises(ValueError, match="HDREG_MEM_BUDGET_GB"):
            memory_budget()


@pytest.mark.parametrize("change, word", [
    (dict(lams=[0.1, -0.01]), "lams"),
    (dict(lams=[np.nan]), "lams"),
    (dict(lams=np.ones((2, 2))), "lams"),
    (dict(beta=np.ones(5)), "beta"),
    (dict(spectrum=np.array([1.0, -1.0, 0.5, 0.2])), "spectrum"),
    (dict(n=4, lams=[0.0, 0.1]), "interpolation threshold"),
    (dict(n=10.5), "n must be a positive integer"),
    (dict(n=0), "n must be a positive integer"),
    (dict(n=True), "n must be a positive integer"),
    (dict(trials=0), "trials must be a positive integer"),
    (dict(trials=2.5), "trials must be a positive integer"),
    (dict(noise_var=-0.1), "noise_var"),
    (dict(seed=-3), "seed"),
])
def test_bad_input(change, word):
    args = dict(spectrum=np.array([1.0, 0.5, 0.25, 0.125]), beta=np.ones(4), n=10, lams=[0.1],
                noise_var=1.0, trials=2, seed=0)
    args.update(change)
    with pytest.raises(ValueError, match=word):
        simulate_ridge_path(**args)


def test_integer_valued_floats_are_accepted():
    sim = simulate_ridge_path(power_law(4), np.ones(4), 10.0, 0.1, 1.0, trials=2.0)
    assert sim.risk.shape == (2, 1)


@pytest.mark.parametrize("n, p", [(6, 10), (12, 5)])
def test_sample_covariance_eigenvalues(monkeypatch, n, p):
    monkeypatch.setenv("HDREG_BACKEND", "numpy")
    monkeypatch.setenv("HDREG_MEM_BUDGET_GB", "4")
    spec = power_law(p, 0.5)
    ev = sample_covariance_eigenvalues(spec, n, trials=3, seed=8)
    assert ev.shape == (3, p)
    X = np.stack([_trial_gen(8, i).standard_normal((n, p)) for i in range(3)]) * np.sqrt(spec)
    want = np.clip(np.linalg.eigvalsh(X.transpose(0, 2, 1) @ X / n), 0, None)
    np.testing.assert_allclose(ev, want, rtol=1e-9, atol=1e-12 * want.max())
    assert np.all(np.diff(ev, axis=1) >= 0)
    if p > n:
        np.testing.assert_array_equal(ev[:, : p - n], 0.0)
