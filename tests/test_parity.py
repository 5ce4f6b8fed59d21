"""hdreg.sim.parity and hdreg.theory.parity: gradients, data, probes, distillation, GRACE."""

import itertools

import numpy as np
import pytest

from hdreg.batch import TrialRNG
from hdreg.sim import parity as par
from hdreg.theory import parity as tpar


def _net(runs=2, m=5, d=6, seed=0):
    g = np.random.default_rng(seed)
    return par.MLP(g.standard_normal((runs, m, d)) / np.sqrt(d), 0.3 * g.standard_normal((runs, m)),
                   g.standard_normal((runs, m)))


# ------------------------------------------------------------------ theory


def test_character_inner():
    assert tpar.character_inner([0, 2], [2, 0]) == 1.0
    assert tpar.character_inner([0, 2], [0]) == 0.0
    assert tpar.character_inner([], []) == 1.0


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 6, 7])
def test_aligned_coefficient_matches_enumeration(k):
    coeffs = tpar.neuron_coefficients(np.ones(k))
    for j in range(k + 1):
        assert tpar.aligned_neuron_coefficient(k, j) == pytest.approx(coeffs[tuple(range(j))], abs=1e-12)
    # Parseval: sum of squared coefficients = E f^2
    assert sum(c ** 2 for c in coeffs.values()) == pytest.approx(tpar.aligned_neuron_norm(k) ** 2)


def test_aligned_coefficient_known_values():
    assert tpar.aligned_neuron_coefficient(4, 1) == pytest.approx(0.5)
    assert tpar.aligned_neuron_coefficient(4, 2) == pytest.approx(0.25)
    assert tpar.aligned_neuron_coefficient(5, 2) == pytest.approx(3 / 16)
    assert tpar.aligned_neuron_coefficient(5, 3) == pytest.approx(0.0, abs=1e-15)
    assert tpar.aligned_neuron_correlation(4, 2) == pytest.approx(0.25 / np.sqrt(2))


def test_theory_bad_input():
    with pytest.raises(ValueError):
        tpar.aligned_neuron_coefficient(4, 5)
    with pytest.raises(ValueError):
        tpar.aligned_neuron_coefficient(0, 0)
    with pytest.raises(ValueError):
        tpar.neuron_coefficients([1.0, np.nan])
    with pytest.raises(ValueError):
        tpar.neuron_coefficients(np.ones(21))


# ------------------------------------------------------------------ network and gradients


def test_loss_grad_matches_finite_differences():
    net = _net()
    g = np.random.default_rng(1)
    x = np.sign(g.standard_normal((2, 7, 6)))
    q = g.random((2, 7))
    loss, grads = par.mlp_loss_grad(net, x, q)
    eps = 1e-6
    for part in ("W", "b", "a"):
        arr = getattr(net, part)
        for idx in [(0,) + (0,) * (arr.ndim - 1), (1,) + tuple(s - 1 for s in arr.shape[1:])]:
            plus, minus = arr.copy(), arr.copy()
            plus[idx] += eps
            minus[idx] -= eps
            lp = par.mlp_loss_grad(par.MLP(**{**net.__dict__, part: plus}), x, q)[0]
            lm = par.mlp_loss_grad(par.MLP(**{**net.__dict__, part: minus}), x, q)[0]
            fd = (lp[idx[0]] - lm[idx[0]]) / (2 * eps)
            assert getattr(grads, part)[idx] == pytest.approx(fd, rel=1e-5, abs=1e-8)


def test_loss_is_cross_entropy():
    net = _net(runs=1)
    x = np.sign(np.random.default_rng(2).standard_normal((1, 4, 6)))
    f = par.mlp_logits(net, x)
    q = np.full((1, 4), 0.3)
    loss, _ = par.mlp_loss_grad(net, x, q)
    p = 1 / (1 + np.exp(-f))
    ref = -(q * np.log(p) + (1 - q) * np.log(1 - p)).mean(axis=1)
    assert loss == pytest.approx(ref)


def test_loss_grad_bad_input():
    net = _net()
    x = np.ones((2, 3, 6))
    with pytest.raises(ValueError):
        par.mlp_loss_grad(net, np.ones((2, 3, 5)), np.zeros((2, 3)))
    with pytest.raises(ValueError):
        par.mlp_loss_grad(net, x, np.zeros((2, 4)))
    with pytest.raises(ValueError):
        par.mlp_loss_grad(net, x, np.full((2, 3), 1.5))
    with pytest.raises(ValueError):
        par.mlp_loss_grad(par.MLP(net.W, net.b[:, :2], net.a), x, np.zeros((2, 3)))
    bad = net.W.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError):
        par.mlp_loss_grad(par.MLP(bad, net.b, net.a), x, np.zeros((2, 3)))
    with pytest.raises(TypeError):
        par.mlp_loss_grad("net", x, np.zeros((2, 3)))


def test_data_is_uniform_and_labels_are_parities():
    rng = TrialRNG(0, 0, 3, xp=np)
    x = par.sample_inputs(rng, 20000, 5)
    assert set(np.unique(x)) == {-1.0, 1.0}
    assert np.abs(x.mean(axis=1)).max() < 0.05
    y = par.parity_labels(x, 3)
    assert np.array_equal(y, x[..., 0] * x[..., 1] * x[..., 2])
    with pytest.raises(ValueError):
        par.parity_labels(x, 6)


# ------------------------------------------------------------------ training


def test_training_is_per_run_reproducible():
    kw = dict(lr=0.1, batch=8, seed=3, eval_every=10, n_test=50)
    a = par.train_mlp(8, 2, 6, 30, runs=3, **kw)
    b = par.train_mlp(8, 2, 6, 30, runs=2, **kw)
    np.testing.assert_allclose(a.accuracy[:2], b.accuracy)
    np.testing.assert_allclose(a.final.W[:2], b.final.W)


def test_teacher_learns_small_parity_and_distillation_is_paired():
    t = par.train_mlp(10, 2, 64, 600, lr=0.1, batch=32, runs=2, seed=1, eval_every=100,
                      checkpoint_every=200)
    assert t.accuracy[:, -1].min() > 0.95
    assert len(t.checkpoints) == 4 and list(t.checkpoint_steps) == [0, 200, 400, 600]
    # a student distilled from a perfect teacher at tiny temperature = CE on the data
    ce = par.train_mlp(10, 2, 8, 50, lr=0.1, batch=16, runs=2, seed=5, eval_every=25)
    kd = par.train_mlp(10, 2, 8, 50, lr=0.1, batch=16, runs=2, seed=5, eval_every=25,
                       teachers=[t.final], temperature=1e-3)
    np.testing.assert_allclose(ce.final.W, kd.final.W, atol=1e-4)
    sched = par.progressive_schedule(50, [1, 2, 3], 20)
    assert list(np.bincount(sched)) == [0, 20, 20, 10]
    pd = par.train_mlp(10, 2, 8, 50, lr=0.1, batch=16, runs=2, seed=5, eval_every=25,
                       teachers=t.checkpoints, schedule=sched)
    assert pd.accuracy.shape == (2, 3)
    idx = par.transition_index(t, 0.6)
    assert idx.shape == (2,) and np.all((idx >= 0) & (idx < 4))
    one = par.checkpoint_per_run(t.checkpoints, idx)
    assert one.W.shape == t.final.W.shape
    assert par.repeat_runs(one, 3).runs == 6
    assert par.concat_runs([one, one]).runs == 4


def test_train_bad_input():
    kw = dict(lr=0.1, batch=8, runs=2, seed=0)
    with pytest.raises(ValueError):
        par.train_mlp(5, 6, 4, 10, **kw)                     # k > d
    with pytest.raises(ValueError):
        par.train_mlp(5, 2, 4, 10, lr=-1.0, batch=8, runs=2, seed=0)
    with pytest.raises(ValueError):
        par.train_mlp(5, 2, 4, 10, temperature=0.0, **kw)
    with pytest.raises(ValueError):
        par.train_mlp(5, 2, 4, 10, schedule=np.zeros(10, int), **kw)   # schedule without teachers
    t = _net(runs=2, m=3, d=5)
    with pytest.raises(ValueError):
        par.train_mlp(5, 2, 4, 10, teachers=[t], schedule=np.ones(10, int), **kw)
    with pytest.raises(ValueError):
        par.train_mlp(5, 2, 4, 10, teachers=[_net(runs=3, m=3, d=5)], **kw)
    with pytest.raises(ValueError):
        par.progressive_schedule(10, [], 2)
    with pytest.raises(ValueError):
        par.steps_to_accuracy(par.train_mlp(5, 2, 4, 10, **kw), 1.5)


def test_steps_to_accuracy():
    r = par.TrainResult(np.array([0, 10, 20]), np.array([[0.5, 0.96, 1.0], [0.5, 0.6, 0.7]]),
                        np.zeros((2, 3)), np.array([], int), [], _net())
    np.testing.assert_array_equal(par.steps_to_accuracy(r, 0.95), [10.0, np.inf])


def test_mean_accuracy():
    r = par.TrainResult(np.array([0, 10, 20, 30]),
                        np.array([[0.5, 0.5, 1.0, 1.0], [0.5, 0.5, 0.5, 0.5]]),
                        np.zeros((2, 4)), np.array([], int), [], _net())
    # trapezoids: (0.5 * 10 + 0.75 * 10 + 1.0 * 10) / 30 and 1/2 at chance throughout
    np.testing.assert_allclose(par.mean_accuracy(r), [22.5 / 30, 0.5])
    np.testing.assert_allclose(par.mean_accuracy(r, 20), [12.5 / 20, 0.5])
    for bad in (15, 0, -10, 2.5, np.nan):
        with pytest.raises(ValueError, match="upto"):
            par.mean_accuracy(r, bad)


# ------------------------------------------------------------------ probes


def test_probe_of_planted_parity_and_neuron():
    d = 8
    W = np.zeros((4, 1, d))
    W[:, 0, :3] = 1.0
    neuron = par.MLP(W, np.zeros((4, 1)), np.ones((4, 1)))
    c, se = par.monomial_correlations(neuron, [[0], [0, 1], [0, 1, 2], [5, 6]], 40000, seed=1)
    exact = [tpar.aligned_neuron_correlation(3, j) for j in (1, 2, 3)] + [0.0]
    assert se == pytest.approx(1 / 200)
    assert np.abs(c.mean(0) - exact).max() < 4 * se
    # same inputs for every checkpoint: two copies give identical estimates
    cc, _ = par.monomial_correlations([neuron, neuron], np.array([[0, 1]]), 1000, seed=2)
    np.testing.assert_array_equal(cc[0], cc[1])


def test_subsets_by_degree():
    inside, outside = par.subsets_by_degree(20, 4, 2, 10, seed=0)
    assert inside.shape == (6, 2) and outside.shape == (10, 2)
    assert inside.max() < 4 and outside.min() >= 4
    assert len({tuple(t) for t in outside}) == 10
    with pytest.raises(ValueError):
        par.subsets_by_degree(6, 4, 3, 2)


def test_probe_bad_input():
    net = _net(d=6)
    with pytest.raises(ValueError):
        par.monomial_correlations(net, [[0, 6]], 100, seed=0)
    with pytest.raises(ValueError):
        par.monomial_correlations(net, [[0, 0]], 100, seed=0)
    with pytest.raises(ValueError):
        par.monomial_correlations(net, [], 100, seed=0)
    with pytest.raises(ValueError):
        par.monomial_correlations(net, [[0]], 1, seed=0)
    with pytest.raises(ValueError):
        par.monomial_correlations([], [[0]], 100, seed=0)


# ------------------------------------------------------------------ GRACE


def _grace_reference(g, groups, splits, test_fraction, c, seed):
    """A direct transcription: eigendecomposition of the P x P training kernel."""
    gen = np.random.default_rng(np.random.SeedSequence(seed))
    uniq = np.unique(groups)
    n_te = max(1, int(test_fraction * uniq.size))
    out = []
    for _ in range(splits):
        te = np.isin(groups, gen.choice(uniq, size=n_te, replace=False))
        tr = g[~te] / np.linalg.norm(g[~te], axis=1, keepdims=True)
        Ktr = tr.T @ tr / tr.shape[0]
        Kte = g[te].T @ g[te] / te.sum()
        lam, U = np.linalg.eigh(Ktr)
        lam = np.clip(lam, 0, None)
        lam_s = (1 - c) * lam + c * lam.sum() / lam.size
        out.append(np.trace(U @ np.diag(1 / lam_s) @ U.T @ Kte))
    return float(np.mean(out))


@pytest.mark.parametrize("n_prompts", [6, 40])        # fewer and more rows than parameters
def test_grace_matches_direct_formula(n_prompts):
    g = np.random.default_rng(0).standard_normal((n_prompts * 3, 12))
    groups = np.repeat(np.arange(n_prompts), 3)
    ours = par.grace_score(g, groups, splits=4, test_fraction=0.25, smoothing=1e-2, seed=7)
    ref = _grace_reference(g, groups, 4, 0.25, 1e-2, 7)
    assert ours == pytest.approx(ref, rel=1e-6)


def test_grace_blind_to_binary_teacher_at_flat_student():
    d = 6
    student = _net(runs=1, m=4, d=d)
    flat = par.MLP(student.W, student.b, np.zeros_like(student.a))
    t1, t2 = _net(runs=1, m=3, d=d, seed=4), _net(runs=1, m=3, d=d, seed=5)
    G = par.grace_for_teachers(flat, [t1, t2], [1.0, 0.3], 20, responses=2, splits=3, seed=0)
    assert G[0, 0] == pytest.approx(G[1, 0], rel=1e-12)
    Gs = par.grace_for_teachers(student, [t1, t2], [1.0, 0.3], 20, responses=2, splits=3, seed=0)
    assert Gs[0, 0] != pytest.approx(Gs[1, 0], rel=1e-6)


def test_student_gradients_are_per_example_loss_gradients():
    d = 5
    student, teacher = _net(runs=1, m=3, d=d), _net(runs=1, m=2, d=d, seed=9)
    x = np.sign(np.random.default_rng(3).standard_normal((4, d)))
    G = par.student_gradients(student, teacher, x, responses=2, seed=1)
    assert G.shape == (8, 3 * (d + 2))
    # row 0 is the gradient of the CE loss of input 0 with its sampled label (0 or 1)
    for y in (0.0, 1.0):
        _, gr = par.mlp_loss_grad(student, x[None, :1], np.array([[y]]))
        flat = np.concatenate([gr.W[0].ravel(), gr.b[0], gr.a[0]])
        if np.allclose(flat, G[0]):
            break
    else:
        raise AssertionError("row 0 is not a per-example gradient")


def test_grace_bad_input():
    g = np.ones((4, 3))
    with pytest.raises(ValueError):
        par.grace_score(g, np.arange(3))
    with pytest.raises(ValueError):
        par.grace_score(np.zeros((4, 3)), np.arange(4))
    with pytest.raises(ValueError):
        par.grace_score(g, np.zeros(4))
    with pytest.raises(ValueError):
        par.grace_score(np.full((4, 3), np.nan), np.arange(4))
    with pytest.raises(ValueError):
        par.grace_score(g, np.arange(4), smoothing=0.0)
    with pytest.raises(ValueError):
        par.spearman([1, 2], [1, 2])
    assert par.spearman([1, 2, 3, 4], [2, 4, 6, 9]) == pytest.approx(1.0)
