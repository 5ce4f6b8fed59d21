r"""Monte Carlo for in-context learning with linear attention and test-time training.

See the chapters *In-context learning with linear attention*, label ``ch-icl``, and *Test-time
training for in-context learning*, label ``ch-ttt``.

Everything a one-layer linear-attention model :math:`\hat y = x^\top W u` sees of a context
:math:`(X, y)` is the vector :math:`u = X^\top y`, so prompts are sampled as ``u`` directly, with an
exact O(n + d) sampler instead of the O(nd) matrix :math:`X`:

write :math:`X = Z\Sigma^{1/2}` and :math:`\tilde\beta = \Sigma^{1/2}\beta`. Split every row of
:math:`Z` into its component :math:`z_\parallel` along :math:`\hat\beta = \tilde\beta/\|\tilde\beta\|`
and the rest. Then :math:`s = y = \|\tilde\beta\|z_\parallel + \varepsilon` and

.. math::
    Z^\top s = \hat\beta\,(z_\parallel^\top s) + \|s\|\,P_\perp\xi,\qquad \xi\sim\mathcal N(0, I_d),

because the orthogonal components of the rows are Gaussian and independent of :math:`z_\parallel`
and :math:`\varepsilon`. Finally :math:`u = \Sigma^{1/2}Z^\top s`. The same identity gives the TTT
gradient direction :math:`X_{tr}^\top X_{tr}e` for ``k`` fresh rows.

Simulators are batched over independent runs or trials, written against the active array module
(NumPy or CuPy) and return NumPy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate
from ..backend import get_backend, rng, to_numpy
from ..batch import TrialRNG, chunk_size, chunks
from ..profiles import progress
from ..theory.icl import context_second_moment, icl_loss
from ._summary import PairedTrials

__all__ = ["gram_times", "sample_contexts", "prompt_losses", "PretrainSGD", "pretrain_sgd", "TTTSim", "simulate_ttt",
           "simulate_ttt_multistep", "FiniteTaskSim", "simulate_finite_tasks"]


def _sqrtm(sigma):
    ev, vec = np.linalg.eigh(np.asarray(sigma, dtype=float))
    return (vec * np.sqrt(np.clip(ev, 0.0, None))) @ vec.T


def gram_times(gen, xp, root, vecs, m: int, noise_sd: float = 0.0):
    r""":math:`X^\top(Xv + \varepsilon)` for each row ``v`` of ``vecs`` (shape ``(..., d)``), with an
    independent :math:`X\in\mathbb R^{m\times d}` per row (rows :math:`\mathcal N(0, \Sigma)`; ``root`` is
    the symmetric :math:`\Sigma^{1/2}`) and independent noise of standard deviation ``noise_sd``.
    Exact in distribution, O(m + d) random numbers per row (see the module docstring)."""
    shape = vecs.shape[:-1]
    d = vecs.shape[-1]
    bt = vecs @ root                                      # Sigma^{1/2} v  (root symmetric)
    nu = xp.sqrt((bt * bt).sum(axis=-1))
    safe = xp.where(nu > 0, nu, 1.0)
    e1 = xp.zeros(d)
    e1[0] = 1.0
    bhat = xp.where((nu > 0)[..., None], bt / safe[..., None], e1)
    zpar = gen.standard_normal(shape + (m,), dtype=xp.float64)
    s = nu[..., None] * zpar
    if noise_sd > 0:
        s = s + noise_sd * gen.standard_normal(shape + (m,), dtype=xp.float64)
    a = (zpar * s).sum(axis=-1)
    ss = (s * s).sum(axis=-1)
    xi = gen.standard_normal(shape + (d,), dtype=xp.float64)
    xi = xi - (xi * bhat).sum(axis=-1)[..., None] * bhat
    v = a[..., None] * bhat + xp.sqrt(ss)[..., None] * xi
    return v @ root


def sample_contexts(sigma_x, betas, n: int, noise_var: float = 0.0, seed: int = 0):
    r"""Context summaries :math:`u = X^\top y` (NumPy, shape of ``betas``) for tasks ``betas``
    (``(..., d)``), context length ``n`` and label noise ``noise_var``."""
    xp = get_backend().module
    sx = _validate.psd_matrix(sigma_x, "sigma_x")
    n = _validate.positive_int(n, "n (the context length)")
    sd = float(np.sqrt(_validate.nonneg_scalar(noise_var, "noise_var")))
    seed = _validate.seed(seed)
    b = _validate.finite_array(betas, "betas")
    if b.ndim < 1 or b.shape[-1] != sx.shape[0]:
        raise ValueError(f"betas must have shape (..., {sx.shape[0]}), got {b.shape}")
    d = sx.shape[0]
    rows = b.reshape(-1, d)  # prompt i of the flattened batch draws from stream (seed, i)
    step = chunk_size(8 * (2 * n + 6 * d), rows.shape[0], "sample_contexts")
    root = xp.asarray(_sqrtm(sx))
    out = []
    for start, stop in chunks(rows.shape[0], step, "contexts"):
        gen = TrialRNG(seed, start, stop, xp)
        out.append(to_numpy(gram_times(gen, xp, root, xp.asarray(rows[start:stop]), n, sd)))
    return np.concatenate(out).reshape(b.shape)


def prompt_losses(W, sigma_x, sigma_beta, n: int, noise_var: float = 0.0, prompts: int = 1000,
                  seed: int = 0, beta=None) -> np.ndarray:
    r"""Loss of the bilinear predictor :math:`\hat y = x^\top W u` on ``prompts`` fresh prompts.

    Each prompt draws a task :math:`\beta\sim\mathcal N(0,\Sigma_\beta)` (or uses the fixed task
    ``beta``, shape ``(d,)``, when given; ``sigma_beta`` is then ignored) and a context of ``n`` pairs
    with label noise ``noise_var`` (:func:`sample_contexts`); the query is averaged analytically, so
    the loss of one prompt is :math:`(\beta - Wu)^\top\Sigma_x(\beta - Wu) + \sigma^2`. Returns the
    per-prompt losses (NumPy, shape ``(prompts,)``), whose mean estimates the ICL loss
    (``hdreg.theory.icl.icl_loss``, or ``fixed_task_loss`` for a fixed task). Tasks use the stream
    ``2 * seed``, contexts the stream ``2 * seed + 1``.
    """
    sx = _validate.psd_matrix(sigma_x, "sigma_x")
    d = sx.shape[0]
    Wh = _validate.finite_array(W, "W")
    if Wh.shape != (d, d):
        raise _validate.InvalidParameterError(f"W must be a finite ({d}, {d}) matrix, "
                                              f"got {_validate.describe(W)}")
    prompts = _validate.positive_int(prompts, "prompts")
    s2 = _validate.nonneg_scalar(noise_var, "noise_var")
    seed = _validate.seed(seed)
    if beta is None:
        sb = _validate.psd_matrix(sigma_beta, "sigma_beta")
        if sb.shape != sx.shape:
            raise _validate.InvalidParameterError(f"sigma_beta must have shape {sx.shape}, got {sb.shape}")
        # prompt i's task depends only on (2 seed, i), its context on (2 seed + 1, i)
        z = TrialRNG(2 * seed, 0, prompts, np).standard_normal((prompts, d))
        betas = z @ _sqrtm(sb)
    else:
        b = _validate.finite_array(beta, "beta")
        if b.shape != (d,):
            raise _validate.InvalidParameterError(f"beta must be a finite vector of length {d}, "
                                                  f"got {_validate.describe(beta)}")
        betas = np.broadcast_to(b, (prompts, d))
    u = sample_contexts(sx, betas, n, s2, seed=2 * seed + 1)
    err = betas - u @ Wh.T
    return np.einsum("ti,ij,tj->t", err, sx, err) + s2


# --------------------------------------------------------------------------- SGD pretraining
@dataclass(frozen=True)
class PretrainSGD:
    """Result of :func:`pretrain_sgd`: ``runs`` independent SGD runs.

    ``W_avg``: iterate averages over the last part of training, ``(runs, d, d)``; ``W_last``: final
    iterates; ``steps``: the recorded step numbers (run ``r`` draws from its own stream); ``loss``: the population ICL loss of the iterate at
    those steps, ``(runs, len(steps))``; ``lr``: the learning rate used.
    """

    W_avg: np.ndarray
    W_last: np.ndarray
    steps: np.ndarray
    loss: np.ndarray
    lr: float


def pretrain_sgd(sigma_x, sigma_beta, n: int, noise_var: float, steps: int, batch: int, runs: int = 1,
                 lr: float | None = None, average_from: float = 0.5, record: int = 25,
                 seed: int = 0) -> PretrainSGD:
    r"""Pretrain :math:`W` by minibatch SGD from :math:`W = 0` on freshly sampled prompts.

    Each step draws ``batch`` prompts per run (task :math:`\beta\sim\mathcal N(0,\Sigma_\beta)`,
    context of ``n`` noisy pairs) and follows the minibatch gradient of the squared error, with the
    query averaged analytically: for one prompt,
    :math:`\nabla_W\,\mathbb E_x(x^\top\beta - x^\top Wu)^2 = -2\Sigma_x(\beta - Wu)u^\top`.
    The default learning rate is :math:`1/(2\lambda_{\max}(\Sigma_x)\lambda_{\max}(\mathbb E uu^\top))`,
    half the stability limit of full-batch gradient descent. ``W_avg`` averages the iterates after
    ``average_from * steps`` (Polyak–Ruppert averaging).
    """
    xp = get_backend().module
    sx = _validate.psd_matrix(sigma_x, "sigma_x")
    sb = _validate.psd_matrix(sigma_beta, "sigma_beta")
    if sx.shape != sb.shape:
        raise ValueError(f"sigma_x and sigma_beta must have the same shape, got {sx.shape} and {sb.shape}")
    n = _validate.positive_int(n, "n (the context length)")
    s2 = _validate.nonneg_scalar(noise_var, "noise_var")
    steps = _validate.positive_int(steps, "steps")
    batch = _validate.positive_int(batch, "batch")
    runs = _validate.positive_int(runs, "runs")
    record = _validate.positive_int(record, "record")
    average_from = _validate.in_interval(average_from, "average_from", 0.0, 1.0, high_open=True)
    seed = _validate.seed(seed)
    d = sx.shape[0]
    mom = context_second_moment(sx, sb, n, s2)
    # gradient descent on the population loss is stable iff lr < 1 / (lmax(Sigma_x) lmax(E uu^T))
    limit = 1.0 / (np.linalg.eigvalsh(sx).max() * np.linalg.eigvalsh(mom).max())
    if lr is None:
        lr = 0.5 * limit
    lr = _validate.positive_scalar(lr, "lr")
    if lr >= limit:
        raise ValueError(f"lr must be below the stability limit 1/(lmax(Sigma_x) lmax(E[uu^T])) = "
                         f"{limit:.4g} of gradient descent on this problem (the iterates diverge), "
                         f"got {lr!r}; the default is half the limit")
    _validate.require_memory(8 * runs * batch * (2 * n + 4 * d), "pretrain_sgd: one SGD step")

    gen = TrialRNG(seed, 0, runs, xp)  # one stream per run
    root_x = xp.asarray(_sqrtm(sx))
    root_b = xp.asarray(_sqrtm(sb))
    sx_d = xp.asarray(sx)
    sd = float(np.sqrt(s2))
    W = xp.zeros((runs, d, d))
    W_sum = xp.zeros((runs, d, d))
    n_avg = 0
    first_avg = int(np.floor(average_from * steps))
    rec_steps, rec_W = [], []
    for step in progress(range(steps), desc="SGD pretraining", total=steps):
        beta = gen.standard_normal((runs, batch, d), dtype=xp.float64) @ root_b
        u = gram_times(gen, xp, root_x, beta, n, sd)
        btu = beta.transpose(0, 2, 1) @ u                    # sum_b beta_b u_b^T
        utu = u.transpose(0, 2, 1) @ u                       # sum_b u_b u_b^T
        grad = -2.0 * sx_d @ (btu - W @ utu) / batch
        W = W - lr * grad
        if step >= first_avg:
            W_sum = W_sum + W
            n_avg += 1
        if step % record == 0 or step == steps - 1:
            rec_steps.append(step + 1)
            rec_W.append(W)
    W_avg = to_numpy(W_sum / n_avg)
    rec = to_numpy(xp.stack(rec_W, axis=1))                   # (runs, R, d, d), one copy
    if not (np.all(np.isfinite(rec)) and np.all(np.isfinite(W_avg))):
        raise FloatingPointError(f"pretrain_sgd diverged (non-finite iterates) with lr = {lr:.4g}; "
                                 "use a smaller lr (the default is half the stability limit)")
    loss = icl_loss(rec, sx, sb, n, s2)
    return PretrainSGD(W_avg, to_numpy(W), np.asarray(rec_steps), np.asarray(loss), lr)


# --------------------------------------------------------------------------- test-time training
@dataclass(frozen=True)
class TTTSim(PairedTrials):
    """Per-trial results of :func:`simulate_ttt`.

    ``loss``: ``(trials, starts, len(etas))`` excess loss after the step (not normalised);
    ``icl``: ``(trials, starts)`` excess loss before the step (fresh protocol: the exact fixed-task ICL
    loss, identical across trials; same-context protocol: the error of this context).
    """

    loss: np.ndarray
    icl: np.ndarray

    def mean_se(self, field: str = "loss"):
        """Mean over trials and its standard error (at least 2 finite trials)."""
        return PairedTrials.mean_se(self, field)


def simulate_ttt(spectrum, w0, beta, n: int, k: int, etas, trials: int, protocol: str = "fresh",
                 seed: int = 0, fresh_prompts: int | None = None, label_noise: float = 0.0) -> TTTSim:
    r"""One gradient step of TTT on ``trials`` independent test prompts of the task ``beta``.

    Per trial: a context of ``n`` noiseless pairs (:math:`u = X^\top y`), ``k`` labelled queries
    sharing it, and for every start ``w0[s]`` (``(d, d)`` or a stack ``(S, d, d)``) and step
    ``etas[s, e]`` (broadcast to ``(S, E)``) the update :math:`W_1 = W_0 + 2\eta\,gu^\top`,
    :math:`g = X_{tr}^\top(y_{tr} - X_{tr}W_0u)`. The loss of :math:`W_1` is then evaluated exactly,
    averaging analytically over the query and, for ``protocol="fresh"``, over a fresh context
    (chapter ``ch-ttt``, ``eq-fresh-quadratic``); with ``fresh_prompts = m`` it is instead estimated from ``m``
    sampled fresh prompts with sampled queries (used by the tests to check the exact evaluation).
    ``spectrum``: eigenvalues of :math:`\Sigma_x` (diagonal, the library's eigenbasis convention).
    ``label_noise``: variance of independent noise on the ``k`` TTT labels (absolute units; the context
    labels stay noiseless); with the default 0 the random stream is the noiseless one.
    """
    xp = get_backend().module
    noise_sd = float(np.sqrt(float(_validate.nonneg(label_noise, "label_noise"))))
    lam_h = np.asarray(to_numpy(_validate.spectrum(spectrum)))
    beta_h = np.asarray(to_numpy(_validate.vector_like(beta, lam_h, "beta")))
    d = lam_h.size
    W0_h = _validate.finite_array(w0, "w0")
    if W0_h.ndim == 2:
        W0_h = W0_h[None]
    if W0_h.ndim != 3 or W0_h.shape[1:] != (d, d):
        raise ValueError(f"w0 must be a finite ({d}, {d}) matrix or a stack (S, {d}, {d}), "
                         f"got {_validate.describe(w0)}")
    S = W0_h.shape[0]
    eta_h = _validate.finite_array(etas, "etas")
    if eta_h.ndim == 0:
        eta_h = eta_h[None]
    try:
        eta_h = np.broadcast_to(eta_h, (S, eta_h.shape[-1]))
    except ValueError:
        raise ValueError(f"etas must broadcast to (starts, E) = ({S}, E), got shape {eta_h.shape}") from None
    n = _validate.positive_int(n, "n (the context length)")
    k = _validate.positive_int(k, "k (the number of TTT examples)")
    trials = _validate.positive_int(trials, "trials")
    protocol = _validate.choice(protocol, "protocol", ("fresh", "same"))
    seed = _validate.seed(seed)
    m = 1 if fresh_prompts is None else _validate.positive_int(fresh_prompts, "fresh_prompts")
    if fresh_prompts is not None and protocol != "fresh":
        raise ValueError("fresh_prompts is only meaningful with protocol='fresh'")
    per_trial = 8 * (S * (6 * d + 4 * eta_h.shape[1]) + 2 * (n + k) + (m * (3 * d + n) if fresh_prompts else 0))
    step = chunk_size(per_trial, trials, "simulate_ttt")

    lam = xp.asarray(lam_h)
    root = xp.diag(xp.sqrt(lam))
    b = xp.asarray(beta_h)
    W0 = xp.asarray(W0_h)
    t_eff = xp.asarray(2.0 * eta_h)                           # (S, E)
    sb = lam * b
    signal = float(beta_h @ (lam_h * beta_h))
    # exact fresh-context ICL loss of each start (noiseless, fixed task)
    wsb = W0 @ sb                                            # (S, d)
    tr = ((W0 * lam[None, :, None]) * (W0 * lam[None, None, :])).sum(axis=(1, 2))  # tr(W0'S W0 S)
    L0 = (signal - 2 * n * (wsb @ sb) + n * (n + 1) * ((wsb * lam) * wsb).sum(axis=-1) + n * signal * tr)
    losses, icls = [], []
    for start, stop in chunks(trials, step, "TTT trials"):
        gen = TrialRNG(seed, start, stop, xp)
        t = stop - start
        u = gram_times(gen, xp, root, xp.broadcast_to(b, (t, d)), n)             # (t, d)
        e0 = b - (u[:, None, None, :] @ W0.transpose(0, 2, 1)[None])[..., 0, :]  # beta - W0 u, (t, S, d)
        g = gram_times(gen, xp, root, e0, k, noise_sd)                           # (t, S, d)
        if protocol == "same":
            uu = (u * u).sum(axis=-1)[:, None, None]                             # (t, 1, 1)
            e_se = ((e0 * lam) * e0).sum(axis=-1)[..., None]
            e_sg = ((e0 * lam) * g).sum(axis=-1)[..., None]
            g_sg = ((g * lam) * g).sum(axis=-1)[..., None]
            loss = e_se - 2 * t_eff * uu * e_sg + (t_eff * uu) ** 2 * g_sg
            icl = e_se[..., 0]
        elif fresh_prompts is None:
            usb = (u * sb).sum(axis=-1)[:, None, None]                           # u^T Sigma beta
            bsg = (g @ sb)[..., None]                                            # beta^T Sigma g
            sw_sg = ((g * lam)[:, :, None, :] @ W0[None])[..., 0, :]            # W0^T Sigma g, (t, S, d)
            bsw = ((sw_sg * sb[None, None, :]).sum(axis=-1))[..., None]          # beta^T Sigma W0^T Sigma g
            usw = ((sw_sg * (u * lam)[:, None, :]).sum(axis=-1))[..., None]      # u^T Sigma W0^T Sigma g
            gsg = ((g * lam) * g).sum(axis=-1)[..., None]
            usu = ((u * lam) * u).sum(axis=-1)[:, None, None]
            bb = n * bsg * usb - n * (n + 1) * bsw * usb - n * usw * signal
            aa = n * (n + 1) * gsg * usb**2 + n * gsg * usu * signal
            loss = L0[None, :, None] - 2 * t_eff * bb + t_eff**2 * aa
            icl = xp.broadcast_to(L0, (t, S))
        else:
            up = gram_times(gen, xp, root, xp.broadcast_to(b, (t, m, d)), n)     # (t, m, d) fresh contexts
            xq = gen.standard_normal((t, m, d), dtype=xp.float64) * xp.sqrt(lam)  # fresh queries
            base = (up[:, :, None, None, :] @ W0.transpose(0, 2, 1)[None, None])[..., 0, :]  # W0 u'
            uup = (up * u[:, None, :]).sum(axis=-1)                              # u^T u'
            err0 = b - base                                                      # (t, m, S, d)
            r0 = (xq[:, :, None, :] * err0).sum(axis=-1)                         # x'^T (beta - W0 u')
            rg = xp.einsum("tmi,tsi->tms", xq, g)                                # x'^T g
            pred = r0[..., None] - t_eff[None, None] * (uup[..., None, None] * rg[..., None])
            loss = (pred**2).mean(axis=1)
            icl = (r0**2).mean(axis=1)
        losses.append(to_numpy(loss))
        icls.append(to_numpy(icl))
    return TTTSim(np.concatenate(losses), np.concatenate(icls))


def simulate_ttt_multistep(spectrum, w0, beta, n: int, k: int, etas, trials: int, protocol: str = "fresh",
                           seed: int = 0) -> np.ndarray:
    r"""Several gradient steps of TTT on the same ``k`` examples and context (chapter ``ch-ttt``, exploration).

    Step ``s`` uses size ``etas[..., s]`` (``etas``: ``(E, steps)``, one schedule per row). All updates
    are rank one along :math:`u^\top`, so :math:`W_s = W_0 + v_su^\top` with
    :math:`v_{s+1} = v_s + 2\eta_s X_{tr}^\top X_{tr}(e_0 - \|u\|^2 v_s)`. Returns the exact loss
    (averaged over the query and, for ``"fresh"``, over a fresh context) after each step, shape
    ``(trials, E, steps + 1)`` (entry 0 is the loss before TTT). ``w0`` is one ``(d, d)`` matrix.
    """
    xp = get_backend().module
    lam_h = np.asarray(to_numpy(_validate.spectrum(spectrum)))
    beta_h = np.asarray(to_numpy(_validate.vector_like(beta, lam_h, "beta")))
    d = lam_h.size
    W0_h = _validate.finite_array(w0, "w0", shape=(d, d))
    eta_h = np.atleast_2d(_validate.finite_array(etas, "etas"))
    if eta_h.ndim != 2:
        raise ValueError(f"etas must be a finite (E, steps) array, got {_validate.describe(etas)}")
    n = _validate.positive_int(n, "n (the context length)")
    k = _validate.positive_int(k, "k (the number of TTT examples)")
    trials = _validate.positive_int(trials, "trials")
    protocol = _validate.choice(protocol, "protocol", ("fresh", "same"))
    seed = _validate.seed(seed)
    E, steps = eta_h.shape
    step = chunk_size(8 * (k * d + 2 * d * d + 4 * E * d), trials, "simulate_ttt_multistep")
    lam = xp.asarray(lam_h)
    sqrt_lam = xp.sqrt(lam)
    root = xp.diag(sqrt_lam)
    b = xp.asarray(beta_h)
    W0 = xp.asarray(W0_h)
    sb = lam * b
    signal = float(beta_h @ (lam_h * beta_h))
    wsb = W0 @ sb
    L0 = float(to_numpy(signal - 2 * n * (wsb @ sb) + n * (n + 1) * ((wsb * lam) @ wsb)
                        + n * signal * ((W0 * lam[:, None]) * (W0 * lam[None, :])).sum()))
    etas_d = xp.asarray(eta_h)
    out = []
    for start, stop in chunks(trials, step, "multi-step TTT"):
        gen = TrialRNG(seed, start, stop, xp)
        t = stop - start
        u = gram_times(gen, xp, root, xp.broadcast_to(b, (t, d)), n)                   # (t, d)
        e0 = b - u @ W0.T                                                            # (t, d)
        Xtr = gen.standard_normal((t, k, d), dtype=xp.float64) * sqrt_lam
        G = Xtr.transpose(0, 2, 1) @ Xtr                                             # (t, d, d)
        uu = (u * u).sum(axis=-1)[:, None]                                           # (t, 1)
        usb = (u * sb).sum(axis=-1)[:, None]
        usu = ((u * lam) * u).sum(axis=-1)[:, None]
        v = xp.zeros((t, E, d))
        res = []
        for s_ in range(steps + 1):
            if s_ > 0:
                r = e0[:, None, :] - uu[..., None] * v                                  # (t, E, d)
                v = v + 2.0 * etas_d[:, s_ - 1][None, :, None] * (r @ G)   # G symmetric
            if protocol == "same":
                r = e0[:, None, :] - uu[..., None] * v
                loss = ((r * lam) * r).sum(axis=-1)
            else:
                bsg = v @ sb                                                         # (t, E)
                sw_sg = (v * lam) @ W0                                               # W0^T Sigma v
                bsw = sw_sg @ sb
                usw = (sw_sg * (u * lam)[:, None, :]).sum(axis=-1)
                gsg = ((v * lam) * v).sum(axis=-1)
                bb = n * bsg * usb - n * (n + 1) * bsw * usb - n * usw * signal
                aa = n * (n + 1) * gsg * usb**2 + n * gsg * usu * signal
                loss = L0 - 2 * bb + aa
            res.append(loss)
        out.append(to_numpy(xp.stack(res, axis=-1)))
    return np.concatenate(out)


# --------------------------------------------------------------------------- finite task diversity
@dataclass(frozen=True)
class FiniteTaskSim:
    """Per-trial results of :func:`simulate_finite_tasks` (one trial = one pretraining set).

    ``icl``: test error on new tasks :math:`w\\sim\\mathcal N(0, I_d)`; ``idg``: on tasks drawn from the
    trial's ``k`` pretraining tasks; both on the *same* test contexts, queries and noise (shape
    ``(trials,)``, noise included; ``None`` when no test prompts were drawn). ``gamma``: the fitted
    :math:`\\Gamma` of each trial, ``(trials, d, d + 1)``; ``tasks``: each trial's task set,
    ``(trials, k, d)``.
    """

    icl: np.ndarray | None
    idg: np.ndarray | None
    gamma: np.ndarray
    tasks: np.ndarray


def _lu_features(gen, xp, w, ell: int, rho: float):
    """Prompts of Lu et al.'s model for tasks ``w`` (``(..., d)``): returns the features
    :math:`h = [\\frac d\\ell\\sum_i y_ix_i;\\ \\frac1\\ell\\sum_i y_i^2]`, the query and its label."""
    shape, d = w.shape[:-1], w.shape[-1]
    x = gen.standard_normal(shape + (ell + 1, d), dtype=xp.float64) / np.sqrt(d)
    y = (x * w[..., None, :]).sum(axis=-1)
    if rho > 0:
        y = y + np.sqrt(rho) * gen.standard_normal(shape + (ell + 1,), dtype=xp.float64)
    yc, xc = y[..., :ell], x[..., :ell, :]
    h = xp.concatenate([(d / ell) * (yc[..., None] * xc).sum(axis=-2),
                        (yc * yc).mean(axis=-1)[..., None]], axis=-1)
    return h, x[..., ell, :], y[..., ell]


def simulate_finite_tasks(d: int, ell: int, prompts: int, tasks: int, rho: float, trials: int,
                          ridge: float = 1e-6, test_prompts: int | None = 2000,
                          seed: int = 0) -> FiniteTaskSim:
    r"""Pretrain the reduced linear attention of Lu, Letey, Zavatone-Veth, Maiti and Pehlevan on a
    finite task set, and test it on new and on pretraining tasks (the in-context learning chapter, label ``ch-icl``, task diversity).

    Per trial: ``tasks`` :math:`= k` task vectors, Gaussian rescaled to norm :math:`\sqrt d`;
    ``prompts`` :math:`= P` pretraining prompts whose task cycles through the set (each used
    :math:`P/k` times, up to one); tokens :math:`x\sim\mathcal N(0, I_d/d)`, labels with noise variance
    ``rho``; context length ``ell``. :math:`\Gamma\in\mathbb R^{d\times(d+1)}` is the ridge fit of the
    query label on :math:`\operatorname{vec}(x_{q}h^\top)` with penalty :math:`\frac Pd\,` ``ridge``
    :math:`\|\Gamma\|_F^2` (``ridge`` small: the ridgeless limit). The test errors are averages over
    ``test_prompts`` prompts sharing contexts, queries and noise between the two task kinds
    (``None``: no test prompts; the exact errors follow from ``gamma`` and ``tasks`` by
    :func:`hdreg.theory.icl.task_set_test_error`).
    """
    xp = get_backend().module
    d = _validate.positive_int(d, "d")
    ell = _validate.positive_int(ell, "ell (the context length)")
    P = _validate.positive_int(prompts, "prompts")
    k = _validate.positive_int(tasks, "tasks")
    trials = _validate.positive_int(trials, "trials")
    m = None if test_prompts is None else _validate.positive_int(test_prompts, "test_prompts")
    rho = float(_validate.nonneg(rho, "rho"))
    lam = float(_validate.nonneg(ridge, "ridge"))
    p = d * (d + 1)
    step = chunk_size(8 * (P * (p + (ell + 2) * d) + p * p), trials, "simulate_finite_tasks")
    icl_out, idg_out, gam_out, set_out = [], [], [], []
    for start, stop in chunks(trials, step, "finite task sets"):
        gens = [rng(int(np.random.SeedSequence([seed, t]).generate_state(1)[0]))
                for t in range(start, stop)]
        sets, feats, labels = [], [], []
        for gen in gens:                       # per-trial randomness: (seed, trial index)
            W = gen.standard_normal((k, d), dtype=xp.float64)
            W = W / xp.sqrt((W * W).sum(axis=-1, keepdims=True)) * np.sqrt(d)
            h, xq, yq = _lu_features(gen, xp, W[xp.arange(P) % k], ell, rho)
            sets.append(W)
            feats.append((xq[:, :, None] * h[:, None, :]).reshape(P, p))
            labels.append(yq)
        F, Y = xp.stack(feats), xp.stack(labels)                          # (t, P, p), (t, P)
        G = F.transpose(0, 2, 1) @ F + (P / d) * lam * xp.eye(p)
        gam = xp.linalg.solve(G, (F.transpose(0, 2, 1) @ Y[..., None]))[..., 0].reshape(-1, d, d + 1)
        set_out.extend(to_numpy(W) for W in sets)
        for gen, W, g_ in zip(gens, sets, gam if m is not None else []):
            # shared contexts, queries and noise for new and pretraining tasks (paired errors)
            w_new = gen.standard_normal((m, d), dtype=xp.float64)
            w_old = W[gen.integers(0, k, size=m)]
            x = gen.standard_normal((m, ell + 1, d), dtype=xp.float64) / np.sqrt(d)
            eps = np.sqrt(rho) * gen.standard_normal((m, ell + 1), dtype=xp.float64)
            errs = []
            for w in (w_new, w_old):
                y = (x * w[:, None, :]).sum(axis=-1) + eps
                hh = xp.concatenate([(d / ell) * (y[:, :ell, None] * x[:, :ell]).sum(axis=1),
                                     (y[:, :ell] ** 2).mean(axis=-1)[:, None]], axis=-1)
                pred = ((x[:, ell] @ g_) * hh).sum(axis=-1)
                errs.append(float(to_numpy(((y[:, ell] - pred) ** 2).mean())))
            icl_out.append(errs[0])
            idg_out.append(errs[1])
        gam_out.append(to_numpy(gam))
    errs_out = (None, None) if m is None else (np.array(icl_out), np.array(idg_out))
    return FiniteTaskSim(*errs_out, np.concatenate(gam_out), np.stack(set_out))
