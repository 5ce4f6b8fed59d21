r"""Sparse parity, a two-layer ReLU network trained by online SGD, and distillation from its
checkpoints (chapter ``ch-progressive-distillation``).

The task is the :math:`(d, k)`-sparse parity: :math:`x` uniform on :math:`\{\pm1\}^d` and the label
:math:`y = \chi_S(x) = \prod_{i\in S} x_i` with the support :math:`S = \{0, \dots, k-1\}` (no loss of
generality: every simulator here is equivariant under permutations of the coordinates).

The network is :math:`f(x) = \sum_{j=1}^m a_j\,\mathrm{relu}(w_j^\top x + b_j)`, one logit; the
label is ``+1`` with probability :math:`\sigma(f)`. A *run* is one network; every function is
batched over runs (weights of shape ``(runs, m, d)``) and written once against the array namespace
of :mod:`hdreg.backend`. Training minimises the binary cross-entropy against a target probability
:math:`q`, by SGD on fresh samples at every step (online):

* cross-entropy on the data: :math:`q = (1 + y)/2`;
* distillation from a teacher network :math:`g`: :math:`q = \sigma(g(x)/T)` at temperature
  :math:`T` (soft labels); the derivative of the loss in the student's logit :math:`s` is
  :math:`\sigma(s) - q` in both cases (:func:`mlp_loss_grad`, checked against finite differences);
* the teacher may change with the step (``schedule``): one-shot distillation uses the final
  checkpoint throughout, progressive distillation checkpoint :math:`t_1` for a while, then
  :math:`t_2`, and so on.

**Randomness.** Run ``r`` of a call with seed ``s`` draws from its own generator
(:class:`hdreg.batch.TrialRNG`), in a fixed order: its test set, its initial weights, then one batch
per step. So a run's numbers depend only on ``(seed, r)``, and students trained with the same seed
but different targets (data, final teacher, checkpoints) share their initialisation, test set and
every input batch: their comparison is paired.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate
from ..backend import get_backend, to_numpy
from ..batch import TrialRNG

__all__ = ["MLP", "TrainResult", "parity_labels", "sample_inputs", "init_mlp", "mlp_logits",
           "mlp_loss_grad", "train_mlp", "progressive_schedule", "steps_to_accuracy", "mean_accuracy",
           "monomial_correlations", "subsets_by_degree", "student_gradients", "grace_score",
           "spearman", "initial_networks", "grace_for_teachers", "distill_outcomes", "repeat_runs", "concat_runs", "checkpoint_per_run", "transition_index"]


# --------------------------------------------------------------------------------------------
# data and network


@dataclass(frozen=True)
class MLP:
    """Weights of ``runs`` two-layer networks: ``W`` (runs, m, d), ``b`` (runs, m), ``a`` (runs, m).

    Arrays live on the namespace they were created on (device arrays inside the simulators, host
    arrays in what public functions return)."""

    W: object
    b: object
    a: object

    @property
    def runs(self) -> int:
        return int(self.W.shape[0])

    @property
    def width(self) -> int:
        return int(self.W.shape[1])

    @property
    def dim(self) -> int:
        return int(self.W.shape[2])

    def to(self, xp, dtype=None) -> "MLP":
        """The same weights on the namespace ``xp`` (``numpy`` for host copies)."""
        conv = (lambda v: np.asarray(to_numpy(v), dtype=dtype)) if xp is np else \
            (lambda v: xp.asarray(v, dtype=dtype))
        return MLP(conv(self.W), conv(self.b), conv(self.a))

    def select(self, runs) -> "MLP":
        """The networks of the given run indices (an index array or slice)."""
        return MLP(self.W[runs], self.b[runs], self.a[runs])


def _check_mlp(net, name: str = "net") -> MLP:
    if not isinstance(net, MLP):
        raise _validate.InvalidParameterError(f"{name} must be an MLP, got {_validate.describe(net)}")
    r, m, d = net.W.shape if getattr(net.W, "ndim", 0) == 3 else (None, None, None)
    if r is None or tuple(net.b.shape) != (r, m) or tuple(net.a.shape) != (r, m):
        raise _validate.InvalidParameterError(
            f"{name} must have W of shape (runs, m, d) and b, a of shape (runs, m), got "
            f"{tuple(net.W.shape)}, {tuple(net.b.shape)}, {tuple(net.a.shape)}")
    for part in ("W", "b", "a"):
        if not bool(np.all(np.isfinite(to_numpy(getattr(net, part))))):
            raise _validate.InvalidParameterError(f"{name}.{part} contains NaN or infinite values")
    return net


def _check_dk(d, k):
    d = _validate.positive_int(d, "d")
    k = _validate.positive_int(k, "k")
    if k > d:
        raise _validate.InvalidParameterError(f"k must be an integer in [1, d={d}], got {k!r}")
    return d, k


def parity_labels(x, k: int):
    """:math:`\\chi_S(x) = \\prod_{i<k} x_i` for inputs ``x`` of shape (..., d) with ±1 entries."""
    k = _validate.positive_int(k, "k")
    if x.shape[-1] < k:
        raise _validate.InvalidParameterError(f"k must be at most d={x.shape[-1]}, got {k}")
    return x[..., :k].prod(axis=-1)


def sample_inputs(rng: TrialRNG, n: int, d: int, dtype=np.float64):
    """``n`` uniform points of :math:`\\{\\pm1\\}^d` per run, shape (runs, n, d)."""
    u = rng.random((rng.trials, n, d))
    return (2.0 * (u < 0.5) - 1.0).astype(dtype, copy=False)


def init_mlp(rng: TrialRNG, width: int, d: int, init_scale: float = 1.0, dtype=np.float64) -> MLP:
    """Gaussian initialisation: :math:`w_j \\sim \\mathcal N(0, I_d/d)`, :math:`b_j \\sim
    \\mathcal N(0, 1/d)`, :math:`a_j \\sim \\mathcal N(0, s^2/m)` with ``s = init_scale``."""
    r = rng.trials
    W = rng.standard_normal((r, width, d), dtype=dtype) / np.sqrt(d)
    b = rng.standard_normal((r, width), dtype=dtype) / np.sqrt(d)
    a = rng.standard_normal((r, width), dtype=dtype) * (init_scale / np.sqrt(width))
    return MLP(W, b, a)


def _forward(net: MLP, x, xp):
    h = xp.matmul(x, xp.swapaxes(net.W, 1, 2)) + net.b[:, None, :]
    z = xp.maximum(h, 0)
    f = xp.matmul(z, net.a[:, :, None])[..., 0]
    return f, h, z


def mlp_logits(net: MLP, x):
    """Logits :math:`f(x)` of each run's network on its own inputs: ``x`` (runs, n, d) -> (runs, n).

    Namespace in, namespace out (host arrays give host arrays)."""
    xp = get_backend().module if not isinstance(x, np.ndarray) else np
    return _forward(net, x, xp)[0]


def _sigmoid(s, xp):
    return 0.5 * (1.0 + xp.tanh(0.5 * s))


def _bce(s, q, xp):
    # log(1 + e^s) - q s, computed stably
    return xp.maximum(s, 0) + xp.log1p(xp.exp(-xp.abs(s))) - q * s


def _grads(net: MLP, x, q, xp):
    f, h, z = _forward(net, x, xp)
    g = (_sigmoid(f, xp) - q) / x.shape[1]                       # dL/df, (runs, n)
    ga = xp.matmul(xp.swapaxes(z, 1, 2), g[:, :, None])[..., 0]   # (runs, m)
    dh = g[:, :, None] * net.a[:, None, :] * (h > 0)             # (runs, n, m)
    gW = xp.matmul(xp.swapaxes(dh, 1, 2), x)                     # (runs, m, d)
    gb = dh.sum(axis=1)
    return f, MLP(gW, gb, ga)


def mlp_loss_grad(net: MLP, x, q):
    """Mean binary cross-entropy :math:`\\frac1n\\sum_i[\\log(1+e^{f(x_i)}) - q_i f(x_i)]` of each
    run and its gradient in the weights, derived by hand:

    .. math:: g_i = \\frac{\\sigma(f(x_i)) - q_i}{n},\\quad \\partial_{a_j} = \\sum_i g_i\\,
       \\mathrm{relu}(h_{ij}),\\quad \\partial_{w_j} = \\sum_i g_i\\,a_j\\,\\mathbf 1\\{h_{ij}>0\\}\\,
       x_i,\\quad \\partial_{b_j} = \\sum_i g_i\\,a_j\\,\\mathbf 1\\{h_{ij}>0\\},

    with :math:`h_{ij} = w_j^\\top x_i + b_j`. ``x`` (runs, n, d), ``q`` (runs, n) in [0, 1].
    Returns ``(loss (runs,), MLP of gradients)`` on the namespace of ``x``.
    """
    net = _check_mlp(net)
    xp = np if isinstance(x, np.ndarray) else get_backend().module
    if x.ndim != 3 or x.shape[0] != net.runs or x.shape[2] != net.dim:
        raise _validate.InvalidParameterError(
            f"x must have shape (runs={net.runs}, n, d={net.dim}), got {tuple(x.shape)}")
    if tuple(q.shape) != tuple(x.shape[:2]):
        raise _validate.InvalidParameterError(f"q must have shape {tuple(x.shape[:2])}, got {tuple(q.shape)}")
    qh = to_numpy(q)
    if not (np.all(np.isfinite(qh)) and np.all(qh >= 0) and np.all(qh <= 1)):
        raise _validate.InvalidParameterError("q must hold probabilities in [0, 1]")
    f, grads = _grads(net, x, q, xp)
    return _bce(f, q, xp).mean(axis=1), grads


# --------------------------------------------------------------------------------------------
# training


@dataclass
class TrainResult:
    """What :func:`train_mlp` returns (host arrays).

    ``steps`` (n_eval,): the steps at which the test accuracy was measured; ``accuracy``
    (runs, n_eval): accuracy against the parity on each run's fixed test set; ``loss``
    (runs, n_eval): the test cross-entropy against the training target (the data or the teacher
    used at that step); ``checkpoints``: the networks at ``checkpoint_steps`` (host :class:`MLP`s);
    ``final``: the network at the end."""

    steps: np.ndarray
    accuracy: np.ndarray
    loss: np.ndarray
    checkpoint_steps: np.ndarray
    checkpoints: list
    final: MLP


def progressive_schedule(steps: int, checkpoint_indices, switch_every: int) -> np.ndarray:
    """Teacher index per student step: ``checkpoint_indices[0]`` for the first ``switch_every``
    steps, then the next one, ..., the last one until the end (progressive distillation)."""
    steps = _validate.positive_int(steps, "steps")
    switch_every = _validate.positive_int(switch_every, "switch_every")
    idx = np.asarray(checkpoint_indices, dtype=int).ravel()
    if idx.size == 0 or np.any(idx < 0):
        raise _validate.InvalidParameterError(
            f"checkpoint_indices must be a non-empty list of indices >= 0, got {checkpoint_indices!r}")
    pos = np.minimum(np.arange(steps) // switch_every, idx.size - 1)
    return idx[pos]


def train_mlp(d: int, k: int, width: int, steps: int, *, lr: float, batch: int, runs: int,
              seed: int, teachers=None, schedule=None, temperature: float = 1.0,
              eval_every: int = 50, n_test: int = 2000, checkpoint_every: int | None = None,
              init_scale: float = 1.0, weight_decay: float = 0.0, dtype=np.float32) -> TrainResult:
    """Train ``runs`` networks of width ``width`` on the :math:`(d,k)`-sparse parity by online SGD
    (a fresh batch of ``batch`` inputs at every step, learning rate ``lr``).

    Without ``teachers`` the target is the data (cross-entropy, :math:`q = (1+y)/2`). With
    ``teachers`` (a list of :class:`MLP` with ``runs`` networks each, run ``r`` of the student
    learning from run ``r`` of the teacher) the target at step ``t`` is
    :math:`\\sigma(g(x)/T)` for the teacher ``teachers[schedule[t]]`` (``schedule`` defaults to the
    last teacher at every step: one-shot distillation). Accuracy is measured against the parity on a
    test set of ``n_test`` points per run, every ``eval_every`` steps and at the end. Networks are
    saved every ``checkpoint_every`` steps (and at step 0). See the module docstring for the
    randomness.
    """
    d, k = _check_dk(d, k)
    width = _validate.positive_int(width, "width")
    steps = _validate.positive_int(steps, "steps")
    batch = _validate.positive_int(batch, "batch")
    runs = _validate.positive_int(runs, "runs")
    eval_every = _validate.positive_int(eval_every, "eval_every")
    n_test = _validate.positive_int(n_test, "n_test")
    lr = _validate.positive_scalar(lr, "lr")
    temperature = _validate.positive_scalar(temperature, "temperature")
    init_scale = _validate.positive_scalar(init_scale, "init_scale")
    weight_decay = _validate.nonneg_scalar(weight_decay, "weight_decay")
    if checkpoint_every is not None:
        checkpoint_every = _validate.positive_int(checkpoint_every, "checkpoint_every")
    xp = get_backend().module
    tnets = None
    if teachers is not None:
        if isinstance(teachers, MLP):
            teachers = [teachers]
        if len(teachers) == 0:
            raise _validate.InvalidParameterError("teachers must be a non-empty list of MLPs, got []")
        tnets = []
        for i, t in enumerate(teachers):
            t = _check_mlp(t, f"teachers[{i}]")
            if t.runs != runs or t.dim != d:
                raise _validate.InvalidParameterError(
                    f"teachers[{i}] must hold runs={runs} networks on d={d} inputs, got "
                    f"{t.runs} networks on d={t.dim}")
            tnets.append(t.to(xp, dtype))
        if schedule is None:
            schedule = np.full(steps, len(tnets) - 1, dtype=int)
        schedule = np.asarray(schedule).ravel()
        if schedule.shape != (steps,) or schedule.dtype.kind not in "iu" or \
                np.any(schedule < 0) or np.any(schedule >= len(tnets)):
            raise _validate.InvalidParameterError(
                f"schedule must hold {steps} teacher indices in [0, {len(tnets) - 1}], got "
                f"{_validate.describe(schedule)}")
    elif schedule is not None:
        raise _validate.InvalidParameterError("schedule needs teachers, got teachers=None")

    rng = TrialRNG(seed, 0, runs, xp=xp)
    x_test = sample_inputs(rng, n_test, d, dtype)
    y_test = parity_labels(x_test, k)
    net = init_mlp(rng, width, d, init_scale, dtype)

    def target(x, t):
        if tnets is None:
            return 0.5 * (1.0 + parity_labels(x, k))
        g = _forward(tnets[int(schedule[t])], x, xp)[0]
        return _sigmoid(g / temperature, xp)

    ev_steps, acc, loss, ck_steps, cks = [], [], [], [], []

    def evaluate(t):
        f = _forward(net, x_test, xp)[0]
        q = target(x_test, min(t, steps - 1))
        ev_steps.append(t)
        acc.append(to_numpy(((f > 0) == (y_test > 0)).mean(axis=1)))
        loss.append(to_numpy(_bce(f, q, xp).mean(axis=1)))

    def save(t):
        ck_steps.append(t)
        cks.append(net.to(np, np.float64))

    for t in range(steps):
        if t % eval_every == 0:
            evaluate(t)
        if checkpoint_every is not None and t % checkpoint_every == 0:
            save(t)
        x = sample_inputs(rng, batch, d, dtype)
        _, gr = _grads(net, x, target(x, t), xp)
        shrink = 1.0 - lr * weight_decay
        net = MLP(shrink * net.W - lr * gr.W, shrink * net.b - lr * gr.b,
                  shrink * net.a - lr * gr.a)
    evaluate(steps)
    if checkpoint_every is not None:
        save(steps)
    return TrainResult(np.asarray(ev_steps), np.stack(acc, axis=1).astype(float),
                       np.stack(loss, axis=1).astype(float), np.asarray(ck_steps, dtype=int), cks,
                       net.to(np, np.float64))


def initial_networks(d: int, width: int, *, runs: int, seed: int, n_test: int = 2000,
                     init_scale: float = 1.0, dtype=np.float32) -> MLP:
    """The networks :func:`train_mlp` starts from with the same ``seed``, ``runs``, ``n_test``,
    ``init_scale`` and ``dtype`` (host arrays)."""
    d = _validate.positive_int(d, "d")
    rng = TrialRNG(seed, 0, _validate.positive_int(runs, "runs"), xp=get_backend().module)
    sample_inputs(rng, _validate.positive_int(n_test, "n_test"), d, dtype)
    return init_mlp(rng, _validate.positive_int(width, "width"), d,
                    _validate.positive_scalar(init_scale, "init_scale"), dtype).to(np, np.float64)


def steps_to_accuracy(result: TrainResult, target: float) -> np.ndarray:
    """First evaluated step at which each run's test accuracy reaches ``target``; ``np.inf`` for a
    run that never does within the training budget. Shape (runs,)."""
    target = _validate.in_interval(target, "target", 0.0, 1.0, low_open=True)
    hit = result.accuracy >= target
    first = np.argmax(hit, axis=1)
    out = result.steps[first].astype(float)
    out[~hit.any(axis=1)] = np.inf
    return out


def mean_accuracy(result: TrainResult, upto: int | None = None) -> np.ndarray:
    """Time-averaged test accuracy of each run over the steps ``[0, upto]``: the area under the
    accuracy curve (trapezoid rule over the evaluated steps) divided by ``upto`` (default: the
    last evaluated step, which must be an evaluated step). A continuous measure of how fast a run
    learns: 1/2 for a run at chance throughout, close to 1 for one that learns at once. Shape
    (runs,)."""
    steps = np.asarray(result.steps)
    if upto is None:
        upto = int(steps[-1])
    upto = _validate.positive_int(upto, "upto")
    if upto not in set(steps.tolist()) or steps[0] != 0:
        raise _validate.InvalidParameterError(
            f"upto must be an evaluated step of a run evaluated from step 0, got {upto} "
            f"(evaluated steps {steps[0]}..{steps[-1]})")
    keep = steps <= upto
    t, acc = steps[keep].astype(float), np.asarray(result.accuracy)[:, keep]
    area = (0.5 * (acc[:, 1:] + acc[:, :-1]) * np.diff(t)).sum(axis=1)
    return area / upto


def repeat_runs(net: MLP, reps: int) -> MLP:
    """The networks of ``net`` repeated ``reps`` times along the run axis (run ``r`` of the result
    is run ``r mod net.runs``): to pair many students with fewer teachers."""
    net = _check_mlp(net)
    reps = _validate.positive_int(reps, "reps")
    xp = np if isinstance(net.W, np.ndarray) else get_backend().module
    return MLP(*(xp.concatenate([getattr(net, n)] * reps, axis=0) for n in "Wba"))


def concat_runs(nets) -> MLP:
    """Several :class:`MLP` of one width and dimension stacked along the run axis."""
    nets = [_check_mlp(t, f"nets[{i}]") for i, t in enumerate(nets)]
    if not nets or len({(t.width, t.dim) for t in nets}) != 1:
        raise _validate.InvalidParameterError("nets must be a non-empty list of MLPs of one shape")
    return MLP(*(np.concatenate([to_numpy(getattr(t, n)) for t in nets], axis=0) for n in "Wba"))


def checkpoint_per_run(checkpoints, indices) -> MLP:
    """One network per run: run ``r`` taken from ``checkpoints[indices[r]]`` (host arrays)."""
    idx = np.asarray(indices).ravel()
    if not checkpoints or idx.dtype.kind not in "iu" or idx.size != checkpoints[0].runs or \
            np.any(idx < 0) or np.any(idx >= len(checkpoints)):
        raise _validate.InvalidParameterError(
            f"indices must hold one checkpoint index in [0, {len(checkpoints) - 1}] per run, got "
            f"{_validate.describe(indices)}")
    return MLP(*(np.stack([to_numpy(getattr(checkpoints[i], n))[r] for r, i in enumerate(idx)])
                 for n in "Wba"))


def transition_index(result: TrainResult, level: float) -> np.ndarray:
    """Per run, the index of the first checkpoint whose test accuracy reaches ``level`` (a
    checkpoint from the teacher's phase transition when ``level`` is a little above 1/2); the last
    checkpoint if none does. Needs checkpoints saved at evaluated steps."""
    level = _validate.in_interval(level, "level", 0.0, 1.0, low_open=True)
    pos = {int(s): i for i, s in enumerate(result.steps)}
    if not all(int(s) in pos for s in result.checkpoint_steps):
        raise _validate.InvalidParameterError("result must have checkpoints at evaluated steps")
    acc = result.accuracy[:, [pos[int(s)] for s in result.checkpoint_steps]]
    hit = acc >= level
    return np.where(hit.any(axis=1), np.argmax(hit, axis=1), len(result.checkpoint_steps) - 1)


# --------------------------------------------------------------------------------------------
# Fourier probes


def subsets_by_degree(d: int, k: int, degree: int, count: int, seed: int = 0):
    """Monomials to probe: all subsets of the support :math:`S=\\{0..k-1\\}` of size ``degree``
    (in-support) and ``count`` random subsets of the complement :math:`\\{k..d-1\\}` of that size
    (off-support, drawn without repetition from ``SeedSequence(seed)``). Returns two integer arrays
    of shape (n_subsets, degree)."""
    import itertools  # noqa: PLC0415

    d, k = _check_dk(d, k)
    degree = _validate.positive_int(degree, "degree")
    count = _validate.positive_int(count, "count")
    if degree > k or degree > d - k:
        raise _validate.InvalidParameterError(
            f"degree must be at most min(k, d - k) = {min(k, d - k)}, got {degree}")
    inside = np.array(list(itertools.combinations(range(k), degree)), dtype=int)
    gen = np.random.default_rng(np.random.SeedSequence(_validate.seed(seed)))
    seen, outside = set(), []
    while len(outside) < count:
        s = tuple(sorted(gen.choice(np.arange(k, d), size=degree, replace=False).tolist()))
        if s not in seen:
            seen.add(s)
            outside.append(s)
    return inside, np.array(outside, dtype=int)


def monomial_correlations(nets, subsets, n: int, seed: int, batch: int = 4096):
    """Correlations :math:`\\hat f(T)/\\|f\\|_2 = \\mathbb E[f(x)\\chi_T(x)]/\\sqrt{\\mathbb E f(x)^2}`
    of each network with each monomial :math:`\\chi_T`, estimated on ``n`` fresh uniform inputs.

    ``nets``: one :class:`MLP` or a list of them (checkpoints) with the same runs; ``subsets``: a
    list of index sequences (of any sizes) or an integer array (n_subsets, degree). The same ``n``
    inputs per run (from ``TrialRNG(seed)``) serve every checkpoint and every monomial (common random
    numbers); :math:`\\chi_T(x) = (-1)^{\\#\\{i\\in T: x_i = -1\\}}` is computed for all monomials at
    once by one matrix product. Returns the correlations, (n_checkpoints, runs, n_subsets) (or
    (runs, n_subsets) for one network), as a host array, and :math:`1/\\sqrt n` as a float: the
    standard error of the estimate of a zero coefficient (the products :math:`f\\chi_T` then have mean
    zero and second moment :math:`\\mathbb E f^2`).
    """
    single = isinstance(nets, MLP)
    nets = [nets] if single else list(nets)
    if not nets:
        raise _validate.InvalidParameterError("nets must be an MLP or a non-empty list of MLPs")
    for i, t in enumerate(nets):
        _check_mlp(t, f"nets[{i}]")
    runs, d = nets[0].runs, nets[0].dim
    if any(t.runs != runs or t.dim != d for t in nets):
        raise _validate.InvalidParameterError("nets must all hold the same runs on the same d")
    try:
        subs = [np.asarray(t).ravel() for t in subsets]
    except TypeError:
        subs = []
    ok = len(subs) > 0 and all(t.size > 0 and t.dtype.kind in "iu" and np.all(t >= 0)
                               and np.all(t < d) and np.unique(t).size == t.size for t in subs)
    if not ok:
        raise _validate.InvalidParameterError(
            f"subsets must be non-empty sets of distinct integer indices in [0, {d - 1}], got "
            f"{_validate.describe(subsets)}")
    n = _validate.integer(n, "n", minimum=2)
    batch = _validate.positive_int(batch, "batch")
    xp = get_backend().module
    dev = [t.to(xp, np.float32) for t in nets]
    ind = np.zeros((d, len(subs)), dtype=np.float32)
    for c, t in enumerate(subs):
        ind[t, c] = 1.0
    ind = xp.asarray(ind)
    rng = TrialRNG(seed, 0, runs, xp=xp)
    num = xp.zeros((len(nets), runs, len(subs)))
    sq = xp.zeros((len(nets), runs))
    done = 0
    while done < n:
        b = min(batch, n - done)
        x = sample_inputs(rng, b, d, np.float32)
        negatives = xp.matmul((x < 0).astype(np.float32), ind)          # (runs, b, n_subsets)
        chi = (1.0 - 2.0 * xp.remainder(negatives, 2.0)).astype(np.float64)
        for c, t in enumerate(dev):
            f = _forward(t, x, xp)[0].astype(np.float64)
            num[c] += xp.matmul(f[:, None, :], chi)[:, 0, :]
            sq[c] += (f * f).sum(axis=1)
        done += b
    corr = num / xp.sqrt(xp.maximum(n * sq, 1e-300))[..., None]
    out = to_numpy(corr)
    return (out[0] if single else out), 1.0 / np.sqrt(n)


# --------------------------------------------------------------------------------------------
# GRACE


def student_gradients(student: MLP, teacher: MLP, x, temperature: float = 1.0,
                      responses: int = 1, seed: int = 0):
    """Per-example gradients of the student's cross-entropy on labels *sampled* from the teacher,
    :math:`y\\sim\\mathrm{Bernoulli}(\\sigma(g(x)/T))`, ``responses`` labels per input (the GRACE
    setting: a teacher provides generations, not logits). One network each (``runs == 1``);
    ``x`` (n, d). Returns an (n * responses, P) host array, rows grouped by input
    (the ``responses`` rows of input ``i`` are contiguous), P = m (d + 2)."""
    student = _check_mlp(student, "student")
    teacher = _check_mlp(teacher, "teacher")
    if student.runs != 1 or teacher.runs != 1:
        raise _validate.InvalidParameterError("student and teacher must each hold one network (runs=1)")
    temperature = _validate.positive_scalar(temperature, "temperature")
    responses = _validate.positive_int(responses, "responses")
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[1] != student.dim or teacher.dim != student.dim:
        raise _validate.InvalidParameterError(f"x must have shape (n, d={student.dim}), got {x.shape}")
    s = student.to(np, np.float64)
    t = teacher.to(np, np.float64)
    q = _sigmoid(_forward(t, x[None], np)[0][0] / temperature, np)          # (n,)
    gen = np.random.default_rng(np.random.SeedSequence(_validate.seed(seed)))
    y = (gen.random((x.shape[0], responses)) < q[:, None]).astype(float)  # (n, r)
    f, h, z = _forward(s, x[None], np)
    f, h, z = f[0], h[0], z[0]
    resid = (_sigmoid(f, np)[:, None] - y).reshape(-1)                    # (n r,)
    rep = np.repeat(np.arange(x.shape[0]), responses)
    act = (h > 0)[rep] * s.a[0][None, :]                                   # (n r, m)
    gW = (resid[:, None] * act)[:, :, None] * x[rep][:, None, :]          # (n r, m, d)
    gb = resid[:, None] * act
    ga = resid[:, None] * z[rep]
    return np.concatenate([gW.reshape(len(rep), -1), gb, ga], axis=1)


def grace_score(grads, groups, splits: int = 10, test_fraction: float = 0.1,
                smoothing: float = 1e-3, project: int | None = None, seed: int = 0) -> float:
    """The GRACE score of per-example gradients ``grads`` (N, P), with ``groups`` (N,) the prompt of
    each row (all rows of a prompt fall on the same side of a split):

    .. math:: \\mathrm{GRACE} = \\frac1S\\sum_{s=1}^S \\operatorname{tr}\\big(\\tilde K_{\\rm tr}^{-1}
       \\hat K_{\\rm te}\\big),\\quad \\hat K_{\\rm tr} = \\frac{1}{n_{\\rm tr}}\\sum_{\\rm tr}
       \\frac{g g^\\top}{\\|g\\|^2},\\quad \\hat K_{\\rm te} = \\frac1{n_{\\rm te}}\\sum_{\\rm te} g g^\\top,

    :math:`\\tilde K_{\\rm tr}` the spectrum of :math:`\\hat K_{\\rm tr}` shrunk towards its mean,
    :math:`\\tilde\\lambda = (1-c)\\lambda + c\\bar\\lambda` with ``c = smoothing``; ``S = splits``
    random splits of the prompts with a fraction ``test_fraction`` (at least one) on the test side.
    With ``project = p`` the gradients are first mapped to :math:`R g/\\sqrt P` by a Rademacher
    matrix :math:`R\\in\\{\\pm1\\}^{p\\times P}` (a Johnson--Lindenstrauss sketch), drawn from
    ``SeedSequence(seed)`` before the splits. As in the authors' code (``GRACE_computation.py``); lower is better. Computed in the
    span of the rows (a kernel trick: exact, and cheap when N < P)."""
    g = np.asarray(to_numpy(grads), dtype=float)
    if g.ndim != 2 or g.shape[0] < 2 or not np.all(np.isfinite(g)):
        raise _validate.InvalidParameterError(
            f"grads must be a finite (N >= 2, P) array, got {_validate.describe(grads)}")
    groups = np.asarray(groups).ravel()
    if groups.shape != (g.shape[0],):
        raise _validate.InvalidParameterError(f"groups must have shape ({g.shape[0]},), got {groups.shape}")
    splits = _validate.positive_int(splits, "splits")
    test_fraction = _validate.in_interval(test_fraction, "test_fraction", 0.0, 1.0, True, True)
    smoothing = _validate.in_interval(smoothing, "smoothing", 0.0, 1.0, True, False)
    norms = np.linalg.norm(g, axis=1)
    if np.any(norms == 0):
        raise _validate.InvalidParameterError("grads must have no zero rows (a zero gradient cannot be normalised)")
    uniq = np.unique(groups)
    if uniq.size < 2:
        raise _validate.InvalidParameterError("groups must name at least two prompts")
    n_te = max(1, int(test_fraction * uniq.size))
    gen = np.random.default_rng(np.random.SeedSequence(_validate.seed(seed)))
    if project is not None:
        project = _validate.positive_int(project, "project")
        R = 2.0 * (gen.random((g.shape[1], project)) < 0.5) - 1.0
        g = g @ R / np.sqrt(g.shape[1])
        norms = np.linalg.norm(g, axis=1)
        if np.any(norms == 0):
            raise _validate.InvalidParameterError("a projected gradient is zero: use a larger project")
    P = g.shape[1]
    scores = []
    for _ in range(splits):
        te_groups = gen.choice(uniq, size=n_te, replace=False)
        te = np.isin(groups, te_groups)
        gtr = g[~te] / norms[~te, None]
        gte = g[te]
        # K_tr = gtr^T gtr / n_tr has eigen-pairs from the SVD of gtr; the rest of the spectrum is 0.
        u, s, vt = np.linalg.svd(gtr, full_matrices=False)
        lam = s ** 2 / gtr.shape[0]
        lam_bar = lam.sum() / P
        lam_s = (1 - smoothing) * lam + smoothing * lam_bar
        floor = smoothing * lam_bar
        proj = gte @ vt.T                                          # (n_te, rank)
        energy = (gte ** 2).sum()
        in_span = (proj ** 2).sum(axis=0)
        tr = (in_span / lam_s).sum() + (energy - in_span.sum()) / floor
        scores.append(tr / gte.shape[0])
    return float(np.mean(scores))


def grace_for_teachers(students: MLP, teachers, temperatures, n_prompts: int, responses: int = 4,
                       splits: int = 10, project: int | None = None, seed: int = 0) -> np.ndarray:
    """GRACE of every (teacher, student) pair: ``teachers`` a list of one-network :class:`MLP`,
    ``temperatures`` one per teacher, ``students`` an :class:`MLP` with one network per run.

    Common random numbers: every pair uses the same ``n_prompts`` inputs (from ``TrialRNG(seed)``),
    student ``s`` samples its labels from stream ``s`` whatever the teacher, and every score uses the
    same projection and splits, so differences between teachers are paired. Returns an array
    (n_teachers, n_students)."""
    students = _check_mlp(students, "students")
    temps = np.broadcast_to(np.asarray(temperatures, dtype=float), (len(teachers),))
    n_prompts = _validate.integer(n_prompts, "n_prompts", minimum=2)
    d = students.dim
    x = to_numpy(sample_inputs(TrialRNG(seed, 0, 1, xp=np), n_prompts, d))[0]
    groups = np.repeat(np.arange(n_prompts), responses)
    host = students.to(np, np.float64)
    out = np.empty((len(teachers), students.runs))
    for j, (tch, T) in enumerate(zip(teachers, temps)):
        for s in range(students.runs):
            g = student_gradients(host.select(slice(s, s + 1)), tch, x, temperature=float(T),
                                  responses=responses, seed=seed + 1 + s)
            out[j, s] = grace_score(g, groups, splits=splits, project=project, seed=seed)
    return out


def distill_outcomes(d: int, k: int, width: int, steps: int, teachers, temperatures, *, lr: float,
                     batch: int, runs: int, seed: int, n_test: int = 2000) -> np.ndarray:
    """Test accuracy (against the parity) of ``runs`` students after ``steps`` of one-shot
    distillation from each teacher in turn (one-network :class:`MLP` each, with its temperature).
    Student ``r`` has the same initialisation, test set and batches for every teacher (paired).
    Returns (n_teachers, runs)."""
    temps = np.broadcast_to(np.asarray(temperatures, dtype=float), (len(teachers),))
    out = []
    for tch, T in zip(teachers, temps):
        res = train_mlp(d, k, width, steps, lr=lr, batch=batch, runs=runs, seed=seed,
                        teachers=[repeat_runs(_check_mlp(tch, "teacher"), runs)],
                        temperature=float(T), eval_every=steps, n_test=n_test)
        out.append(res.accuracy[:, -1])
    return np.stack(out)


def spearman(a, b) -> float:
    """Spearman rank correlation of two 1-D samples (average ranks for ties)."""
    from scipy.stats import spearmanr  # noqa: PLC0415

    a = np.asarray(a, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    if a.shape != b.shape or a.size < 3 or not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise _validate.InvalidParameterError(
            f"a and b must be finite 1-D arrays of one length >= 3, got {a.shape} and {b.shape}")
    return float(spearmanr(a, b)[0])
