"""Claims bite for the chapter on gradient-descent dynamics: a broken formula or simulator must stop
the chapter at the claim that checks it (see tests/_bite.py)."""

from __future__ import annotations

import pytest

from _bite import assert_claim_fails

CHAPTER = "gd_dynamics.md"

SABOTAGE = {
    # the loss without its 1/2: b' = 2 X^T (y - Xb)/n, i.e. the clock runs twice as fast
    "isotropic-time-factor-2": (
        "import hdreg.theory.gradient_flow as _g\n"
        "_orig = _g.isotropic_risk\n"
        "_g.isotropic_risk = lambda gamma, t, signal, noise_var, **kw: _orig(gamma, 2 * t,"
        " signal, noise_var, **kw)\n",
        "gradient-flow risk over time matches Marchenko-Pastur, gamma=0.5",
    ),
    # the variance filter not squared: (1 - e^{-ts}) / s instead of (1 - e^{-ts})^2 / s
    "isotropic-variance-unsquared": (
        "import numpy as _np, dataclasses, hdreg.theory.gradient_flow as _g\n"
        "_orig = _g.isotropic_risk\n"
        "def _bad(gamma, t, signal, noise_var, **kw):\n"
        "    out = _orig(gamma, t, signal, noise_var, **kw)\n"
        "    s, w = _g._mp_nodes(_np.asarray(gamma, float)[..., None])\n"
        "    tt = _np.asarray(t, float)[..., None]\n"
        "    v = noise_var * _np.asarray(gamma, float) * (w * -_np.expm1(-tt * s) / s).sum(-1)\n"
        "    return dataclasses.replace(out, variance=v, risk=out.bias + v)\n"
        "_g.isotropic_risk = _bad\n",
        "gradient-flow risk over time matches Marchenko-Pastur, gamma=0.5",
    ),
    # the general bias without its finite-n effects: the population bias sum_i lam_i b_i^2 e^{-2t lam_i}
    "general-bias-population": (
        "import numpy as _np, dataclasses, hdreg.theory.gradient_flow as _g\n"
        "_orig = _g.risk\n"
        "def _bad(spectrum, beta, n, t, noise_var, **kw):\n"
        "    out = _orig(spectrum, beta, n, t, noise_var, **kw)\n"
        "    pop = _g.population_risk(spectrum, beta, t)\n"
        "    return dataclasses.replace(out, bias=pop, risk=pop + out.variance)\n"
        "_g.risk = _bad\n",
        "general-covariance GF risk matches the Talbot equivalent",
    ),
    # gradient descent taken as gradient flow at t = eta k (no warped clock)
    "gd-equals-gf": (
        "import hdreg.theory.gradient_flow as _g\n"
        "_g.isotropic_gd_risk = lambda gamma, k, eta, signal, noise_var: _g.isotropic_risk("
        "gamma, k * eta, signal, noise_var)\n",
        "gradient descent minus gradient flow at t = eta k matches theory",
    ),
    # the initialisation forgotten in the theory (b(0) = 0 assumed whatever init_var says)
    "initialisation-ignored": (
        "import hdreg.theory.gradient_flow as _g\n"
        "_orig = _g.isotropic_risk\n"
        "_g.isotropic_risk = lambda gamma, t, signal, noise_var, init_var=0.0: _orig(gamma, t,"
        " signal, noise_var)\n",
        "risk from a random initialisation, init_var=0.5",
    ),
    # a simulator whose risks are 5% too large
    "simulator-off-by-5pc": (
        "import dataclasses, hdreg.sim.gradient_flow as _s\n"
        "_orig = _s.simulate_gradient_flow\n"
        "def _bad(*a, **k):\n"
        "    out = _orig(*a, **k)\n"
        "    return dataclasses.replace(out, bias=1.05 * out.bias, variance=1.05 * out.variance)\n"
        "_s.simulate_gradient_flow = _bad\n",
        "gradient-flow risk over time matches Marchenko-Pastur, gamma=0.5",
    ),
    # the population bias with e^{-t lam} instead of e^{-2 t lam} (the square forgotten)
    "population-bias-unsquared": (
        "import numpy as _np, hdreg.theory.gradient_flow as _g\n"
        "_orig = _g.population_risk\n"
        "_g.population_risk = lambda spectrum, beta, t: _orig(spectrum, beta, _np.asarray(t) / 2)\n",
        "population risk constant Gamma(2r)/alpha (2t)^(-2r)",
    ),
}


@pytest.mark.parametrize("case", sorted(SABOTAGE))
def test_broken_theory_fails_a_claim(case):
    prelude, expected_label = SABOTAGE[case]
    assert_claim_fails(CHAPTER, prelude, expected_label)
