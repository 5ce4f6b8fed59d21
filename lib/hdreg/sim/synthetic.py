r"""Monte Carlo for least squares on real plus synthetic data, and the digits study.

See the chapter *Synthetic data selection*, label ``ch-synthetic``.

:func:`simulate_mixed_training` draws ``n_t`` target rows :math:`\Sigma_t^{1/2}z + \mu_t` and ``n_s``
synthetic rows :math:`\Sigma_s^{1/2}z + \mu_s` with labels :math:`y = x^\top\beta_\star + \varepsilon`,
fits the minimum-norm least-squares solution on their union and returns, per trial, the realised
excess risk on the target distribution :math:`\|\hat\beta - \beta_\star\|^2_{\Sigma_t + \mu_t\mu_t^\top}`
(one noise draw per trial: it is the test error of one fitted model). Trials are batched and chunked
under the memory budget of :mod:`hdreg.batch`, one random stream per trial; everything runs on the active backend.

The second half holds the small, offline empirical study of the chapter: scikit-learn's digits as
the real data, class-conditional generative models of different fidelity and diversity as the
synthetic source, selection by :mod:`hdreg.selection`, and two training paradigms (a linear
classifier on pixels trained from scratch, and a linear probe on frozen random features).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import _validate
from ..backend import get_backend, single_threaded, single_threaded_blas, to_numpy
from ..batch import TrialRNG, chunk_size, chunks
from ..profiles import progress
from ._summary import PairedTrials

__all__ = [
    "MixedSim",
    "simulate_mixed_training",
    "means_with_cosine",
    "GENERATORS",
    "fit_generators",
    "sample_pool",
    "random_feature_map",
    "ridge_classifier_accuracy",
    "ridge_classifier_cv",
    "CV_LAMS",
    "DigitsStudy",
    "run_digits_study",
]


@dataclass(frozen=True)
class MixedSim(PairedTrials):
    r"""Per-trial target risks, shape ``(trials,)``.

    ``risk`` is the realised excess risk of the fitted model (one noise draw);
    ``cond_risk`` is its expectation over the label noise given the design,
    :math:`\|\mathbb E[\hat\beta|X]-\beta_\star\|_S^2 + \operatorname{tr}[\operatorname{Cov}(\hat\beta|X)S]`
    with :math:`S = \Sigma_t + \mu_t\mu_t^\top` (the paper's :math:`R_X`).
    """

    risk: np.ndarray
    cond_risk: np.ndarray

    def mean_se(self, field: str = "risk"):
        """Mean over trials and its standard error, as floats (at least 2 finite trials)."""
        m, se = PairedTrials.mean_se(self, field)
        return float(m), float(se)


def _sqrt_factor(cov, name, p=None):
    """A factor ``L`` with ``L L^T = cov`` (``cov`` a p x p PSD matrix, or a 1-D spectrum)."""
    a = np.asarray(to_numpy(cov), dtype=float)
    if a.ndim == 1:
        _validate.spectrum(a, name)
        return np.diag(np.sqrt(a)), np.diag(a)
    m = np.asarray(to_numpy(_validate.psd_matrix(a, name)), dtype=float)
    w, V = np.linalg.eigh(m)
    return (V * np.sqrt(np.clip(w, 0, None))) @ V.T, m


def _mean(mu, p, name):
    if mu is None:
        return np.zeros(p)
    v = np.asarray(to_numpy(mu), dtype=float)
    if v.shape != (p,) or not np.all(np.isfinite(v)):
        raise ValueError(f"{name} must be None or a finite vector of length p = {p}, got {v.shape}")
    return v


@single_threaded
def simulate_mixed_training(sigma_t, sigma_s, beta, n_t: int, n_s: int, noise_var: float, trials: int,
                            mu_t=None, mu_s=None, seed: int = 0) -> MixedSim:
    r"""Min-norm least squares on ``n_t`` target + ``n_s`` synthetic rows, ``trials`` times.

    ``sigma_t``/``sigma_s`` are ``p x p`` covariances or 1-D spectra (diagonal covariances);
    ``mu_t``/``mu_s`` the means (``None`` = 0). Either ``n_t`` or ``n_s`` may be ``0`` (training on one
    source only). Returns the realised risk :math:`\|\hat\beta-\beta_\star\|^2_{\Sigma_t+\mu_t\mu_t^\top}`.
    """
    L_t, S_t = _sqrt_factor(sigma_t, "sigma_t")
    L_s, _ = _sqrt_factor(sigma_s, "sigma_s")
    p = L_t.shape[0]
    if L_s.shape != (p, p):
        raise ValueError(f"sigma_s must match sigma_t in size p = {p}, got {L_s.shape[0]}")
    b = _validate.finite_array(beta, "beta", shape=(p,))
    m_t, m_s = _mean(mu_t, p, "mu_t"), _mean(mu_s, p, "mu_s")
    n_t, n_s = _validate.nonneg_int(n_t, "n_t"), _validate.nonneg_int(n_s, "n_s")
    n = n_t + n_s
    if n < 1:
        raise ValueError("n_t + n_s must be at least 1, got 0")
    if n == p:
        raise ValueError(f"n_t + n_s = p = {p} is the interpolation threshold (infinite risk)")
    trials = _validate.positive_int(trials, "trials")
    seed = _validate.seed(seed)
    sigma = float(np.sqrt(_validate.nonneg_scalar(noise_var, "noise_var")))
    # The fit divides by the non-zero eigenvalues of the Gram matrix of the design, which must have
    # full rank min(n, p): n_t rows from a covariance of rank r_t and n_s from one of rank r_s
    # generically span min(joint rank, min(n_t, r_t) + min(n_s, r_s)) dimensions.
    # (a non-zero mean adds its direction: rows are L z + mu)
    A_t, A_s = np.vstack([L_t, m_t[None]]), np.vstack([L_s, m_s[None]])
    r_t = np.linalg.matrix_rank(A_t) if n_t else 0
    r_s = np.linalg.matrix_rank(A_s) if n_s else 0
    joint = np.linalg.matrix_rank(np.vstack(([A_t] if n_t else []) + ([A_s] if n_s else [])))
    generic = min(joint, min(n_t, r_t) + min(n_s, r_s))
    if generic < min(n, p):
        raise ValueError(f"sigma_t/sigma_s: the design of n_t = {n_t} target and n_s = {n_s} synthetic "
                         f"rows spans only {generic} dimensions (covariance ranks {r_t} and {r_s}), "
                         f"fewer than min(n_t + n_s, p) = {min(n, p)}: least squares is not "
                         "well defined; use full-rank covariances or fewer rows")

    xp = get_backend().module
    Lt, Ls = xp.asarray(L_t), xp.asarray(L_s)
    St, bt = xp.asarray(S_t), xp.asarray(b)
    mt, ms = xp.asarray(m_t), xp.asarray(m_s)
    m = min(n, p)
    step = chunk_size(8 * (3 * n * p + 2 * m * m + 4 * p), trials, "simulate_mixed_training")
    out = []
    for start, stop in chunks(trials, step, "mixed training"):  # BLAS single-threaded (decorator)
        gen = TrialRNG(seed, start, stop, xp)
        out.append(_mixed_chunk(gen, xp, stop - start, n_t, n_s, p, Lt, Ls, mt, ms, St, bt, sigma))
    return MixedSim(np.concatenate([o[0] for o in out]), np.concatenate([o[1] for o in out]))


def _mixed_chunk(gen, xp, k, n_t, n_s, p, Lt, Ls, mt, ms, St, bt, sigma):
    """One chunk of ``k`` trials of :func:`simulate_mixed_training`: realised and conditional risks."""
    n = n_t + n_s
    parts = []
    if n_t:
        parts.append(gen.standard_normal((k, n_t, p), dtype=xp.float64) @ Lt + mt)
    if n_s:
        parts.append(gen.standard_normal((k, n_s, p), dtype=xp.float64) @ Ls + ms)
    X = xp.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]
    y = X @ bt + sigma * gen.standard_normal((k, n), dtype=xp.float64)
    Xt = X.transpose(0, 2, 1)
    S = St + xp.outer(mt, mt)
    # One eigendecomposition of the smaller Gram matrix per trial serves the fit and R_X.
    if n > p:
        d, U = xp.linalg.eigh(Xt @ X)                       # X^T X = U diag(d) U^T
        coef = U @ ((U.transpose(0, 2, 1) @ (Xt @ y[..., None]))[..., 0] / d)[..., None]
        coef = coef[..., 0]
        # unbiased fit: R_X = sigma^2 tr[(X^T X)^{-1} S]
        cond = sigma**2 * (((U.transpose(0, 2, 1) @ S) * U.transpose(0, 2, 1)).sum(axis=2)
                           / d).sum(axis=1)
    else:
        d, U = xp.linalg.eigh(X @ Xt)                       # X X^T = U diag(d) U^T
        V = U.transpose(0, 2, 1) @ X                        # rows: orthogonal directions
        coef = (V.transpose(0, 2, 1) @ ((U.transpose(0, 2, 1) @ y[..., None])[..., 0]
                                         / d)[..., None])[..., 0]            # X^T G^{-1} y
        # E[coef | X] = P beta with P = V^T diag(1/d) V the projection on the row space:
        # bias ||(P - I) beta||_S^2, variance sigma^2 sum_j (V S V^T)_jj / d_j^2
        Pb = (V.transpose(0, 2, 1) @ ((V @ bt) / d)[..., None])[..., 0] - bt
        cond = ((Pb @ S) * Pb).sum(axis=1) + sigma**2 * (((V @ S) * V).sum(axis=2)
                                                          / d**2).sum(axis=1)
    e = coef - bt
    risk = ((e @ S) * e).sum(axis=1)
    return to_numpy(risk), to_numpy(cond)


def means_with_cosine(p: int, cosines, norm: float, seed: int = 0):
    r"""A target mean ``mu_t`` and synthetic means ``mu_s[j]``, all of Euclidean norm ``norm``, with
    :math:`\cos(\mu_t, \mu_{s,j})` = ``cosines[j]``. Returns ``(mu_t, mu_s)`` with ``mu_s`` of shape
    ``(len(cosines), p)``; the directions are random (seeded), the part of ``mu_s`` orthogonal to
    ``mu_t`` is the same for every cosine."""
    p = _validate.positive_int(p, "p")
    if p < 2:
        raise ValueError("p must be at least 2")
    c = np.atleast_1d(np.asarray(cosines, dtype=float))
    if c.ndim != 1 or np.any(np.abs(c) > 1) or not np.all(np.isfinite(c)):
        raise ValueError(f"cosines must be a 1-D array of values in [-1, 1], got {cosines!r}")
    norm = _validate.nonneg_scalar(norm, "norm")
    g = np.random.default_rng(seed)
    u = g.standard_normal(p)
    u /= np.linalg.norm(u)
    v = g.standard_normal(p)
    v -= (v @ u) * u
    v /= np.linalg.norm(v)
    mu_s = norm * (c[:, None] * u + np.sqrt(1.0 - c[:, None] ** 2) * v)
    return norm * u, mu_s


# --------------------------------------------------------------------------------------------------
# The digits study: generators of different fidelity and diversity.

#: name -> (kind, knobs). "gauss": class-conditional Gaussian, shrunk covariance, temperature T
#: (samples mu + T L z); "pca": a rank-r PCA model of the class (low fidelity: details lost);
#: "mixture": a 3-component mixture per class with latent truncation |z_j| <= trunc (high fidelity,
#: low diversity).
GENERATORS = {
    "gauss-T0.5": ("gauss", dict(temperature=0.5)),
    "gauss-T1.0": ("gauss", dict(temperature=1.0)),
    "gauss-T1.6": ("gauss", dict(temperature=1.6)),
    "pca-r3": ("pca", dict(rank=3, temperature=1.0)),
    "mixture-trunc0.6": ("mixture", dict(components=3, trunc=0.6)),
}


def _shrunk_cov(X, shrink=0.1):
    c = np.cov(X, rowvar=False) if X.shape[0] > 1 else np.zeros((X.shape[1],) * 2)
    return (1 - shrink) * c + shrink * np.trace(c) / c.shape[0] * np.eye(c.shape[0])


@single_threaded
def fit_generators(X, y, seed: int = 0, names=None):
    """Fit every generator of :data:`GENERATORS` (or ``names``) to ``(X, y)``, per class.

    Returns ``{name: {class: params}}``; sampling is done by :func:`sample_pool`.
    """
    from scipy.cluster.vq import kmeans2  # noqa: PLC0415

    names = list(GENERATORS) if names is None else list(names)
    models = {}
    for name in names:
        kind, knobs = GENERATORS[name]
        per_class = {}
        for c in np.unique(y):
            Xc = X[y == c]
            mu = Xc.mean(axis=0)
            if kind == "gauss":
                w, V = np.linalg.eigh(_shrunk_cov(Xc))
                per_class[c] = ("gauss", mu, (V * np.sqrt(np.clip(w, 0, None))).T * knobs["temperature"])
            elif kind == "pca":
                U, sv, Vt = np.linalg.svd(Xc - mu, full_matrices=False)
                r = knobs["rank"]
                scale = sv[:r] / np.sqrt(max(Xc.shape[0] - 1, 1))
                per_class[c] = ("gauss", mu, (Vt[:r] * scale[:, None]) * knobs["temperature"])
            else:
                k = knobs["components"]
                centres, lab = kmeans2(Xc, k, seed=seed + int(c), minit="++")
                comps = []
                for j in range(k):
                    Xj = Xc[lab == j]
                    if Xj.shape[0] < 2:
                        continue
                    w, V = np.linalg.eigh(_shrunk_cov(Xj, 0.2))
                    comps.append((Xj.mean(axis=0), (V * np.sqrt(np.clip(w, 0, None))).T,
                                  Xj.shape[0]))
                per_class[c] = ("mixture", comps, knobs["trunc"])
        models[name] = per_class
    return models


def _draw(spec, m, gen):
    kind = spec[0]
    if kind == "gauss":
        _, mu, F = spec
        return mu + gen.standard_normal((m, F.shape[0])) @ F
    _, comps, trunc = spec
    weights = np.array([c[2] for c in comps], dtype=float)
    which = gen.choice(len(comps), size=m, p=weights / weights.sum())
    out = np.empty((m, comps[0][0].size))
    for j, (mu, F, _) in enumerate(comps):
        idx = np.flatnonzero(which == j)
        z = gen.standard_normal((idx.size, F.shape[0]))
        z = np.clip(z, -trunc, trunc)  # truncation: latent values beyond +-trunc are clamped
        out[idx] = mu + z @ F
    return out


@single_threaded
def sample_pool(models, per_class: int, seed: int = 0, clip=(0.0, 16.0)):
    """``per_class`` samples per class from every generator. Returns ``(X, y, source)`` where
    ``source`` holds the generator name of each row. Pixels are clipped to the data range."""
    gen = np.random.default_rng(seed)
    Xs, ys, src = [], [], []
    for name, per in models.items():
        for c, spec in per.items():
            Xs.append(np.clip(_draw(spec, per_class, gen), *clip))
            ys.append(np.full(per_class, c))
            src.append(np.full(per_class, name, dtype=object))
    return np.concatenate(Xs), np.concatenate(ys), np.concatenate(src)


def random_feature_map(d_in: int, width: int, seed: int = 0):
    """A frozen random ReLU layer ``x -> relu(W x / sqrt(d) + b)`` (a stand-in for a pretrained
    feature extractor; the probe on top of it is the second training paradigm)."""
    gen = np.random.default_rng(seed)
    W = gen.standard_normal((d_in, width)) / np.sqrt(d_in)
    b = gen.uniform(-1.0, 1.0, width)

    def features(X):
        return np.maximum(X @ W + b, 0.0)

    return features


@single_threaded
def ridge_classifier_accuracy(X_train, y_train, X_test, y_test, lam: float) -> float:
    """Test accuracy of one-vs-rest ridge regression on one-hot labels (with an intercept), features
    standardised with the training statistics. ``lam`` is the normalised penalty."""
    mu = X_train.mean(axis=0)
    sd = X_train.std(axis=0) + 1e-8
    A = (X_train - mu) / sd
    B = (X_test - mu) / sd
    classes = np.unique(y_train)
    Y = (y_train[:, None] == classes[None, :]).astype(float)
    Y -= Y.mean(axis=0)
    n, d = A.shape
    if n >= d:
        W = np.linalg.solve(A.T @ A + n * lam * np.eye(d), A.T @ Y)
    else:
        W = A.T @ np.linalg.solve(A @ A.T + n * lam * np.eye(n), Y)
    pred = classes[np.argmax(B @ W, axis=1)]
    return float(np.mean(pred == y_test))


#: The penalty grid searched by :func:`ridge_classifier_cv` (normalised convention).
CV_LAMS = np.geomspace(1e-4, 10.0, 11)


def _standardise(X_train, X_test):
    mu = X_train.mean(axis=0)
    sd = X_train.std(axis=0) + 1e-8
    return (X_train - mu) / sd, (X_test - mu) / sd


def _ridge_path_scores(A, Y, B, lams):
    """Scores ``B @ W(lam)`` of one-vs-rest ridge for every penalty, shape ``(L, m, classes)``, from
    one eigendecomposition of the smaller Gram matrix of ``A`` (centred one-hot targets ``Y``)."""
    n, d = A.shape
    nl = n * np.asarray(lams, float)
    if n >= d:
        w, V = np.linalg.eigh(A.T @ A)
        c = V.T @ (A.T @ Y)                                   # (d, classes)
        BV = B @ V
        return np.stack([BV @ (c / (w + t)[:, None]) for t in nl])
    w, U = np.linalg.eigh(A @ A.T)
    c = U.T @ Y
    BU = (B @ A.T) @ U
    return np.stack([BU @ (c / (w + t)[:, None]) for t in nl])


def _onehot(y, classes):
    Y = (y[:, None] == classes[None, :]).astype(float)
    return Y - Y.mean(axis=0)


@single_threaded
def ridge_classifier_cv(X_train, y_train, X_test, y_test, lams=None, folds: int = 3,
                        validate=None, seed: int = 0):
    """Test accuracy of one-vs-rest ridge (as :func:`ridge_classifier_accuracy`) with the penalty
    chosen by ``folds``-fold cross-validation on the training set. Returns ``(accuracy, lam)``.

    ``validate`` (boolean mask over the training rows, default all) names the rows that may serve as
    validation rows: with real plus synthetic training data, validating on the real rows only scores
    each penalty on the distribution of the test set; the other rows always stay in training. Features
    are standardised with the statistics of the whole training set (a negligible leak that lets one
    Gram matrix per fold serve the whole penalty grid ``lams``, default :data:`CV_LAMS`).
    """
    lams = CV_LAMS if lams is None else np.asarray(_validate.penalties(lams), float)
    folds = _validate.positive_int(folds, "folds")
    if folds < 2:
        raise ValueError(f"folds must be at least 2, got {folds}")
    X_train = np.asarray(X_train, float)
    y_train = np.asarray(y_train)
    n = X_train.shape[0]
    validate = np.ones(n, bool) if validate is None else np.asarray(validate, bool)
    if validate.shape != (n,):
        raise ValueError(f"validate must be a boolean mask of length {n}, got shape {validate.shape}")
    cand = np.flatnonzero(validate)
    if cand.size < folds:
        raise ValueError(f"need at least folds = {folds} validation rows, got {cand.size}")
    A, B = _standardise(X_train, np.asarray(X_test, float))
    classes = np.unique(y_train)
    gen = np.random.default_rng(seed)
    fold_of = np.full(n, -1)
    fold_of[cand] = gen.permutation(cand.size) % folds
    correct = np.zeros(len(lams))
    for k in range(folds):
        va = fold_of == k
        tr = ~va
        scores = _ridge_path_scores(A[tr], _onehot(y_train[tr], classes), A[va], lams)
        correct += (classes[np.argmax(scores, axis=2)] == y_train[va][None, :]).sum(axis=1)
    best = float(lams[int(np.argmax(correct))])   # ties go to the smallest penalty
    return ridge_classifier_accuracy(X_train, y_train, X_test, y_test, best), best


@dataclass
class DigitsStudy:
    """Accuracies (in %) of the digits study: ``acc[paradigm][method]`` is an array over seeds;
    ``picked[method]`` counts, over seeds, how many selected rows came from each generator."""

    methods: list
    paradigms: list
    acc: dict
    picked: dict = field(default_factory=dict)
    cov_gap: dict = field(default_factory=dict)
    #: rows of ``acc`` that are references, not selection methods (e.g. ``"all real"``)
    references: list = field(default_factory=list)
    #: ``lams[paradigm][method]``: the penalty used per seed (cross-validated when ``lam="cv"``)
    lams: dict = field(default_factory=dict)

    def mean_se(self, paradigm, method):
        a = np.asarray(self.acc[paradigm][method], dtype=float)
        return float(a.mean()), float(a.std(ddof=1) / np.sqrt(a.size))

    def table(self, reference: str = "covariance") -> str:
        """A Markdown table: mean accuracy ± standard error per method and paradigm, and the paired
        difference to ``reference`` (± its standard error)."""
        head = "| method | " + " | ".join(
            f"{pa}: accuracy (%) | {pa}: {reference} − method" for pa in self.paradigms) + " |"
        rule = "|---" * (1 + 2 * len(self.paradigms)) + "|"
        rows = [head, rule]
        for m in list(self.methods) + list(self.references):
            cells = []
            for pa in self.paradigms:
                mu, se = self.mean_se(pa, m)
                cells.append(f"{mu:.2f} ± {se:.2f}")
                if m == reference:
                    cells.append("—")
                else:
                    d, dse = self.diff(pa, reference, m)
                    cells.append(f"{d:+.2f} ± {dse:.2f}")
            rows.append(f"| {m} | " + " | ".join(cells) + " |")
        return "\n".join(rows)

    def diff(self, paradigm, a, b):
        """Paired difference ``acc[a] - acc[b]`` over seeds: mean and standard error."""
        d = np.asarray(self.acc[paradigm][a], float) - np.asarray(self.acc[paradigm][b], float)
        return float(d.mean()), float(d.std(ddof=1) / np.sqrt(d.size))


def run_digits_study(seeds, real_per_class: int = 10, pool_per_class: int = 60,
                     select_per_class: int = 40, n_components: int = 12, width: int = 400,
                     lam=1e-2, test_fraction: float = 0.4, all_real: bool = False) -> DigitsStudy:
    """Run the digits study for every seed in ``seeds``.

    Per seed: split scikit-learn's digits into a test set, a generator-training set and a small
    labelled "real" set (``real_per_class`` per class); fit the generators of :data:`GENERATORS` on
    the generator-training set; draw a pool of ``pool_per_class`` per class from each; select
    ``select_per_class`` synthetic rows per class with each method; train both paradigms on real +
    selected synthetic and record the test accuracy. Methods: ``real only``, ``random``,
    ``centre``, ``k-means``, ``clusters`` and ``covariance`` (see :mod:`hdreg.selection`), all selecting
    in the PCA space (``n_components``) of the real data.

    ``lam`` is the ridge penalty of both paradigms, or ``"cv"`` to choose it per seed, method and
    paradigm by 3-fold cross-validation over :data:`CV_LAMS`, validating on real rows only (see
    :func:`ridge_classifier_cv`). ``all_real=True`` adds the reference ``"all real"``: the classifier
    trained on every real training image (the small real set and the images the generators were
    fitted on), with no synthetic data.
    """
    if not (isinstance(lam, str) and lam == "cv"):
        lam = float(_validate.nonneg(lam, "lam"))
    with single_threaded_blas():  # every matrix here is small
        return _digits_study(seeds, real_per_class, pool_per_class, select_per_class, n_components,
                             width, lam, test_fraction, all_real)


def _fit_and_score(Xtr, ytr, Xte, yte, lam, n_real, seed):
    """Accuracy (%) and penalty of one training run (``lam`` a number, or ``"cv"``)."""
    if isinstance(lam, str):
        val = np.zeros(len(ytr), bool)
        val[:n_real] = True                                  # real rows come first
        acc, best = ridge_classifier_cv(Xtr, ytr, Xte, yte, validate=val, seed=seed)
        return 100 * acc, best
    return 100 * ridge_classifier_accuracy(Xtr, ytr, Xte, yte, lam), lam


def _digits_study(seeds, real_per_class, pool_per_class, select_per_class, n_components, width, lam,
                  test_fraction, all_real):
    from sklearn.datasets import load_digits  # noqa: PLC0415

    from .. import selection as sel  # noqa: PLC0415

    X_all, y_all = load_digits(return_X_y=True)
    X_all = X_all.astype(float)
    methods = ["real only", "random", "centre", "k-means", "clusters", "covariance"]
    paradigms = ["pixels (from scratch)", "random-feature probe"]
    refs = ["all real"] if all_real else []
    acc = {pa: {m: [] for m in methods + refs} for pa in paradigms}
    lam_used = {pa: {m: [] for m in methods + refs} for pa in paradigms}
    picked = {m: {} for m in methods[1:]}
    cov_gap = {m: [] for m in methods[1:]}
    feats = random_feature_map(X_all.shape[1], width, seed=12345)
    for seed in progress(list(seeds), desc="digits study"):
        gen = np.random.default_rng(seed)
        perm = gen.permutation(len(y_all))
        n_test = int(test_fraction * len(y_all))
        test, rest = perm[:n_test], perm[n_test:]
        real = np.concatenate([rest[y_all[rest] == c][:real_per_class] for c in range(10)])
        gen_train = np.setdiff1d(rest, real)
        models = fit_generators(X_all[gen_train], y_all[gen_train], seed=seed)
        Xp, yp, src = sample_pool(models, pool_per_class, seed=seed)
        Xr, yr = X_all[real], y_all[real]
        chosen = sel.select_per_class(Xr, yr, Xp, yp, select_per_class, methods[1:],
                                      n_components=n_components, seed=seed)
        for m in methods + refs:
            if m == "real only":
                Xtr, ytr = Xr, yr
            elif m == "all real":
                Xtr = np.vstack([Xr, X_all[gen_train]])
                ytr = np.concatenate([yr, y_all[gen_train]])
            else:
                idx = chosen[m]
                Xtr, ytr = np.vstack([Xr, Xp[idx]]), np.concatenate([yr, yp[idx]])
                names, counts = np.unique(src[idx], return_counts=True)
                for nm, ct in zip(names, counts):
                    picked[m][nm] = picked[m].get(nm, 0) + int(ct)
                cov_gap[m].append(sel.covariance_gap(Xr, yr, Xp[idx], yp[idx], n_components))
            n_real = len(ytr) if m == "all real" else len(yr)
            for pa, f in ((paradigms[0], None), (paradigms[1], feats)):
                a, lm = _fit_and_score(Xtr if f is None else f(Xtr), ytr,
                                       X_all[test] if f is None else f(X_all[test]), y_all[test],
                                       lam, n_real, seed)
                acc[pa][m].append(a)
                lam_used[pa][m].append(lm)
    acc = {pa: {m: np.array(v) for m, v in d.items()} for pa, d in acc.items()}
    lam_used = {pa: {m: np.array(v) for m, v in d.items()} for pa, d in lam_used.items()}
    return DigitsStudy(methods, paradigms, acc, picked, {m: np.array(v) for m, v in cov_gap.items()},
                       refs, lam_used)
