"""Claims bite, attention-and-collapse chapter: each slip in a formula the chapter checks, or a
simulator off by 5%, must fail the claim that checks it."""

from __future__ import annotations

import pytest

from _bite import assert_claim_fails

CHAPTER = "attention_collapse.md"

SABOTAGE = {
    # the one-step coefficient without sigma(0) = 1/2: eta c_s instead of eta c_s / 2
    "one-step-without-one-half": (
        "import hdreg.theory.token_selection as _t\n"
        "_t.one_step_coefficient = lambda pp, pm, eta, prior=0.5: "
        "eta * _t.signed_frequency(pp, pm, prior)\n",
        "one step moves each token along v by eta c_s / 2",
    ),
    # the frequency without its sign: q pi+ + (1 - q) pi-
    "frequency-unsigned": (
        "import hdreg.theory.token_selection as _t\n"
        "_t.signed_frequency = lambda pp, pm, prior=0.5: prior * pp + (1 - prior) * pm\n",
        "one step moves each token along v by eta c_s / 2",
    ),
    # the one-step simulator off by 5%
    "one-step-simulator-off-by-5-percent": (
        "import hdreg.sim.token_selection as _s\n"
        "_orig = _s.one_step_embeddings\n"
        "def _bad(*a, **k):\n"
        "    r = _orig(*a, **k)\n"
        "    r['coef'] = 1.05 * r['coef']\n"
        "    return r\n"
        "_s.one_step_embeddings = _bad\n",
        "one step moves each token along v by eta c_s / 2",
    ),
    # the max-margin direction replaced by the mean of the constraint rows
    "max-margin-replaced-by-mean-row": (
        "import hdreg.theory.token_selection as _t\n"
        "_t.max_margin_direction = lambda A, tol=1e-3: A.mean(0) / (A @ A.mean(0)).min()\n",
        "the query is aligned with the max-margin direction of its selection",
    ),
    # NC1 without the 1/K
    "nc1-without-one-over-K": (
        "import hdreg.sim.collapse as _c\n"
        "_orig = _c.nc1\n"
        "_c.nc1 = lambda H, lab, K: K * _orig(H, lab, K)\n",
        "NC1 never exceeds the loss bound",
    ),
    # the loss bound without the factor 2 (tr Sigma_W <= L instead of 2L)
    "bound-without-factor-two": (
        "import hdreg.sim.collapse as _c\n"
        "_orig = _c.nc1_bound\n"
        "_c.nc1_bound = lambda *a: 0.5 * _orig(*a)\n",
        "NC1 never exceeds the loss bound",
    ),
    # the initial-noise energy with Var(w.x) = |x|^2 instead of |x|^2 / d
    "init-energy-without-one-over-d": (
        "import numpy as _np, hdreg.theory.collapse as _tc\n"
        "_orig = _tc.initial_feature_energy\n"
        "_tc.initial_feature_energy = lambda X, K, nodes=80: "
        "_orig(_np.asarray(X) * _np.sqrt(_np.asarray(X).shape[1]), K, nodes)\n",
        "at initialisation N E|h|^2 = K E tanh^2 g",
    ),
    # the mean-field simulator's features off by 5% in energy
    "mean-field-simulator-off-by-5-percent": (
        "import hdreg.sim.collapse as _c\n"
        "_orig = _c.train_mean_field\n"
        "def _bad(*a, **k):\n"
        "    r = _orig(*a, **k)\n"
        "    r['h'] = 1.05 ** 0.5 * r['h']\n"
        "    return r\n"
        "_c.train_mean_field = _bad\n",
        "at initialisation N E|h|^2 = K E tanh^2 g",
    ),
}


@pytest.mark.parametrize("case", sorted(SABOTAGE))
def test_broken_theory_fails_a_claim(case):
    prelude, expected_label = SABOTAGE[case]
    assert_claim_fails(CHAPTER, prelude, expected_label)
