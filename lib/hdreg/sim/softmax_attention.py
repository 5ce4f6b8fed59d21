r"""One softmax self-attention layer for in-context linear regression (chapter ``ch-softmax-attention``).

A prompt holds ``n`` pairs :math:`(x_i, y_i)`, :math:`x_i\sim\mathcal N(0,\Lambda)` with
:math:`\Lambda=\operatorname{diag}(\lambda)` (the library's eigenbasis convention),
:math:`y_i = w^\top x_i+\varepsilon_i`, task :math:`w\sim\mathcal N(0, I_d)` fresh for every prompt,
noise variance :math:`\sigma^2`, and a query :math:`x_q` with label :math:`y_q = w^\top x_q+\varepsilon_q`.
The layer (merged key-query matrix :math:`W\in\mathbb R^{d\times d}`, scalar value weight :math:`v`)
predicts

.. math::
    s_i = x_i^\top W x_q,\qquad p = \operatorname{softmax}(s),\qquad
    \hat y = v\sum_{i=1}^n p_i\,y_i ,

a kernel (Nadaraya-Watson) smoother of the context labels. With the loss
:math:`\ell = \frac1B\sum_b(\hat y_b - y_{q,b})^2` over a batch of ``B`` prompts, the hand-derived
gradients are (:math:`m=\sum_ip_iy_i`, :math:`g_b = 2(\hat y_b-y_{q,b})/B`)

.. math::
    \nabla_v\ell = \sum_b g_b m_b,\qquad
    \nabla_W\ell = v\sum_b g_b\Big(\sum_i p_{bi}(y_{bi}-m_b)\,x_{bi}\Big)x_{q,b}^\top .

Training (:func:`train_softmax`) is online: every step draws a fresh batch of prompts. ``method="gd"``
is plain (stochastic) gradient descent from a small random start; ``method="precond"`` starts from a
data-dependent (spectral) estimate :math:`W_0=\hat\Lambda^{-1}`, :math:`v_0 = 1`, with
:math:`\hat\Lambda` the covariance of the first batch's covariates, and uses the preconditioned step
:math:`W\leftarrow W-\eta\,\hat\Lambda^{-2}\nabla_W\ell\,\hat\Lambda^{-1}/(2v^2)`,
:math:`v\leftarrow v-\eta\,\nabla_v\ell/(2\overline{m^2})`, which in the long-prompt (linear) limit
contracts the error :math:`I-v\Lambda W` by the factor :math:`1-\eta` per step. This is the chapter's
own construction "of the kind" described by Goel, Soltanolkotabi and Bartlett (arXiv 2603.01514); it
omits their regulariser.

**Tasks integrated out** (:func:`softmax_task_loss_grad`, :func:`paired_excess`, :func:`fit_softmax`).
The scores do not involve the labels, so given the covariates of a prompt the prediction is linear in
the task and the noise, and with :math:`w\sim\mathcal N(0,I_d)` the conditional risk is exact:
:math:`\mathbb E_{w,\varepsilon}(\hat y-y_q)^2 = \|vX^\top p - x_q\|^2 + \sigma^2v^2\|p\|^2 + \sigma^2`.
Least squares and linear attention have the same kind of design-conditioned risk, so the three can be
compared prompt by prompt. Prompts are drawn with :class:`hdreg.batch.TrialRNG`: prompt ``i`` depends
only on ``(seed, i)``.

Functions are written against the array module ``xp`` of the active backend and return NumPy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate
from ..backend import get_backend, namespace_of, rng, to_numpy
from ..profiles import progress
from ..theory import softmax_attention as sa_theory

__all__ = ["sample_prompts", "softmax_forward", "softmax_loss_grad", "long_prompt_gap",
           "SoftmaxTraining", "train_softmax", "ols_design_risk", "softmax_task_loss_grad",
           "paired_excess", "SoftmaxFit", "fit_softmax", "pretrain_sweep"]


def _draw(gen, xp, lam, prompts: int, n: int, noise_sd: float):
    d = lam.shape[0]
    root = xp.sqrt(lam)
    X = gen.standard_normal((prompts, n, d), dtype=xp.float64) * root
    w = gen.standard_normal((prompts, d), dtype=xp.float64)
    xq = gen.standard_normal((prompts, d), dtype=xp.float64) * root
    y = (X * w[:, None, :]).sum(axis=-1)
    yq = (xq * w).sum(axis=-1)
    if noise_sd > 0:
        y = y + noise_sd * gen.standard_normal((prompts, n), dtype=xp.float64)
        yq = yq + noise_sd * gen.standard_normal(prompts, dtype=xp.float64)
    return X, y, xq, yq, w


def sample_prompts(spectrum, n: int, prompts: int, noise_var: float = 0.0, seed: int = 0) -> dict:
    """``prompts`` prompts of context length ``n`` (NumPy arrays): ``X`` ``(prompts, n, d)``,
    ``y`` ``(prompts, n)``, ``xq`` ``(prompts, d)``, ``yq`` ``(prompts,)`` and the tasks ``w``."""
    xp = get_backend().module
    lam = xp.asarray(to_numpy(_validate.spectrum(spectrum)))
    n = _validate.positive_int(n, "n (the context length)")
    prompts = _validate.positive_int(prompts, "prompts")
    sd = float(np.sqrt(float(_validate.nonneg(noise_var, "noise_var"))))
    X, y, xq, yq, w = _draw(rng(seed), xp, lam, prompts, n, sd)
    return {k: to_numpy(a) for k, a in dict(X=X, y=y, xq=xq, yq=yq, w=w).items()}


def _check_batch(W, v, X, y, xq, yq=None):
    xp = namespace_of(W, X, y, xq)
    W = xp.asarray(W, dtype=xp.float64)
    X = xp.asarray(X, dtype=xp.float64)
    y = xp.asarray(y, dtype=xp.float64)
    xq = xp.asarray(xq, dtype=xp.float64)
    if X.ndim != 3:
        raise ValueError(f"X must have shape (prompts, n, d), got {tuple(X.shape)}")
    B, n, d = X.shape
    if W.shape != (d, d):
        raise ValueError(f"W must have shape ({d}, {d}), got {tuple(W.shape)}")
    if y.shape != (B, n):
        raise ValueError(f"y must have shape ({B}, {n}), got {tuple(y.shape)}")
    if xq.shape != (B, d):
        raise ValueError(f"xq must have shape ({B}, {d}), got {tuple(xq.shape)}")
    if not np.isfinite(float(v)):
        raise ValueError(f"v must be a finite number, got {v!r}")
    arrays = [W, X, y, xq]
    if yq is not None:
        yq = xp.asarray(yq, dtype=xp.float64)
        if yq.shape != (B,):
            raise ValueError(f"yq must have shape ({B},), got {tuple(yq.shape)}")
        arrays.append(yq)
    for name, a in zip(("W", "X", "y", "xq", "yq"), arrays):
        if not bool(xp.all(xp.isfinite(a))):
            raise ValueError(f"{name} must be finite")
    return xp, W, float(v), X, y, xq, yq


def _forward(xp, W, v, X, y, xq):
    a = xq @ W.T                                           # W x_q, (B, d)
    s = (X * a[:, None, :]).sum(axis=-1)                   # scores x_i^T W x_q, (B, n)
    s = s - s.max(axis=1, keepdims=True)
    e = xp.exp(s)
    p = e / e.sum(axis=1, keepdims=True)
    m = (p * y).sum(axis=1)
    return v * m, p, m


def _loss_grad(xp, W, v, X, y, xq, yq):
    yhat, p, m = _forward(xp, W, v, X, y, xq)
    r = yhat - yq
    B = X.shape[0]
    g = 2.0 * r / B
    c = p * (y - m[:, None])                               # d yhat / d s_i, divided by v
    z = (c[..., None] * X).sum(axis=1)                     # (B, d)
    gW = v * (g[:, None] * z).T @ xq
    gv = (g * m).sum()
    return (r * r).mean(), gW, gv, m


def softmax_forward(W, v, X, y, xq):
    """Predictions :math:`\\hat y` ``(prompts,)`` and attention weights ``p`` ``(prompts, n)`` of the
    layer with key-query matrix ``W`` ``(d, d)`` and value weight ``v`` on a batch of prompts."""
    xp, W, v, X, y, xq, _ = _check_batch(W, v, X, y, xq)
    yhat, p, _ = _forward(xp, W, v, X, y, xq)
    return to_numpy(yhat), to_numpy(p)


def softmax_loss_grad(W, v, X, y, xq, yq):
    """Batch loss :math:`\\frac1B\\sum_b(\\hat y_b-y_{q,b})^2` and its gradients
    ``(loss, grad_W, grad_v)`` (hand-derived; see the module docstring)."""
    xp, W, v, X, y, xq, yq = _check_batch(W, v, X, y, xq, yq)
    loss, gW, gv, _ = _loss_grad(xp, W, v, X, y, xq, yq)
    return float(loss), to_numpy(gW), float(gv)


def long_prompt_gap(W, v, spectrum, ns, prompts: int, noise_var: float = 0.0,
                    seed: int = 0) -> np.ndarray:
    r"""Per-prompt squared gaps :math:`(\hat y_n - \hat y_\infty)^2` between the softmax layer on a
    prompt of length ``n`` and its long-prompt limit :math:`\hat y_\infty = v\,w^\top\Lambda Wx_q`
    (``hdreg.theory.softmax_attention.long_prompt_prediction``), for every ``n`` in ``ns``.

    The prompts are nested (common random numbers): the context of length ``n`` is the first ``n``
    pairs of the longest one, with the same task and query. Returns ``(prompts, len(ns))``.
    """
    xp = get_backend().module
    lam = xp.asarray(to_numpy(_validate.spectrum(spectrum)))
    d = lam.shape[0]
    Wh = np.asarray(W, dtype=float)
    if Wh.shape != (d, d) or not np.all(np.isfinite(Wh)):
        raise ValueError(f"W must be a finite ({d}, {d}) matrix, got shape {Wh.shape}")
    ns_h = np.atleast_1d(np.asarray(ns))
    if ns_h.ndim != 1 or ns_h.size == 0:
        raise ValueError(f"ns must be a non-empty 1-D list of context lengths, got {ns!r}")
    ns_l = [_validate.positive_int(k, "ns (context lengths)") for k in ns_h]
    prompts = _validate.positive_int(prompts, "prompts")
    sd = float(np.sqrt(float(_validate.nonneg(noise_var, "noise_var"))))
    Wd = xp.asarray(Wh)
    gen = rng(seed)
    X, y, xq, _, w = _draw(gen, xp, lam, prompts, max(ns_l), sd)
    limit = sa_theory.long_prompt_prediction(Wh, float(v), to_numpy(lam), to_numpy(w), to_numpy(xq))
    out = []
    for k in ns_l:
        yhat, _, _ = _forward(xp, Wd, float(v), X[:, :k], y[:, :k], xq)
        out.append((to_numpy(yhat) - limit) ** 2)
    return np.stack(out, axis=1)


@dataclass(frozen=True)
class SoftmaxTraining:
    """Result of :func:`train_softmax`. ``steps``: recorded step numbers (0 = initialisation);
    ``test_loss``: mean test loss at those steps; ``final_losses``: per-prompt squared errors of the
    final parameters on the fixed test set (the same set for every method and seed of the test set,
    so two runs can be compared prompt by prompt); ``W``, ``v``: final parameters."""

    steps: np.ndarray
    test_loss: np.ndarray
    final_losses: np.ndarray
    W: np.ndarray
    v: float
    method: str


def train_softmax(spectrum, n: int, noise_var: float, steps: int, batch: int, lr: float,
                  method: str = "gd", init_scale: float = 0.1, test_prompts: int = 4000,
                  record: int = 10, seed: int = 0, test_seed: int = 12345,
                  fixed_data: bool = False) -> SoftmaxTraining:
    """Train the layer on fresh prompts (online SGD with ``batch`` prompts a step), or, with
    ``fixed_data=True``, by full-batch gradient descent on one fixed training set of ``batch``
    prompts (the finite-data empirical loss).

    ``method="gd"``: plain SGD on ``(W, v)`` from ``W_0 = init_scale * G / sqrt(d)`` (``G`` standard
    Gaussian) and ``v_0 = init_scale``. ``method="precond"``: spectral initialisation and the
    preconditioned step of the module docstring. The test loss is measured on ``test_prompts``
    prompts drawn from ``test_seed`` (common to all runs) every ``record`` steps.
    """
    if method not in ("gd", "precond"):
        raise ValueError(f"method must be 'gd' or 'precond', got {method!r}")
    xp = get_backend().module
    lam = xp.asarray(to_numpy(_validate.spectrum(spectrum)))
    d = lam.shape[0]
    n = _validate.positive_int(n, "n (the context length)")
    sd = float(np.sqrt(float(_validate.nonneg(noise_var, "noise_var"))))
    steps = _validate.positive_int(steps, "steps")
    batch = _validate.positive_int(batch, "batch")
    record = _validate.positive_int(record, "record")
    test_prompts = _validate.positive_int(test_prompts, "test_prompts")
    lr = float(_validate.nonneg(lr, "lr", allow_zero=False))
    init_scale = float(_validate.nonneg(init_scale, "init_scale", allow_zero=False))
    Xt, yt, xqt, yqt, _ = _draw(rng(test_seed), xp, lam, test_prompts, n, sd)

    def test():
        yhat, _, _ = _forward(xp, W, v, Xt, yt, xqt)
        return (yhat - yqt) ** 2

    gen = rng(seed)
    X, y, xq, yq, _ = _draw(gen, xp, lam, batch, n, sd)
    if method == "gd":
        W = init_scale * gen.standard_normal((d, d), dtype=xp.float64) / np.sqrt(d)
        v = init_scale
    else:
        xs = X.reshape(-1, d)
        lam_hat = xs.T @ xs / xs.shape[0]
        li = xp.linalg.inv(lam_hat)
        W = li.copy()
        v = 1.0
    rec_steps, rec_loss = [0], [float(test().mean())]
    for step in progress(range(1, steps + 1), desc=f"softmax training ({method})"):
        _, gW, gv, m = _loss_grad(xp, W, v, X, y, xq, yq)
        if method == "gd":
            W = W - lr * gW
            v = v - lr * float(gv)
        else:
            W = W - lr * (li @ li @ gW @ li) / (2.0 * v * v)
            v = v - lr * float(gv) / (2.0 * float((m * m).mean()))
        if step % record == 0 or step == steps:
            rec_steps.append(step)
            rec_loss.append(float(test().mean()))
        if not fixed_data:
            X, y, xq, yq, _ = _draw(gen, xp, lam, batch, n, sd)
    return SoftmaxTraining(np.asarray(rec_steps), np.asarray(rec_loss), to_numpy(test()),
                           to_numpy(W), float(v), method)


def ols_design_risk(spectrum, n: int, noise_var: float, trials: int, seed: int = 0) -> np.ndarray:
    r"""Test MSE of least squares on ``trials`` independent Gaussian designs, label noise and query
    integrated exactly given the design: :math:`\sigma^2\big(1+\operatorname{tr}(\Lambda(X^\top X)^{-1})\big)`
    (needs ``n >= d``). Its mean is ``hdreg.theory.softmax_attention.ols_risk``. Returns ``(trials,)``."""
    xp = get_backend().module
    lam = xp.asarray(to_numpy(_validate.spectrum(spectrum)))
    d = lam.shape[0]
    n = _validate.positive_int(n, "n (the number of examples)")
    if n < d:
        raise ValueError(f"n must be >= d = {d} for least squares, got {n}")
    s2 = float(_validate.nonneg(noise_var, "noise_var"))
    trials = _validate.positive_int(trials, "trials")
    X = rng(seed).standard_normal((trials, n, d), dtype=xp.float64) * xp.sqrt(lam)
    G = X.transpose(0, 2, 1) @ X
    tr = (xp.linalg.inv(G) * xp.diag(lam)[None]).sum(axis=(1, 2))
    return to_numpy(s2 * (1.0 + tr))


def _draw_covariates(seed, start, stop, n, lam, xp):
    from ..batch import TrialRNG  # noqa: PLC0415

    g = TrialRNG(seed, start, stop, xp)
    d = lam.shape[0]
    root = xp.sqrt(lam)
    z = g.standard_normal((stop - start, n + 1, d))
    return z[:, :n] * root, z[:, n] * root


def _task_loss_grad(xp, W, v, X, xq, s2):
    B = X.shape[0]
    a = xq @ W.T
    s = (X * a[:, None, :]).sum(axis=-1)
    s = s - s.max(axis=1, keepdims=True)
    e = xp.exp(s)
    p = e / e.sum(axis=1, keepdims=True)
    m = (p[..., None] * X).sum(axis=1)                     # sum_i p_i x_i, (B, d)
    r = v * m - xq
    pp = (p * p).sum(axis=1)
    loss = (r * r).sum(axis=1) + s2 * v * v * pp           # excess over sigma^2, per prompt
    g = 2 * v * (X * r[:, None, :]).sum(axis=-1) + 2 * s2 * v * v * p   # dL/dp_i
    ds = p * (g - (p * g).sum(axis=1, keepdims=True))       # dL/ds_i
    z = (ds[..., None] * X).sum(axis=1)
    gW = z.T @ xq / B
    gv = float((2 * (m * r).sum(axis=1) + 2 * s2 * v * pp).mean())
    return loss, gW, gv, (m * m).sum(axis=1) + s2 * pp


def softmax_task_loss_grad(W, v, X, xq, noise_var):
    r"""Risk of the layer averaged over tasks :math:`w\sim\mathcal N(0,I_d)` and label noise, given the
    covariates of a batch of prompts (``X`` ``(B, n, d)``, ``xq`` ``(B, d)``):
    :math:`\frac1B\sum_b\big(\|vX_b^\top p_b - x_{q,b}\|^2 + \sigma^2v^2\|p_b\|^2\big) + \sigma^2`, and its
    gradients ``(loss, grad_W, grad_v)`` (hand-derived)."""
    B = np.asarray(X).shape[0] if np.ndim(X) == 3 else 0
    dummy = np.zeros(np.asarray(X).shape[:2]) if np.ndim(X) == 3 else np.zeros((0,))
    xp, W, v, X, _, xq, _ = _check_batch(W, v, X, dummy, xq)
    s2 = float(_validate.nonneg(noise_var, "noise_var"))
    if B == 0:
        raise ValueError("X must hold at least one prompt")
    loss, gW, gv, _ = _task_loss_grad(xp, W, v, X, xq, s2)
    return float(loss.mean()) + s2, to_numpy(gW), gv


def paired_excess(W, v, spectrum, n: int, noise_var: float, prompts: int, seed: int = 0,
                  linear=None) -> dict:
    r"""Excess risks over :math:`\sigma^2`, task and noise integrated, on ``prompts`` common prompts:
    ``"softmax"`` (the layer ``(W, v)``), ``"ols"`` (least squares on the context,
    :math:`\sigma^2x_q^\top(X^\top X)^{-1}x_q`) and, when ``linear`` (the diagonal of
    :math:`\Gamma`) is given, ``"linear"`` (the linear-attention layer :math:`x_q^\top\Gamma h`,
    :math:`h=\frac1n\sum_iy_ix_i`: :math:`\|\frac1n X^\top X\Gamma x_q - x_q\|^2 + \sigma^2\|X\Gamma x_q\|^2/n^2`).
    Each is a ``(prompts,)`` NumPy array, prompt ``i`` drawn from ``(seed, i)``; needs ``n > d``."""
    from ..batch import chunk_size, chunks  # noqa: PLC0415

    xp = get_backend().module
    lam = xp.asarray(to_numpy(_validate.spectrum(spectrum)))
    d = lam.shape[0]
    n = _validate.positive_int(n, "n (the context length)")
    if n <= d:
        raise ValueError(f"n must be > d = {d} for least squares, got {n}")
    prompts = _validate.positive_int(prompts, "prompts")
    s2 = float(_validate.nonneg(noise_var, "noise_var"))
    Wh = np.asarray(W, dtype=float)
    if Wh.shape != (d, d) or not np.all(np.isfinite(Wh)):
        raise ValueError(f"W must be a finite ({d}, {d}) matrix, got shape {Wh.shape}")
    if not np.isfinite(float(v)):
        raise ValueError(f"v must be a finite number, got {v!r}")
    Wd = xp.asarray(Wh)
    gam = None
    if linear is not None:
        gh = np.asarray(linear, dtype=float)
        if gh.shape != (d,) or not np.all(np.isfinite(gh)):
            raise ValueError(f"linear must be a finite vector of length {d}, got shape {gh.shape}")
        gam = xp.asarray(gh)
    out = {"softmax": [], "ols": []} | ({} if gam is None else {"linear": []})
    step = chunk_size(8.0 * 4 * (n + 1) * d, prompts, "paired_excess")
    for a, b in chunks(prompts, step, desc="paired excess"):
        X, xq = _draw_covariates(seed, a, b, n, lam, xp)
        loss, _, _, _ = _task_loss_grad(xp, Wd, float(v), X, xq, s2)
        out["softmax"].append(to_numpy(loss))
        G = X.transpose(0, 2, 1) @ X
        sol = xp.linalg.solve(G, xq[..., None])[..., 0]
        out["ols"].append(to_numpy(s2 * (sol * xq).sum(axis=1)))
        if gam is not None:
            gx = xq * gam
            r = (G @ gx[..., None])[..., 0] / n - xq
            Xg = (X * gx[:, None, :]).sum(axis=-1)
            out["linear"].append(to_numpy((r * r).sum(axis=1) + s2 * (Xg * Xg).sum(axis=1) / n**2))
    return {k: np.concatenate(val) for k, val in out.items()}


@dataclass(frozen=True)
class SoftmaxFit:
    """Result of :func:`fit_softmax`: ``steps`` and ``train_loss`` (the task-integrated empirical risk,
    noise floor included, at every step; entry 0 is the start), final ``W`` and ``v``."""

    steps: np.ndarray
    train_loss: np.ndarray
    W: np.ndarray
    v: float


def fit_softmax(spectrum, n: int, noise_var: float, prompts: int, steps: int, lr: float = 0.5,
                seed: int = 0, temperature=None) -> SoftmaxFit:
    r"""Train the layer by full-batch preconditioned gradient descent on the task-integrated empirical
    risk of ``prompts`` training prompts (their covariates; the tasks and the noise are integrated out,
    see :func:`softmax_task_loss_grad`).

    Spectral start :math:`W_0 = c_0\hat\Lambda^{-1}`, :math:`v_0 = 1/c_0`, on the manifold of long-prompt
    minimisers, with :math:`\hat\Lambda` the covariance of the training covariates and
    :math:`c_0` = ``temperature`` (default :math:`1/\sqrt d`); then the preconditioned steps of
    :func:`train_softmax` (``method="precond"``) with ``lr``.
    """
    xp = get_backend().module
    lam = xp.asarray(to_numpy(_validate.spectrum(spectrum)))
    d = lam.shape[0]
    n = _validate.positive_int(n, "n (the context length)")
    s2 = float(_validate.nonneg(noise_var, "noise_var"))
    prompts = _validate.positive_int(prompts, "prompts")
    steps = _validate.positive_int(steps, "steps")
    lr = float(_validate.nonneg(lr, "lr", allow_zero=False))
    c0 = 1 / np.sqrt(d) if temperature is None else float(
        _validate.nonneg(temperature, "temperature", allow_zero=False))
    X, xq = _draw_covariates(seed, 0, prompts, n, lam, xp)
    xs = X.reshape(-1, d)
    li = xp.linalg.inv(xs.T @ xs / xs.shape[0])
    W, v = c0 * li, 1.0 / c0
    hist = []
    for _ in progress(range(steps), desc="softmax fit"):
        loss, gW, gv, m2 = _task_loss_grad(xp, W, v, X, xq, s2)
        hist.append(float(loss.mean()) + s2)
        W = W - lr * (li @ li @ gW @ li) / (2.0 * v * v)
        v = v - lr * gv / (2.0 * float(m2.mean()))
    hist.append(float(_task_loss_grad(xp, W, v, X, xq, s2)[0].mean()) + s2)
    return SoftmaxFit(np.arange(steps + 1), np.asarray(hist), to_numpy(W), float(v))


def _loss_grad_rep(xp, W, v, X, y, xq, yq):
    """:func:`_loss_grad` batched over a leading replicate axis (``W`` ``(R, d, d)``, ``v`` ``(R,)``)."""
    P = X.shape[1]
    a = xp.einsum("rpd,red->rpe", xq, W)
    s = xp.einsum("rpnd,rpd->rpn", X, a)
    s = s - s.max(axis=2, keepdims=True)
    e = xp.exp(s)
    p = e / e.sum(axis=2, keepdims=True)
    m = (p * y).sum(axis=2)
    r = v[:, None] * m - yq
    g = 2.0 * r / P
    z = xp.einsum("rpn,rpnd->rpd", p * (y - m[..., None]), X)
    gW = v[:, None, None] * xp.einsum("rp,rpd,rpe->rde", g, z, xq)
    gv = (g * m).sum(axis=1)
    return gW, gv, (m * m).mean(axis=1)


def pretrain_sweep(spectrum, n: int, noise_var: float, sizes, replicates: int, steps: int = 20,
                   lr: float = 0.5, seed: int = 0, test_prompts: int = 4000, test_seed: int = 7,
                   temperature=None, record=None) -> np.ndarray:
    r"""Pretrain the layer on ``P`` prompts for every ``P`` in ``sizes`` and return its test excess
    risk, ``(replicates, len(sizes))``, or ``(replicates, len(sizes), len(record))`` at the step counts
    ``record`` (each in ``0 .. steps``) when it is given.

    Replicate ``r`` draws ``max(sizes)`` prompts (covariates, a task :math:`w\sim\mathcal N(0,I_d)` per
    prompt and label noise) from ``(seed, r)``; the set of size ``P`` is its first ``P`` prompts (nested
    sets, common random numbers). On each set the layer is trained by full-batch preconditioned gradient
    descent on the empirical squared loss (the step of :func:`train_softmax`, ``method="precond"``,
    spectral start :math:`W_0=c_0\hat\Lambda^{-1}`, :math:`v_0=1/c_0`, :math:`c_0` = ``temperature``,
    default :math:`1/\sqrt d`), ``steps`` steps, all replicates at once. The test excess is the
    task-integrated risk minus :math:`\sigma^2` on ``test_prompts`` common prompts drawn from
    ``test_seed`` (the prompts of :func:`paired_excess` with the same seed).
    """
    from ..batch import TrialRNG, chunk_size, chunks  # noqa: PLC0415

    xp = get_backend().module
    lam = xp.asarray(to_numpy(_validate.spectrum(spectrum)))
    d = lam.shape[0]
    n = _validate.positive_int(n, "n (the context length)")
    s2 = float(_validate.nonneg(noise_var, "noise_var"))
    sz = np.atleast_1d(np.asarray(sizes))
    if sz.ndim != 1 or sz.size == 0:
        raise ValueError(f"sizes must be a non-empty 1-D list of training-set sizes, got {sizes!r}")
    sz = [_validate.positive_int(k, "sizes (numbers of prompts)") for k in sz]
    R = _validate.positive_int(replicates, "replicates")
    steps = _validate.positive_int(steps, "steps")
    lr = float(_validate.nonneg(lr, "lr", allow_zero=False))
    test_prompts = _validate.positive_int(test_prompts, "test_prompts")
    c0 = 1 / np.sqrt(d) if temperature is None else float(
        _validate.nonneg(temperature, "temperature", allow_zero=False))
    rec = [steps] if record is None else [_validate.nonneg_int(k, "record (step counts)")
                                          for k in np.atleast_1d(np.asarray(record))]
    if not rec or max(rec) > steps:
        raise ValueError(f"record must be a non-empty list of step counts in 0..{steps}, got {record!r}")
    Pm, root, sd = max(sz), xp.sqrt(lam), float(np.sqrt(s2))
    Xt, xqt = _draw_covariates(test_seed, 0, test_prompts, n, lam, xp)
    out = np.empty((R, len(sz), len(rec)))
    step = chunk_size(8.0 * 3 * Pm * (n + 1) * (d + 1), R, "pretrain_sweep")
    for a0, b0 in chunks(R, step, desc="pretraining sweep"):
        g = TrialRNG(seed, a0, b0, xp)
        Z = g.standard_normal((b0 - a0, Pm, n + 1, d)) * root
        w = g.standard_normal((b0 - a0, Pm, d))
        Y = (Z * w[:, :, None, :]).sum(axis=-1) + sd * g.standard_normal((b0 - a0, Pm, n + 1))
        for j, P in enumerate(sz):
            X, y, xq, yq = Z[:, :P, :n], Y[:, :P, :n], Z[:, :P, n], Y[:, :P, n]
            xs = X.reshape(b0 - a0, -1, d)
            li = xp.linalg.inv(xp.einsum("rkd,rke->rde", xs, xs) / xs.shape[1])
            W, v = c0 * li, xp.full(b0 - a0, 1.0 / c0)
            for t in range(steps + 1):
                for k in (k for k, tk in enumerate(rec) if tk == t):
                    for r in range(b0 - a0):
                        loss = _task_loss_grad(xp, W[r], float(v[r]), Xt, xqt, s2)[0]
                        out[a0 + r, j, k] = float(loss.mean())
                if t == steps:
                    break
                gW, gv, m2 = _loss_grad_rep(xp, W, v, X, y, xq, yq)
                W = W - lr * (li @ li @ gW @ li) / (2.0 * v * v)[:, None, None]
                v = v - lr * gv / (2.0 * m2)
    return out[..., 0] if record is None else out
