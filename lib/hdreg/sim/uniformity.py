r"""Uniformity of a training set, conditioning and the speed of gradient descent (chapter
``ch-data-uniformity``).

Three simulators and the pieces they share:

* :func:`iid_min_distance`: the minimum pairwise distance :math:`h_{\min}` of ``n`` i.i.d. points,
  for several ``n`` and many trials, with the Poisson-clumping prediction
  :math:`\mathbb E h_{\min}\approx\Gamma(1+1/d)\,\big(\binom n2 v_d\int p^2\big)^{-1/d}`
  (:func:`iid_hmin_prediction`).
* :func:`kernel_gd_study`: subsets of a pool chosen by several rules (:data:`SUBSET_METHODS`), the
  Gaussian kernel matrix of each, its extreme eigenvalues, the Gershgorin bound, and the number of
  full-batch gradient-descent steps to a training-loss threshold, computed exactly from one
  eigendecomposition (:func:`gd_iterations`), batched over seeds.
* :func:`train_two_layer`: a two-layer ``tanh`` network trained by full-batch gradient descent on
  the squared loss, batched over networks (seeds and subsets), on the active backend.
* :func:`digits_study`: the same questions on scikit-learn's digits, in pixel space and in a
  random-feature space.

Per-trial randomness depends only on ``(seed, trial index)`` through
``np.random.SeedSequence(seed).spawn``. Public functions return NumPy arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import _validate
from ..backend import get_backend, to_numpy
from ..selection import farthest_point, min_pairwise_distance

__all__ = [
    "ball_volume",
    "biased_pool",
    "mixture_density_l2",
    "iid_hmin_prediction",
    "iid_min_distance",
    "packing_bound",
    "covering_bound",
    "gaussian_kernel",
    "gershgorin_bound",
    "gd_iterations",
    "gd_iteration_bound",
    "SUBSET_METHODS",
    "select_subset",
    "KernelStudy",
    "kernel_gd_study",
    "max_min_dispersion_ratio",
    "train_two_layer",
    "DigitsStudy",
    "digits_study",
]


def _gens(seed, trials):
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(trials)]


def _seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def _pos(value, name):
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return v


# ------------------------------------------------------------------------------------------------
# h_min of i.i.d. points and of packings


def ball_volume(d):
    """Volume :math:`v_d = \\pi^{d/2}/\\Gamma(d/2+1)` of the unit ball in :math:`\\mathbb R^d`."""
    d = _validate.positive_int(d, "d")
    return math.pi ** (d / 2) / math.gamma(d / 2 + 1)


#: The biased pool of the chapter: a fraction ``w`` from N(c, s^2 I), the rest uniform on [-1, 1]^d.
POOL = dict(w=0.7, centre=0.5, s=0.1)


def biased_pool(n, seed=0, d=2, w=POOL["w"], centre=POOL["centre"], s=POOL["s"]):
    """``n`` i.i.d. points: with probability ``w`` from :math:`\\mathcal N(c\\mathbf 1, s^2 I_d)`,
    otherwise uniform on :math:`[-1,1]^d`. ``w = 0`` gives the uniform density on the square."""
    n, d = _validate.positive_int(n, "n"), _validate.positive_int(d, "d")
    if not 0 <= w <= 1:
        raise ValueError(f"w must be in [0, 1], got {w!r}")
    s = _pos(s, "s")
    g = np.random.default_rng(_seed(seed))
    X = g.uniform(-1.0, 1.0, (n, d))
    clustered = g.random(n) < w
    X[clustered] = centre + s * g.standard_normal((int(clustered.sum()), d))
    return X


def mixture_density_l2(d=2, w=POOL["w"], centre=POOL["centre"], s=POOL["s"]):
    r""":math:`\int p^2` for the density of :func:`biased_pool` (exact, with the Gaussian mass
    inside the square computed by ``erf``)."""
    from scipy.special import erf  # noqa: PLC0415

    d = _validate.positive_int(d, "d")
    gauss = (4 * math.pi * s * s) ** (-d / 2)
    unif = 2.0 ** (-d)
    inside = ((erf((1 - centre) / (s * math.sqrt(2))) + erf((1 + centre) / (s * math.sqrt(2)))) / 2) ** d
    return w * w * gauss + 2 * w * (1 - w) * unif * inside + (1 - w) ** 2 * unif


def iid_hmin_prediction(n, d, density_l2):
    r"""Poisson-clumping prediction of :math:`\mathbb E\,h_{\min}` for ``n`` i.i.d. points:
    :math:`\Gamma(1+1/d)\,\big(\binom n2 v_d \int p^2\big)^{-1/d}` (the number of pairs closer than
    ``r`` is approximately Poisson with mean :math:`\binom n2 v_d r^d\int p^2`, so
    :math:`h_{\min}^d` is approximately exponential)."""
    n = np.asarray(n, dtype=float)
    if np.any(n < 2):
        raise ValueError(f"n must be >= 2, got {n}")
    d = _validate.positive_int(d, "d")
    dl2 = _pos(density_l2, "density_l2")
    return math.gamma(1 + 1 / d) * (n * (n - 1) / 2 * ball_volume(d) * dl2) ** (-1 / d)


def iid_min_distance(ns, trials, sampler, seed=0):
    """:math:`h_{\\min}` of ``n`` i.i.d. points from ``sampler(n, rng)`` for every ``n`` in ``ns``
    and ``trials`` trials: an array ``(len(ns), trials)``. Every ``(n, trial)`` has its own
    generator (independent draws, so that per-``n`` standard errors are honest)."""
    ns = [_validate.positive_int(n, "ns") for n in np.atleast_1d(ns)]
    trials = _validate.positive_int(trials, "trials")
    gens = _gens(_seed(seed), trials * len(ns))
    out = np.empty((len(ns), trials))
    for i, n in enumerate(ns):
        P = np.stack([np.asarray(sampler(n, g), dtype=float)
                      for g in gens[i * trials:(i + 1) * trials]])
        out[i] = min_pairwise_distance(P)
    return out


def packing_bound(n, d, side=1.0):
    r"""Largest ``h`` allowed by the volume argument for ``n`` points in :math:`[0, \text{side}]^d`
    with :math:`h_{\min}\ge h`: balls of radius ``h/2`` are disjoint and inside the cube grown by
    ``h/2``, so :math:`n v_d (h/2)^d \le (\text{side} + h)^d`; solved for ``h`` (exactly, it is
    monotone)."""
    n = np.atleast_1d(np.asarray(n, dtype=float))
    c = (n * ball_volume(d)) ** (1 / d) / 2          # c h <= side + h
    return np.where(c > 1, side / np.maximum(c - 1, 1e-300), np.inf)


def covering_bound(n, d, side=1.0):
    r"""Smallest covering radius that ``n`` balls can have on :math:`[0,\text{side}]^d`:
    :math:`n v_d r^d \ge \text{side}^d`, so :math:`r \ge \text{side}\,(n v_d)^{-1/d}`."""
    n = np.atleast_1d(np.asarray(n, dtype=float))
    return side * (n * ball_volume(d)) ** (-1 / d)


# ------------------------------------------------------------------------------------------------
# kernel matrices and gradient descent


def gaussian_kernel(A, B=None, ell=0.3):
    r"""Gaussian kernel matrix :math:`e^{-\|a-b\|^2/(2\ell^2)}` between the rows of ``A`` (``m x d``,
    or batched ``s x m x d``) and of ``B`` (default ``A``). Computed on the active backend from
    coordinate differences; returns a NumPy array."""
    xp = get_backend().module
    ell = _pos(ell, "ell")
    A = xp.asarray(A, dtype=xp.float64)
    B = A if B is None else xp.asarray(B, dtype=xp.float64)
    if A.ndim not in (2, 3) or A.shape[-1] != B.shape[-1]:
        raise ValueError(f"A and B must be (m, d) or (s, m, d) arrays with the same d, got "
                         f"{tuple(A.shape)} and {tuple(B.shape)}")
    diff = A[..., :, None, :] - B[..., None, :, :]
    return to_numpy(xp.exp(-(diff * diff).sum(axis=-1) / (2 * ell * ell)))


def gershgorin_bound(K):
    r"""Gershgorin's lower bound :math:`\min_i (K_{ii} - \sum_{j\ne i}|K_{ij}|)` on
    :math:`\lambda_{\min}(K)` (batched over leading axes; NumPy)."""
    K = np.asarray(to_numpy(K), dtype=float)
    diag = np.diagonal(K, axis1=-2, axis2=-1)
    off = np.abs(K).sum(axis=-1) - np.abs(diag)
    return (diag - off).min(axis=-1)


def _eig_batch(K):
    K = np.asarray(to_numpy(K), dtype=float)
    if K.ndim < 2 or K.shape[-1] != K.shape[-2]:
        raise ValueError(f"K must be a square matrix or a batch of them, got shape {K.shape}")
    if not np.all(np.isfinite(K)):
        raise ValueError("K must be finite")
    if not np.allclose(K, np.swapaxes(K, -1, -2), atol=1e-12 * max(1.0, np.abs(K).max())):
        raise ValueError("K must be symmetric")
    return np.linalg.eigh(K)


def gd_iterations(K, y, eps, eta=None, t_max=10 ** 12):
    r"""Number of full-batch gradient-descent steps on :math:`\frac1{2}\|f - y\|^2` in function space,
    :math:`f_{t+1} = f_t - \eta K (f_t - y)` from :math:`f_0 = 0`, until the training MSE
    :math:`\frac1m\|f_t-y\|^2` first drops to ``eps`` or below.

    This is kernel regression (or a linearised model with tangent kernel ``K``) trained by GD. With
    :math:`K = V\Lambda V^\top` and :math:`c = V^\top y`, the MSE after ``t`` steps is
    :math:`\frac1m\sum_i c_i^2(1-\eta\lambda_i)^{2t}`, decreasing in ``t`` when
    :math:`\eta \le 1/\lambda_{\max}` (default ``eta = 1/lambda_max``); the first ``t`` is found by
    bisection (exact). ``K``: ``(..., m, m)`` PSD; ``y``: ``(..., m)``. Returns an integer array over
    the leading axes (``t_max`` when not reached by then).
    """
    lam, V = _eig_batch(K)
    y = np.asarray(to_numpy(y), dtype=float)
    if y.shape != lam.shape and y.shape[:-1] != lam.shape:
        raise ValueError(f"y must have shape {lam.shape} (one value per row of K) or "
                         f"{lam.shape + (-1,)} (several outputs), got {y.shape}")
    multi = y.shape != lam.shape
    if lam.min() < -1e-8 * max(1.0, lam.max()):
        raise ValueError(f"K must be positive semi-definite; smallest eigenvalue {lam.min():.3g}")
    eps = _pos(eps, "eps")
    lam = np.clip(lam, 0.0, None)
    lmax = lam.max(axis=-1, keepdims=True)
    eta = 1.0 / lmax if eta is None else np.broadcast_to(np.asarray(eta, float), lmax.shape)
    if np.any(eta <= 0) or np.any(eta * lmax > 1 + 1e-12):
        raise ValueError("eta must be in (0, 1/lambda_max(K)] for a monotone loss")
    if not np.all(np.isfinite(y)):
        raise ValueError("y must be finite")
    c2 = (np.einsum("...ij,...ik->...jk", V, y) ** 2).sum(-1) if multi else \
        np.einsum("...ij,...i->...j", V, y) ** 2
    m = lam.shape[-1]
    log_q = np.log(np.clip(1.0 - eta * lam, 1e-300, 1.0))       # log of each contraction factor

    def mse(t):
        return (c2 * np.exp(2.0 * t[..., None] * log_q)).sum(axis=-1) / m

    shape = lam.shape[:-1]
    lo = np.zeros(shape)                 # mse(lo) > eps unless already below at t = 0
    hi = np.full(shape, float(t_max))
    done0 = mse(lo) <= eps
    reach = mse(hi) <= eps
    for _ in range(64):
        mid = np.floor((lo + hi) / 2)
        ok = mse(mid) <= eps
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid)
        if np.all(hi - lo <= 1):
            break
    out = np.where(done0, 0, np.where(reach, hi, t_max))
    return out.astype(np.int64)


def gd_iteration_bound(lam_min, lam_max, y_norm2, m, eps):
    r"""The linear-rate bound: with :math:`\eta = 1/\lambda_{\max}`,
    :math:`\frac1m\|f_t-y\|^2 \le (1-\lambda_{\min}/\lambda_{\max})^{2t}\frac{\|y\|^2}{m}`, so at
    most :math:`\lceil \log(\|y\|^2/(m\varepsilon)) / (-2\log(1-\lambda_{\min}/\lambda_{\max}))\rceil`
    steps are needed."""
    lam_min, lam_max = np.asarray(lam_min, float), np.asarray(lam_max, float)
    ratio = np.clip(lam_min / lam_max, 1e-300, 1.0)
    num = np.log(np.maximum(np.asarray(y_norm2, float) / (m * eps), 1.0))
    with np.errstate(divide="ignore"):
        return np.ceil(num / -(2 * np.log1p(-np.minimum(ratio, 1 - 1e-16))))


# ------------------------------------------------------------------------------------------------
# subset selection


def _kmeans_subset(X, m, g):
    from scipy.cluster.vq import kmeans2  # noqa: PLC0415

    centres, _ = kmeans2(X, m, seed=g, minit="++", iter=20)
    d2 = ((X[:, None, :] - centres[None]) ** 2).sum(axis=2)
    chosen, taken = [], np.zeros(len(X), bool)
    for c in range(m):
        order = np.argsort(np.where(taken, np.inf, d2[:, c]), kind="stable")
        chosen.append(int(order[0]))
        taken[order[0]] = True
    return np.asarray(chosen)


def _kcenter_swap(X, m, g, rounds=10):
    """Greedy k-center (farthest-first from a random start), then swaps that lower the covering
    radius of the pool: the farthest pool point replaces the centre whose loss costs least, while
    that lowers the radius. Optimises the k-center objective, not max-min dispersion."""
    S = list(farthest_point(X, m, start=int(g.integers(len(X)))))
    for _ in range(rounds):
        d2 = ((X[:, None, :] - X[S][None]) ** 2).sum(axis=2)
        part = np.argpartition(d2, 1, axis=1)[:, :2]
        first = np.take_along_axis(d2, part[:, :1], 1)[:, 0]
        second = np.take_along_axis(d2, part[:, 1:], 1)[:, 0]
        nn = part[:, 0]
        swap_first = first > second          # argpartition does not order the two
        first, second = np.where(swap_first, second, first), np.where(swap_first, first, second)
        nn = np.where(swap_first, part[:, 1], nn)
        far = int(np.argmax(first))
        dfar = ((X - X[far]) ** 2).sum(axis=1)
        A, B = np.minimum(first, dfar), np.minimum(second, dfar)
        gmax = np.full(m, -np.inf)
        np.maximum.at(gmax, nn, A)            # per centre: max of A over the points it serves
        bmax = np.full(m, -np.inf)
        np.maximum.at(bmax, nn, B)
        order = np.argsort(-gmax, kind="stable")
        top, second_top = gmax[order[0]], gmax[order[1]] if m > 1 else -np.inf
        others = np.where(np.arange(m) == order[0], second_top, top)
        radius = np.maximum(others, bmax)     # covering radius^2 if centre k is swapped for far
        k = int(np.argmin(radius))
        if not radius[k] < first.max() - 1e-12:
            break
        S[k] = far
    return np.asarray(S)


#: Subset rules: ``random`` (uniform without replacement), ``greedy`` (max–min farthest-point
#: selection from a random start), ``k-center`` (greedy followed by swaps that shrink the covering
#: radius), ``k-means`` (the pool point nearest to each of ``m`` k-means centres).
SUBSET_METHODS = ("random", "greedy", "k-center", "k-means")


def select_subset(X, m, method, g):
    """Indices of ``m`` rows of ``X`` chosen by ``method`` (see :data:`SUBSET_METHODS`) with the
    generator ``g``."""
    X = np.asarray(to_numpy(X), dtype=float)
    m = _validate.positive_int(m, "m")
    if m > len(X):
        raise ValueError(f"m must be at most the pool size {len(X)}, got {m}")
    if method == "random":
        return g.choice(len(X), m, replace=False)
    if method == "greedy":
        return farthest_point(X, m, start=int(g.integers(len(X))))
    if method == "k-center":
        return _kcenter_swap(X, m, g)
    if method == "k-means":
        return _kmeans_subset(X, m, g)
    raise ValueError(f"method must be one of {SUBSET_METHODS}, got {method!r}")


@dataclass
class KernelStudy:
    """Per-seed results of :func:`kernel_gd_study` (arrays ``(len(methods), seeds)``)."""

    methods: tuple
    hmin: np.ndarray
    lam_min: np.ndarray
    lam_max: np.ndarray
    gershgorin: np.ndarray
    iterations: np.ndarray
    bound: np.ndarray
    y_norm2: np.ndarray
    test_uniform: np.ndarray      # test MSE at the stopping step, x uniform on the square
    test_pool: np.ndarray         # test MSE at the stopping step, x from the (biased) pool law
    points: np.ndarray            # (len(methods), seeds, m, 2) the selected points
    subsets: dict = field(default_factory=dict)   # method -> (seeds, m) indices


def target_function(X):
    """The regression target of the chapter, :math:`\\sin 3x_1 + \\cos 2x_2`."""
    X = np.asarray(X, dtype=float)
    return np.sin(3 * X[..., 0]) + np.cos(2 * X[..., 1])


def kernel_gd_study(seeds, pool_size=3000, m=100, ell=0.3, eps=1e-3,
                    methods=("random", "greedy", "k-means"), n_test=2000, seed=0):
    """For each seed: draw a pool (:func:`biased_pool`), select ``m`` points by every method, and
    record ``h_min``, the extreme eigenvalues of the Gaussian kernel matrix, the Gershgorin bound,
    the exact number of GD steps (``eta = 1/lambda_max``) to a training MSE ``eps`` on the target
    :func:`target_function`, and the linear-rate bound on it. Seed ``s`` uses the pool and the
    generator of trial ``s`` of ``SeedSequence(seed)``, the same for every method (a paired
    design). The GD predictor at the
    stopping step is evaluated on ``n_test`` fresh points uniform on the square and ``n_test`` fresh
    points from the pool's law (test MSE against the noiseless target)."""
    seeds = _validate.positive_int(seeds, "seeds")
    for meth in methods:
        if meth not in SUBSET_METHODS:
            raise ValueError(f"methods must be among {SUBSET_METHODS}, got {meth!r}")
    shape = (len(methods), seeds)
    res = {k: np.empty(shape) for k in ("hmin", "lam_min", "lam_max", "gershgorin", "y_norm2")}
    subsets = {meth: np.empty((seeds, m), dtype=np.int64) for meth in methods}
    Xs, ys, tests = [], [], []
    for s, g in enumerate(_gens(_seed(seed), seeds)):
        pool = biased_pool(pool_size, seed=int(g.integers(2 ** 31)))
        tests.append((biased_pool(n_test, seed=int(g.integers(2 ** 31)), w=0.0),
                      biased_pool(n_test, seed=int(g.integers(2 ** 31)))))
        for i, meth in enumerate(methods):
            idx = select_subset(pool, m, meth, np.random.default_rng([s, i]))
            subsets[meth][s] = idx
            Xs.append(pool[idx])
            res["hmin"][i, s] = min_pairwise_distance(pool[idx])
    Xs = np.asarray(Xs).reshape(seeds, len(methods), m, -1).transpose(1, 0, 2, 3)
    ys = target_function(Xs)
    K = to_numpy(gaussian_kernel(Xs.reshape(-1, m, Xs.shape[-1]), ell=ell)).reshape(*shape, m, m)
    lam = np.linalg.eigvalsh(K)
    res["lam_min"], res["lam_max"] = lam[..., 0], lam[..., -1]
    res["gershgorin"] = gershgorin_bound(K)
    res["y_norm2"] = (ys ** 2).sum(axis=-1)
    its = gd_iterations(K, ys, eps)
    bound = gd_iteration_bound(res["lam_min"], res["lam_max"], res["y_norm2"], m, eps)
    test = np.empty((2,) + shape)
    for i in range(len(methods)):
        for s in range(seeds):
            for k, T in enumerate(tests[s]):
                Kx = to_numpy(gaussian_kernel(T, Xs[i, s], ell=ell))
                f = _gd_predict(K[i, s], Kx, ys[i, s][:, None], its[i, s], 1 / res["lam_max"][i, s])
                test[k, i, s] = ((f[:, 0] - target_function(T)) ** 2).mean()
    return KernelStudy(tuple(methods), res["hmin"], res["lam_min"], res["lam_max"],
                       res["gershgorin"], its.astype(float), bound, res["y_norm2"], test[0],
                       test[1], Xs, subsets)


def max_min_dispersion_ratio(instances, n=12, m=4, d=2, seed=0):
    """For ``instances`` random point sets of ``n`` uniform points in :math:`[0,1]^d`: the optimal
    max–min dispersion of ``m`` points (brute force over all subsets) divided by that of the greedy
    :func:`~hdreg.selection.farthest_point` selection started at every point in turn (the worst
    start). Returns an array of ratios (each in ``[1, 2]`` by the 2-approximation theorem)."""
    import itertools  # noqa: PLC0415

    instances = _validate.positive_int(instances, "instances")
    combos = np.asarray(list(itertools.combinations(range(n), m)))
    iu = np.triu_indices(m, 1)
    out = np.empty(instances)
    for t, g in enumerate(_gens(_seed(seed), instances)):
        X = g.random((n, d))
        D = np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))
        opt = D[combos[:, iu[0]], combos[:, iu[1]]].min(axis=1).max()
        greedy = min(min_pairwise_distance(X[farthest_point(X, m, start=s)]) for s in range(n))
        out[t] = opt / greedy
    return out


# ------------------------------------------------------------------------------------------------
# a two-layer network trained by full-batch gradient descent


def train_two_layer(X, y, width=200, lr=None, steps=2000, eps=1e-3, seed=0, record_every=1):
    r"""Train ``B`` two-layer networks :math:`f(x) = a^\top\tanh(Wx + b)/\sqrt{h}` by full-batch
    gradient descent on the training MSE :math:`\frac1m\sum_i (f(x_i)-y_i)^2`, all at once.

    ``X``: ``(B, m, d)`` training inputs (one set per network), ``y``: ``(B, m)``. Network ``k``'s
    initial weights are standard Gaussian, drawn from generator ``k`` of
    ``SeedSequence(seed).spawn(B)`` (so two networks with the same ``k`` on different data start from
    the same weights when ``seed`` is shared). All parameters are trained; ``lr`` defaults to
    ``1.0``. Returns ``(steps_to_eps, loss_curve)``: the first step at which the training MSE is
    ``<= eps`` (``steps`` if never) and the MSE every ``record_every`` steps ``(B, steps //
    record_every + 1)``. Runs on the active backend.
    """
    xp = get_backend().module
    X = np.asarray(to_numpy(X), dtype=float)
    y = np.asarray(to_numpy(y), dtype=float)
    if X.ndim != 3 or y.shape != X.shape[:2]:
        raise ValueError(f"X must be (B, m, d) and y (B, m), got {X.shape} and {y.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError("X and y must be finite")
    width = _validate.positive_int(width, "width")
    steps = _validate.positive_int(steps, "steps")
    lr = 1.0 if lr is None else _pos(lr, "lr")
    B, m, d = X.shape
    gens = _gens(_seed(seed), B)
    W = xp.asarray(np.stack([g.standard_normal((width, d)) for g in gens]))
    b = xp.asarray(np.stack([g.standard_normal(width) for g in gens]))
    a = xp.asarray(np.stack([g.standard_normal(width) for g in gens]))
    Xd, yd = xp.asarray(X), xp.asarray(y)
    sh = 1.0 / math.sqrt(width)
    hit = xp.full(B, steps)
    curve = []
    Xt = xp.swapaxes(Xd, 1, 2)
    for t in range(steps + 1):
        H = xp.tanh(Xd @ xp.swapaxes(W, 1, 2) + b[:, None, :])   # (B, m, h)
        r = (H @ a[:, :, None])[..., 0] * sh - yd                 # residuals (B, m)
        loss = (r * r).mean(axis=1)
        hit = xp.where((loss <= eps) & (hit == steps), min(t, steps), hit)
        if t % record_every == 0:
            curve.append(loss)
        if t == steps:
            break
        g_out = (2.0 * sh / m) * r                                 # dL/df, times 1/sqrt(h)
        ga = (g_out[:, None, :] @ H)[:, 0, :]
        H *= H
        gpre = (g_out[:, :, None] * a[:, None, :]) * (1.0 - H)    # (B, m, h)
        gW = xp.swapaxes(Xt @ gpre, 1, 2)                          # (B, h, d)
        gb = gpre.sum(axis=1)
        a, W, b = a - lr * ga, W - lr * gW, b - lr * gb
    return to_numpy(hit).astype(np.int64), to_numpy(xp.stack(curve, axis=1))


# ------------------------------------------------------------------------------------------------
# real data: scikit-learn's digits


@dataclass
class DigitsStudy:
    """Per-seed results of :func:`digits_study`: ``{space: {method: array (seeds,)}}`` for each
    quantity."""

    hmin: dict
    lam_min: dict
    iterations: dict
    acc_balanced: dict
    acc_biased: dict
    spaces: tuple = ("pixels", "random features")
    methods: tuple = ("random", "greedy")


def _gd_predict(K, Kx, Y, t, eta):
    """Predictions at test rows after ``t`` GD steps from zero (function space, kernel ``K``)."""
    lam, V = np.linalg.eigh(K)
    lam = np.clip(lam, 0.0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(lam > 1e-14 * lam.max(), (1 - (1 - eta * lam) ** t) / lam, eta * t)
    alpha = V @ (f[:, None] * (V.T @ Y))
    return Kx @ alpha


def digits_study(seeds, m=150, keep_minority=0.25, width=512, eps=0.02, test_fraction=0.4,
                 seed=1):
    r"""Uniform vs random subsets of a *biased* digits pool (every image of classes 0-4, a fraction
    ``keep_minority`` of those of classes 5-9), in two spaces: pixels (Gaussian kernel with the
    median pairwise distance of the pool as bandwidth) and random ReLU features of width ``width``
    (a linear model on the features, kernel :math:`\Phi\Phi^\top/\text{width}`). Per seed and
    space: select ``m`` rows by ``random`` and ``greedy`` (:func:`~hdreg.selection.farthest_point`
    in that space), train kernel GD (``eta = 1/lambda_max``) on centred one-hot labels until the
    training MSE is ``<= eps``, and measure the test accuracy on a balanced test set and on the
    test set reweighted to the pool's class proportions (the biased test distribution)."""
    from sklearn.datasets import load_digits  # noqa: PLC0415

    seeds = _validate.positive_int(seeds, "seeds")
    X_all, y_all = load_digits(return_X_y=True)
    X_all = X_all / 16.0
    spaces, methods = DigitsStudy.spaces, DigitsStudy.methods
    out = {q: {sp: {me: np.empty(seeds) for me in methods} for sp in spaces}
           for q in ("hmin", "lam_min", "iterations", "acc_balanced", "acc_biased")}
    for s, g in enumerate(_gens(_seed(seed), seeds)):
        perm = g.permutation(len(X_all))
        n_test = int(test_fraction * len(X_all))
        te, tr = perm[:n_test], perm[n_test:]
        minority = y_all[tr] >= 5
        keep = ~minority | (g.random(len(tr)) < keep_minority)
        pool = tr[keep]
        prop = np.bincount(y_all[pool], minlength=10) / len(pool)
        Wrf = g.standard_normal((X_all.shape[1], width)) / math.sqrt(X_all.shape[1])
        feats = {"pixels": X_all, "random features": np.maximum(X_all @ Wrf, 0.0)}
        Y = np.eye(10)[y_all] - 0.1
        for sp in spaces:
            F = feats[sp]
            if sp == "pixels":
                ell = float(np.median(np.sqrt(((F[pool][:200, None] - F[pool][None, :200]) ** 2)
                                              .sum(-1))))
            for i, me in enumerate(methods):
                idx = pool[select_subset(F[pool], m, me, np.random.default_rng([s, i]))]
                if sp == "pixels":
                    K = to_numpy(gaussian_kernel(F[idx], ell=ell))
                    Kx = to_numpy(gaussian_kernel(F[te], F[idx], ell=ell))
                else:
                    K, Kx = F[idx] @ F[idx].T / width, F[te] @ F[idx].T / width
                lam = np.linalg.eigvalsh(K)
                t = int(gd_iterations(K, Y[idx], eps))
                pred = _gd_predict(K, Kx, Y[idx], t, 1.0 / lam[-1]).argmax(axis=1)
                correct = pred == y_all[te]
                per_class = np.array([correct[y_all[te] == c].mean() for c in range(10)])
                out["hmin"][sp][me][s] = min_pairwise_distance(F[idx])
                out["lam_min"][sp][me][s] = lam[0]
                out["iterations"][sp][me][s] = t
                out["acc_balanced"][sp][me][s] = per_class.mean()
                out["acc_biased"][sp][me][s] = per_class @ prop
    return DigitsStudy(**out)
