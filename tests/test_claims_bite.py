"""Claims bite: a chapter executed with a deliberately broken theory must fail with a ClaimError.

Each case prepends one cell to Chapter 1 that breaks a formula of ``hdreg`` in the running kernel,
executes the chapter and expects the first failing cell to raise ``ClaimError`` from the claim that
checks that formula. If a chapter kept passing with a wrong theory, its claims would be decoration.
"""

from __future__ import annotations

import pytest

from _bite import assert_claim_fails

CHAPTER = "ridge.md"

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
    # universality: the Rademacher design simulated 5% off (its claim must see it)
    "rademacher-design-off-by-5pct": (
        "import dataclasses, hdreg.sim.universality as _u\n"
        "_orig = _u.simulate_ridge_path_designs\n"
        "def _bad(kind, *a, **k):\n"
        "    out = _orig(kind, *a, **k)\n"
        "    f = 1.05 if kind == 'rademacher' else 1.0\n"
        "    return dataclasses.replace(out, risk=f * out.risk)\n"
        "_u.simulate_ridge_path_designs = _bad\n",
        "Rademacher design: ridge risk along the path",
    ),
    # the elliptical interpolator without the E[rho^-2] inflation of its variance
    "elliptical-no-inflation": (
        "import hdreg.theory.universality as _uni\n"
        "_orig = _uni.elliptical_ridgeless_risk\n"
        "_uni.elliptical_ridgeless_risk = lambda s, b, n, v, m: _orig(s, b, n, v, 1.0)\n",
        "elliptical ridgeless risk = Gaussian bias",
    ),
    # R_k off by a factor 4: the effective-rank proxy of the variance is wrong
    "effective-rank-R-off": (
        "import hdreg.theory.benign as _b\n"
        "_orig = _b.effective_ranks\n"
        "def _bad(s):\n"
        "    r, R = _orig(s)\n"
        "    return r, R / 4\n"
        "_b.effective_ranks = _bad\n",
        "ridgeless variance within a factor 2 of",
    ),
    # the implicit regularisation 5% off where the benign section reads it
    "benign-tau-off-by-5pct": (
        "import hdreg.theory.ridge as _r\n"
        "_orig = _r.ridgeless_tau\n"
        "_r.ridgeless_tau = lambda s, n: 1.05 * _orig(s, n) if len(s) > 3 and s[3] < s[0] / 10 "
        "else _orig(s, n)\n",
        "spectrum A: tau = T_k*/(n - k*)",
    ),
}


@pytest.mark.parametrize("case", sorted(SABOTAGE))
def test_broken_theory_fails_a_claim(case):
    prelude, expected_label = SABOTAGE[case]
    assert_claim_fails(CHAPTER, prelude, expected_label)
