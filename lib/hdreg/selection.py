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


# ------------------------------------------------------------------------------------------------
# Uniformity: greedy max-min (farthest-point) selection and the minimum pairwise distance.
# Appended block (chapter "Choosing data by uniformity", label ch-data-uniformity).

__all__ += ["farthest_point", "min_pairwise_distance"]

#: Bytes of scratch memory a block of pairwise distances may take (the functions below never hold
#: an ``n x n`` matrix).
BLOCK_BYTES = 64 * 2 ** 20


def _points(points, name="points", min_rows=1):
    """A finite 2-D float array (rows = points) on the array module that holds ``points``."""
    from .backend import namespace_of  # noqa: PLC0415

    xp = namespace_of(points)
    X = xp.asarray(points, dtype=xp.float64)
    if X.ndim != 2 or X.shape[0] < min_rows or X.shape[1] == 0:
        raise ValueError(f"{name} must be a 2-D array with at least {min_rows} row(s) (one row per "
                         f"point) and at least one column, got shape {tuple(X.shape)}")
    if not bool(to_numpy(xp.all(xp.isfinite(X)))):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return xp, X


def _gram_margin(sq, d):
    """A bound on the rounding error of ``|x|^2 + |y|^2 - 2 x.y`` for centred float64 rows."""
    return 8.0 * (d + 4) * np.finfo(np.float64).eps * 2.0 * float(to_numpy(sq.max()))


def farthest_point(points, m, start=0):
    r"""Greedy max–min (farthest-point) selection: indices of ``m`` rows of ``points``.

    The first index is ``start``; each next one is the row farthest (Euclidean distance) from the
    rows already chosen, :math:`\arg\max_i \min_{s\in S}\|x_i - x_s\|`, ties going to the lowest
    index. The squared distances to the chosen set are kept up to date with one matrix-vector
    product per step (the Gram identity, :math:`O(nd)` work per step and :math:`O(n)` extra memory);
    the few rows whose screened distance is within a rigorous rounding margin of the largest are
    then re-scored exactly from coordinate differences, so the selection is exact. Runs on the
    backend that holds ``points`` (NumPy, or CuPy for a CuPy array); returns a NumPy integer array
    of length ``m`` in selection order. When fewer than ``m`` distinct points exist, the remaining
    picks are duplicates of chosen points (distance zero), lowest index first. This is Gonzalez's
    farthest-first traversal: a 2-approximation for max–min dispersion and for k-center.
    """
    xp, X = _points(points)
    n, d = X.shape
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or not 1 <= m <= n:
        raise ValueError(f"m must be an integer in [1, {n}] (the number of points), got {m!r}")
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or not 0 <= start < n:
        raise ValueError(f"start must be an integer index in [0, {n - 1}], got {start!r}")
    X = X - X.mean(axis=0)
    sq = (X * X).sum(axis=1)
    margin = _gram_margin(sq, d)
    chosen = [int(start)]
    dmin = xp.full(n, xp.inf)
    block = max(1, BLOCK_BYTES // (8 * d * int(m)))

    xp.minimum(dmin, sq - 2.0 * (X @ X[start]) + sq[start], out=dmin)
    dmin[start] = -xp.inf  # a chosen row is never chosen again (minimum keeps -inf)
    for _ in range(1, int(m)):
        top = float(to_numpy(dmin.max()))
        cand = xp.nonzero(dmin >= top - 2.0 * margin)[0]
        if cand.size == 1:
            j = int(to_numpy(cand[0]))
        else:  # exact re-scoring of the near-ties against every chosen row
            S = X[xp.asarray(chosen)]
            exact = []
            for a in range(0, int(cand.size), block):
                diff = X[cand[a:a + block], None, :] - S[None, :, :]
                exact.append((diff * diff).sum(axis=2).min(axis=1))
            exact = xp.concatenate(exact)
            j = int(to_numpy(cand[int(to_numpy(xp.argmax(exact)))]))
        chosen.append(j)
        xp.minimum(dmin, sq - 2.0 * (X @ X[j]) + sq[j], out=dmin)
        dmin[j] = -xp.inf
    return np.asarray(chosen, dtype=np.int64)


def min_pairwise_distance(points):
    r"""The minimum pairwise distance :math:`h_{\min} = \min_{i\neq j}\|x_i - x_j\|` of the rows.

    ``points``: an ``(n, d)`` array, or a batch ``(B, n, d)`` of point sets (then an array of ``B``
    values is returned). Exact and memory-bounded: distances are screened block by block with the
    Gram identity :math:`\|x-y\|^2 = \|x\|^2 + \|y\|^2 - 2x^\top y` (after centring), and every pair
    whose screened value could be the minimum (within a rigorous rounding margin) is recomputed
    from coordinate differences. No matrix larger than :data:`BLOCK_BYTES` is formed. Runs on the
    backend that holds ``points``; returns a Python float (``0.0`` when two rows coincide) or a
    NumPy array for a batch. Needs at least two rows.
    """
    from .backend import namespace_of  # noqa: PLC0415

    xp = namespace_of(points)
    P = xp.asarray(points, dtype=xp.float64)
    if P.ndim == 3:
        if P.shape[0] == 0:
            raise ValueError("points must hold at least one point set, got an empty batch")
        _points(P[0])  # shape checks on one set
        if P.shape[1] < 2:
            raise ValueError(f"points must be (B, n, d) with at least 2 rows per set, got "
                             f"shape {tuple(P.shape)}")
        if not bool(to_numpy(xp.all(xp.isfinite(P)))):
            raise ValueError("points must be finite (no NaN or inf)")
        return _hmin_batch(xp, P)
    xp, X = _points(P, min_rows=2)
    return float(_hmin_batch(xp, X[None])[0])


#: Up to this dimension :func:`min_pairwise_distance` uses the sort-and-sweep method.
SWEEP_MAX_DIM = 3


def _hmin_sweep(xp, P):
    """Exact h_min of each set in a batch by sorting along the coordinate of largest spread and
    comparing rows ``k`` apart in that order for ``k = 1, 2, ...``: once the gap along the sort
    coordinate between rows ``k + 1`` apart exceeds the best distance found, no farther pair can
    be closer. O(B n d) work per offset; few offsets for spread-out points."""
    B, n, d = P.shape
    axis = int(to_numpy(xp.argmax(P.reshape(-1, d).std(axis=0))))
    order = xp.argsort(P[:, :, axis], axis=1)
    S = xp.take_along_axis(P, order[:, :, None], axis=1)
    x = S[:, :, axis]
    best = xp.full(B, xp.inf)
    for k in range(1, n):
        diff = S[:, k:] - S[:, :-k]
        best = xp.minimum(best, (diff * diff).sum(axis=2).min(axis=1))
        if k + 1 == n:
            break
        gap = (x[:, k + 1:] - x[:, :-k - 1]).min(axis=1)
        if bool(to_numpy(xp.all(gap * gap >= best))):
            break
    return np.sqrt(to_numpy(best))


def _hmin_batch(xp, P):
    B, n, d = P.shape
    if d <= SWEEP_MAX_DIM:
        return _hmin_sweep(xp, P)
    P = P - P.mean(axis=1, keepdims=True)
    sq = (P * P).sum(axis=2)
    margin = 8.0 * (d + 4) * np.finfo(np.float64).eps * 2.0 * sq.max(axis=1)   # per set
    cols = xp.arange(n)
    out = np.empty(B)
    if n * n * 8 <= BLOCK_BYTES:           # whole sets at once, several per block
        per = max(1, BLOCK_BYTES // (8 * n * n))
        lower = cols[None, :] <= cols[:, None]
        for a in range(0, B, per):
            X, s2 = P[a:a + per], sq[a:a + per]
            approx = s2[:, :, None] + s2[:, None, :] - 2.0 * (X @ xp.swapaxes(X, 1, 2))
            approx[:, lower] = xp.inf
            amin = approx.reshape(len(X), -1).min(axis=1)
            keep = approx <= (amin + 2.0 * margin[a:a + per])[:, None, None]
            bb, ii, jj = xp.nonzero(keep)
            diff = X[bb, ii] - X[bb, jj]
            exact = to_numpy((diff * diff).sum(axis=1))
            best = np.full(len(X), np.inf)
            np.minimum.at(best, to_numpy(bb), exact)
            out[a:a + per] = best
        return np.sqrt(out)
    rows = max(1, min(n, BLOCK_BYTES // (8 * n)))
    for t in range(B):
        X, s2, mg = P[t], sq[t], float(to_numpy(margin[t]))
        best = np.inf
        for a in range(0, n - 1, rows):
            b = min(a + rows, n - 1)
            approx = s2[a:b, None] + s2[None, a:] - 2.0 * (X[a:b] @ X[a:].T)
            # keep the pairs (i, j) with j > i only: column c of this block is the point a + c
            approx[:, :b - a][cols[None, :b - a] <= cols[:b - a, None]] = xp.inf
            amin = float(to_numpy(approx.min()))
            thr = min(best + mg, amin + 2.0 * mg)
            ii, jj = xp.nonzero(approx <= thr)
            if ii.size:
                diff = X[ii + a] - X[jj + a]
                best = min(best, float(to_numpy((diff * diff).sum(axis=1).min())))
        out[t] = best
    return np.sqrt(out)
