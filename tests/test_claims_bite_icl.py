"""Claims bite, in-context learning chapter: a wrong closed form of the pretrained model, or a
simulator off by 5%, must fail the claim that checks it."""

from __future__ import annotations

import pytest

from _bite import assert_claim_fails

CHAPTER = "icl_linear_attention.md"

SABOTAGE = {
    # the Wishart fourth moment with n^2 instead of n(n+1): W* = Sb Sx [n Sx Sb Sx + ...]^-1
    "wishart-n-squared": (
        "import numpy as _np, hdreg.theory.icl as _icl\n"
        "def _bad(sigma_x, sigma_beta, n, noise_var=0.0):\n"
        "    sx, sb = _np.asarray(sigma_x, float), _np.asarray(sigma_beta, float)\n"
        "    m = n * sx @ sb @ sx + (_np.trace(sb @ sx) + noise_var) * sx\n"
        "    return sb @ sx @ _np.linalg.inv(m)\n"
        "_icl.pretrained_weights = _bad\n",
        # the loss is flat at its minimum, so this O(1/n) error in W* is invisible in the loss curves;
        # the entrywise comparison with the SGD-trained weights catches it
        "SGD-trained W equals the closed-form W*",
    ),
    # the isotropic loss formula forgetting the +1 of the fourth moment
    "isotropic-loss-without-plus-one": (
        "import hdreg.theory.icl as _icl\n"
        "_icl.isotropic_icl_loss = lambda n, d, noise_var=0.0: d * (d + noise_var) / (n + d + noise_var) + noise_var\n",
        "isotropic ICL loss of W* matches the closed form",
    ),
    # Sigma_x forgotten in the preconditioner (a plain scalar step): SGD, which knows no formula, disagrees
    "preconditioner-without-sigma-x": (
        "import numpy as _np, hdreg.theory.icl as _icl\n"
        "_orig = _icl.pretrained_weights\n"
        "def _bad(sigma_x, sigma_beta, n, noise_var=0.0):\n"
        "    W = _orig(sigma_x, sigma_beta, n, noise_var)\n"
        "    d = W.shape[0]\n"
        "    return _np.trace(W) / d * _np.eye(d) if not _np.allclose(sigma_x, _np.eye(d)) else W\n"
        "_icl.pretrained_weights = _bad\n",
        "SGD-trained W equals the closed-form W*",
    ),
    # the Monte-Carlo loss simulator off by 5%: the isotropic comparison must see it
    "simulator-off-by-5-percent": (
        "import hdreg.sim.icl as _sim\n"
        "_orig = _sim.prompt_losses\n"
        "_sim.prompt_losses = lambda *a, **k: 1.05 * _orig(*a, **k)\n",
        "isotropic ICL loss of W* matches the closed form, noise 0 d",
    ),
    # the test error of a fitted Gamma without the variance (d/n)(E|w|^2/d + rho) I of the context sum
    "lu-test-error-without-context-variance": (
        "import numpy as _np, hdreg.theory.icl as _icl\n"
        "_orig = _icl.task_set_test_error\n"
        "def _bad(gamma, ell, rho=0.0, tasks=None):\n"
        "    g = _np.asarray(gamma, float)\n"
        "    d = g.shape[-2]\n"
        "    sig = 1 + rho if tasks is None else (_np.asarray(tasks) ** 2).sum(1).mean() / d + rho\n"
        "    return _orig(gamma, ell, rho, tasks) - sig / ell * (g[..., :d] ** 2).sum(axis=(-2, -1))\n"
        "_icl.task_set_test_error = _bad\n",
        "closed-form test error of a fitted Gamma matches sampled prompts (ICL)",
    ),
    # the Marchenko-Pastur Stieltjes transform with kappa and 1/kappa swapped
    "lu-stieltjes-kappa-inverted": (
        "import hdreg.theory.icl as _icl\n"
        "_orig = _icl.wishart_stieltjes\n"
        "_icl.wishart_stieltjes = lambda x, kappa: _orig(x, 1 / kappa)\n",
        "at unlimited task diversity the asymptotic ICL error is that of W*",
    ),
}


@pytest.mark.parametrize("case", sorted(SABOTAGE))
def test_broken_theory_fails_a_claim(case):
    prelude, expected_label = SABOTAGE[case]
    assert_claim_fails(CHAPTER, prelude, expected_label)
