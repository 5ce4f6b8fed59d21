"""Claims bite: a chapter executed with a deliberately broken theory must fail with a ClaimError.

Each case prepends one cell to Chapter 1 that breaks a formula of ``hdreg`` in the running kernel,
executes the chapter and expects the first failing cell to raise ``ClaimError`` from the claim that
checks that formula. If a chapter kept passing with a wrong theory, its claims would be decoration.
"""

from __future__ import annotations

import pytest

from _bite import assert_claim_fails

CHAPTER = "01_ridge.md"

SABOTAGE = {
    # kappa 5% too large: the deterministic equivalent of the whole path is wrong
    "kappa-off-by-5pct": (
        "import hdreg.theory.ridge as _r\n"
        "_orig = _r._solve_kappa\n"
        "_r._solve_kappa = lambda *a, **k: 1.05 * _orig(*a, **k)\n",
        "ridge risk along the path",
    ),
    # a classic slip: df1 where the variance needs df2 (sigma^2 df1 / (n - df1))
    "variance-with-df1": (
        "import dataclasses, numpy as _np, hdreg.theory.ridge as _r\n"
        "_orig = _r.ridge_risk\n"
        "def _bad(spectrum, beta, n, lam, noise_var):\n"
        "    out = _orig(spectrum, beta, n, lam, noise_var)\n"
        "    with _np.errstate(divide='ignore'):\n"
        "        var = noise_var * out.df1 / (n - out.df1)\n"
        "    return dataclasses.replace(out, variance=var, risk=out.bias + var)\n"
        "_r.ridge_risk = _bad\n",
        "ridge risk along the path",
    ),
    # the isotropic closed form with the wrong root of the quadratic
    "isotropic-wrong-root": (
        "import numpy as _np, hdreg.theory.isotropic as _iso\n"
        "def _bad(gamma, lam):\n"
        "    g, l = _np.broadcast_arrays(_np.asarray(gamma, float), _np.asarray(lam, float))\n"
        "    b = l + g - 1.0\n"
        "    return _np.abs(0.5 * (b - _np.sqrt(b * b + 4.0 * l)))\n"
        "_iso.isotropic_kappa = _bad\n",
        "optimally tuned ridge matches Hastie et al.",
    ),
    # the ridge simulator's risks 5% too high: the claims must see it
    "simulator-off-by-5pct": (
        "import dataclasses, hdreg.sim.ridge as _s\n"
        "_orig = _s.simulate_ridge_path_given_design\n"
        "def _bad(*a, **k):\n"
        "    out = _orig(*a, **k)\n"
        "    return dataclasses.replace(out, risk=1.05 * out.risk)\n"
        "_s.simulate_ridge_path_given_design = _bad\n",
        "ridge risk along the path",
    ),
    # the Marchenko-Pastur Stieltjes transform from a wrong quadratic (gamma and 1/gamma swapped)
    "mp-wrong-ratio": (
        "import hdreg.theory.marchenko_pastur as _mp\n"
        "_orig = _mp.mp_stieltjes\n"
        "_mp.mp_stieltjes = lambda lam, gamma, sigma2=1.0: _orig(lam, 1.0 / gamma, sigma2)\n",
        "Marchenko–Pastur",
    ),
}


@pytest.mark.parametrize("case", sorted(SABOTAGE))
def test_broken_theory_fails_a_claim(case):
    prelude, expected_label = SABOTAGE[case]
    assert_claim_fails(CHAPTER, prelude, expected_label)
