"""Claims bite for Chapter 8: the weak-to-strong random-feature chapter run with a broken theory must
fail the claim that checks the broken formula."""

from __future__ import annotations

import pytest

from _bite import assert_claim_fails

CHAPTER = "w2s_random_features.md"

SABOTAGE = {
    # the model-shift cross term without its factor 2 (a classic slip when expanding the square)
    "cross-term-without-2": (
        "import numpy as _np, hdreg.theory.weak_to_strong as _w\n"
        "_orig = _w.student_risk\n"
        "def _bad(spectrum, beta, noise_var, n_teacher, lam_teacher, n_student, lam_student,\n"
        "         p_teacher=None, p_student=None, nonlinear_var=0.0):\n"
        "    out = _orig(spectrum, beta, noise_var, n_teacher, lam_teacher, n_student, lam_student,\n"
        "                p_teacher, p_student, nonlinear_var)\n"
        "    spec, b, st = _np.asarray(spectrum, float), _np.asarray(beta, float), out.state\n"
        "    s = spec / (spec + _np.reshape(out.nu, (-1, 1)))\n"
        "    half = ((s - 1.0) * spec * (st.mean**2 + st.var - st.mean * b)).sum(axis=1)\n"
        "    risk = _np.reshape(out.risk, -1) - half\n"
        "    return out.__class__(risk.reshape(_np.shape(out.risk)) if _np.ndim(out.risk) else float(risk[0]),\n"
        "                         out.mean_error, out.passed, out.own, out.nu, out.teacher, out.state)\n"
        "_w.student_risk = _bad\n",
        "student risk matches the equivalent, ridge → ridge",
    ),
    # the random-feature teacher's variance without the randomness of its features (gamma_F term)
    "teacher-without-feature-variance": (
        "import dataclasses, numpy as _np, hdreg.theory.weak_to_strong as _w\n"
        "_orig = _w.teacher_state\n"
        "def _bad(spectrum, beta, noise_var, n_teacher, lam_teacher, p_teacher=None, nonlinear_var=0.0):\n"
        "    st = _orig(spectrum, beta, noise_var, n_teacher, lam_teacher, p_teacher, nonlinear_var)\n"
        "    if p_teacher is None:\n"
        "        return st\n"
        "    spec, b, nu, p = _np.asarray(spectrum, float), _np.asarray(beta, float), st.nu, float(p_teacher)\n"
        "    t = spec / (spec + nu)\n"
        "    gf = nu**2 * _np.sum(spec**2 * b**2 / (spec + nu) ** 2) / (1 - _np.sum(t * t) / p)\n"
        "    return dataclasses.replace(st, var=st.var - gf / p / (spec + nu) ** 2)\n"
        "_w.teacher_state = _bad\n",
        "student risk matches the equivalent, RF → ridge",
    ),
    # the belief of the distillation chapter carried over: the student keeps the teacher's exponent
    "student-keeps-teacher-exponent": (
        "import hdreg.theory.weak_to_strong as _w\n"
        "_orig = _w.predicted_rates\n"
        "def _bad(alpha, r, setting='noisy_kernel', ell=None):\n"
        "    t, s = _orig(alpha, r, setting, ell)\n"
        "    return t, t\n"
        "_w.predicted_rates = _bad\n",
        "student exponent, ridgeless teacher, r = 0.25",
    ),
    # the simulator off by 5%: every simulated risk (teacher, student, oracle) scaled by 1.05
    "simulator-off-by-5-percent": (
        "import dataclasses, hdreg.sim.weak_to_strong as _s\n"
        "_orig = _s.simulate_w2s\n"
        "def _bad(*args, **kwargs):\n"
        "    out = _orig(*args, **kwargs)\n"
        "    return dataclasses.replace(out, teacher=1.05 * out.teacher, student=1.05 * out.student,\n"
        "                               oracle=1.05 * out.oracle)\n"
        "_s.simulate_w2s = _bad\n",
        "risk matches the equivalent, ridge → ridge",
    ),
    # the first-order width correction with d1 in place of e = d1 - d2 (the feature count of
    # df_F and of the feature term of E is e, not the effective dimension)
    "width-correction-d1-for-e": (
        "import dataclasses, numpy as _np, hdreg.theory.weak_to_strong as _w\n"
        "_orig = _w.width_correction\n"
        "def _bad(spectrum, beta, noise_var, n_teacher, lam_teacher, n_student, lam_student,\n"
        "         p_student, p_teacher=None):\n"
        "    out = _orig(spectrum, beta, noise_var, n_teacher, lam_teacher, n_student,\n"
        "                lam_student, p_student, p_teacher)\n"
        "    spec = _np.asarray(spectrum, float)\n"
        "    kap = float(_w.student_risk(spectrum, beta, noise_var, n_teacher, lam_teacher,\n"
        "                                n_student, lam_student).nu)\n"
        "    s = spec / (spec + kap)\n"
        "    ratio = s.sum() / (s.sum() - (s * s).sum())\n"
        "    return dataclasses.replace(out, first_order=out.shift + ratio * (\n"
        "        _np.asarray(out.first_order) - _np.asarray(out.shift)))\n"
        "_w.width_correction = _bad\n",
        "first-order width correction matches the equivalent",
    ),
    # the belief that any growing width keeps the kernel-limit rate
    "any-width-keeps-the-rate": (
        "import numpy as _np, hdreg.theory.weak_to_strong as _w\n"
        "_orig = _w.predicted_width_rate\n"
        "def _bad(alpha, r, q):\n"
        "    rate, q_star = _orig(alpha, r, q)\n"
        "    m = min(r, 1.0)\n"
        "    return _np.full_like(_np.asarray(rate, float), 2 * alpha * m / (2 * alpha * m + 1)), q_star\n"
        "_w.predicted_width_rate = _bad\n",
        "student exponent at width n^0.25",
    ),
}


@pytest.mark.parametrize("case", sorted(SABOTAGE))
def test_broken_theory_fails_a_claim(case):
    prelude, expected_label = SABOTAGE[case]
    assert_claim_fails(CHAPTER, prelude, expected_label)
