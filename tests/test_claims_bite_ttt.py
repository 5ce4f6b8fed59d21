"""Claims bite, test-time training chapter: a wrong TTT formula, or a simulator off by 5%, must fail
the claim that checks it."""

from __future__ import annotations

import pytest

from _bite import assert_claim_fails

CHAPTER = "test_time_training.md"

SABOTAGE = {
    # the warm-start gain with a^2 instead of a^3 in the limit
    "warm-gain-a-squared": (
        "import dataclasses, numpy as _np, hdreg.theory.ttt as _t\n"
        "_orig = _t.isotropic_losses\n"
        "def _bad(alpha, gamma):\n"
        "    r = _orig(alpha, gamma)\n"
        "    a = 1 / (1 + _np.asarray(alpha, float))\n"
        "    g = _np.asarray(gamma, float)\n"
        "    return dataclasses.replace(r, warm=a - g / (1 + g) * a**2)\n"
        "_t.isotropic_losses = _bad\n",
        "approaches the limit as 1/d",
    ),
    # the threshold with (1 + alpha) instead of (1 + alpha)^2
    "threshold-not-squared": (
        "import numpy as _np, hdreg.theory.ttt as _t\n"
        "_t.warm_start_threshold = lambda alpha: (1 + _np.asarray(alpha, float)) / (2 + _np.asarray(alpha, float))\n",
        "cold start beats warm start at twice the threshold",
    ),
    # the exact isotropic E a with the Wishart moment k(k+d) instead of k(k+d+1) (the "+1" of the
    # fourth moment dropped): a ~10% effect on the gain at d = 8, invisible at d = 100
    "isotropic-ea-slip": (
        "import dataclasses, hdreg.theory.ttt as _t\n"
        "_orig = _t.isotropic_ttt\n"
        "def _bad(n, k, d, start='warm', protocol='fresh'):\n"
        "    r = _orig(n, k, d, start, protocol)\n"
        "    ma = r.mean_a * (k + d) / (k + d + 1)\n"
        "    return dataclasses.replace(r, mean_a=ma, after=r.before - r.mean_b**2 / ma, eta=r.mean_b / ma / 2)\n"
        "_t.isotropic_ttt = _bad\n",
        "at d = 8 the simulated TTT loss matches the exact finite-size theory",
    ),
    # Sigma^3 and Sigma swapped in the general-covariance denominator
    "general-sigma-powers-swapped": (
        "import hdreg.theory.ttt as _t\n"
        "_orig = _t._error_moment\n"
        "_t._error_moment = lambda lam, w0, beta, n, A: _orig(lam, w0, beta, n, lam**4 / A)\n",
        "general-covariance theory",
    ),
    # the TTT simulator's losses off by 5%
    "simulator-off-by-5-percent": (
        "import dataclasses, hdreg.sim.icl as _sim\n"
        "_orig = _sim.simulate_ttt\n"
        "def _bad(*a, **k):\n"
        "    r = _orig(*a, **k)\n"
        "    return dataclasses.replace(r, loss=1.05 * r.loss, icl=1.05 * r.icl)\n"
        "_sim.simulate_ttt = _bad\n",
        "simulated TTT loss matches the exact isotropic theory (warm and cold)",
    ),
    # covariate shift: the scale counted twice in the miscalibrated warm start (w = s^2/(n+d+1));
    # the step given to the simulator stays the right one, only the predicted loss is wrong
    "shift-scale-counted-twice": (
        "import dataclasses, hdreg.theory.ttt as _t\n"
        "_orig = _t.shifted_ttt\n"
        "def _bad(n, k, d, scale=1.0, label_noise=0.0, start='warm', protocol='fresh'):\n"
        "    r = _orig(n, k, d, scale, label_noise, start, protocol)\n"
        "    w = _orig(n, k, d, scale**2, label_noise, start, protocol)\n"
        "    return dataclasses.replace(r, after=w.after, before=w.before)\n"
        "_t.shifted_ttt = _bad\n",
        "simulated TTT loss under covariate shift matches the exact theory",
    ),
    # label noise: a standard deviation used where the variance belongs in E a
    "label-noise-sd-for-variance": (
        "import dataclasses, numpy as _np, hdreg.theory.ttt as _t\n"
        "_orig = _t.shifted_ttt\n"
        "def _bad(n, k, d, scale=1.0, label_noise=0.0, start='warm', protocol='fresh'):\n"
        "    r = _orig(n, k, d, scale, label_noise, start, protocol)\n"
        "    w = _orig(n, k, d, scale, _np.sqrt(label_noise), start, protocol)\n"
        "    return dataclasses.replace(r, after=w.after)\n"
        "_t.shifted_ttt = _bad\n",
        "simulated TTT loss under noisy TTT labels matches the exact theory",
    ),
}


@pytest.mark.parametrize("case", sorted(SABOTAGE))
def test_broken_theory_fails_a_claim(case):
    prelude, expected_label = SABOTAGE[case]
    assert_claim_fails(CHAPTER, prelude, expected_label)
