"""Claims bite, softmax-attention chapter: each slip in a formula the chapter checks, or a simulator
off by 5%, must fail the claim that checks it."""

from __future__ import annotations

import pytest

from _bite import assert_claim_fails

CHAPTER = "softmax_attention.md"

SABOTAGE = {
    # the long-prompt limit without the covariance (v w^T W x_q instead of v w^T Lambda W x_q)
    "long-prompt-limit-without-lambda": (
        "import numpy as _np, hdreg.theory.softmax_attention as _sa\n"
        "def _bad(W, v, spectrum, w, xq):\n"
        "    return float(v) * (_np.asarray(w) * (_np.asarray(xq) @ _np.asarray(W).T)).sum(-1)\n"
        "_sa.long_prompt_prediction = _bad\n",
        "softmax approaches its linear limit at rate 1/N",
    ),
    # mode rates proportional to lambda instead of lambda^3: exponent (a - 1)/a
    "exponent-rates-lambda-not-cubed": (
        "import hdreg.theory.softmax_attention as _sa\n"
        "_sa.gd_exponent = lambda a: (a - 1) / a\n",
        "plain GD on the linear toy decays as t^-(a-1)/(3a)",
    ),
    # the prefactor 1/(a - 1) (small-s approximation of Gamma(s)/(3a)) instead of Gamma(s)/(3a)
    "powerlaw-prefactor-approximated": (
        "import hdreg.theory.softmax_attention as _sa\n"
        "_sa.gd_powerlaw = lambda a, eta, t: (4 * eta * t) ** (-_sa.gd_exponent(a)) / (a - 1)\n",
        "plain GD excess matches the Gamma-function power law",
    ),
    # the GD contraction with eta * lambda * E (the factor 2 of the gradient forgotten)
    "gd-contraction-without-factor-two": (
        "import hdreg.theory.softmax_attention as _sa\n"
        "_orig = _sa.toy_gd_excess\n"
        "_sa.toy_gd_excess = lambda lam, n, s2, eta, t: _orig(lam, n, s2, eta / 2, t)\n",
        "plain GD excess matches the Gamma-function power law",
    ),
    # the inverse-Wishart mean with N - d instead of N - d - 1
    "ols-inverse-wishart-off-by-one": (
        "import hdreg.theory.softmax_attention as _sa\n"
        "_sa.ols_excess = lambda n, d, s2: s2 * d / (n - d)\n",
        "least-squares excess matches sigma^2 d/(N-d-1)",
    ),
    # the least-squares simulator off by 5%
    "ols-simulator-off-by-5-percent": (
        "import hdreg.sim.softmax_attention as _sim\n"
        "_orig = _sim.ols_design_risk\n"
        "_sim.ols_design_risk = lambda *a, **k: 1.05 * _orig(*a, **k)\n",
        "least-squares excess matches sigma^2 d/(N-d-1)",
    ),
    # the rate variance V(u) without the tilt term tr(Lambda)/(1 - 2u) (the (w^T Lambda a)^2 part)
    "rate-variance-without-tilt-term": (
        "import hdreg.theory.softmax_attention as _sa, numpy as _np\n"
        "def _bad(u, spectrum, noise_var):\n"
        "    lam = _np.asarray(spectrum, float)\n"
        "    u = _np.asarray(u, float)\n"
        "    with _np.errstate(over='ignore'):\n"
        "        return (1 - 2 * u) ** (-lam.size / 2) * (lam.sum() + noise_var) / u\n"
        "_sa.softmax_rate_variance = _bad\n",
        "trained softmax excess matches C_soft/(N + C_soft/tr Lambda)",
    ),
    # the softmax excess at leading order only, C/N, without the output shrinkage
    "softmax-excess-without-shrinkage": (
        "import hdreg.theory.softmax_attention as _sa, numpy as _np\n"
        "_sa.softmax_excess = lambda n, lam, s2: _sa.softmax_rate_constant(lam, s2)[0] / "
        "_np.asarray(n, float)\n",
        "trained softmax excess matches C_soft/(N + C_soft/tr Lambda)",
    ),
    # the paired least-squares excess off by 5%
    "paired-ols-off-by-5-percent": (
        "import hdreg.sim.softmax_attention as _sim\n"
        "_orig = _sim.paired_excess\n"
        "def _bad(*a, **k):\n"
        "    out = _orig(*a, **k)\n"
        "    out['ols'] = 1.05 * out['ols']\n"
        "    return out\n"
        "_sim.paired_excess = _bad\n",
        "least squares on the common test prompts matches sigma^2 d/(N-d-1)",
    ),
    # the paired linear-attention excess without its noise term sigma^2 |X Gamma x_q|^2 / n^2
    "paired-linear-without-noise-term": (
        "import hdreg.sim.softmax_attention as _sim\n"
        "_orig = _sim.paired_excess\n"
        "def _bad(W, v, spectrum, n, s2, *a, **k):\n"
        "    out = _orig(W, v, spectrum, n, s2, *a, **k)\n"
        "    if 'linear' in out:\n"
        "        out['linear'] = out['linear'] - _orig(W, v, spectrum, n, s2, *a, **k)['linear'] \\\n"
        "            + _orig(W, v, spectrum, n, 0.0, *a, **k)['linear']\n"
        "    return out\n"
        "_sim.paired_excess = _bad\n",
        "linear attention on the common test prompts matches its excess",
    ),
    # the pretraining sweep's risks off by 5%
    "pretrain-sweep-off-by-5-percent": (
        "import hdreg.sim.softmax_attention as _sim\n"
        "_orig = _sim.pretrain_sweep\n"
        "_sim.pretrain_sweep = lambda *a, **k: 1.05 * _orig(*a, **k)\n",
        "excess over the infinite-prompt layer decays as 1/P",
    ),
    # the preconditioned fit with a step five times too small
    "fit-step-five-times-too-small": (
        "import hdreg.sim.softmax_attention as _sim\n"
        "_orig = _sim.fit_softmax\n"
        "def _bad(*a, lr=0.5, **k):\n"
        "    return _orig(*a, lr=lr / 5, **k)\n"
        "_sim.fit_softmax = _bad\n",
        "preconditioned fits are within 1% of their final loss after 2 steps",
    ),
}


@pytest.mark.parametrize("case", sorted(SABOTAGE))
def test_broken_theory_fails_a_claim(case):
    prelude, expected_label = SABOTAGE[case]
    assert_claim_fails(CHAPTER, prelude, expected_label)
