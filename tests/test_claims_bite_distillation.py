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


# --- the sections on teacher capacity and covariance shift (appended)

SABOTAGE_NEW = {
    # the shifted teacher's variance computed under the student's covariance instead of its own
    "shifted-teacher-variance-unshifted": (
        "import dataclasses, hdreg.theory.distillation as _d\n"
        "_orig = _d.shifted_teacher_moments\n"
        "def _bad(spectrum, beta_star, teacher_spectrum, m, noise_var, lam=0.0):\n"
        "    mom = _orig(spectrum, beta_star, teacher_spectrum, m, noise_var, lam)\n"
        "    ref = _orig(spectrum, beta_star, spectrum, m, noise_var, lam)\n"
        "    return dataclasses.replace(mom, var=ref.var)\n"
        "_d.shifted_teacher_moments = _bad\n",
        "student risk under covariance shift matches theory",
    ),
    # the square-root rule without its square root (a slip in the Lagrange condition)
    "teacher-spectrum-without-root": (
        "import numpy as _np, hdreg.theory.distillation as _d\n"
        "def _bad(spectrum, n, total=None, lam=0.0):\n"
        "    t = _d.surrogate_risk_terms(spectrum, spectrum, spectrum, n, 0.0, lam)\n"
        "    s = spectrum / (spectrum + t.kappa)\n"
        "    w = spectrum * (s**2 + t.c * (1 - s) ** 2)\n"
        "    tot = spectrum.sum() if total is None else total\n"
        "    return tot * w / w.sum()\n"
        "_d.optimal_teacher_spectrum = _bad\n",
        "the square-root teacher beats ground-truth labels",
    ),
    # the capacity curve with the teacher's variance sigma_eff^2/m instead of sigma_eff^2/(m - k)
    "capacity-variance-not-inflated": (
        "import numpy as _np, hdreg.theory.distillation as _d\n"
        "_orig = _d.teacher_capacity_curve\n"
        "def _bad(spectrum, beta_star, m, n, noise_var, features, **kw):\n"
        "    ks = _np.asarray(features)\n"
        "    r = _np.asarray(_orig(spectrum, beta_star, m, n, noise_var, features, **kw))\n"
        "    t = _d.surrogate_risk_terms(spectrum, beta_star, beta_star, n, 0.0)\n"
        "    s = spectrum / (spectrum + t.kappa)\n"
        "    w = s**2 + t.c * (1 - s) ** 2\n"
        "    out = []\n"
        "    for k, rk in zip(ks.ravel(), r.ravel()):\n"
        "        sig = noise_var + _np.sum((spectrum * beta_star**2)[k:])\n"
        "        out.append(rk - sig * _np.sum(w[:k]) * (1 / (m - k) - 1 / m))\n"
        "    return _np.array(out).reshape(ks.shape)\n"
        "_d.teacher_capacity_curve = _bad\n",
        "student risk against teacher capacity matches theory",
    ),
}


@pytest.mark.parametrize("case", sorted(SABOTAGE_NEW))
def test_broken_new_sections_fail_a_claim(case):
    prelude, expected_label = SABOTAGE_NEW[case]
    assert_claim_fails(CHAPTER, prelude, expected_label)
