"""hdreg.sim.synthetic: the mixed-training Monte Carlo and the digits-study pipeline."""

from __future__ import annotations

import numpy as np
import pytest

from hdreg.sim import synthetic as sim
from hdreg.theory.synthetic import kms_covariance


def test_shapes_seeds_and_paths():
    p = 20
    S = kms_covariance(p, 0.5)
    b = np.ones(p) / np.sqrt(p)
    a = sim.simulate_mixed_training(S, np.eye(p), b, 30, 20, 1.0, 7, seed=3)
    assert a.risk.shape == a.cond_risk.shape == (7,)
    again = sim.simulate_mixed_training(S, np.eye(p), b, 30, 20, 1.0, 7, seed=3)
    np.testing.assert_array_equal(a.risk, again.risk)
    assert np.all(a.risk > 0) and np.all(a.cond_risk > 0)
    only_syn = sim.simulate_mixed_training(S, np.eye(p), b, 0, 50, 1.0, 3, seed=1)
    only_real = sim.simulate_mixed_training(S, np.eye(p), b, 50, 0, 1.0, 3, seed=1)
    over = sim.simulate_mixed_training(np.ones(p), np.ones(p), b, 5, 5, 1.0, 3, seed=1)
    for out in (only_syn, only_real, over):
        assert np.all(np.isfinite(out.risk))


def test_matched_conditional_risk_is_exact_inverse_wishart_mean():
    # Sigma_s = Sigma_t, no means: E R_X = sigma^2 p / (n - p - 1) exactly (Gaussian design)
    p, n_t, n_s = 15, 25, 20
    S = kms_covariance(p, 0.6)
    out = sim.simulate_mixed_training(S, S, np.zeros(p), n_t, n_s, 2.0, 2000, seed=0)
    mean, se = out.mean_se("cond_risk")
    assert abs(mean - 2.0 * p / (n_t + n_s - p - 1)) < 4 * se


def test_realised_and_conditional_risks_have_the_same_mean():
    p = 30
    S = kms_covariance(p, 0.8)
    out = sim.simulate_mixed_training(S, 0.5 * np.eye(p), np.ones(p), 40, 40, 1.0, 400, seed=2)
    d = out.risk - out.cond_risk
    assert abs(d.mean()) < 4 * d.std(ddof=1) / np.sqrt(d.size)


def test_overparameterised_isotropic_noiseless_bias_is_exact():
    # Sigma = I, sigma = 0, n < p: E ||(I - P) beta||^2 = (1 - n/p) ||beta||^2 exactly
    p, n = 40, 16
    beta = np.random.default_rng(0).standard_normal(p)
    out = sim.simulate_mixed_training(np.ones(p), np.ones(p), beta, 8, 8, 0.0, 500, seed=1)
    mean, se = out.mean_se("cond_risk")
    assert abs(mean - (1 - n / p) * beta @ beta) < 4 * se
    np.testing.assert_allclose(out.risk, out.cond_risk, rtol=1e-8)


def test_means_with_cosine():
    mt, ms = sim.means_with_cosine(50, [-1, 0, 0.3, 1], 7.0, seed=4)
    assert ms.shape == (4, 50)
    np.testing.assert_allclose(np.linalg.norm(ms, axis=1), 7.0)
    assert np.linalg.norm(mt) == pytest.approx(7.0)
    np.testing.assert_allclose(ms @ mt / 49.0, [-1, 0, 0.3, 1], atol=1e-12)
    with pytest.raises(ValueError, match="cosines"):
        sim.means_with_cosine(5, [1.5], 1.0)


@pytest.mark.parametrize("kwargs,match", [
    (dict(sigma_t=np.ones((3, 4))), "sigma_t"),
    (dict(sigma_s=np.eye(4)), "sigma_s"),
    (dict(sigma_s=-np.eye(5)), "sigma_s"),
    (dict(beta=np.ones(4)), "beta"),
    (dict(n_t=-1), "n_t"),
    (dict(n_s=2.5), "n_s"),
    (dict(n_t=0, n_s=0), "at least 1"),
    (dict(n_t=3, n_s=2), "interpolation threshold"),
    (dict(noise_var=-1.0), "noise_var"),
    (dict(trials=0), "trials"),
    (dict(mu_t=np.ones(3)), "mu_t"),
])
def test_bad_input(kwargs, match):
    args = dict(sigma_t=np.eye(5), sigma_s=np.eye(5), beta=np.ones(5), n_t=10, n_s=10, noise_var=1.0,
                trials=2)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        sim.simulate_mixed_training(**args)


def test_generators_pool_and_classifier():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X.astype(float)
    models = sim.fit_generators(X[:900], y[:900], seed=0)
    assert set(models) == set(sim.GENERATORS)
    Xp, yp, src = sim.sample_pool(models, 4, seed=0)
    assert Xp.shape == (4 * 10 * len(models), 64) and Xp.min() >= 0 and Xp.max() <= 16
    assert set(src) == set(models) and np.all(np.bincount(yp) == 4 * len(models))
    acc = sim.ridge_classifier_accuracy(X[:900], y[:900], X[900:], y[900:], 1e-2)
    assert acc > 0.85
    feats = sim.random_feature_map(64, 100, seed=0)
    assert feats(X[:3]).shape == (3, 100)


def test_digits_study_smoke():
    st = sim.run_digits_study(range(2), real_per_class=8, pool_per_class=10, select_per_class=5,
                              n_components=4, width=50)
    for pa in st.paradigms:
        for m in st.methods:
            assert st.acc[pa][m].shape == (2,)
            assert 0 <= st.acc[pa][m].min() <= 100
    assert "covariance" in st.table() and st.table().count("\n") == len(st.methods) + 1
    assert sum(st.picked["covariance"].values()) == 2 * 10 * 5


def _digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X.astype(float), y


def test_ridge_classifier_cv_picks_a_grid_penalty_and_matches_the_fixed_fit():
    X, y = _digits()
    acc, lam = sim.ridge_classifier_cv(X[:400], y[:400], X[400:], y[400:], folds=3, seed=0)
    assert lam in sim.CV_LAMS
    assert acc == sim.ridge_classifier_accuracy(X[:400], y[:400], X[400:], y[400:], lam)
    # the path scores agree with separate fits (primal, n >= d, and dual, n < d)
    for n in (300, 40):
        A, B = sim._standardise(X[:n], X[900:950])
        classes = np.unique(y[:n])
        Y = sim._onehot(y[:n], classes)
        path = sim._ridge_path_scores(A, Y, B, [1e-2, 1.0])
        for k, lam_k in enumerate((1e-2, 1.0)):
            d = A.shape[1]
            W = np.linalg.solve(A.T @ A + n * lam_k * np.eye(d), A.T @ Y)
            # (pixels constant in training are standardised by 1e-8: allow rounding there)
            assert np.allclose(path[k], B @ W, rtol=1e-6, atol=1e-6)


def test_ridge_classifier_cv_validates_on_the_masked_rows_only():
    X, y = _digits()
    mask = np.zeros(300, bool)
    mask[:100] = True
    acc, lam = sim.ridge_classifier_cv(X[:300], y[:300], X[300:], y[300:], validate=mask)
    assert 0 < acc <= 1 and lam in sim.CV_LAMS


@pytest.mark.parametrize("kwargs, match", [
    (dict(folds=1), "folds"),
    (dict(lams=[-1.0]), "lams"),
    (dict(validate=np.ones(5, bool)), "validate"),
    (dict(validate=np.zeros(300, bool)), "validation rows"),
])
def test_ridge_classifier_cv_bad_input(kwargs, match):
    X, y = _digits()
    with pytest.raises(ValueError, match=match):
        sim.ridge_classifier_cv(X[:300], y[:300], X[300:], y[300:], **kwargs)


def test_digits_study_cv_and_all_real_reference():
    st = sim.run_digits_study(range(2), real_per_class=8, pool_per_class=10, select_per_class=5,
                              n_components=4, width=50, lam="cv", all_real=True)
    assert st.references == ["all real"]
    for pa in st.paradigms:
        assert st.acc[pa]["all real"].shape == (2,)
        assert np.all(np.isin(st.lams[pa]["covariance"], sim.CV_LAMS))
    assert "all real" in st.table()
    with pytest.raises(ValueError, match="lam"):
        sim.run_digits_study(range(1), lam=-1.0)
