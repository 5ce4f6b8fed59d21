"""Claims bite, momentum-and-pruning chapter: each slip in a formula the chapter checks, or a
simulator off by 5%, must fail the claim that checks it."""

from __future__ import annotations

import pytest

from _bite import assert_claim_fails

CHAPTER = "optimisers_pruning.md"

SABOTAGE = {
    # the under-damped modulus taken as beta instead of sqrt(beta)
    "underdamped-modulus-beta-not-sqrt": (
        "import numpy as _np, hdreg.theory.heavy_ball as _t\n"
        "_orig = _t.mode_rate\n"
        "def _bad(alpha, beta, lam):\n"
        "    r = _orig(alpha, beta, lam)\n"
        "    return _np.where(_t.underdamped(alpha, beta, lam), beta, r)\n"
        "_t.mode_rate = _bad\n",
        "iterated modes contract by the largest root modulus",
    ),
    # Polyak's momentum not squared: beta = (sqrt k - 1)/(sqrt k + 1) (the rate, not its square)
    "polyak-momentum-not-squared": (
        "import numpy as _np, hdreg.theory.heavy_ball as _t\n"
        "def _bad(mu, L):\n"
        "    sk = _np.sqrt(L / mu); r = (sk - 1) / (sk + 1)\n"
        "    return 4 / (_np.sqrt(L) + _np.sqrt(mu)) ** 2, r, r\n"
        "_t.optimal_heavy_ball = _bad\n",
        "heavy ball's fitted exponent matches Polyak's rate",
    ),
    # gradient descent's step 1/L (the rate still quoted as (k - 1)/(k + 1))
    "gd-step-one-over-L": (
        "import hdreg.theory.heavy_ball as _t\n"
        "def _bad(mu, L):\n"
        "    return 1.0 / L, (L / mu - 1) / (L / mu + 1)\n"
        "_t.optimal_gd = _bad\n",
        "tuned gradient descent's fitted exponent matches (k-1)/(k+1)",
    ),
    # the effective step of over-damped momentum taken as alpha (the 1/(1 - beta) forgotten)
    "effective-step-without-friction-factor": (
        "import hdreg.theory.heavy_ball as _t\n"
        "_t.effective_step = lambda alpha, beta: alpha\n",
        "heavy ball follows gradient descent with step alpha/(1-beta)",
    ),
    # the dropout gap of the kept half without the rescaling by 2
    "dropout-without-rescaling": (
        "import dataclasses as _dc, numpy as _np, hdreg.sim.heavy_ball as _h\n"
        "_orig = _h.train_two_layer\n"
        "def _bad(*a, **k):\n"
        "    r = _orig(*a, **k)\n"
        "    z = _np.tanh(r.X @ _np.swapaxes(r.W, 1, 2)) * r.a[:, None, :]\n"
        "    f, N = z.mean(2), r.a.shape[1]\n"
        "    half = (f / 2 - r.y) ** 2 + z.var(2) / (4 * (N - 1))\n"
        "    gap = 0.5 * (half - (f - r.y) ** 2).mean(1)\n"
        "    return _dc.replace(r, dropout_gap=gap)\n"
        "_h.train_two_layer = _bad\n",
        "the dropout gap of heavy-ball solutions decays as 1/N",
    ),
    # the OBS correction with H where H^-1 belongs: u - H[:, R] (H[R, R])^-1 u_R
    "obs-correction-with-hessian-not-inverse": (
        "import numpy as _np, hdreg.sim.pruning as _p\n"
        "def _bad(u, H, keep):\n"
        "    u, H, keep = _np.asarray(u), _np.asarray(H), _np.asarray(keep)\n"
        "    out = _np.empty_like(u)\n"
        "    for t in range(u.shape[0]):\n"
        "        R = ~keep[t]\n"
        "        c = H[t][:, R] @ _np.linalg.solve(H[t][_np.ix_(R, R)], u[t][R])\n"
        "        out[t] = _np.where(keep[t], u[t] - c, 0.0)\n"
        "    return out\n"
        "_p.mask_projection = _bad\n",
        "the OBS correction more than halves the cost of a magnitude mask",
    ),
    # the OBS saliency with [H^-1]_qq multiplied instead of divided
    "obs-saliency-inverted": (
        "import hdreg.sim.pruning as _p\n"
        "_p._saliency = lambda w, hd: w * w * hd / 2.0\n",
        "OBS selection beats magnitude selection, both corrected",
    ),
    # the Newton step of Topk-I-OBS undamped (the 2/n of the gradient put into the Hessian too)
    "iobs-newton-step-undamped": (
        "import hdreg.sim.pruning as _p\n"
        "_orig = _p.sparse_recovery\n"
        "_p.sparse_recovery = lambda m, **k: _orig(m, newton_step=1.0, **k)\n",
        "reproduction of the authors' saved final MSE and distance",
    ),
    # the two-layer heavy-ball simulator's loss off by 5%
    "two-layer-heavy-ball-off-by-5-percent": (
        "import dataclasses as _dc, hdreg.sim.heavy_ball as _h\n"
        "_orig = _h.train_two_layer\n"
        "def _bad(*a, **k):\n"
        "    r = _orig(*a, **k)\n"
        "    return _dc.replace(r, loss=1.05 * r.loss) if k.get('beta', 0) > 0 else r\n"
        "_h.train_two_layer = _bad\n",
        "heavy ball follows gradient descent with step alpha/(1-beta)",
    ),
}


@pytest.mark.parametrize("case", sorted(SABOTAGE))
def test_broken_theory_fails_a_claim(case):
    prelude, expected_label = SABOTAGE[case]
    assert_claim_fails(CHAPTER, prelude, expected_label)
