"""Claims bite for the data-uniformity chapter: each sabotage breaks one formula or simulator the
chapter checks, and the chapter must stop at the claim that checks it.

Not sabotaged here: ``gd_iterations`` (the chapter only orders its counts; its exactness against an
actual gradient-descent run is a unit test in ``tests/test_sim_uniformity.py``) and the two-layer
network (its gradient is unit-tested).
"""

from __future__ import annotations

import pytest

from _bite import assert_claim_fails

CHAPTER = "data_uniformity.md"

SABOTAGE = {
    # the i.i.d. h_min simulator off by 5%
    "iid-simulator-off-by-5pc": (
        "import hdreg.sim.uniformity as _u\n"
        "_orig = _u.iid_min_distance\n"
        "_u.iid_min_distance = lambda *a, **k: 1.05 * _orig(*a, **k)\n",
        "i.i.d. h_min matches the Poisson prediction (uniform)",
    ),
    # the Poisson prediction without the Gamma(1 + 1/d) factor (the median-like scale, not the mean)
    "iid-prediction-no-gamma": (
        "import math, hdreg.sim.uniformity as _u\n"
        "_orig = _u.iid_hmin_prediction\n"
        "_u.iid_hmin_prediction = lambda n, d, l2: _orig(n, d, l2) / math.gamma(1 + 1 / d)\n",
        "i.i.d. h_min matches the Poisson prediction (uniform)",
    ),
    # n^2 pairs instead of n(n-1)/2 in the expected number of close pairs
    "iid-prediction-n-squared-pairs": (
        "import hdreg.sim.uniformity as _u\n"
        "_orig = _u.iid_hmin_prediction\n"
        "_u.iid_hmin_prediction = lambda n, d, l2: _orig(n, d, l2) * (n / (2 * (n - 1))) ** 0.5\n",
        "i.i.d. h_min matches the Poisson prediction (uniform)",
    ),
    # int phi_s^2 = (2 pi s^2)^(-d/2) instead of (4 pi s^2)^(-d/2) for the Gaussian component
    "density-l2-wrong-gaussian-term": (
        "import math, hdreg.sim.uniformity as _u\n"
        "_orig = _u.mixture_density_l2\n"
        "def _bad(d=2, w=0.7, centre=0.5, s=0.1):\n"
        "    return _orig(d, w, centre, s) + w * w * ((2 * math.pi * s * s) ** (-d / 2)\n"
        "                                             - (4 * math.pi * s * s) ** (-d / 2))\n"
        "_u.mixture_density_l2 = _bad\n",
        "i.i.d. h_min matches the Poisson prediction (biased)",
    ),
    # packing bound with balls of radius h instead of h/2 around the points
    "packing-radius-h": (
        "import numpy as _np, hdreg.sim.uniformity as _u\n"
        "def _bad(n, d, side=1.0):\n"
        "    c = (_np.atleast_1d(_np.asarray(n, float)) * _u.ball_volume(d)) ** (1 / d)\n"
        "    return _np.where(c > 1, side / _np.maximum(c - 1, 1e-300), _np.inf)\n"
        "_u.packing_bound = _bad\n",
        "greedy sets obey the packing bound",
    ),
    # farthest-point selection replaced by the first m points of a random permutation
    "greedy-is-random": (
        "import numpy as _np, hdreg.selection as _sel\n"
        "_sel.farthest_point = lambda X, m, start=0: _np.random.default_rng(start).permutation(\n"
        "    len(X))[:m]\n",
        "greedy separation exponent is -1/d",
    ),
    # Gershgorin's bound with the best row instead of the worst one
    "gershgorin-max-row": (
        "import numpy as _np, hdreg.sim.uniformity as _u\n"
        "def _bad(K):\n"
        "    K = _np.asarray(K)\n"
        "    dg = _np.diagonal(K, axis1=-2, axis2=-1)\n"
        "    return (dg - (_np.abs(K).sum(-1) - _np.abs(dg))).max(axis=-1)\n"
        "_u.gershgorin_bound = _bad\n",
        "Gershgorin bound holds (random)",
    ),
}


@pytest.mark.parametrize("case", sorted(SABOTAGE))
def test_broken_formula_fails_a_claim(case):
    prelude, expected_label = SABOTAGE[case]
    assert_claim_fails(CHAPTER, prelude, expected_label)
