r"""Heavy ball (Polyak momentum) on least squares and on mean-field two-layer networks.

Chapter ``ch-optimisers-pruning``. Two simulators, batched over trials, on the active backend
(``xp``), returning NumPy arrays; trial ``i`` of a run with seed ``s`` draws only from its own stream
(:class:`hdreg.batch.TrialRNG`).

**Least squares** (:func:`least_squares_heavy_ball`). ``X`` has ``n`` rows ``N(0, I_d)``,
``H = X^T X / n``, and the error ``e = w - w*`` obeys ``e_{t+1} = e_t - alpha H e_t + beta (e_t -
e_{t-1})`` from ``e_0 = e_{-1} = -w*``, ``w* ~ N(0, I_d / d)``. The parameters are tuned per trial
to the design's extreme eigenvalues ``(mu, L)``: ``"gd"`` is the best constant step ``2/(L + mu)``,
``"heavy_ball"`` Polyak's optimum (:func:`hdreg.theory.heavy_ball.optimal_heavy_ball`).

**Mean-field two-layer network** (:func:`train_two_layer`). The student is
``f(x) = (1/N) sum_i a_i tanh(w_i . x)`` with particles ``theta_i = (a_i, w_i)``, the loss
``L = (1/2n) sum_mu (f(x_mu) - y_mu)^2`` on a fixed training set, and every particle moves with the
*mean-field gradient* ``N dL/dtheta_i`` (the gradient of the first variation
``Psi(theta; rho)``), so that a step moves each particle by ``O(1)`` whatever the width:

.. math::
    g_{a,i} = \frac1n\sum_\mu r_\mu \tanh(w_i\cdot x_\mu),\qquad
    g_{w,i} = \frac1n\sum_\mu r_\mu a_i\big(1-\tanh^2(w_i\cdot x_\mu)\big)x_\mu ,\qquad
    r_\mu = f(x_\mu) - y_\mu .

Heavy ball is ``v <- beta v - alpha g``, ``theta <- theta + v`` (``beta = 0``: gradient descent).
The teacher is ``y = (1/m) sum_k tanh(u_k . x)`` with ``m`` unit vectors ``u_k`` and ``x ~ N(0, I_d)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate
from ..backend import get_backend, to_numpy
from ..batch import TrialRNG, chunk_size, chunks
from ..theory import heavy_ball as hb_theory

__all__ = ["least_squares_heavy_ball", "two_layer_loss_grad", "dropout_gap", "dropout_loss",
           "TwoLayerRun", "train_two_layer", "empirical_rate",
           "mode_trajectories"]


# --------------------------------------------------------------------------------------------
# least squares


def least_squares_heavy_ball(n: int, d: int, method: str, steps: int, trials: int,
                             seed: int = 0) -> dict:
    """Distances ``||w_t - w*||`` of tuned gradient descent or heavy ball on least squares.

    Returns a dict of NumPy arrays: ``dist`` (trials, steps + 1), ``mu`` and ``L`` (trials,), the
    extreme eigenvalues of ``X^T X / n``, and ``alpha``, ``beta`` (trials,) used in each trial.
    """
    n, d = _validate.positive_int(n, "n"), _validate.positive_int(d, "d")
    if d >= n:
        raise _validate.InvalidParameterError(f"d must be < n (a strongly convex problem), got d={d}, n={n}")
    method = _validate.choice(method, "method", ("gd", "heavy_ball"))
    steps = _validate.positive_int(steps, "steps")
    trials = _validate.positive_int(trials, "trials")
    seed = _validate.seed(seed)
    xp = get_backend().module
    step = chunk_size(8 * (n * d + 2 * d * d + (steps + 8) + 4 * d), trials,
                      "least_squares_heavy_ball")
    parts = []
    for start, stop in chunks(trials, step, "least squares"):
        parts.append(_ls_chunk(xp, TrialRNG(seed, start, stop, xp), n, d, method, steps))
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _ls_chunk(xp, r, n, d, method, steps):
    T = r.trials
    X = r.standard_normal((T, n, d))
    wstar = r.standard_normal((T, d)) / np.sqrt(d)
    H = xp.matmul(xp.swapaxes(X, 1, 2), X) / n
    del X
    ev = to_numpy(xp.linalg.eigvalsh(H))
    mu, L = ev[:, 0], ev[:, -1]
    if method == "gd":
        alpha = np.array([hb_theory.optimal_gd(m, l)[0] for m, l in zip(mu, L)])
        beta = np.zeros(T)
    else:
        pars = [hb_theory.optimal_heavy_ball(m, l) for m, l in zip(mu, L)]
        alpha = np.array([p[0] for p in pars])
        beta = np.array([p[1] for p in pars])
    a = xp.asarray(alpha)[:, None]
    b = xp.asarray(beta)[:, None]
    e = -wstar
    e_prev = e
    dist = xp.empty((T, steps + 1))
    dist[:, 0] = xp.linalg.norm(e, axis=1)
    for t in range(steps):
        g = xp.matmul(H, e[:, :, None])[:, :, 0]
        e, e_prev = e - a * g + b * (e - e_prev), e
        dist[:, t + 1] = xp.linalg.norm(e, axis=1)
    return dict(dist=to_numpy(dist), mu=mu, L=L, alpha=alpha, beta=beta)


# --------------------------------------------------------------------------------------------
# mean-field two-layer network


def _check_net(a, W, X, y):
    xp = get_backend().module
    a, W, X, y = (xp.asarray(to_numpy(v), dtype=np.float64) for v in (a, W, X, y))
    if a.ndim != 2 or W.ndim != 3 or X.ndim != 3 or y.ndim != 2:
        raise _validate.InvalidParameterError(
            "need a (trials, N), W (trials, N, d), X (trials, n, d), y (trials, n); got shapes "
            f"{a.shape}, {W.shape}, {X.shape}, {y.shape}")
    T, N = a.shape
    if W.shape[:2] != (T, N) or X.shape[0] != T or y.shape != X.shape[:2] or W.shape[2] != X.shape[2]:
        raise _validate.InvalidParameterError(
            f"inconsistent shapes: a {a.shape}, W {W.shape}, X {X.shape}, y {y.shape}")
    for name, v in (("a", a), ("W", W), ("X", X), ("y", y)):
        if not bool(xp.all(xp.isfinite(v))):
            raise _validate.InvalidParameterError(f"{name} must be finite")
    return xp, a, W, X, y


def _features(xp, W, X):
    return xp.tanh(xp.matmul(X, xp.swapaxes(W, 1, 2)))          # (T, n, N)


def _loss_grad(xp, a, W, X, y):
    n, N = X.shape[1], a.shape[1]
    phi = _features(xp, W, X)
    f = xp.matmul(phi, a[:, :, None])[:, :, 0] / N
    r = f - y
    loss = 0.5 * (r * r).mean(axis=1)
    ga = xp.matmul(xp.swapaxes(phi, 1, 2), r[:, :, None])[:, :, 0] / n
    s = (1.0 - phi * phi) * r[:, :, None]                        # (T, n, N)
    gW = a[:, :, None] * xp.matmul(xp.swapaxes(s, 1, 2), X) / n
    return loss, ga, gW


def two_layer_loss_grad(a, W, X, y):
    """Loss ``(1/2n) sum (f - y)^2`` per trial and the mean-field gradients ``N dL/da_i``,
    ``N dL/dw_i`` (see the module docstring). ``a`` (trials, N), ``W`` (trials, N, d), ``X``
    (trials, n, d), ``y`` (trials, n). Returns NumPy ``(loss, grad_a, grad_W)``."""
    xp, a, W, X, y = _check_net(a, W, X, y)
    loss, ga, gW = _loss_grad(xp, a, W, X, y)
    return to_numpy(loss), to_numpy(ga), to_numpy(gW)


def _dropout_gap(xp, a, W, X):
    N = a.shape[1]
    z = _features(xp, W, X) * a[:, None, :]                     # (T, n, N)
    return 0.5 * z.var(axis=2).mean(axis=1) / (N - 1)


def dropout_gap(a, W, X, y):
    r"""Expected increase of the loss when a uniformly random half of the ``N`` neurons is kept and
    rescaled by 2, averaged exactly over the halves: ``(1/2n) sum_mu s^2(x_mu) / (N - 1)``, with
    ``s^2(x)`` the population variance over neurons of ``a_i tanh(w_i . x)``. (The kept half's
    output is unbiased, so the cross term vanishes; sampling without replacement gives the factor
    ``1/(N - 1)``.) ``N`` must be even. Returns a NumPy array (trials,)."""
    xp, a, W, X, y = _check_net(a, W, X, y)
    if a.shape[1] % 2 or a.shape[1] < 2:
        raise _validate.InvalidParameterError(f"the width N must be even and >= 2, got {a.shape[1]}")
    return to_numpy(_dropout_gap(xp, a, W, X))


def dropout_loss(a, W, X, y, keep):
    """Loss of the network that keeps the neurons where ``keep`` (trials, N) is true, rescaled by
    ``N / #kept``; a Monte-Carlo companion of :func:`dropout_gap`. Returns a NumPy array (trials,)."""
    xp, a, W, X, y = _check_net(a, W, X, y)
    keep = xp.asarray(to_numpy(keep)).astype(bool)
    if keep.shape != a.shape:
        raise _validate.InvalidParameterError(f"keep must have shape {a.shape}, got {keep.shape}")
    m = keep.sum(axis=1)
    if bool(xp.any(m == 0)):
        raise _validate.InvalidParameterError("keep must keep at least one neuron per trial")
    ak = a * keep * (a.shape[1] / m)[:, None]
    loss, _, _ = _loss_grad(xp, ak, W, X, y)
    return to_numpy(loss)


@dataclass(frozen=True)
class TwoLayerRun:
    """Result of :func:`train_two_layer`. ``steps``: recorded step numbers (0 = initialisation);
    ``loss``: (trials, recorded) training loss; ``dropout_gap``: (trials,) exact expected dropout gap
    of the final network (:func:`dropout_gap`); ``a``, ``W``: final particles; ``X``, ``y``: the
    training sets."""

    steps: np.ndarray
    loss: np.ndarray
    dropout_gap: np.ndarray
    a: np.ndarray
    W: np.ndarray
    X: np.ndarray
    y: np.ndarray


def train_two_layer(width: int, steps: int, alpha: float, beta: float, trials: int, seed: int = 0,
                    d: int = 5, n: int = 100, teacher_width: int = 3, record_every: int = 10,
                    init_scale: float = 1.0) -> TwoLayerRun:
    """Train the mean-field student by full-batch heavy ball (``beta = 0``: gradient descent).

    Per trial (own random stream, drawn in this order): the teacher directions (unit vectors), the
    ``n`` training inputs ``N(0, I_d)``, then the particles ``a_i ~ N(0, init_scale^2)``,
    ``w_i ~ N(0, I_d / d)``. The draws do not depend on ``alpha``, ``beta`` or ``steps``, so runs
    with the same ``(seed, width)`` start from the same network (common random numbers); a wider
    network's particles are not a superset of a narrower one's.
    """
    width = _validate.positive_int(width, "width")
    steps = _validate.positive_int(steps, "steps")
    alpha = _validate.positive_scalar(alpha, "alpha")
    beta = _validate.in_interval(beta, "beta", 0.0, 1.0, high_open=True)
    trials = _validate.positive_int(trials, "trials")
    seed = _validate.seed(seed)
    d, n = _validate.positive_int(d, "d"), _validate.positive_int(n, "n")
    m = _validate.positive_int(teacher_width, "teacher_width")
    record_every = _validate.positive_int(record_every, "record_every")
    init_scale = _validate.positive_scalar(init_scale, "init_scale")
    if width % 2:
        raise _validate.InvalidParameterError(f"width must be even (dropout keeps half), got {width}")
    xp = get_backend().module
    nrec = steps // record_every + 2
    step = chunk_size(8 * (5 * n * width + 4 * width * (d + 1) + n * (d + m + 2) + nrec),
                      trials, "train_two_layer")
    parts = []
    for start, stop in chunks(trials, step, "two-layer networks"):
        parts.append(_train_chunk(xp, TrialRNG(seed, start, stop, xp), width, steps, alpha,
                                  beta, d, n, m, record_every, init_scale))
    rec_steps = parts[0][0]
    fields = [np.concatenate([p[i] for p in parts]) for i in range(1, 7)]
    return TwoLayerRun(rec_steps, *fields)


def _train_chunk(xp, r, width, steps, alpha, beta, d, n, m, record_every, init_scale):
    T = r.trials
    U = r.standard_normal((T, m, d))
    U = U / xp.linalg.norm(U, axis=2, keepdims=True)
    X = r.standard_normal((T, n, d))
    y = xp.tanh(xp.matmul(X, xp.swapaxes(U, 1, 2))).mean(axis=2)
    a = init_scale * r.standard_normal((T, width))
    W = r.standard_normal((T, width, d)) / np.sqrt(d)
    va, vW = xp.zeros_like(a), xp.zeros_like(W)
    rec_steps, rec_loss = [], []
    for t in range(steps + 1):
        loss, ga, gW = _loss_grad(xp, a, W, X, y)
        if t % record_every == 0 or t == steps:
            rec_steps.append(t)
            rec_loss.append(loss)
        if t == steps:
            break
        va = beta * va - alpha * ga
        vW = beta * vW - alpha * gW
        a = a + va
        W = W + vW
    gap = _dropout_gap(xp, a, W, X)
    return (np.asarray(rec_steps), to_numpy(xp.stack(rec_loss, axis=1)), to_numpy(gap),
            to_numpy(a), to_numpy(W), to_numpy(X), to_numpy(y))


def empirical_rate(dist, start: int = 0, ceiling: float = 1e-3, floor: float = 1e-12) -> np.ndarray:
    """Per-trial contraction factor per step, ``exp(slope)`` of a least-squares fit of ``log dist``
    against the step, over the steps ``t >= start`` with ``floor < dist_t / dist_0 < ceiling`` (past
    the transient, above round-off). ``dist`` (trials, T)."""
    d = _validate.finite_array(dist, "dist", ndim=2, low=0.0)
    start = _validate.nonneg_int(start, "start")
    ceiling = _validate.in_interval(ceiling, "ceiling", 0.0, 1.0, low_open=True)
    floor = _validate.in_interval(floor, "floor", 0.0, ceiling, low_open=True, high_open=True)
    out = np.empty(d.shape[0])
    for i, row in enumerate(d):
        t = np.arange(row.size)
        rel = row / row[0]
        ok = (t >= start) & (rel > floor) & (rel < ceiling)
        if ok.sum() < 3:
            raise _validate.InvalidParameterError(
                f"dist: trial {i} has fewer than 3 steps in the fitting window; run longer or "
                f"widen [floor, ceiling]")
        out[i] = np.exp(np.polyfit(t[ok], np.log(row[ok]), 1)[0])
    return out


def mode_trajectories(alpha: float, beta: float, lam, steps: int) -> np.ndarray:
    """Norm of the state ``(z_t, z_{t-1})`` of the heavy-ball recursion of each eigen-mode,
    ``z_{t+1} = (1 + beta - alpha lam) z_t - beta z_{t-1}``, from ``z_0 = z_{-1} = 1``.

    ``lam`` (m,) curvatures; returns a NumPy array (m, steps + 1). The state norm, unlike
    ``|z_t|``, does not pass through zero when the mode oscillates."""
    alpha = _validate.positive_scalar(alpha, "alpha")
    beta = _validate.in_interval(beta, "beta", 0.0, 1.0, high_open=True)
    steps = _validate.positive_int(steps, "steps")
    xp = get_backend().module
    lam = xp.asarray(_validate.finite_array(lam, "lam", ndim=1, low=0.0))
    c = 1.0 + beta - alpha * lam
    z, zp = xp.ones_like(lam), xp.ones_like(lam)
    out = xp.empty((lam.size, steps + 1))
    out[:, 0] = xp.sqrt(z * z + zp * zp)
    for t in range(steps):
        z, zp = c * z - beta * zp, z
        out[:, t + 1] = xp.sqrt(z * z + zp * zp)
    return to_numpy(out)
