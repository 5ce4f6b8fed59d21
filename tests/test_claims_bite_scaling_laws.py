"""Claims bite for Chapter 2 (scaling laws): a broken formula must stop the chapter at the claim
that checks it (see tests/_bite.py)."""

from __future__ import annotations

import pytest

from _bite import assert_claim_fails

CHAPTER = "scaling_laws.md"

SABOTAGE = {
    # forgetting the saturation of ridge: m = r instead of min(r, 1)
    "rate-without-saturation": (
        "import numpy as _np, hdreg.theory.scaling as _sc\n"
        "_orig = _sc.predicted_rate\n"
        "def _bad(alpha, r, regime, ell=None):\n"
        "    if regime == 'noiseless_ridgeless':\n"
        "        return 2 * _np.asarray(alpha, float) * _np.asarray(r, float)\n"
        "    return _orig(alpha, r, regime, ell)\n"
        "_sc.predicted_rate = _bad\n",
        "noiseless ridgeless exponent, alpha=2.0, r=1.5",
    ),
    # a classic slip in the equivalent: df1 where the variance needs df2
    "variance-with-df1": (
        "import dataclasses, numpy as _np, hdreg.theory.ridge as _r\n"
        "_orig = _r.ridge_risk\n"
        "def _bad(spectrum, beta, n, lam, noise_var):\n"
        "    out = _orig(spectrum, beta, n, lam, noise_var)\n"
        "    with _np.errstate(divide='ignore', invalid='ignore'):\n"
        "        var = noise_var * out.df1 / (_np.asarray(n, float) - out.df1)\n"
        "    return dataclasses.replace(out, variance=var, risk=out.bias + var)\n"
        "_r.ridge_risk = _bad\n",
        "tempered plateau",
    ),
    # the optimal schedule without the +1 of the variance: lambda* ~ n^(-1/(2m))
    "optimal-penalty-exponent": (
        "import numpy as _np, hdreg.theory.scaling as _sc\n"
        "_sc.optimal_lambda_exponent = lambda alpha, r: 1.0 / (2 * _np.minimum(r, 1.0))\n",
        "optimal penalty exponent, alpha=2.0, r=0.3",
    ),
    # the ridge simulator's risks (and biases) 5% too high: the claims must see it
    "simulator-off-by-5pct": (
        "import dataclasses, hdreg.sim.ridge as _s\n"
        "_orig = _s.simulate_ridge_path_given_design\n"
        "def _bad(*a, **k):\n"
        "    out = _orig(*a, **k)\n"
        "    return dataclasses.replace(out, risk=1.05 * out.risk, bias=1.05 * out.bias)\n"
        "_s.simulate_ridge_path_given_design = _bad\n",
        "simulations match the equivalent",
    ),
    # the ridgeless crossover sample size 5% off
    "ridgeless-crossover-off-by-5pct": (
        "import hdreg.theory.crossover as _cx\n"
        "_orig = _cx.ridgeless_crossover_n\n"
        "_cx.ridgeless_crossover_n = lambda a, r, s2: 1.05 * _orig(a, r, s2)\n",
        "ridgeless crossover n* = C",
    ),
    # the phase diagram with the noiseless and noisy rates swapped
    "regime-rates-swapped": (
        "import hdreg.theory.crossover as _cx\n"
        "_orig = _cx.regime_rates\n"
        "_cx.regime_rates = lambda a, r, ell: _orig(a, r, ell)[::-1]\n",
        "a decade before the crossover the exponent is nearer the noiseless rate",
    ),
}


@pytest.mark.parametrize("case", sorted(SABOTAGE))
def test_broken_theory_fails_a_claim(case):
    prelude, expected_label = SABOTAGE[case]
    assert_claim_fails(CHAPTER, prelude, expected_label)
