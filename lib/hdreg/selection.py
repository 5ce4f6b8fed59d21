r"""Selecting synthetic samples: covariance matching and baselines.

See the chapter *Synthetic data selection* (label ``ch-synthetic``).

Covariance matching (Rezaei, Kovačević, Locatello and Mondelli, ICLR 2026) greedily adds the synthetic
sample that brings the covariance of the selected set closest, in Frobenius norm, to the covariance of
the real data, in a low-dimensional PCA space of the real data:

.. math::
    x_{m+1} = \arg\min_x \big\|\hat\Sigma(\mathcal S\cup\{x\}) - \hat\Sigma_t\big\|_F,

with centred covariances normalised by ``1/(m-1)``. With the scatter matrix :math:`S_m` and the mean
:math:`\bar s` of the current set (``m`` rows), Welford's update gives for every candidate at once

.. math::
    \hat\Sigma(\mathcal S\cup\{x\}) = \frac{S_m}{m} + \frac{w w^\top}{m+1},\quad w = x - \bar s,\qquad
    \|\hat\Sigma' - \hat\Sigma_t\|_F^2 = \|E\|_F^2 + \frac{2\,w^\top E w}{m+1} + \frac{\|w\|^4}{(m+1)^2},

:math:`E = S_m/m - \hat\Sigma_t`. :func:`covariance_matching` keeps the quadratic forms :math:`x^\top S_m x` of all candidates
(and :math:`S_m` itself) up to date by rank-one updates, so a greedy step costs
:math:`O(Nd)` for ``N`` candidates in dimension ``d`` (no covariance is recomputed from scratch), and
it runs batched on the active array backend (CuPy on a GPU). :func:`covariance_matching_naive`
recomputes the covariance for every candidate (:math:`O(N m d^2)` per step); it exists as the
reference for the tests and the benchmark.
"""

from __future__ import annotations

import numpy as np

from . import _validate
from .backend import as_host, get_backend, to_numpy

__all__ = [
    "pca_basis",
    "covariance_matching",
    "covariance_matching_naive",
    "random_selection",
    "center_matching",
    "kmeans_selection",
    "cluster_selection",
    "covariance_gap",
    "select_per_class",
    "METHODS",
]


def _matrix(a, name, d=None):
    m = as_host(a)
    if m.ndim != 2 or m.shape[0] == 0 or m.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (rows = samples), got shape {m.shape}")
    if d is not None and m.shape[1] != d:
        raise ValueError(f"{name} must have {d} columns (the feature dimension of real), "
                         f"got {m.shape[1]}")
    if not np.all(np.isfinite(m)):
        raise ValueError(f"{name} must be finite")
    return m


def _labels(y_real, y_syn, R, S):
    y_real, y_syn = to_numpy(y_real), to_numpy(y_syn)
    if y_real.shape != (R.shape[0],) or y_syn.shape != (S.shape[0],):
        raise _validate.InvalidParameterError(
            "y_real and y_syn must be 1-D label arrays matching the rows of real and synthetic, got "
            f"shapes {y_real.shape} and {y_syn.shape} for {R.shape[0]} and {S.shape[0]} rows")
    return y_real, y_syn


def _k(k, n_candidates):
    if isinstance(k, bool) or int(k) != k or not (1 <= k <= n_candidates):
        raise ValueError(f"k must be an integer in [1, {n_candidates}] (the number of synthetic rows), "
                         f"got {k!r}")
    return int(k)


def pca_basis(real, n_components=None):
    """Mean and top principal directions (``d x r``) of ``real``. ``n_components=None`` keeps the full
    dimension (no projection); it is capped at ``min(n_real - 1, d)``."""
    X = _matrix(real, "real")
    mean = X.mean(axis=0)
    if n_components is None:
        return mean, np.eye(X.shape[1])
    if isinstance(n_components, bool) or int(n_components) != n_components or n_components < 1:
        raise ValueError(f"n_components must be a positive integer or None, got {n_components!r}")
    r = min(int(n_components), X.shape[1], max(X.shape[0] - 1, 1))
    _, _, Vt = np.linalg.svd(X - mean, full_matrices=False)
    return mean, Vt[:r].T


def _prepare(real, synthetic, k, n_components):
    R = _matrix(real, "real")
    if R.shape[0] < 2:
        raise ValueError(f"real needs at least 2 rows to define a covariance, got {R.shape[0]}")
    S = _matrix(synthetic, "synthetic", R.shape[1])
    k = _k(k, S.shape[0])
    mean, basis = pca_basis(R, n_components)
    return (R - mean) @ basis, (S - mean) @ basis, k


def covariance_matching(real, synthetic, k, n_components=32):
    r"""Indices (into the rows of ``synthetic``, in selection order) of ``k`` synthetic rows chosen
    greedily so that their covariance matches that of ``real``.

    ``real`` (``n_t x d``) and ``synthetic`` (``N x d``) are feature matrices; both are projected on
    the top ``n_components`` principal directions of ``real`` (``None``: no projection). The first
    row is the candidate nearest to the real mean; each next row minimises the Frobenius distance
    between the covariance of the selected set and the real covariance (see the module docstring for
    the rank-one update). Ties go to the lowest index. Runs on the active backend.
    """
    Rp, Sp, k = _prepare(real, synthetic, k, n_components)
    xp = get_backend().module
    T = xp.asarray(np.cov(Rp, rowvar=False).reshape(Rp.shape[1], Rp.shape[1]))
    X = xp.asarray(Sp)
    N, d = X.shape
    inf = float("inf")
    qT = ((X @ T) * X).sum(axis=1)                 # x^T T x for every candidate
    first = int(to_numpy(xp.argmin((X * X).sum(axis=1))))  # nearest to the real mean (origin)
    chosen = [first]
    taken = xp.zeros(N, dtype=bool)
    taken[first] = True
    s_mean = X[first].copy()                       # mean of the selected set
    S_m = xp.zeros((d, d))                         # scatter matrix of the selected set
    qS = xp.zeros(N)                               # x^T S_m x
    for m in range(1, k):
        E = S_m / m - T
        Es = E @ s_mean
        # w^T E w with w = x - s_mean, for all candidates: x^T E x - 2 x^T E s + s^T E s
        quad = qS / m - qT - 2.0 * (X @ Es) + s_mean @ Es
        w2 = (X * X).sum(axis=1) - 2.0 * (X @ s_mean) + s_mean @ s_mean
        score = 2.0 * quad / (m + 1) + (w2 / (m + 1)) ** 2
        score = xp.where(taken, inf, score)
        j = int(to_numpy(xp.argmin(score)))
        w = X[j] - s_mean
        coeff = m / (m + 1)
        Xw = X @ w
        S_m = S_m + coeff * xp.outer(w, w)
        qS = qS + coeff * Xw * Xw
        s_mean = s_mean + w / (m + 1)
        taken[j] = True
        chosen.append(j)
    return np.asarray(chosen, dtype=int)


def covariance_matching_naive(real, synthetic, k, n_components=32):
    """Same greedy rule as :func:`covariance_matching`, recomputing the covariance of the selected set
    plus each candidate from scratch (NumPy, one candidate at a time). Reference implementation."""
    Rp, Sp, k = _prepare(real, synthetic, k, n_components)
    T = np.cov(Rp, rowvar=False).reshape(Rp.shape[1], Rp.shape[1])
    N = Sp.shape[0]
    chosen = [int(np.argmin((Sp * Sp).sum(axis=1)))]
    for _ in range(1, k):
        best, best_j = np.inf, -1
        for j in range(N):
            if j in chosen:
                continue
            C = np.cov(Sp[chosen + [j]], rowvar=False)
            val = np.sum((C - T) ** 2)
            if val < best:
                best, best_j = val, j
        chosen.append(best_j)
    return np.asarray(chosen, dtype=int)


def random_selection(real, synthetic, k, seed=0, **_):
    """``k`` synthetic rows uniformly at random without replacement."""
    S = _matrix(synthetic, "synthetic")
    k = _k(k, S.shape[0])
    return np.random.default_rng(seed).choice(S.shape[0], size=k, replace=False)


def center_matching(real, synthetic, k, n_components=32, **_):
    """The ``k`` synthetic rows nearest to the mean of ``real`` (in its PCA space): the most typical
    samples, hence the least diverse."""
    _, Sp, k = _prepare(real, synthetic, k, n_components)
    return np.argsort((Sp * Sp).sum(axis=1), kind="stable")[:k]


def _kmeans(X, k, seed):
    from scipy.cluster.vq import kmeans2  # noqa: PLC0415

    k = min(k, X.shape[0])
    centres, labels = kmeans2(X, k, seed=seed, minit="++", iter=30)
    return centres, labels


def kmeans_selection(real, synthetic, k, n_components=32, seed=0, **_):
    """Cluster the synthetic rows into ``k`` clusters (k-means) and take the row nearest to each
    centre: a diverse, representative subset of the *synthetic* distribution."""
    _, Sp, k = _prepare(real, synthetic, k, n_components)
    centres, _ = _kmeans(Sp, k, seed)
    chosen = []
    d2 = ((Sp[:, None, :] - centres[None]) ** 2).sum(axis=2)
    for c in range(centres.shape[0]):
        order = np.argsort(d2[:, c], kind="stable")
        j = next(int(i) for i in order if int(i) not in chosen)
        chosen.append(j)
    if len(chosen) < k:  # pragma: no cover - kmeans2 returns k centres
        rest = [i for i in range(Sp.shape[0]) if i not in chosen]
        chosen += rest[:k - len(chosen)]
    return np.asarray(chosen, dtype=int)


def cluster_selection(real, synthetic, k, n_components=32, n_clusters=5, seed=0, **_):
    """Cluster the *real* rows, give each cluster a share of ``k`` proportional to its size, and fill
    it with the synthetic rows nearest to that cluster's centre (a cluster-based selection in the
    spirit of distribution-matching baselines)."""
    Rp, Sp, k = _prepare(real, synthetic, k, n_components)
    centres, labels = _kmeans(Rp, min(n_clusters, Rp.shape[0]), seed)
    sizes = np.bincount(labels, minlength=centres.shape[0]).astype(float)
    quota = np.floor(k * sizes / sizes.sum()).astype(int)
    quota[np.argsort(-(k * sizes / sizes.sum() - quota), kind="stable")[:k - quota.sum()]] += 1
    d2 = ((Sp[:, None, :] - centres[None]) ** 2).sum(axis=2)
    owner = np.argmin(d2, axis=1)
    chosen = []
    for c in np.argsort(-sizes, kind="stable"):
        order = np.argsort(d2[:, c] + 1e6 * (owner != c), kind="stable")
        picks = [int(i) for i in order if int(i) not in chosen][:quota[c]]
        chosen += picks
    return np.asarray(chosen, dtype=int)


def covariance_gap(real, y_real, synthetic, y_syn, n_components=32) -> float:
    """Mean over classes of the relative Frobenius distance between the covariance of the selected
    synthetic rows and that of the real rows, in the PCA space of the real class."""
    R = _matrix(real, "real")
    S = _matrix(synthetic, "synthetic", R.shape[1])
    y_real, y_syn = _labels(y_real, y_syn, R, S)
    gaps = []
    for c in np.unique(y_real):
        rows = np.count_nonzero(y_syn == c)
        if rows < 2:
            raise _validate.InvalidParameterError(
                f"synthetic must have at least 2 rows of every class of y_real to define a covariance, "
                f"got {rows} of class {c!r}")
        Rp, Sp, _ = _prepare(R[y_real == c], S[y_syn == c], 1, n_components)
        T = np.cov(Rp, rowvar=False)
        gaps.append(np.linalg.norm(np.cov(Sp, rowvar=False) - T) / np.linalg.norm(T))
    return float(np.mean(gaps))


METHODS = {
    "random": random_selection,
    "centre": center_matching,
    "k-means": kmeans_selection,
    "clusters": cluster_selection,
    "covariance": covariance_matching,
}


def select_per_class(real, y_real, synthetic, y_syn, k_per_class, methods=None, n_components=32,
                     seed=0):
    """Run each method of :data:`METHODS` (or ``methods``) class by class: ``k_per_class`` synthetic
    rows of each class, matched against the real rows of the same class. Returns
    ``{method: indices into synthetic}``."""
    methods = list(METHODS) if methods is None else _validate.choices(methods, "methods", METHODS)
    R = _matrix(real, "real")
    S = _matrix(synthetic, "synthetic", R.shape[1])
    y_real, y_syn = _labels(y_real, y_syn, R, S)
    out = {m: [] for m in methods}
    for c in np.unique(y_real):
        rows = np.flatnonzero(y_syn == c)
        for m in methods:
            fn = METHODS[m]
            kw = dict(n_components=n_components) if m != "random" else {}
            if m in ("random", "k-means", "clusters"):
                kw["seed"] = seed + int(c)
            local = fn(R[y_real == c], S[rows], k_per_class, **kw)
            out[m].append(rows[local])
    return {m: np.concatenate(v) for m, v in out.items()}
