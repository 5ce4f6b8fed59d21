"""The noiseless-to-noisy crossover formulas against the deterministic equivalent."""

from __future__ import annotations

import numpy as np
import pytest

from hdreg.theory import crossover as cx, ridge, scaling as sc


def test_ridgeless_crossover_matches_the_equivalent():
    a, r, s2 = 2.0, 0.5, 0.05
    spec, beta = sc.power_law_problem(10**6, a, r)
    n = np.logspace(0.5, 4, 36)
    out = ridge.ridge_risk(spec, beta, n, 0.0, s2)
    n_x = sc.bias_variance_crossover(n, out.bias, out.variance)
    assert n_x == pytest.approx(cx.ridgeless_crossover_n(a, r, s2), rel=0.05)


def test_penalised_crossover_is_asymptotic_and_nan_outside_its_range():
    a, r = 1.5, 0.4
    ell_star = float(sc.optimal_lambda_exponent(a, r))
    out = cx.penalised_crossover_n(a, r, [ell_star * 0.9, 1.0, a, 2.0], 0.1)
    assert np.isnan(out[0]) and np.isnan(out[2]) and np.isnan(out[3])
    J, C = sc.bias_constant(a, r), sc.capacity_constant(a)
    e = 2 * 1.0 * 0.4 + 1.0 / a - 1
    assert out[1] == pytest.approx((J / (0.1 * (1 - 1 / a) * C)) ** (1 / e))
    # smaller noise, later crossover, like sigma^(-2/e)
    ratio = cx.penalised_crossover_n(a, r, 1.0, 0.01) / cx.penalised_crossover_n(a, r, 1.0, 0.1)
    assert ratio == pytest.approx(10 ** (1 / e))


def test_regime_rates():
    noiseless, noisy = cx.regime_rates(1.5, 0.4, np.array([0.5, 1.0, 2.0]))
    np.testing.assert_allclose(noiseless, [0.4, 0.8, 1.2])
    np.testing.assert_allclose(noisy, [0.4, 1 - 1 / 1.5, 0.0])


@pytest.mark.parametrize("args,match", [
    ((1.0, 0.5, 0.1), "alpha"),
    ((2.0, 1.0, 0.1), "r must"),
    ((2.0, -0.5, 0.1), "r must"),
    ((2.0, 0.5, 0.0), "noise_var"),
    ((2.0, 0.5, np.nan), "noise_var"),
])
def test_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        cx.ridgeless_crossover_n(*args)


def test_bad_ell():
    with pytest.raises(ValueError, match="ell"):
        cx.penalised_crossover_n(2.0, 0.5, -1.0, 0.1)
    with pytest.raises(ValueError, match="ell"):
        cx.regime_rates(2.0, 0.5, [np.inf])
