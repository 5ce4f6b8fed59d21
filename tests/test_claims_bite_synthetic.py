"""Claims bite (synthetic data): the chapter run with a broken theory or simulator must fail a claim.

Each case prepends a cell that breaks one formula of ``hdreg.theory.synthetic`` in the running kernel
and expects the chapter to stop at the claim that checks that formula.
"""

from __future__ import annotations

import pytest

from _bite import assert_claim_fails

CHAPTER = "synthetic_data.md"

SABOTAGE = {
    # forgetting the covariance shift: sigma^2 p / (n - p) for every synthetic covariance
    "mixed-ignores-shift": (
        "import numpy as _np, hdreg.theory.synthetic as _s\n"
        "def _bad(shift, n_t, n_s, noise_var):\n"
        "    c = _np.asarray(shift, float)\n"
        "    return noise_var * c.shape[-1] / (n_t + n_s - c.shape[-1]) + 0 * c.sum(axis=-1)\n"
        "_s.mixed_risk_from_shift = _bad\n",
        "KMS mixed-training risk matches",
    ),
    # the synthetic-only formula without the projection on the synthetic mean
    "synthetic-only-no-projection": (
        "import numpy as _np, hdreg.theory.synthetic as _s\n"
        "_orig = _s.synthetic_only_risk\n"
        "_s.synthetic_only_risk = lambda st, ss, mt, ms, n, v, **kw: _orig(st, ss, mt, 0 * _np.asarray(ms),\n"
        "                                                                  n, v, **kw)\n",
        "synthetic-only risk matches the synthetic-only proposition",
    ),
    # the over-parameterised theory evaluated as if the synthetic covariance were matched
    "overparam-assumes-matched": (
        "import hdreg.theory.synthetic as _s\n"
        "_orig = _s.overparameterised_risk\n"
        "_s.overparameterised_risk = lambda t, s, b, nt, ns, v, lam=0.0: _orig(t, t, b, nt, ns, v, lam)\n",
        "over-parameterised risk matches the generalised-resolvent theory",
    ),
    # the simulator's risks off by 5%
    "simulator-off-by-5-percent": (
        "import dataclasses as _dc, hdreg.sim.synthetic as _ss\n"
        "_orig = _ss.simulate_mixed_training\n"
        "def _off(*a, **k):\n"
        "    out = _orig(*a, **k)\n"
        "    return _dc.replace(out, risk=1.05 * out.risk, cond_risk=1.05 * out.cond_risk)\n"
        "_ss.simulate_mixed_training = _off\n",
        "KMS mixed-training risk matches the deterministic equivalent",
    ),
}


@pytest.mark.parametrize("case", sorted(SABOTAGE))
def test_broken_theory_fails_a_claim(case):
    prelude, expected_label = SABOTAGE[case]
    assert_claim_fails(CHAPTER, prelude, expected_label)
