import numpy as np
import pytest

from hdreg.theory import icl
from hdreg.theory import softmax_attention as T


def test_toy_optimum_matches_icl_chapter():
    lam = np.array([2.0, 1.0, 0.5])
    g = T.toy_optimum(lam, 10, 0.3)
    W = icl.pretrained_weights(np.diag(lam), np.eye(3), 10, 0.3)
    assert np.allclose(np.diag(g), 10 * W)


def test_gd_excess_matches_icl_loss_of_iterates():
    lam = np.array([2.0, 1.0, 0.5])
    n, s2, eta = 10, 0.3, 0.05
    E = T.toy_moments(lam, n, s2)
    G = np.zeros(3)
    Lstar = icl.icl_loss(np.diag(T.toy_optimum(lam, n, s2)) / n, np.diag(lam), np.eye(3), n, s2)
    for t in range(6):
        L = icl.icl_loss(np.diag(G) / n, np.diag(lam), np.eye(3), n, s2)
        assert L - Lstar == pytest.approx(T.toy_gd_excess(lam, n, s2, eta, t), rel=1e-9)
        G = G - eta * (2 * lam * E * G - 2 * lam**2)
    assert T.toy_precond_excess(lam, n, s2, 0.5, 1) == pytest.approx(
        0.25 * T.toy_gd_excess(lam, n, s2, eta, 0))


def test_powerlaw_asymptotics():
    a, eta = 2.0, 0.25
    lam = np.arange(1, 200001, dtype=float) ** -a
    t = np.array([1e3, 1e4])
    exact = T.toy_gd_excess(lam, 10**9, 0.0, eta, t)
    assert np.allclose(exact, T.gd_powerlaw(a, eta, t), rtol=0.05)
    assert T.gd_exponent(2.0) == pytest.approx(1 / 6)


def test_ols_and_linear_attention():
    assert T.ols_risk(20, 4, 1.0) == pytest.approx(1 + 4 / 15)
    assert T.ols_excess(20, 4, 2.0) == pytest.approx(8 / 15)
    assert T.linear_attention_excess(40, 10, 0.1) == pytest.approx(10 * 11.1 / 51.1)


def test_bad_inputs():
    with pytest.raises(ValueError, match="n must be > d"):
        T.ols_risk(5, 4, 1.0)
    with pytest.raises(ValueError, match="a \\(the spectral decay\\)"):
        T.gd_exponent(0.5)
    with pytest.raises(ValueError, match="eta must be <"):
        T.toy_gd_excess(np.ones(3), 10, 0.0, 10.0, 1)
    with pytest.raises(ValueError, match="eta must be in"):
        T.toy_precond_excess(np.ones(3), 10, 0.0, 2.5, 1)
    with pytest.raises(ValueError, match="t \\(the step counts\\)"):
        T.toy_gd_excess(np.ones(3), 10, 0.0, 0.1, -1)
    with pytest.raises(ValueError, match="W must be"):
        T.long_prompt_prediction(np.eye(2), 1.0, np.ones(3), np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="noise_var"):
        T.toy_moments(np.ones(3), 10, -1.0)


# ---- the statistical rate of the softmax layer


def test_rate_variance_matches_the_long_prompt_constant_by_quadrature():
    # V(u) against a Monte-Carlo average of the constant of prop-long-prompt over w and x_q
    lam, s2, u = np.array([1.5, 1.0, 0.5]), 0.3, 0.08
    g = np.random.default_rng(0)
    xq = g.standard_normal((400_000, 3)) * np.sqrt(lam)
    c = np.sqrt(u)
    a = c * xq / lam
    q = (a * lam * a).sum(axis=1)
    # E_w[w^T Lam w + (w^T Lam a)^2] = tr Lam + |Lam a|^2
    vals = np.exp(q) * (lam.sum() + ((lam * a) ** 2).sum(axis=1) + s2) / u
    se = vals.std() / np.sqrt(vals.size)
    assert abs(vals.mean() - T.softmax_rate_variance(u, lam, s2)) < 4 * se


def test_rate_constant_minimises_and_has_the_large_d_form():
    lam = np.ones(6)
    C, u = T.softmax_rate_constant(lam, 0.5)
    grid = np.linspace(0.001, 0.49, 4000)
    assert C == pytest.approx(T.softmax_rate_variance(grid, lam, 0.5).min(), rel=1e-4)
    assert T.softmax_rate_variance(u, lam, 0.5) == pytest.approx(C)
    Cbig, ubig = T.softmax_rate_constant(np.ones(2000), 0.5)
    assert Cbig / (np.e * 2000 * 2000.5) == pytest.approx(1, abs=0.01)
    assert ubig * 2000 == pytest.approx(1, abs=0.05)
    assert C > 6 * 7.5                                     # above linear attention's d(1 + d + s2)
    ex = T.softmax_excess(np.array([10.0, 1e6]), lam, 0.5)
    assert ex[1] * 1e6 == pytest.approx(C, rel=1e-3)
    assert ex[0] == pytest.approx(C / (10 + C / 6))


def test_slope_helpers():
    x = np.array([1.0, 2.0, 4.0, 8.0])
    s, se = T.rate_slope_se(x, 3 / x, 0.03 / x)
    assert s == pytest.approx(-1) and se == pytest.approx(0.01 * np.sqrt(np.sum(
        ((np.log(x) - np.log(x).mean()) / np.sum((np.log(x) - np.log(x).mean()) ** 2)) ** 2)))
    g = np.random.default_rng(1)
    samples = (1 / x) * (1 + 0.1 * g.standard_normal((500, 1)))     # fully correlated noise
    s2_, se2 = T.paired_slope_se(x, samples)
    assert s2_ == pytest.approx(-1, abs=1e-9) and se2 < 1e-8


@pytest.mark.parametrize("call, match", [
    (lambda: T.softmax_rate_variance(0.5, np.ones(2), 0.1), "u must lie"),
    (lambda: T.softmax_rate_variance(0.1, np.ones(2), -0.1), "noise_var"),
    (lambda: T.softmax_rate_variance(0.1, np.array([1.0, 0.0]), 0.1), "positive"),
    (lambda: T.softmax_rate_constant(np.array([1.0, np.nan]), 0.1), "spectrum"),
    (lambda: T.softmax_excess(0, np.ones(2), 0.1), "n"),
    (lambda: T.rate_slope_se([1, 2], [1, 2], [1, 1]), "length >= 3"),
    (lambda: T.rate_slope_se([1, 2, 3], [1, -2, 3], [1, 1, 1]), "positive"),
    (lambda: T.paired_slope_se([1, 2, 3], np.ones((1, 3))), "trials"),
    (lambda: T.paired_slope_se([1, 2, 3], np.full((4, 3), np.nan)), "finite"),
])
def test_rate_bad_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()
