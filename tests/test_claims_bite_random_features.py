"""Claims bite (random features): the chapter run with a broken formula or simulator must fail the
right claim.

Each case prepends one cell to ``chapters/random_features.md`` that breaks one formula of
``hdreg.theory.random_features`` (or the simulator) in the running kernel and expects the chapter to
stop at the claim that checks it.
"""

from __future__ import annotations

import pytest

from _bite import assert_claim_fails

CHAPTER = "random_features.md"

SABOTAGE = {
    # the classic slip of the formula sheet: the paper's unnormalised penalty passed as the normalised one
    "unnormalised-penalty": (
        "import numpy as _np, hdreg.theory.random_features as _rf\n"
        "_orig = _rf.rf_risk\n"
        "_rf.rf_risk = lambda s, b, n, p, lam, nv, **k: _orig(s, b, n, p, _np.asarray(lam) * n, nv, **k)\n",
        "p -> infinity: random-feature ridge becomes ridge on x",
    ),
    # variance degrees of freedom of ridge on x (df2) instead of df_F = df2 + (df1 - df2)^2 / (p - df2)
    "variance-without-feature-term": (
        "import numpy as _np, hdreg.theory.random_features as _rf\n"
        "_orig = _rf._risk_from_nu\n"
        "def _bad(spec, w, xp, n, p, nu, sigma2, mvar):\n"
        "    f = _orig(spec, w, xp, n, p, nu, sigma2, mvar)\n"
        "    f['variance'] = sigma2 * f['df2'] / (n - f['df2'])\n"
        "    f['risk'] = f['bias'] + f['variance']\n"
        "    return f\n"
        "_rf._risk_from_nu = _bad\n",
        "ridgeless, p < n: variance",
    ),
    # forgetting mu_1^2 in the variance of the nonlinear part: mu_star^2 = E relu^2 - mu_0^2
    "relu-mu-star-without-mu1": (
        "import numpy as _np, hdreg.theory.random_features as _rf\n"
        "_rf.relu_coefficients = lambda: (1 / _np.sqrt(2 * _np.pi), 0.5, _np.sqrt(0.5 - 1 / (2 * _np.pi)))\n",
        "Gaussian equivalent",   # the pointwise or the pooled ReLU claim, whichever fails first
    ),
    # the simulator's risk off by 5%
    "simulator-off-by-5-percent": (
        "import dataclasses as _dc, hdreg.sim.random_features as _sr\n"
        "_orig = _sr.simulate_rf_path\n"
        "def _off(*a, **k):\n"
        "    out = _orig(*a, **k)\n"
        "    return _dc.replace(out, risk=1.05 * out.risk)\n"
        "_sr.simulate_rf_path = _off\n",
        "random-feature risk over its deterministic equivalent, pooled over (p, lam)",
    ),
    # (ell, q) phase diagram: variance exponent (1 - gamma) / alpha instead of 1 - gamma / alpha
    "phase-variance-exponent": (
        "import numpy as _np, hdreg.theory.random_features as _rf\n"
        "def _bad(alpha, r, ell, q):\n"
        "    ell, q = _np.broadcast_arrays(_np.asarray(ell, float), _np.asarray(q, float))\n"
        "    g = _np.minimum(ell, alpha * _np.minimum(1.0, q))\n"
        "    t = _np.stack([q + g * (min(2 * r, 1) - 1 / alpha), 2 * min(r, 1) * g,\n"
        "                   (1 - g) / alpha])\n"
        "    rate = t.min(axis=0)\n"
        "    return rate, _np.argmax(t <= rate + 1e-12, axis=0), g\n"
        "_rf.rf_phase_rate = _bad\n",
        "local exponent along (ell, q) rays matches the piecewise rate",
    ),
    # (ell, q) phase diagram: nu_2 bounded by p only (forgetting the sample bound n^-alpha)
    "phase-gamma-without-n-bound": (
        "import numpy as _np, hdreg.theory.random_features as _rf\n"
        "def _bad(alpha, r, ell, q):\n"
        "    ell, q = _np.broadcast_arrays(_np.asarray(ell, float), _np.asarray(q, float))\n"
        "    g = _np.minimum(ell, alpha * q)\n"
        "    t = _np.stack([q + g * (min(2 * r, 1) - 1 / alpha), 2 * min(r, 1) * g,\n"
        "                   1 - g / alpha])\n"
        "    rate = t.min(axis=0)\n"
        "    out = (rate, _np.argmax(t <= rate + 1e-12, axis=0), g)\n"
        "    return tuple(float(x) for x in out) if rate.ndim == 0 else out\n"
        "_rf.rf_phase_rate = _bad\n",
        "past ell = alpha with p > n the risk stops decaying",
    ),
    # r > 1/2: the feature term without its saturation at r = 1/2 (2r instead of min(2r, 1))
    "phase-approximation-without-saturation": (
        "import numpy as _np, hdreg.theory.random_features as _rf\n"
        "def _bad(alpha, r, ell, q):\n"
        "    ell, q = _np.broadcast_arrays(_np.asarray(ell, float), _np.asarray(q, float))\n"
        "    g = _np.minimum(ell, alpha * _np.minimum(1.0, q))\n"
        "    t = _np.stack([q + g * (2 * r - 1 / alpha), 2 * min(r, 1) * g, 1 - g / alpha])\n"
        "    rate = t.min(axis=0)\n"
        "    out = (rate, _np.argmax(t <= rate + 1e-12, axis=0), g)\n"
        "    return tuple(float(x) for x in out) if rate.ndim == 0 else out\n"
        "_rf.rf_phase_rate = _bad\n",
        "r = 0.75: q* features give the approximation-limited rate",
    ),
    # single-index target: mu_star^2 = Var g (forgetting to remove the linear part mu_1^2)
    "single-index-noise-with-linear-part": (
        "import hdreg.sim.random_features as _sr\n"
        "_orig = _sr.single_index_coefficients\n"
        "def _bad(link, points=48001):\n"
        "    m0, m1, ms2 = _orig(link, points)\n"
        "    return m0, m1, ms2 + m1 ** 2\n"
        "_sr.single_index_coefficients = _bad\n",
        "single-index ReLU target: risk over the equivalent",
    ),
}


@pytest.mark.parametrize("case", sorted(SABOTAGE))
def test_broken_theory_fails_a_claim(case):
    prelude, expected_label = SABOTAGE[case]
    assert_claim_fails(CHAPTER, prelude, expected_label)
