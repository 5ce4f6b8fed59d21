"""hdreg.theory.synthetic: mixed-training, synthetic-only and over-parameterised deterministic equivalents."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import fsolve
from scipy.stats import ortho_group

from hdreg.theory import synthetic as th
from hdreg.theory.ridge import ridge_risk


def _spd(p, seed, cond=20.0):
    g = np.random.default_rng(seed)
    U = ortho_group.rvs(p, random_state=seed)
    return (U * np.geomspace(1.0, 1.0 / cond, p)) @ U.T


def test_kms_and_trace_normalisation():
    K = th.kms_covariance(5, 0.5)
    assert K[0, 4] == pytest.approx(0.5**4) and np.allclose(K, K.T) and np.all(np.diag(K) == 1)
    St, Ss = th.kms_covariance(30, 0.9), th.kms_covariance(30, 0.2)
    Sn = th.trace_normalised(St, Ss)
    assert np.trace(np.linalg.solve(St, Sn)) == pytest.approx(30)
    assert np.sum(th.shift_spectrum(St, Sn)) == pytest.approx(30)


def test_matched_covariance_closed_form():
    for p, nt, ns in ((20, 30, 50), (100, 101, 300), (50, 0, 120), (50, 120, 0)):
        S = _spd(p, p)
        assert th.mixed_training_risk(S, S, nt, ns, 0.7) == pytest.approx(0.7 * p / (nt + ns - p), rel=1e-10)


def test_fixed_point_equations_and_sum_rule():
    c = np.random.default_rng(0).gamma(0.7, size=80) + 1e-3
    for nt, ns in ((100, 100), (30, 200), (250, 5)):
        a_t, a_s = th.mixed_fixed_point(c, nt, ns)
        d = a_t + a_s * c
        assert a_t + a_s == pytest.approx(nt + ns - 80, rel=1e-12)
        assert a_t * (1 + np.sum(1 / d)) == pytest.approx(nt, rel=1e-10)
        assert a_s * (1 + np.sum(c / d)) == pytest.approx(ns, rel=1e-10)


def test_fixed_point_matches_fsolve_on_the_raw_equations():
    rs = np.random.default_rng(1)
    for _ in range(10):
        p = int(rs.integers(5, 60))
        c = rs.uniform(0.05, 5, p)
        nt, ns = float(rs.integers(1, 3 * p)), float(rs.integers(1, 3 * p))
        if nt + ns <= p + 1:
            continue

        def eqs(a):
            d = a[0] + a[1] * c
            return [a[0] * (1 + np.sum(1 / d)) - nt, a[1] * (1 + np.sum(c / d)) - ns]

        ref = fsolve(eqs, [nt * (nt + ns - p) / (nt + ns), ns * (nt + ns - p) / (nt + ns)], xtol=1e-12)
        got = th.mixed_fixed_point(c, nt, ns)
        np.testing.assert_allclose(got, ref, rtol=1e-8)


def test_vectorised_over_spectra_and_sizes():
    rs = np.random.default_rng(2)
    C = rs.uniform(0.1, 3, (4, 25))
    nt = np.array([30, 40, 50, 60])
    out = th.mixed_risk_from_shift(C, nt, 40, 1.0)
    ref = [th.mixed_risk_from_shift(C[i], nt[i], 40, 1.0) for i in range(4)]
    np.testing.assert_allclose(out, ref, rtol=1e-12)


def test_only_the_shift_spectrum_matters():
    p = 30
    St, Ss = _spd(p, 3), _spd(p, 4, cond=5)
    r = th.mixed_training_risk(St, Ss, 40, 50, 1.0)
    U = ortho_group.rvs(p, random_state=5)
    assert th.mixed_training_risk(U @ St @ U.T, U @ Ss @ U.T, 40, 50, 1.0) == pytest.approx(r, rel=1e-9)
    c = th.shift_spectrum(St, Ss)
    assert th.mixed_training_risk(np.eye(p), np.diag(c), 40, 50, 1.0) == pytest.approx(r, rel=1e-9)
    L = np.linalg.cholesky(St)
    Minv = np.linalg.inv(L)   # any A with A St A^T = I gives the same C spectrum
    np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(Minv @ Ss @ Minv.T)), c, rtol=1e-8)


def test_matching_is_optimal_and_more_variance_helps():
    rs = np.random.default_rng(6)
    p, nt, ns = 40, 60, 60
    base = th.mixed_risk_from_shift(np.ones(p), nt, ns, 1.0)
    for _ in range(50):
        c = rs.gamma(rs.uniform(0.2, 4), size=p)
        c *= p / c.sum()
        assert th.mixed_risk_from_shift(c, nt, ns, 1.0) > base
        # scaling up every c_i lowers the risk
        assert th.mixed_risk_from_shift(1.5 * c, nt, ns, 1.0) < th.mixed_risk_from_shift(c, nt, ns, 1.0)
    # Schur-convexity: a Robin Hood transfer (towards equality) lowers the risk
    c = np.linspace(0.2, 1.8, p)
    d = c.copy()
    d[0] += 0.1
    d[-1] -= 0.1
    assert th.mixed_risk_from_shift(d, nt, ns, 1.0) < th.mixed_risk_from_shift(c, nt, ns, 1.0)


def test_mixed_theory_against_monte_carlo():
    from hdreg.sim.synthetic import simulate_mixed_training

    p = 60
    St, Ss = th.kms_covariance(p, 0.8), th.trace_normalised(th.kms_covariance(p, 0.8), np.eye(p))
    sim = simulate_mixed_training(St, Ss, np.ones(p) / np.sqrt(p), 150, 150, 1.0, 100, seed=0)
    # cond_risk fluctuates little; its bias is O(1/(n - p)) relative, here < 1%
    np.testing.assert_allclose(sim.cond_risk.mean(), th.mixed_training_risk(St, Ss, 150, 150, 1.0),
                               rtol=0.02)


def test_synthetic_only_risk():
    p, n = 40, 160
    S = th.kms_covariance(p, 0.7)
    mu = np.random.default_rng(0).standard_normal(p)
    assert th.synthetic_only_risk(S, S, mu, mu, n, 2.0) == pytest.approx(2.0 * p / (n - p))
    assert th.synthetic_only_risk(S, S, np.zeros(p), np.zeros(p), n, 1.0) == pytest.approx(p / (n - p))
    # mean-free part equals the mixed formula with n_t = 0
    St = th.kms_covariance(p, 0.3)
    assert th.synthetic_only_risk(St, S, np.zeros(p), mu, n, 1.0) == pytest.approx(
        th.mixed_training_risk(St, S, 0, n, 1.0), rel=1e-8)
    # orthogonal (in the whitened metric) means cost ||u||^2/(n - p)
    other = np.random.default_rng(1).standard_normal(p)
    assert th.synthetic_only_risk(S, S, mu, other, n, 1.0) > th.synthetic_only_risk(S, S, mu, mu, n, 1.0)


def test_synthetic_only_against_monte_carlo():
    from hdreg.sim.synthetic import simulate_mixed_training

    p, n = 50, 250
    S = th.kms_covariance(p, 0.5)
    g = np.random.default_rng(3)
    mt, ms = 2 * np.sqrt(p) * g.standard_normal((2, p)) / np.sqrt(p)
    sim = simulate_mixed_training(S, S, np.zeros(p), 0, n, 1.0, 200, mu_t=mt, mu_s=ms, seed=1)
    np.testing.assert_allclose(sim.cond_risk.mean(), th.synthetic_only_risk(S, S, mt, ms, n, 1.0),
                               rtol=0.03)


@pytest.mark.parametrize("cos", [0.0, 0.7, 1.0])
def test_synthetic_only_finite_n_is_exact(cos):
    from hdreg.sim.synthetic import means_with_cosine, simulate_mixed_training

    p, n = 12, 30
    St, Ss = th.kms_covariance(p, 0.5), th.kms_covariance(p, 0.2)
    mt, ms = means_with_cosine(p, [cos], 3.0, seed=2)
    sim = simulate_mixed_training(St, Ss, np.zeros(p), 0, n, 1.0, 4000, mu_t=mt, mu_s=ms[0], seed=3)
    mean, se = sim.mean_se("cond_risk")
    exact = th.synthetic_only_risk(St, Ss, mt, ms[0], n, 1.0, finite_n=True)
    assert abs(mean - exact) < 4 * se
    assert th.synthetic_only_risk(St, Ss, mt, 0 * mt, n, 1.0, finite_n=True) == pytest.approx(
        th.synthetic_only_risk(St, Ss, mt, 0 * mt, n, 1.0) * (n - p) / (n - p - 1))


@pytest.mark.parametrize("lam", [0.0, 1e-3, 0.1])
@pytest.mark.parametrize("n", [40, 90, 300])
def test_overparam_reduces_to_ridge_when_matched(lam, n):
    p = 120
    t = np.arange(1, p + 1) ** -1.2
    beta = np.random.default_rng(0).standard_normal(p) / np.sqrt(p)
    if lam == 0.0 and n > p:
        t = t + 0.05  # under-parameterised ridgeless route needs a well-conditioned covariance
    out = th.overparameterised_risk(t, t, beta, n // 3, n - n // 3, 0.3, lam=lam)
    ref = ridge_risk(t, beta, n, lam, 0.3)
    assert out.bias == pytest.approx(ref.bias, rel=1e-7, abs=1e-12)
    assert out.variance == pytest.approx(ref.variance, rel=1e-7)


def _fd_reference(t, s, beta, nt, ns, sigma2, lam_u, h=1e-5):
    """Formula-sheet route: solve the generalised-resolvent fixed point for a_t, a_s at (lam, theta)
    and take finite differences (variance in lam, bias in theta)."""

    def qbar(lam, theta):
        def eqs(la):
            a = np.exp(la)
            Q = 1.0 / (a[0] * t + a[1] * s + lam - theta * t)
            return [a[0] * (1 + np.sum(t * Q)) - nt, a[1] * (1 + np.sum(s * Q)) - ns]

        la = fsolve(eqs, np.log([nt / 2, ns / 2]), xtol=1e-12)
        a = np.exp(la)
        return 1.0 / (a[0] * t + a[1] * s + lam - theta * t)

    f = lambda lam: lam * np.sum(t * qbar(lam, 0.0))  # noqa: E731
    var = sigma2 * (f(lam_u * (1 + h)) - f(lam_u * (1 - h))) / (2 * h * lam_u)
    g = lambda th_: beta @ (qbar(lam_u, th_) * beta)  # noqa: E731
    eps = h * lam_u
    bias = lam_u**2 * (g(eps) - g(-eps)) / (2 * eps)
    return bias, var


def test_overparam_implicit_derivatives_match_finite_differences():
    p = 80
    i = np.arange(1, p + 1)
    t, s = i**-1.0, 0.7 * i**-1.5 + 0.01
    beta = np.cos(i) / np.sqrt(p)
    nt, ns, lam = 20.0, 25.0, 0.02
    out = th.overparameterised_risk(t, s, beta, nt, ns, 0.5, lam=lam)
    bias, var = _fd_reference(t, s, beta, nt, ns, 0.5, (nt + ns) * lam)
    assert out.bias == pytest.approx(bias, rel=1e-4)
    assert out.variance == pytest.approx(var, rel=1e-4)
    # the ridgeless limit is continuous
    r0 = th.overparameterised_risk(t, s, beta, nt, ns, 0.5).risk
    r1 = th.overparameterised_risk(t, s, beta, nt, ns, 0.5, lam=1e-9).risk
    assert r1 == pytest.approx(r0, rel=1e-5)


def test_overparam_against_monte_carlo():
    from hdreg.sim.synthetic import simulate_mixed_training

    p = 160
    i = np.arange(1, p + 1)
    t = i**-1.0 / np.mean(i**-1.0)
    s = i**-1.5
    s *= p / np.sum(s / t)
    beta = np.ones(p) / np.sqrt(p)
    sim = simulate_mixed_training(t, s, beta, 40, 40, 0.1, 60, seed=2)
    mean, se = sim.mean_se("cond_risk")
    theory = th.overparameterised_risk(t, s, beta, 40, 40, 0.1).risk
    assert abs(mean - theory) < 0.03 * theory


def test_overparam_ridgeless_underparameterised_route():
    p = 30
    t = np.linspace(1, 2, p)
    s = np.linspace(0.5, 3, p)
    out = th.overparameterised_risk(t, s, np.ones(p), 40, 30, 1.0)
    assert out.bias == 0.0
    assert out.variance == pytest.approx(th.mixed_training_risk(np.diag(t), np.diag(s), 40, 30, 1.0))


BAD_MIXED = [
    (dict(sigma_t=np.ones((3, 4))), "sigma_t"),
    (dict(sigma_t=-np.eye(5)), "sigma_t"),
    (dict(sigma_t=np.diag([1, 1, 1, 1, 0.0])), "positive definite"),
    (dict(sigma_s=np.eye(4)), "same shape"),
    (dict(sigma_s=np.diag([1, 1, 1, 1, -1.0])), "sigma_s"),
    (dict(n_t=2, n_s=3), "n_t \\+ n_s must exceed"),
    (dict(n_t=-1), "n_t"),
    (dict(noise_var=-1.0), "noise_var"),
    (dict(n_t=np.array([10, 20])), "scalars"),
]


@pytest.mark.parametrize("bad,match", BAD_MIXED)
def test_mixed_training_risk_rejects_bad_input(bad, match):
    args = dict(sigma_t=np.eye(5), sigma_s=np.eye(5), n_t=10, n_s=10, noise_var=1.0)
    args.update(bad)
    with pytest.raises(ValueError, match=match):
        th.mixed_training_risk(**args)


def test_other_functions_reject_bad_input():
    with pytest.raises(ValueError, match="rho"):
        th.kms_covariance(5, 1.0)
    with pytest.raises(ValueError, match="p"):
        th.kms_covariance(0, 0.5)
    with pytest.raises(ValueError, match="zero"):
        th.trace_normalised(np.eye(3), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="shift"):
        th.mixed_fixed_point(-np.ones(4), 10, 10)
    with pytest.raises(ValueError, match="needs n_t"):
        th.mixed_fixed_point(np.ones(4), 2, 2)
    with pytest.raises(ValueError, match="n must exceed"):
        th.synthetic_only_risk(np.eye(4), np.eye(4), np.zeros(4), np.zeros(4), 4, 1.0)
    with pytest.raises(ValueError, match="mu_t"):
        th.synthetic_only_risk(np.eye(4), np.eye(4), np.zeros(3), np.zeros(4), 10, 1.0)
    with pytest.raises(ValueError, match="sigma_s"):
        th.synthetic_only_risk(np.eye(4), np.diag([1, 1, 1, 0.0]), np.zeros(4), np.zeros(4), 10, 1.0)
    with pytest.raises(ValueError, match="spec_s"):
        th.overparameterised_risk(np.ones(4), np.ones(3), np.ones(4), 2, 2, 1.0)
    with pytest.raises(ValueError, match="beta"):
        th.overparameterised_risk(np.ones(4), np.ones(4), np.ones(3), 2, 2, 1.0)
    with pytest.raises(ValueError, match="threshold"):
        th.overparameterised_risk(np.ones(4), np.ones(4), np.ones(4), 2, 2, 1.0)
    with pytest.raises(ValueError, match="lam"):
        th.overparameterised_risk(np.ones(4), np.ones(4), np.ones(4), 1, 1, 1.0, lam=-1.0)
    with pytest.raises(ValueError, match="spec_t"):
        th.overparameterised_risk(-np.ones(4), np.ones(4), np.ones(4), 1, 1, 1.0)
