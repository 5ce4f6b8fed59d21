"""Claims bite, progressive-distillation chapter: each slip in a formula or simulator the chapter
checks, or a simulator off by 5%, must fail the claim that checks it."""

from __future__ import annotations

import pytest

from _bite import assert_claim_fails

CHAPTER = "progressive_distillation.md"

SABOTAGE = {
    # the aligned neuron's norm taken as that of s = x_1 + ... + x_k instead of relu(s)
    "neuron-norm-without-relu": (
        "import numpy as _np, hdreg.theory.parity as _tp\n"
        "_tp.aligned_neuron_norm = lambda k: float(_np.sqrt(k))\n",
        "the monomial probe matches the aligned neuron's exact coefficients",
    ),
    # the Monte-Carlo probe off by 5%
    "probe-off-by-5-percent": (
        "import hdreg.sim.parity as _par\n"
        "_orig = _par.monomial_correlations\n"
        "def _bad(*a, **k):\n"
        "    c, se = _orig(*a, **k)\n"
        "    return 1.05 * c, se\n"
        "_par.monomial_correlations = _bad\n",
        "the monomial probe matches the aligned neuron's exact coefficients",
    ),
    # the ReLU's derivative forgotten in the first-layer gradient: the teachers never learn
    "gradient-without-relu-derivative": (
        "import hdreg.sim.parity as _par\n"
        "def _bad(net, x, q, xp):\n"
        "    f, h, z = _par._forward(net, x, xp)\n"
        "    g = (_par._sigmoid(f, xp) - q) / x.shape[1]\n"
        "    ga = xp.matmul(xp.swapaxes(z, 1, 2), g[:, :, None])[..., 0]\n"
        "    dh = g[:, :, None] * net.a[:, None, :]\n"
        "    gW = xp.matmul(xp.swapaxes(dh, 1, 2), x)\n"
        "    return f, _par.MLP(gW, dh.sum(axis=1), ga)\n"
        "_par._grads = _bad\n",
        "every teacher's in-support degree-2 correlation spikes above noise",
    ),
    # the temperature multiplies the teacher's logit instead of dividing it
    "temperature-inverted": (
        "import hdreg.sim.parity as _par\n"
        "_orig = _par.train_mlp\n"
        "def _bad(*a, temperature=1.0, **k):\n"
        "    return _orig(*a, temperature=1.0 / temperature, **k)\n"
        "_par.train_mlp = _bad\n",
        "single checkpoint distillation beats CE in mean accuracy over the budget",
    ),
    # the 'transition' checkpoint taken at the end of the teacher's training
    "transition-checkpoint-is-final": (
        "import numpy as _np, hdreg.sim.parity as _par\n"
        "_par.transition_index = lambda res, level: _np.full(res.accuracy.shape[0],\n"
        "                                                    len(res.checkpoint_steps) - 1)\n",
        "single checkpoint distillation beats CE in mean accuracy over the budget",
    ),
    # the progressive schedule stuck on the last checkpoint (progressive = one-shot)
    "progressive-schedule-constant": (
        "import numpy as _np, hdreg.sim.parity as _par\n"
        "_orig = _par.progressive_schedule\n"
        "def _bad(steps, idx, switch):\n"
        "    return _np.full(steps, _np.asarray(idx).ravel()[-1], dtype=int)\n"
        "_par.progressive_schedule = _bad\n",
        "progressive distillation beats CE in mean accuracy over the budget",
    ),
    # GRACE computed with the teacher's soft label instead of a sampled label
    "grace-soft-labels": (
        "import numpy as _np, hdreg.sim.parity as _par\n"
        "def _bad(student, teacher, x, temperature=1.0, responses=1, seed=0):\n"
        "    s, t = student.to(_np, _np.float64), teacher.to(_np, _np.float64)\n"
        "    q = _par._sigmoid(_par._forward(t, x[None], _np)[0][0] / temperature, _np)\n"
        "    f, h, z = (v[0] for v in _par._forward(s, x[None], _np))\n"
        "    r = _np.repeat(_par._sigmoid(f, _np) - q, responses)\n"
        "    rep = _np.repeat(_np.arange(x.shape[0]), responses)\n"
        "    act = (h > 0)[rep] * s.a[0][None, :]\n"
        "    gW = (r[:, None] * act)[:, :, None] * x[rep][:, None, :]\n"
        "    return _np.concatenate([gW.reshape(len(rep), -1), r[:, None] * act,\n"
        "                            r[:, None] * z[rep]], axis=1)\n"
        "_par.student_gradients = _bad\n",
        "GRACE is the same for every teacher at a student of constant output",
    ),
}


@pytest.mark.parametrize("case", sorted(SABOTAGE))
def test_broken_theory_fails_a_claim(case):
    prelude, expected_label = SABOTAGE[case]
    assert_claim_fails(CHAPTER, prelude, expected_label)
