r"""Pruning with second-order information: OBS, iterative OBS (Topk-I-OBS) and k-IHT.

Chapter ``ch-optimisers-pruning``. Everything is batched over a leading trial axis and written
against the active array module ``xp``; public functions return NumPy arrays.

**Optimal Brain Surgeon** (Hassibi and Stork, 1992). For a quadratic loss with Hessian ``H`` around
``w``, removing weight ``q`` and re-optimising the others costs ``w_q^2 / (2 [H^{-1}]_{qq})`` (the
*saliency*), and the optimal correction is ``w <- w - (w_q / [H^{-1}]_{qq}) H^{-1} e_q``; the inverse
Hessian of the remaining weights is the downdate
``H^{-1} <- H^{-1} - H^{-1} e_q e_q^T H^{-1} / [H^{-1}]_{qq}``. :func:`obs_prune` removes weights one
at a time greedily by saliency; :func:`mask_projection` is the joint minimiser of
``(theta - u)^T H (theta - u)`` subject to ``theta_R = 0`` for a fixed removed set ``R``,
``theta = u - H^{-1}_{:,R} (H^{-1}_{RR})^{-1} u_R``.

**Sparse linear recovery** (:func:`sparse_recovery`), the synthetic setting of Wu, Modoranu,
Safaryan, Kuznedelev and Alistarh (arXiv 2408.17163) as coded in their repository
``DiyuanWu/woodtaylor_simulation``: ``X`` has entries ``N(0, 1/n)``, ``w*`` has ``k*`` non-zero
entries on a uniformly random support (``N(0, 1)`` under the Gaussian prior, ``+-1`` under the
Rademacher prior), ``y = X w*`` (noiseless), the loss is the mean squared error
``L(w) = ||X w - y||^2 / n`` with gradient ``(2/n) X^T (X w - y)``, and ``w_0`` is PyTorch's default
``nn.Linear`` initialisation, uniform on ``[-1/sqrt d, 1/sqrt d]``. With ``H = X^T X`` (without the
``2/n`` of the gradient, as in the authors' code):

* ``k``-IHT: ``w <- H_k(w - grad / lambda_max(H))``;
* Topk-I-OBS: ``w <- H_k(w - H^{-1} grad)``, a Newton step damped by ``2/n``;

``H_k`` keeps the ``k`` entries of largest magnitude. On a quadratic the Newton direction is exact:
``H^{-1} grad = (2/n)(w - w_ls)`` with ``w_ls = H^{-1} X^T y``, which is how it is computed.
"""

from __future__ import annotations

import numpy as np

from .. import _validate
from ..backend import get_backend, namespace_of, to_numpy
from ..batch import TrialRNG, chunk_size, chunks

__all__ = ["hard_threshold", "obs_saliency", "obs_remove", "obs_prune", "mask_projection",
           "quadratic_increase", "sparse_recovery", "one_shot_pruning", "PRIORS", "METHODS"]

PRIORS = ("gaussian", "rademacher")
METHODS = ("topk_iobs", "kiht")


def _arr(xp, v, name, ndim):
    a = xp.asarray(to_numpy(v), dtype=np.float64)
    if a.ndim != ndim:
        raise _validate.InvalidParameterError(f"{name} must be a {ndim}-D array, got shape {a.shape}")
    if not bool(xp.all(xp.isfinite(a))):
        raise _validate.InvalidParameterError(f"{name} must be finite")
    return a


def _scatter_mask(xp, shape, idx):
    """Boolean (T, d) mask, true at ``idx`` (T, m) in each row (fancy assignment, CuPy-safe)."""
    mask = xp.zeros(shape, dtype=bool)
    mask[xp.arange(shape[0])[:, None], idx] = True
    return mask


def _topk_mask(xp, w, k):
    """Rows' ``k`` largest magnitudes (ties broken by the sort, so exactly ``k`` per row)."""
    return _scatter_mask(xp, w.shape, xp.argsort(-xp.abs(w), axis=-1)[:, :k])


def hard_threshold(w, k: int):
    """``H_k``: keep the ``k`` entries of largest magnitude of each row of ``w`` (trials, d)."""
    xp = get_backend().module
    w = _arr(xp, w, "w", 2)
    k = _validate.integer(k, "k", 0)
    if k > w.shape[1]:
        raise _validate.InvalidParameterError(f"k must be <= d = {w.shape[1]}, got {k}")
    return to_numpy(w * _topk_mask(xp, w, k))


def _check_hinv(xp, w, Hinv):
    w = _arr(xp, w, "w", 2)
    Hinv = _arr(xp, Hinv, "Hinv", 3)
    if Hinv.shape != (w.shape[0], w.shape[1], w.shape[1]):
        raise _validate.InvalidParameterError(
            f"Hinv must have shape {(w.shape[0], w.shape[1], w.shape[1])}, got {Hinv.shape}")
    diag = xp.diagonal(Hinv, axis1=1, axis2=2)
    if not bool(xp.all(diag > 0)):
        raise _validate.InvalidParameterError("Hinv must be positive definite (its diagonal is not > 0)")
    return w, Hinv


def _saliency(w, hinv_diag):
    """``w_q^2 / (2 [H^{-1}]_{qq})`` elementwise (any array module)."""
    return w * w / (2.0 * hinv_diag)


def obs_saliency(w, Hinv):
    """OBS saliency ``w_q^2 / (2 [H^{-1}]_{qq})`` of every weight: the increase of the quadratic
    loss ``(theta - w)^T H (theta - w) / 2`` when ``w_q`` is removed and the rest re-optimised."""
    xp = get_backend().module
    w, Hinv = _check_hinv(xp, w, Hinv)
    return to_numpy(_saliency(w, xp.diagonal(Hinv, axis1=1, axis2=2)))


def _remove(xp, w, Hinv, q):
    T = w.shape[0]
    rows = xp.arange(T)
    hq = Hinv[rows, :, q]                                   # (T, d)
    hqq = hq[rows, q]
    w = w - (w[rows, q] / hqq)[:, None] * hq
    w[rows, q] = 0.0
    Hinv = Hinv - hq[:, :, None] * hq[:, None, :] / hqq[:, None, None]
    return w, Hinv


def obs_remove(w, Hinv, q):
    """Remove weight ``q[t]`` of trial ``t`` by the OBS update; returns ``(w, Hinv)`` after the
    correction and the downdate (the removed coordinate's row and column of ``Hinv`` become 0)."""
    xp = get_backend().module
    w, Hinv = _check_hinv(xp, w, Hinv)
    q = xp.asarray(to_numpy(q)).astype(int)
    if q.shape != (w.shape[0],) or bool(xp.any(q < 0)) or bool(xp.any(q >= w.shape[1])):
        raise _validate.InvalidParameterError(f"q must be {w.shape[0]} indices in [0, {w.shape[1]})")
    w, Hinv = _remove(xp, w, Hinv, q)
    return to_numpy(w), to_numpy(Hinv)


def obs_prune(w, H, k: int):
    """Greedy OBS pruning of each row of ``w`` (trials, d) to ``k`` non-zeros under the quadratic
    with Hessian ``H`` (trials, d, d), positive definite: remove the weight of least saliency, correct
    the others, downdate the inverse Hessian, repeat. Returns the pruned weights."""
    xp = get_backend().module
    w = _arr(xp, w, "w", 2)
    H = _arr(xp, H, "H", 3)
    d = w.shape[1]
    if H.shape != (w.shape[0], d, d):
        raise _validate.InvalidParameterError(f"H must have shape {(w.shape[0], d, d)}, got {H.shape}")
    k = _validate.integer(k, "k", 0)
    if k > d:
        raise _validate.InvalidParameterError(f"k must be <= d = {d}, got {k}")
    if not bool(xp.all(xp.abs(H - xp.swapaxes(H, 1, 2)) <= 1e-10 * xp.abs(H).max())) or \
            not bool(xp.all(xp.linalg.eigvalsh(H)[:, 0] > 0)):
        raise _validate.InvalidParameterError("H must be symmetric positive definite")
    Hinv = xp.linalg.inv(H)
    removed = xp.zeros(w.shape, dtype=bool)
    rows = xp.arange(w.shape[0])
    for _ in range(d - k):
        diag = xp.diagonal(Hinv, axis1=1, axis2=2)
        sal = xp.where(removed, xp.inf, _saliency(w, xp.where(removed, 1.0, diag)))
        q = xp.argmin(sal, axis=1)
        w, Hinv = _remove(xp, w, Hinv, q)
        removed[rows, q] = True
        w = xp.where(removed, 0.0, w)      # removed stay exactly zero (round-off in the downdate)
    return to_numpy(w)


def mask_projection(u, H, keep):
    """Minimiser of ``(theta - u)^T H (theta - u)`` subject to ``theta = 0`` off ``keep``.

    ``u`` (trials, d), ``H`` (trials, d, d) positive definite, ``keep`` (trials, d) boolean with the
    same number of kept entries in every trial. Computed as ``u - H^{-1}_{:,R} (H^{-1}_{RR})^{-1} u_R``.
    """
    xp = get_backend().module
    u = _arr(xp, u, "u", 2)
    H = _arr(xp, H, "H", 3)
    T, d = u.shape
    if H.shape != (T, d, d):
        raise _validate.InvalidParameterError(f"H must have shape {(T, d, d)}, got {H.shape}")
    keep = xp.asarray(to_numpy(keep))
    if keep.shape != (T, d) or keep.dtype != bool:
        raise _validate.InvalidParameterError(f"keep must be a boolean array of shape {(T, d)}")
    nrem = (~keep).sum(axis=1)
    if bool(xp.any(nrem != nrem[0])):
        raise _validate.InvalidParameterError("keep must keep the same number of entries per trial")
    r = int(nrem[0])
    if r == 0:
        return to_numpy(u)
    R = xp.argsort(keep.astype(np.int8), axis=1)[:, :r]            # the removed indices
    Hinv = xp.linalg.inv(H)
    HR = xp.take_along_axis(Hinv, R[:, None, :], axis=2)           # (T, d, r)
    HRR = xp.take_along_axis(HR, R[:, :, None], axis=1)            # (T, r, r)
    uR = xp.take_along_axis(u, R, axis=1)
    corr = xp.matmul(HR, xp.linalg.solve(HRR, uR[:, :, None]))[:, :, 0]
    theta = u - corr
    theta = xp.where(keep, theta, 0.0)
    return to_numpy(theta)


def quadratic_increase(theta, w, H):
    """``(theta - w)^T H (theta - w) / 2`` per trial: the loss increase of a pruned ``theta`` for a
    quadratic loss minimised at ``w`` with Hessian ``H``."""
    xp = get_backend().module
    theta, w, H = _arr(xp, theta, "theta", 2), _arr(xp, w, "w", 2), _arr(xp, H, "H", 3)
    e = theta - w
    return to_numpy(0.5 * xp.einsum("ti,tij,tj->t", e, H, e))


def sparse_recovery(method: str, n: int = 256, d: int = 128, k_star: int = 16, k: int = 64,
                    steps: int = 750, trials: int = 20, seed: int = 0, prior: str = "gaussian",
                    newton_step: float | None = None) -> dict:
    """Run ``method`` (``"topk_iobs"`` or ``"kiht"``) on the sparse-recovery task (module docstring).

    Per trial (own stream, in this order): the prior's amplitudes and a random permutation (its first
    ``k_star`` entries are the support), the design, the initialisation; so two methods run with the
    same ``seed`` see the same problems and starts (common random numbers). ``newton_step`` is the
    factor on the Newton direction ``(w - w_ls)`` of Topk-I-OBS; ``None`` means the authors' ``2/n``.

    Returns a dict of NumPy arrays: ``loss`` (trials, steps + 1), the mean squared error at
    ``w_0 .. w_steps``; ``dist`` (trials, steps + 1), ``||w_t - w*||``; ``recovered`` (trials, steps +
    1), whether the support of ``w*`` lies inside that of ``w_t``; ``wstar`` (trials, d).
    """
    method = _validate.choice(method, "method", METHODS)
    prior = _validate.choice(prior, "prior", PRIORS)
    n, d = _validate.positive_int(n, "n"), _validate.positive_int(d, "d")
    if d >= n:
        raise _validate.InvalidParameterError(f"d must be < n (invertible X^T X), got d={d}, n={n}")
    k_star = _validate.positive_int(k_star, "k_star")
    k = _validate.positive_int(k, "k")
    if not k_star <= k <= d:
        raise _validate.InvalidParameterError(f"need k_star <= k <= d, got {k_star}, {k}, {d}")
    steps = _validate.positive_int(steps, "steps")
    trials = _validate.positive_int(trials, "trials")
    seed = _validate.seed(seed)
    step = 2.0 / n if newton_step is None else _validate.positive_scalar(newton_step, "newton_step")
    xp = get_backend().module
    per_trial = 8 * (n * d + 2 * d * d + 3 * (steps + 1) + 10 * d + 2 * n)
    cs = chunk_size(per_trial, trials, "sparse_recovery")
    parts = []
    for start, stop in chunks(trials, cs, "sparse recovery"):
        parts.append(_recovery_chunk(xp, TrialRNG(seed, start, stop, xp), method, prior, n, d,
                                     k_star, k, steps, step))
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def _recovery_chunk(xp, r, method, prior, n, d, k_star, k, steps, step):
    trials = r.trials
    amp = r.standard_normal((trials, d))
    if prior == "rademacher":
        amp = xp.where(amp >= 0, 1.0, -1.0)
    order = xp.argsort(r.random((trials, d)), axis=1)
    support = _scatter_mask(xp, (trials, d), order[:, :k_star])
    wstar = xp.where(support, amp, 0.0)
    X = r.standard_normal((trials, n, d)) / np.sqrt(n)
    w = (2.0 * r.random((trials, d)) - 1.0) / np.sqrt(d)
    y = xp.matmul(X, wstar[:, :, None])[:, :, 0]
    H = xp.matmul(xp.swapaxes(X, 1, 2), X)
    b = xp.matmul(xp.swapaxes(X, 1, 2), y[:, :, None])[:, :, 0]
    del X
    yy = (y * y).sum(axis=1)
    if method == "topk_iobs":
        w_ls = xp.linalg.solve(H, b[:, :, None])[:, :, 0]
    else:
        lr = 1.0 / xp.linalg.eigvalsh(H)[:, -1]

    def mse(w):
        Hw = xp.matmul(H, w[:, :, None])[:, :, 0]
        return ((w * Hw).sum(axis=1) - 2.0 * (w * b).sum(axis=1) + yy) / n, Hw

    loss = xp.empty((trials, steps + 1))
    dist = xp.empty((trials, steps + 1))
    rec = xp.empty((trials, steps + 1), dtype=bool)
    for t in range(steps + 1):
        loss[:, t], Hw = mse(w)
        dist[:, t] = xp.linalg.norm(w - wstar, axis=1)
        rec[:, t] = xp.all(~support | (w != 0), axis=1)
        if t == steps:
            break
        if method == "topk_iobs":
            u = w - step * (w - w_ls)
        else:
            u = w - lr[:, None] * (2.0 / n) * (Hw - b)
        w = u * _topk_mask(xp, u, k)
    return dict(loss=to_numpy(loss), dist=to_numpy(dist), recovered=to_numpy(rec),
                wstar=to_numpy(wstar))


def one_shot_pruning(n: int, d: int, k: int, rho: float, trials: int, seed: int = 0) -> dict:
    """Prune a dense least-squares solution to ``k`` weights, three ways, and return the loss
    increases ``(theta - w)^T H (theta - w) / 2`` (trials,) of each.

    Per trial: ``w ~ N(0, I_d)``, ``n`` rows of an AR(1) design with correlation ``rho``
    (``x_j = rho x_{j-1} + sqrt(1 - rho^2) z_j``), ``H = X^T X / n``; the loss is taken to be the
    quadratic ``(theta - w)^T H (theta - w) / 2`` around its minimiser ``w``. Methods:
    ``"magnitude"`` (``H_k(w)``), ``"magnitude_obs"`` (the magnitude mask, then the OBS correction
    :func:`mask_projection`) and ``"obs"`` (greedy OBS, :func:`obs_prune`).
    """
    n, d = _validate.positive_int(n, "n"), _validate.positive_int(d, "d")
    if d >= n:
        raise _validate.InvalidParameterError(f"d must be < n, got d={d}, n={n}")
    k = _validate.integer(k, "k", 0)
    if k > d:
        raise _validate.InvalidParameterError(f"k must be <= d = {d}, got {k}")
    rho = _validate.in_interval(rho, "rho", -1.0, 1.0, low_open=True, high_open=True)
    trials = _validate.positive_int(trials, "trials")
    seed = _validate.seed(seed)
    xp = get_backend().module
    cs = chunk_size(8 * (2 * n * d + 8 * d * d + 10 * d), trials, "one_shot_pruning")
    parts = []
    for start, stop in chunks(trials, cs, "one-shot pruning"):
        parts.append(_one_shot_chunk(xp, TrialRNG(seed, start, stop, xp), n, d, k, rho))
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def _one_shot_chunk(xp, r, n, d, k, rho):
    trials = r.trials
    w = r.standard_normal((trials, d))
    Z = r.standard_normal((trials, n, d))
    X = xp.empty_like(Z)
    X[:, :, 0] = Z[:, :, 0]
    c = np.sqrt(1.0 - rho * rho)
    for j in range(1, d):
        X[:, :, j] = rho * X[:, :, j - 1] + c * Z[:, :, j]
    H = xp.matmul(xp.swapaxes(X, 1, 2), X) / n
    del X, Z
    mask = _topk_mask(xp, w, k)
    out = dict(magnitude=w * mask, magnitude_obs=mask_projection(w, H, mask), obs=obs_prune(w, H, k))
    return {m: quadratic_increase(theta, w, H) for m, theta in out.items()}
