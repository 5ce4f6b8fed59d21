"""hdreg.theory.distillation: surrogate-to-target risk, optimal surrogate and mask, two-stage risk."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from _hdreg_fixtures import clean_env, power_law  # noqa: F401

from hdreg.sim.distillation import simulate_surrogate_target, simulate_two_stage
from hdreg.theory import distillation as dist
from hdreg.theory.ridge import ridge_risk, ridgeless_tau


def _problem(p=300, alpha=2.0, source=1.5):
    i = np.arange(1, p + 1, dtype=float)
    spec = i ** -alpha
    return spec, np.sqrt(i ** -source / spec)


def test_ground_truth_surrogate_is_ridge_risk():
    spec, beta = _problem()
    ns = np.array([20.0, 100.0, 299.0, 301.0, 900.0])
    for lam in (0.0, 1e-4, 0.1):
        for noise in (0.0, 0.3):
            got = dist.surrogate_risk(spec, beta, beta, ns, noise, lam)
            ref = ridge_risk(spec, beta, ns, lam, noise).risk
            np.testing.assert_allclose(got, ref, rtol=1e-10)


def test_broadcasting_and_scalar_output():
    spec, beta = _problem(100)
    b_s = 0.5 * beta
    assert isinstance(dist.surrogate_risk(spec, beta, b_s, 40, 0.1), float)
    grid = dist.surrogate_risk(spec, beta, b_s, np.array([[20.0], [40.0]]), 0.1, np.array([0.0, 0.01, 0.1]))
    assert grid.shape == (2, 3)
    assert grid[1, 0] == pytest.approx(dist.surrogate_risk(spec, beta, b_s, 40, 0.1))
    terms = dist.surrogate_risk_terms(spec, beta, b_s, 40, 0.1)
    assert terms.risk == pytest.approx(terms.bias + terms.fluctuation + terms.noise)
    assert terms.noise == pytest.approx(terms.c * 0.1)


def test_underparameterised_closed_form():
    spec, beta = _problem(50)
    rs = np.random.default_rng(0)
    b_s = beta + 0.3 * rs.standard_normal(50)
    got = dist.surrogate_risk(spec, beta, b_s, 80, 0.2)
    assert got == pytest.approx(np.sum(spec * (b_s - beta) ** 2) + 0.2 * 50 / 30, rel=1e-10)
    np.testing.assert_allclose(dist.optimal_surrogate(spec, beta, 80), beta, rtol=1e-12)
    assert dist.optimal_mask(spec, 80).all()


def test_optimal_surrogate_is_the_minimiser():
    spec, beta = _problem(200)
    n = 70
    b_opt = dist.optimal_surrogate(spec, beta, n)
    r_opt = dist.surrogate_risk(spec, beta, b_opt, n, 0.1)
    assert r_opt == pytest.approx(dist.optimal_surrogate_risk(spec, beta, n, 0.1))
    # closed form of the minimum
    tau = ridgeless_tau(spec, n)
    s = spec / (spec + tau)
    c = dist.surrogate_risk_terms(spec, beta, beta, n, 0.0).c
    closed = np.sum(spec * beta**2 * c * (1 - s) ** 2 / (s**2 + c * (1 - s) ** 2)) + c * 0.1
    assert r_opt == pytest.approx(closed, rel=1e-10)
    rs = np.random.default_rng(1)
    for _ in range(20):
        pert = b_opt + 0.05 * rs.standard_normal(200) * np.abs(beta)
        assert dist.surrogate_risk(spec, beta, pert, n, 0.1) > r_opt
    # amplification exactly above c * tau
    thr = dist.amplification_threshold(spec, n)
    assert thr == pytest.approx(c * tau)
    amplified = np.abs(b_opt) > np.abs(beta)
    np.testing.assert_array_equal(amplified, spec > thr)
    # a ridge target has its own optimum, which minimises its own risk
    b_r = dist.optimal_surrogate(spec, beta, n, lam=0.01)
    assert dist.surrogate_risk(spec, beta, b_r, n, 0.0, 0.01) < dist.surrogate_risk(spec, beta, b_opt, n, 0.0, 0.01)


def test_optimal_mask_by_brute_force_and_independent_of_beta():
    spec = np.array([3.0, 1.5, 1.0, 0.4, 0.2, 0.08, 0.03, 0.01])
    rs = np.random.default_rng(2)
    for n in (2, 3, 5):
        mask = dist.optimal_mask(spec, n)
        assert np.all(mask == (spec > dist.mask_threshold(spec, n)))
        for _ in range(3):
            beta = rs.standard_normal(8) + 0.1
            risks = {m: dist.surrogate_risk(spec, beta, np.array(m) * beta, n, 0.0)
                     for m in itertools.product((0.0, 1.0), repeat=8)}
            best = min(risks, key=risks.get)
            np.testing.assert_array_equal(np.array(best, dtype=bool), mask)
        # kept set contains the amplified set
        assert np.all(mask[spec > dist.amplification_threshold(spec, n)])
    beta = np.ones(8)
    beta[1] = 0.0
    assert not dist.optimal_mask(spec, 5, beta_star=beta)[1]
    assert dist.optimal_mask(spec, 5)[1]


def test_zero_eigenvalues_are_harmless():
    spec = np.concatenate([power_law(60, 2.0), np.zeros(20)])
    beta = np.ones(80)
    r = dist.surrogate_risk(spec, beta, beta, 30, 0.1)
    assert r == pytest.approx(ridge_risk(spec, beta, 30, 0.0, 0.1).risk)
    b_opt = dist.optimal_surrogate(spec, beta, 30)
    assert np.all(b_opt[60:] == 0.0) and np.all(np.isfinite(b_opt))
    assert not dist.optimal_mask(spec, 30)[60:].any()
    assert dist.surrogate_risk(spec, beta, beta, 100, 0.1) == pytest.approx(0.1 * 60 / 40)


def test_surrogate_risk_matches_monte_carlo():
    spec, beta = _problem(200)
    rs = np.random.default_rng(3)
    surr = np.stack([beta, dist.optimal_surrogate(spec, beta, 80), beta * (1 + 0.5 * rs.standard_normal(200))])
    sim = simulate_surrogate_target(spec, beta, surr, 80, 0.05, trials=150, lams=[0.0, 0.01], seed=4)
    mean, se = sim.mean_se()
    theory = np.array([[dist.surrogate_risk(spec, beta, b, 80, 0.05, lam) for lam in (0.0, 0.01)] for b in surr])
    assert np.all(np.abs(mean - theory) <= 4.5 * se + 0.02 * theory)


def test_teacher_moments_underparameterised():
    spec, beta = _problem(100)
    k, m, noise = 20, 200, 0.3
    mom = dist.teacher_moments(spec, beta, m, noise, features=k)
    tail = np.sum(spec[k:] * beta[k:] ** 2)
    assert mom.noise_eff == pytest.approx(noise + tail)
    assert mom.kappa == 0.0
    np.testing.assert_allclose(mom.mean[:k], beta[:k])
    assert np.all(mom.mean[k:] == 0) and np.all(mom.var[k:] == 0)
    # Gaussian equivalent: v_i = sigma_eff^2 / ((m - k) lambda_i)  (exact finite-m value has m - k - 1)
    np.testing.assert_allclose(mom.var[:k], (noise + tail) / ((m - k) * spec[:k]), rtol=1e-10)
    assert mom.risk == pytest.approx(tail + (noise + tail) * k / (m - k))
    # a boolean mask and an int give the same teacher
    mask = np.zeros(100, dtype=bool)
    mask[:k] = True
    assert dist.teacher_moments(spec, beta, m, noise, features=mask).risk == pytest.approx(mom.risk)


def test_two_stage_limits():
    spec, beta = _problem(150)
    # an (almost) perfect teacher: huge m, all features, under-parameterised -> student = ground-truth target
    big = dist.two_stage_risk(spec, beta, 10**9, np.array([50, 100]), 0.1, target_noise_var=0.1)
    np.testing.assert_allclose(big.student, big.strong, rtol=1e-5)
    assert big.teacher < 1e-6
    # a teacher that keeps exactly the optimal mask tends to the masked surrogate as m grows
    mask = dist.optimal_mask(spec, 60)
    lim = dist.surrogate_risk(spec, beta, mask * beta, 60, 0.0)
    r = dist.two_stage_risk(spec, beta, 10**9, 60, 0.0, features=mask)
    assert r.student == pytest.approx(lim, rel=1e-5)


def test_two_stage_matches_monte_carlo():
    spec, beta = _problem(150)
    k, m, n, noise = 30, 80, 60, 0.3
    th = dist.two_stage_risk(spec, beta, m, n, noise, features=k)
    sim = simulate_two_stage(spec, beta, m, n, noise, trials=200, features=k, seed=5)
    for f, t in (("teacher", th.teacher), ("student", th.student), ("strong", th.strong)):
        mean, se = sim.mean_se(f)
        assert abs(float(np.ravel(mean)[0]) - t) <= 4.5 * float(np.ravel(se)[0]) + 0.02 * t, f


def test_power_law_ratio_limit_closed_forms():
    assert dist.power_law_ratio_limit(2, 3) == pytest.approx(np.pi / 4, rel=1e-9)
    assert dist.power_law_ratio_limit(2, 2) == pytest.approx(2 ** -0.5, rel=1e-9)
    for a, b in ((1.5, 2.0), (3.0, 1.5), (2.0, 4.5)):
        q = dist.power_law_ratio_limit(a, b)
        c = a - 1
        assert min(1, c) / (1 + c) <= q <= 1


BAD = [
    (lambda s, b: dist.surrogate_risk(s, b, b[:-1], 10, 0.1), "beta_surrogate"),
    (lambda s, b: dist.surrogate_risk(s, b[:-1], b, 10, 0.1), "beta_star"),
    (lambda s, b: dist.surrogate_risk(s, b, b, 10, -0.1), "noise_var"),
    (lambda s, b: dist.surrogate_risk(s, b, b, 0, 0.1), "n"),
    (lambda s, b: dist.surrogate_risk(s, b, b, 10, 0.1, lam=-1.0), "lam"),
    (lambda s, b: dist.surrogate_risk(-s, b, b, 10, 0.1), "non-negative"),
    (lambda s, b: dist.surrogate_risk(s, b, b * np.nan, 10, 0.1), "finite"),
    (lambda s, b: dist.surrogate_risk(s, b, b, s.size, 0.1), "interpolation threshold"),
    (lambda s, b: dist.optimal_surrogate(s, b, [10, 20]), "scalars"),
    (lambda s, b: dist.optimal_surrogate(s, b, -5), "n"),
    (lambda s, b: dist.optimal_mask(s, 10, beta_star=b[:3]), "beta_star"),
    (lambda s, b: dist.optimal_mask(np.ones((3, 3)), 10), "1-D"),
    (lambda s, b: dist.teacher_moments(s, b, 40, 0.1, features=0), "features"),
    (lambda s, b: dist.teacher_moments(s, b, 40, 0.1, features=s.size + 1), "features"),
    (lambda s, b: dist.teacher_moments(s, b, 40, 0.1, features=np.ones(3, dtype=bool)), "features"),
    (lambda s, b: dist.teacher_moments(s, b, 40, 0.1, features=np.zeros(s.size, dtype=bool)), "features"),
    (lambda s, b: dist.teacher_moments(s, b, 0, 0.1), "m"),
    (lambda s, b: dist.two_stage_risk(s, b, 40, 10, 0.1, target_noise_var=-1), "target_noise_var"),
    (lambda s, b: dist.power_law_ratio_limit(1.0, 1.5), "alpha"),
    (lambda s, b: dist.power_law_ratio_limit(2.0, 6.0), "source"),
]


@pytest.mark.parametrize("case", range(len(BAD)))
def test_bad_input_raises(case):
    spec, beta = _problem(30)
    fn, word = BAD[case]
    with pytest.raises(ValueError, match=word):
        fn(spec, beta)


def test_numerical_optimal_ratio_matches_the_closed_form():
    spec, beta = power_law(60, 2.0), np.linspace(1.0, 2.0, 60)
    n = spec.size // 3
    idx = np.array([0, 5, spec.size // 2, spec.size - 1])
    u = dist.numerical_optimal_ratio(spec, beta, n, idx)
    assert np.allclose(u, dist.optimal_surrogate(spec, beta, n)[idx] / beta[idx], rtol=1e-8)


@pytest.mark.parametrize("bad", [[], [-1], [10**6], [0.5]])
def test_numerical_optimal_ratio_rejects_bad_directions(bad):
    spec, beta = power_law(60, 2.0), np.ones(60)
    with pytest.raises(ValueError, match="directions"):
        dist.numerical_optimal_ratio(spec, beta, 10, np.array(bad))


# --- covariance shift and teacher capacity (appended)


def test_covariance_shift_without_shift_is_two_stage():
    spec, beta = _problem()
    for m, lam_t in ((150, 0.0), (500, 0.0), (150, 0.01)):
        a = dist.covariance_shift_risk(spec, beta, spec, m, 80, 0.2, lam_teacher=lam_t, target_noise_var=0.1)
        b = dist.two_stage_risk(spec, beta, m, 80, 0.2, lam_teacher=lam_t, target_noise_var=0.1)
        assert np.isclose(a.student, b.student, rtol=1e-12)
        assert np.isclose(a.teacher, b.teacher, rtol=1e-12)
        assert np.isclose(a.strong, b.strong, rtol=1e-12)


def test_student_risk_given_a_deterministic_teacher_is_the_model_shift_risk():
    spec, beta = _problem()
    sur = 0.7 * beta
    got = dist.student_risk_given_teacher(spec, beta, sur, np.zeros_like(beta), [50, 120], 0.3)
    np.testing.assert_allclose(got, dist.surrogate_risk(spec, beta, sur, [50, 120], 0.3), rtol=1e-12)


def test_underparameterised_shifted_teacher_closed_form():
    spec, beta = _problem()
    m, noise = 500, 0.3
    spec_s = dist.power_shift_spectrum(spec, 0.4)
    mom = dist.shifted_teacher_moments(spec, beta, spec_s, m, noise)
    np.testing.assert_allclose(mom.mean, beta, rtol=1e-9)
    np.testing.assert_allclose(mom.var, noise / ((m - spec.size) * spec_s), rtol=1e-9)
    assert np.isclose(mom.risk, noise / (m - spec.size) * np.sum(spec / spec_s), rtol=1e-9)


def test_square_root_rule_beats_every_other_spectrum_of_the_same_trace():
    spec, beta = _problem()
    m, n, noise = 500, 80, 0.3
    opt = dist.optimal_teacher_spectrum(spec, n)
    assert np.isclose(opt.sum(), spec.sum())
    best = dist.covariance_shift_risk(spec, beta, opt, m, n, noise).student
    g = np.random.default_rng(0)
    for _ in range(20):
        other = opt * np.exp(0.3 * g.standard_normal(spec.size))
        other *= spec.sum() / other.sum()
        assert dist.covariance_shift_risk(spec, beta, other, m, n, noise).student > best
    for a in (0.0, 0.5, 1.0):
        assert dist.covariance_shift_risk(spec, beta, dist.power_shift_spectrum(spec, a), m, n,
                                          noise).student > best


def test_power_shift_spectrum():
    spec, _ = _problem()
    np.testing.assert_allclose(dist.power_shift_spectrum(spec, 1.0), spec, rtol=1e-12)
    both = dist.power_shift_spectrum(spec, [0.0, 2.0], total=3.0)
    assert both.shape == (2, spec.size)
    np.testing.assert_allclose(both.sum(axis=1), 3.0)
    np.testing.assert_allclose(both[0], 3.0 / spec.size)


def test_teacher_capacity_curve_closed_form_below_m():
    spec, beta = _problem()
    m, n, noise = 200, 80, 0.2
    ks = np.array([5, 50, 150, 199])
    got = dist.teacher_capacity_curve(spec, beta, m, n, noise, ks)
    terms = dist.surrogate_risk_terms(spec, beta, beta, n, 0.0)
    s = spec / (spec + terms.kappa)
    for k, r in zip(ks, got):
        seen = np.arange(spec.size) < k
        sig = noise + np.sum(spec[~seen] * beta[~seen] ** 2)
        want = (np.sum(spec[~seen] * beta[~seen] ** 2)
                + (1 + terms.c) * np.sum((spec * (1 - s) ** 2 * beta**2)[seen])
                + sig / (m - k) * np.sum((s**2 + terms.c * (1 - s) ** 2)[seen]))
        assert np.isclose(r, want, rtol=1e-8), k


BAD_SHIFT = [
    (lambda s, b: dist.covariance_shift_risk(s, b, s[:-1], 50, 20, 0.1), "teacher_spectrum"),
    (lambda s, b: dist.covariance_shift_risk(s, b, -s, 50, 20, 0.1), "teacher_spectrum must be non-neg"),
    (lambda s, b: dist.covariance_shift_risk(s, b, 0 * s, 50, 20, 0.1), "teacher_spectrum must have at least"),
    (lambda s, b: dist.covariance_shift_risk(s, b, s * np.nan, 50, 20, 0.1), "teacher_spectrum must be finite"),
    (lambda s, b: dist.covariance_shift_risk(s, b, s, 50, 20, -0.1), "noise_var"),
    (lambda s, b: dist.covariance_shift_risk(s, b, s, 0, 20, 0.1), "m"),
    (lambda s, b: dist.student_risk_given_teacher(s, b, b, -np.ones_like(b), 20), "teacher_var"),
    (lambda s, b: dist.student_risk_given_teacher(s, b, b[:-1], np.ones_like(b), 20), "teacher_mean"),
    (lambda s, b: dist.power_shift_spectrum(s, np.nan), "exponent"),
    (lambda s, b: dist.power_shift_spectrum(s, 1.0, total=-1.0), "total"),
    (lambda s, b: dist.power_shift_spectrum(s, np.ones((2, 2))), "exponent"),
    (lambda s, b: dist.optimal_teacher_spectrum(s, 0), "n"),
    (lambda s, b: dist.teacher_capacity_curve(s, b, 50, 20, 0.1, [50]), "threshold"),
    (lambda s, b: dist.teacher_capacity_curve(s, b, 50, 20, 0.1, [0]), "features"),
    (lambda s, b: dist.teacher_capacity_curve(s, b, 50, 20, 0.1, [2.5]), "features"),
]


@pytest.mark.parametrize("case", range(len(BAD_SHIFT)))
def test_covariance_shift_bad_input_raises(case):
    spec, beta = _problem()
    fn, word = BAD_SHIFT[case]
    with pytest.raises(ValueError, match=word):
        fn(spec, beta)


def test_teacher_on_masked_data_is_the_capacity_curve_without_unseen_noise():
    spec, beta = _problem()
    m, n, noise = 200, 80, 0.2
    terms = dist.surrogate_risk_terms(spec, beta, beta, n, 0.0)
    s = spec / (spec + terms.kappa)
    w = s**2 + terms.c * (1 - s) ** 2
    for k in (5, 60, 150):
        seen = np.arange(spec.size) < k
        got = dist.covariance_shift_risk(spec, beta, spec * seen, m, n, noise).student
        want = (np.sum(spec[~seen] * beta[~seen] ** 2)
                + (1 + terms.c) * np.sum((spec * (1 - s) ** 2 * beta**2)[seen])
                + noise / (m - k) * np.sum(w[seen]))
        assert np.isclose(got, want, rtol=1e-8), k
