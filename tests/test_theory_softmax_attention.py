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
