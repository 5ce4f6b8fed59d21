r"""Neural collapse (NC1) of a mean-field two-layer network, batched over trials
(chapter ``ch-attention-collapse``).

The network maps :math:`x\in\mathbb R^d` to features
:math:`h(x) = \frac1N\sum_{j=1}^N a_j\tanh(w_j^\top x)\in\mathbb R^K` (mean-field :math:`1/N`
scaling, :math:`a_j\in\mathbb R^K`, :math:`w_j\in\mathbb R^d`) and is trained on the square loss
:math:`L=\frac1{2n}\sum_i\|h(x_i)-e_{y_i}\|^2` by gradient descent with the mean-field step
:math:`\theta_j\leftarrow\theta_j-\eta N\nabla_{\theta_j}L`. With :math:`r_i = h(x_i)-e_{y_i}` and
:math:`\phi_{ij}=\tanh(w_j^\top x_i)`, the hand-derived gradients are

.. math::
    N\nabla_{a_j}L = \frac1n\sum_i r_i\,\phi_{ij},\qquad
    N\nabla_{w_j}L = \frac1n\sum_i (a_j^\top r_i)\,(1-\phi_{ij}^2)\,x_i

(tested against finite differences). The NC1 metric of Papyan, Han and Donoho (2020) of features
:math:`h_i` with class means :math:`\mu_c` and global mean :math:`\mu_G` is
:math:`\mathrm{NC1}=\frac1K\operatorname{tr}(\Sigma_W\Sigma_B^\dagger)`,
:math:`\Sigma_W=\frac1n\sum_i(h_i-\mu_{y_i})(h_i-\mu_{y_i})^\top`,
:math:`\Sigma_B=\frac1K\sum_c(\mu_c-\mu_G)(\mu_c-\mu_G)^\top` (:func:`nc1`).

Trial ``i`` draws its initialisation (and, in :func:`gaussian_classes`, its data) from its own
stream (:class:`hdreg.batch.TrialRNG`). Functions run on the active backend and return NumPy arrays.
"""

from __future__ import annotations

import numpy as np

from .. import _validate
from ..backend import get_backend, namespace_of, to_numpy
from ..batch import TrialRNG, chunk_size, chunks

__all__ = ["nc1", "nc1_bound", "gaussian_classes", "mean_field_grads", "train_mean_field"]


def _features(H, labels, K):
    xp = namespace_of(H, labels)
    H = xp.asarray(H, dtype=xp.float64)
    if H.ndim == 2:
        H = H[None]
    lab = xp.asarray(labels)
    if lab.ndim == 1:
        lab = lab[None]
    if H.ndim != 3 or lab.shape != H.shape[:2]:
        raise _validate.InvalidParameterError(
            f"features must be (trials, n, k) with labels (trials, n), got {H.shape} and {lab.shape}")
    if not bool(xp.all(xp.isfinite(H))):
        raise _validate.InvalidParameterError("features must be finite")
    K = _validate.integer(K, "K", 2)
    labh = to_numpy(lab)
    if np.any(labh != np.round(labh)) or labh.min() < 0 or labh.max() >= K:
        raise _validate.InvalidParameterError(f"labels must be integers in [0, {K}), got {labh.min()}"
                                              f" .. {labh.max()}")
    lab = xp.asarray(labh.astype(np.int64))
    onehot = (lab[..., None] == xp.arange(K)).astype(xp.float64)       # (t, n, K)
    cnt = onehot.sum(1)                                                 # (t, K)
    if bool(xp.any(cnt < 1)):
        raise _validate.InvalidParameterError("every class needs at least one sample")
    return xp, H, onehot, cnt


def _scatter(xp, H, onehot, cnt):
    n = H.shape[1]
    mu = xp.einsum("tnc,tnk->tck", onehot, H) / cnt[..., None]          # class means (t, K, k)
    muG = mu.mean(1, keepdims=True)                                      # (t, 1, k), balanced mean
    dev = H - xp.einsum("tnc,tck->tnk", onehot, mu)
    SW = xp.einsum("tni,tnj->tij", dev, dev) / n
    B = mu - muG
    SB = xp.einsum("tci,tcj->tij", B, B) / mu.shape[1]
    return SW, SB


def nc1(features, labels, K: int) -> np.ndarray:
    r"""NC1 :math:`=\frac1K\operatorname{tr}(\Sigma_W\Sigma_B^\dagger)` of ``features`` ``(trials, n, k)``
    (or ``(n, k)``) with integer ``labels`` in ``[0, K)``; one value per trial. The global mean is
    the mean of the class means (the two agree for balanced classes)."""
    xp, H, onehot, cnt = _features(features, labels, K)
    SW, SB = _scatter(xp, H, onehot, cnt)
    SBp = np.linalg.pinv(to_numpy(SB), rcond=1e-10)        # (trials, k, k): tiny, on the host
    return np.einsum("tij,tji->t", to_numpy(SW), SBp) / onehot.shape[2]


def nc1_bound(features, labels, K: int, loss) -> np.ndarray:
    r"""Our bound :math:`\mathrm{NC1}\le 2L/(K\,\lambda_{\min}^+(\Sigma_B))` for features that are the
    network's outputs trained on :math:`L=\frac1{2n}\sum_i\|h_i-e_{y_i}\|^2` (``loss``, one per
    trial): :math:`\operatorname{tr}\Sigma_W\le 2L` since the class mean minimises the within-class
    square distance. :math:`\lambda_{\min}^+` is the smallest non-zero eigenvalue (relative cut
    :math:`10^{-10}`)."""
    xp, H, onehot, cnt = _features(features, labels, K)
    L = _validate.finite_array(loss, "loss", low=0.0).reshape(-1)
    if L.size != H.shape[0]:
        raise _validate.InvalidParameterError(f"loss must hold one value per trial ({H.shape[0]}), "
                                              f"got {L.size}")
    _, SB = _scatter(xp, H, onehot, cnt)
    ev = np.linalg.eigvalsh(to_numpy(SB))
    lmin = np.array([e[e > 1e-10 * max(e.max(), 1e-300)].min() for e in ev])
    return 2.0 * L / (K * lmin)


def gaussian_classes(K: int, d: int, n_per: int, sep: float, trials: int = 1, seed: int = 0,
                     n_test_per: int = 0) -> dict:
    r"""``K`` Gaussian classes in dimension ``d``: class means :math:`\mathcal N(0, \text{sep}^2I_d/d)`
    (drawn per trial), unit isotropic noise, ``n_per`` training and ``n_test_per`` test points per
    class. Returns ``X`` ``(trials, n, d)``, ``labels`` ``(trials, n)`` and, if asked, ``X_test``,
    ``labels_test``."""
    K = _validate.integer(K, "K", 2)
    d = _validate.positive_int(d, "d")
    n_per = _validate.positive_int(n_per, "n_per")
    n_test_per = _validate.nonneg_int(n_test_per, "n_test_per")
    sep = _validate.nonneg_scalar(sep, "sep")
    trials = _validate.positive_int(trials, "trials")
    xp = get_backend().module
    gen = TrialRNG(seed, 0, trials, xp)
    means = sep * gen.standard_normal((trials, K, d)) / np.sqrt(d)
    out = {}
    for name, m in (("", n_per), ("_test", n_test_per)):
        if m == 0:
            continue
        lab = xp.repeat(xp.arange(K), m)[None].repeat(trials, 0)
        X = means[:, lab[0], :] + gen.standard_normal((trials, K * m, d))
        out["X" + name], out["labels" + name] = X, lab
    return {k: to_numpy(v) for k, v in out.items()}


def _check_net(X, labels, a, W):
    xp = namespace_of(X, a, W)
    X = xp.asarray(X, dtype=xp.float64)
    a = xp.asarray(a, dtype=xp.float64)
    W = xp.asarray(W, dtype=xp.float64)
    if X.ndim != 3 or a.ndim != 3 or W.ndim != 3:
        raise _validate.InvalidParameterError(
            f"X (trials, n, d), a (trials, N, K), W (trials, N, d) expected, got {X.shape}, "
            f"{a.shape}, {W.shape}")
    t, n, d = X.shape
    if W.shape[0] != t or W.shape[2] != d or a.shape[:2] != W.shape[:2]:
        raise _validate.InvalidParameterError(
            f"shapes do not match: X {X.shape}, a {a.shape}, W {W.shape}")
    for name, arr in (("X", X), ("a", a), ("W", W)):
        if not bool(xp.all(xp.isfinite(arr))):
            raise _validate.InvalidParameterError(f"{name} must be finite")
    K = a.shape[2]
    lab = xp.asarray(labels)
    if lab.ndim == 1:
        lab = xp.broadcast_to(lab, (t, n))
    labh = to_numpy(lab)
    if labh.shape != (t, n) or labh.min() < 0 or labh.max() >= K or np.any(labh != np.round(labh)):
        raise _validate.InvalidParameterError(f"labels must be (trials, n) integers in [0, {K})")
    Y = (xp.asarray(labh.astype(np.int64))[..., None] == xp.arange(K)).astype(xp.float64)
    return xp, X, Y, a, W


def _loss_grads(xp, X, Y, a, W):
    n = X.shape[1]
    N = W.shape[1]
    phi = xp.tanh(xp.matmul(X, W.transpose(0, 2, 1)))
    h = xp.matmul(phi, a) / N
    r = h - Y
    loss = 0.5 * (r * r).sum((1, 2)) / n
    ga = xp.matmul(phi.transpose(0, 2, 1), r) / n                       # N * dL/da_j
    s = xp.matmul(r, a.transpose(0, 2, 1)) * (1 - phi * phi)
    gW = xp.matmul(s.transpose(0, 2, 1), X) / n                         # N * dL/dw_j
    return loss, ga, gW, h


def mean_field_grads(X, labels, a, W):
    r"""Loss ``(trials,)``, the mean-field gradients :math:`N\nabla_{a_j}L` ``(trials, N, K)`` and
    :math:`N\nabla_{w_j}L` ``(trials, N, d)``, and the features ``h`` ``(trials, n, K)``."""
    xp, X, Y, a, W = _check_net(X, labels, a, W)
    return tuple(to_numpy(z) for z in _loss_grads(xp, X, Y, a, W))


def train_mean_field(X, labels, K: int, width: int, steps: int, lr: float, log_steps,
                     trials: int = 1, seed: int = 0, X_test=None, labels_test=None) -> dict:
    r"""Train ``trials`` independently initialised networks of ``width`` neurons on the data ``X``
    (``(n, d)``, shared by all trials, or ``(trials, n, d)``), labels in ``[0, K)``, for ``steps``
    mean-field gradient steps of size ``lr``, from :math:`a_j\sim\mathcal N(0, I_K)`,
    :math:`w_j\sim\mathcal N(0, I_d/d)`. Neuron ``j`` of trial ``i`` is drawn from that trial's
    stream in order, so the networks of widths :math:`N < N'` of one trial share their first
    :math:`N` neurons at initialisation (common random numbers across widths).

    Returns ``(trials, L)`` arrays at ``log_steps``: ``loss``, ``grad2`` (the mean-field squared
    gradient norm :math:`\frac1N\sum_j\|N\nabla_{\theta_j}L\|^2`), ``nc1``, ``bound``
    (:func:`nc1_bound`), ``nc1_test`` (if test data are given); and ``h`` ``(trials, n, K)``, the
    final training features.
    """
    K = _validate.integer(K, "K", 2)
    width = _validate.positive_int(width, "width")
    steps = _validate.nonneg_int(steps, "steps")
    lr = _validate.positive_scalar(lr, "lr")
    trials = _validate.positive_int(trials, "trials")
    log_steps = _validate.step_list(log_steps, "log_steps", steps)
    Xh = _validate.finite_array(X, "X")
    if Xh.ndim == 2:
        Xh = np.broadcast_to(Xh, (trials,) + Xh.shape)
    if Xh.ndim != 3 or Xh.shape[0] != trials:
        raise _validate.InvalidParameterError(f"X must be (n, d) or (trials, n, d), got {Xh.shape}")
    Xt = None
    if X_test is not None:
        Xt = _validate.finite_array(X_test, "X_test")
        if Xt.ndim == 2:
            Xt = np.broadcast_to(Xt, (trials,) + Xt.shape)
    lab = np.asarray(to_numpy(labels))
    lab = np.broadcast_to(lab, (trials,) + lab.shape[-1:]) if lab.ndim == 1 else lab
    labt = None
    if labels_test is not None:
        labt = np.asarray(to_numpy(labels_test))
        labt = np.broadcast_to(labt, (trials,) + labt.shape[-1:]) if labt.ndim == 1 else labt
    n, d = Xh.shape[1:]
    n_all = n + (0 if Xt is None else Xt.shape[1])
    per_trial = 8 * (4 * n_all * width + 6 * width * (K + d) + 2 * n_all * (d + K))
    step = chunk_size(per_trial, trials, "train_mean_field")
    parts = []
    for start, stop in chunks(trials, step, "mean-field training"):
        parts.append(_train_chunk(Xh[start:stop], lab[start:stop],
                                  None if Xt is None else Xt[start:stop],
                                  None if labt is None else labt[start:stop],
                                  K, width, steps, lr, log_steps, seed, start, stop))
    out = {k: np.concatenate([q[k] for q in parts]) for k in parts[0]}
    out["steps"] = log_steps
    return out


def _train_chunk(Xh, labels, X_test, labels_test, K, width, steps, lr, log_steps, seed, start,
                 stop):
    xp = get_backend().module
    trials = stop - start
    d = Xh.shape[2]
    gen = TrialRNG(seed, start, stop, xp)
    z = gen.standard_normal((trials, width, K + d))      # neuron j draws (a_j, w_j) together:
    a, W = z[..., :K], z[..., K:] / np.sqrt(d)          # nested widths share their first neurons
    _, X, Y, a, W = _check_net(xp.asarray(Xh), labels, a, W)
    lab = to_numpy(xp.argmax(Y, -1))
    test = None
    if X_test is not None:
        _, Xt, Yt, _, _ = _check_net(xp.asarray(X_test), labels_test, a, W)
        test = (Xt, to_numpy(xp.argmax(Yt, -1)))
    L = log_steps.size
    logs = {k: np.zeros((trials, L)) for k in ("loss", "grad2", "nc1", "bound")}
    if test is not None:
        logs["nc1_test"] = np.zeros((trials, L))
    j = 0
    for step in range(steps + 1):
        loss, ga, gW, h = _loss_grads(xp, X, Y, a, W)
        if step == log_steps[j]:
            lh = to_numpy(loss)
            logs["loss"][:, j] = lh
            logs["grad2"][:, j] = to_numpy(((ga * ga).sum((1, 2)) + (gW * gW).sum((1, 2))) / width)
            logs["nc1"][:, j] = nc1(h, lab, K)
            logs["bound"][:, j] = nc1_bound(h, lab, K, lh)
            if test is not None:
                phi = xp.tanh(xp.matmul(test[0], W.transpose(0, 2, 1)))
                logs["nc1_test"][:, j] = nc1(xp.matmul(phi, a) / width, test[1], K)
            j += 1
            if j == L:
                break
        a = a - lr * ga
        W = W - lr * gW
    return dict(logs, h=to_numpy(h))
