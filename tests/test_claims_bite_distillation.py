"""Claims bite for Chapter 4: the distillation chapter run with a broken theory must fail a claim."""

from __future__ import annotations

import pytest

from _bite import assert_claim_fails

CHAPTER = "distillation.md"

SABOTAGE = {
    # a classic slip: c = df1/(n - df1) instead of df2/(n - df2) in the model-shift lemma
    "c-with-df1": (
        "import numpy as _np, hdreg.theory.distillation as _d\n"
        "from hdreg.theory.ridge import degrees_of_freedom as _dof\n"
        "def _bad(spec, kappa, n):\n"
        "    df1, _ = _dof(spec, kappa)\n"
        "    df1 = _np.asarray(df1, dtype=float)\n"
        "    return df1, df1 / (n - df1)\n"
        "_d._c_factor = _bad\n",
        "matches the model-shift lemma",
    ),
    # the mask threshold confused with the amplification threshold (c kappa)
    "mask-at-amplification-threshold": (
        "import hdreg.theory.distillation as _d\n"
        "_d.mask_threshold = _d.amplification_threshold\n",
        "the optimal mask beats keeping a few features more or fewer",
    ),
    # the teacher's variance without the 1/(1 - df2/m) inflation of the Gaussian equivalent
    "teacher-variance-not-inflated": (
        "import dataclasses, numpy as _np, hdreg.theory.distillation as _d\n"
        "from hdreg.theory.ridge import degrees_of_freedom as _dof\n"
        "_orig = _d.teacher_moments\n"
        "def _bad(spectrum, beta_star, m, noise_var, lam=0.0, features=None):\n"
        "    mom = _orig(spectrum, beta_star, m, noise_var, lam, features)\n"
        "    seen = _d._features_mask(features, _np.asarray(spectrum, float))\n"
        "    _, df2 = _dof(_np.where(seen, spectrum, 0.0), mom.kappa)\n"
        "    var = mom.var * (1.0 - float(df2) / m)\n"
        "    risk = float(_np.sum(spectrum * ((mom.mean - beta_star) ** 2 + var)))\n"
        "    return dataclasses.replace(mom, var=var, risk=risk)\n"
        "_d.teacher_moments = _bad\n",
        "two-stage teacher risk matches theory",
    ),
    # the simulator off by 5%: every simulated risk of the surrogate-to-target simulator scaled by 1.05
    "simulator-off-by-5-percent": (
        "import dataclasses, hdreg.sim.distillation as _s\n"
        "_orig = _s.simulate_surrogate_target\n"
        "def _bad(*args, **kwargs):\n"
        "    out = _orig(*args, **kwargs)\n"
        "    return dataclasses.replace(out, risk=1.05 * out.risk)\n"
        "_s.simulate_surrogate_target = _bad\n",
        "target risk along the surrogate segment matches the model-shift lemma",
    ),
}


@pytest.mark.parametrize("case", sorted(SABOTAGE))
def test_broken_theory_fails_a_claim(case):
    prelude, expected_label = SABOTAGE[case]
    assert_claim_fails(CHAPTER, prelude, expected_label)
