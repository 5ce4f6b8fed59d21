r"""Monte-Carlo surrogate-to-target and two-stage (teacher → student) regression.

See the chapter *Knowledge distillation and weak-to-strong generalisation*, label ``ch-
distillation``.

Batched over trials, over several surrogates sharing the same design and noise (common random
numbers, so that differences between surrogates have small Monte-Carlo error), and over a ridge
path. Runs on the active backend (NumPy or CuPy) with the chunking of :mod:`hdreg.sim.ridge`; only
per-trial summaries come back as NumPy arrays.

* :func:`simulate_surrogate_target`: the target is fitted on ``n`` samples labelled
  :math:`y = X\beta^s + \varepsilon` for each surrogate :math:`\beta^s`, and its risk is measured
  against :math:`\beta_\star`.
* :func:`simulate_two_stage`: a teacher (ridge on a subset of the features) is fitted on ``m``
  ground-truth samples; a student (all features) is fitted on ``n`` fresh inputs labelled by the
  teacher, and, on the same inputs, on ground-truth labels (the strong-label baseline).
* :func:`digits_weak_to_strong`: the same protocol on scikit-learn's bundled digits data set.

With ``conditional=True`` the two simulators return, per trial, the risk *conditioned on the designs*:
the label noise is integrated exactly and the risk is averaged over the signs of the coordinates of
:math:`\beta_\star` (and of the surrogate), a symmetry of the Gaussian design with diagonal
:math:`\Sigma` (:func:`sign_averaged_risk`). Its mean over trials estimates the same expected risk
with a much smaller Monte-Carlo error, because the quadratic forms in the noise and the cross terms
between eigen-directions, which dominate the per-trial fluctuations, are averaged exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate
from ..backend import get_backend, to_numpy
from ..batch import TrialRNG, chunk_size, chunks, trial_seed
from ..theory.distillation import features_mask
from ._summary import PairedTrials
from .ridge import ridge_path, ridgeless_threshold_check

__all__ = ["SurrogateSim", "simulate_surrogate_target", "TwoStageSim", "simulate_two_stage",
           "DigitsW2S", "digits_weak_to_strong", "sign_averaged_risk"]


def _risk(xp, spec, B, b_star):
    """``||B - b_star||_Sigma^2`` over the coefficient axis 1 of ``B`` (t, p, ...)."""
    shape = (1, -1) + (1,) * (B.ndim - 2)
    err = B - b_star.reshape(shape)
    return (spec.reshape(shape) * err * err).sum(axis=1)


@dataclass(frozen=True)
class SurrogateSim(PairedTrials):
    """Per-trial risks against β*, shape ``(trials, S, L)`` for ``S`` surrogates and ``L`` penalties.
    ``coef_mean`` (only with ``return_mean_coef=True``) is the average target, ``(p, S, L)``."""

    lams: np.ndarray
    risk: np.ndarray
    coef_mean: np.ndarray | None = None

    def mean_se(self, field: str = "risk"):
        """Mean over trials and its standard error (at least 2 finite trials)."""
        return PairedTrials.mean_se(self, field)


def simulate_surrogate_target(spectrum, beta_star, surrogates, n: int, noise_var: float, trials: int,
                              lams=0.0, seed: int = 0, return_mean_coef: bool = False,
                              desc: str = "surrogate-to-target", conditional: bool = False) -> SurrogateSim:
    r"""Fit ridge (every penalty in ``lams``; ``0`` is min-norm) on ``n`` samples
    :math:`x \sim N(0, \mathrm{diag(spectrum)})`, labels :math:`x^\top\beta^s + \varepsilon`, for each
    row :math:`\beta^s` of ``surrogates`` (shape ``(S, p)`` or ``(p,)``). All surrogates share the design
    and the noise within a trial. Returns the risk :math:`\|\hat\beta - \beta_\star\|_\Sigma^2`.

    ``conditional=True``: the risk given the design, noise integrated and signs averaged (see the
    module docstring); same expectation, far smaller variance; not with ``return_mean_coef``.
    """
    xp = get_backend().module
    spec_h = np.asarray(to_numpy(_validate.spectrum(spectrum)))
    b_h = np.asarray(to_numpy(_validate.vector_like(beta_star, spec_h, "beta_star")))
    sur = _validate.finite_array(surrogates, "surrogates")
    if sur.ndim == 1:
        sur = sur[None, :]
    if sur.ndim != 2 or sur.shape[1] != spec_h.size:
        raise ValueError(f"surrogates must have shape (S, {spec_h.size}) or ({spec_h.size},), "
                         f"got {_validate.describe(surrogates)}")
    n = _validate.positive_int(n, "n")
    trials = _validate.positive_int(trials, "trials")
    lams_h = _validate.penalties(lams)
    sigma = float(np.sqrt(_validate.nonneg_scalar(noise_var, "noise_var")))
    p, S, L = spec_h.size, sur.shape[0], lams_h.size
    seed = _validate.seed(seed)
    ridgeless_threshold_check(lams_h, n, int(np.count_nonzero(spec_h > 0)))
    if conditional:
        if return_mean_coef:
            raise ValueError("return_mean_coef is not available with conditional=True")
        return SurrogateSim(lams_h, _surrogate_conditional(spec_h, b_h, sur, n, sigma**2, trials,
                                                           lams_h, seed, desc))
    r = min(n, p)
    per_trial = 8 * (2 * n * p + 3 * r * r + 3 * r * S * L + 3 * p * S * L + n * S)
    step = chunk_size(per_trial, trials, "simulate_surrogate_target")
    spec = xp.asarray(spec_h)
    sqrt_spec = xp.sqrt(spec)
    b_star = xp.asarray(b_h)
    sur_d = xp.asarray(sur.T)  # (p, S)
    nlam = xp.asarray(n * lams_h)
    risks = []
    coef_sum = xp.zeros((p, S, L)) if return_mean_coef else None
    for start, stop in chunks(trials, step, desc):
        gen = TrialRNG(seed, start, stop, xp)
        t = stop - start
        X = gen.standard_normal((t, n, p), dtype=xp.float64) * sqrt_spec
        noise = sigma * gen.standard_normal((t, n, 1), dtype=xp.float64)
        Y = X @ sur_d + noise  # (t, n, S)
        B = ridge_path(X, Y, nlam)
        risks.append(to_numpy(_risk(xp, spec, B, b_star)))
        if return_mean_coef:
            coef_sum += B.sum(axis=0)
    coef_mean = to_numpy(coef_sum) / trials if return_mean_coef else None
    return SurrogateSim(lams_h, np.concatenate(risks), coef_mean)


@dataclass(frozen=True)
class TwoStageSim(PairedTrials):
    """Per-trial risks: ``teacher`` (trials,), ``student`` and ``strong`` (trials, L)."""

    lams: np.ndarray
    teacher: np.ndarray
    student: np.ndarray
    strong: np.ndarray


def simulate_two_stage(spectrum, beta_star, m: int, n: int, noise_var: float, trials: int,
                       features=None, lam_teacher: float = 0.0, lams=0.0, target_noise_var: float = 0.0,
                       seed: int = 0, desc: str = "two-stage", conditional: bool = False) -> TwoStageSim:
    r"""Teacher → student, ``trials`` times.

    Teacher: ridge (``lam_teacher``; ``0`` is min-norm) on the features selected by ``features``
    (``None``: all; int ``k``: the ``k`` leading ones; boolean mask), fitted on ``m`` samples
    :math:`y = x^\top\beta_\star + \varepsilon` (all ``p`` features generate the labels). Student: ridge
    with every penalty in ``lams`` on all features, fitted on ``n`` fresh inputs labelled
    :math:`x^\top\beta^s + \varepsilon_t` (``Var ε_t = target_noise_var``); on the same inputs it is also
    fitted on ground-truth labels :math:`x^\top\beta_\star + \varepsilon` (the strong-label baseline).

    ``conditional=True``: risks given the designs, with every label noise integrated and the signs of
    the coordinates of :math:`\beta_\star` averaged (see the module docstring).
    """
    xp = get_backend().module
    spec_h = np.asarray(to_numpy(_validate.spectrum(spectrum)))
    b_h = np.asarray(to_numpy(_validate.vector_like(beta_star, spec_h, "beta_star")))
    seen = features_mask(features, spec_h)
    m = _validate.positive_int(m, "m")
    n = _validate.positive_int(n, "n")
    trials = _validate.positive_int(trials, "trials")
    lams_h = _validate.penalties(lams)
    lam_t = _validate.nonneg_scalar(lam_teacher, "lam_teacher")
    seed = _validate.seed(seed)
    sigma = float(np.sqrt(_validate.nonneg_scalar(noise_var, "noise_var")))
    sigma_t = float(np.sqrt(_validate.nonneg_scalar(target_noise_var, "target_noise_var")))
    p, k, L = spec_h.size, int(seen.sum()), lams_h.size
    rank_s = int(np.count_nonzero(spec_h[seen] > 0))
    if lam_t == 0 and m == rank_s:
        raise ValueError(f"a ridgeless teacher with m = {m} samples on {rank_s} features sits on the "
                         "interpolation threshold; use lam_teacher > 0 or another m")
    ridgeless_threshold_check(lams_h, n, int(np.count_nonzero(spec_h > 0)),
                              what="ridgeless student (lam = 0)")
    if conditional:
        return TwoStageSim(lams_h, *_two_stage_conditional(spec_h, b_h, seen, m, n, sigma**2, sigma_t**2,
                                                           trials, lam_t, lams_h, seed, desc))
    rt, r = min(m, k), min(n, p)
    per_trial = 8 * (m * p + m * k + 3 * rt * rt + 2 * n * p + 3 * r * r + 8 * p * L + 4 * n)
    step = chunk_size(per_trial, trials, "simulate_two_stage")
    spec = xp.asarray(spec_h)
    sqrt_spec = xp.sqrt(spec)
    b_star = xp.asarray(b_h)
    seen_idx = xp.asarray(np.flatnonzero(seen))
    nlam_t = xp.asarray(np.array([m * lam_t]))
    nlam = xp.asarray(n * lams_h)
    teach, stud, strong = [], [], []
    for start, stop in chunks(trials, step, desc):
        gen = TrialRNG(seed, start, stop, xp)
        t = stop - start
        Xs = gen.standard_normal((t, m, p), dtype=xp.float64) * sqrt_spec
        ys = Xs @ b_star + sigma * gen.standard_normal((t, m), dtype=xp.float64)
        Bs = ridge_path(Xs[:, :, seen_idx], ys, nlam_t)[:, :, 0]  # (t, k)
        beta_s = xp.zeros((t, p))
        beta_s[:, seen_idx] = Bs
        err = beta_s - b_star
        teach.append(to_numpy((spec * err * err).sum(axis=1)))
        X = gen.standard_normal((t, n, p), dtype=xp.float64) * sqrt_spec
        eps = gen.standard_normal((t, n), dtype=xp.float64)
        y_teacher = (X @ beta_s[:, :, None])[:, :, 0] + sigma_t * eps
        y_true = X @ b_star + sigma * eps
        B = ridge_path(X, xp.stack([y_teacher, y_true], axis=2), nlam)  # (t, p, 2, L)
        risk = to_numpy(_risk(xp, spec, B, b_star))  # (t, 2, L)
        stud.append(risk[:, 0, :])
        strong.append(risk[:, 1, :])
    return TwoStageSim(lams_h, np.concatenate(teach), np.concatenate(stud), np.concatenate(strong))


@dataclass(frozen=True)
class DigitsW2S(PairedTrials):
    """Test mean squared errors (one row per random split) of the weak teacher, the strong student
    trained on the teacher's predictions, and the strong student trained on true labels."""

    teacher: np.ndarray
    student: np.ndarray
    strong: np.ndarray
    settings: dict


def digits_weak_to_strong(splits: int, m: int, n: int, teacher: str = "tree", weak_size: int = 4,
                          strong_alpha: float = 1e-3, gamma: float = 0.02, n_test: int = 500,
                          seed: int = 0) -> DigitsW2S:
    r"""Weak-to-strong on scikit-learn's bundled ``load_digits`` (1797 images of 8×8 pixels, offline).

    The task is to regress the one-hot encoding of the digit (10 outputs), scored by the test mean
    squared error summed over the outputs. For each random split:

    * a *weak teacher* is fitted on ``m`` labelled images: ``teacher="tree"``, a regression tree of
      depth ``weak_size``; or ``teacher="pca"``, ridge regression (penalty 1) on the first
      ``weak_size`` principal components of the pixels;
    * a *strong student*, RBF kernel ridge regression (``gamma``, penalty ``strong_alpha``), is fitted
      on ``n`` other images labelled by the teacher's predictions;
    * the same student is fitted on the true labels of the same ``n`` images (strong labels);

    all three are scored on ``n_test`` held-out images. NumPy and scikit-learn only (CPU).
    """
    from sklearn.datasets import load_digits  # noqa: PLC0415
    from sklearn.decomposition import PCA  # noqa: PLC0415
    from sklearn.kernel_ridge import KernelRidge  # noqa: PLC0415
    from sklearn.linear_model import Ridge  # noqa: PLC0415
    from sklearn.pipeline import make_pipeline  # noqa: PLC0415
    from sklearn.tree import DecisionTreeRegressor  # noqa: PLC0415

    splits = _validate.positive_int(splits, "splits")
    m = _validate.positive_int(m, "m")
    n = _validate.positive_int(n, "n")
    n_test = _validate.positive_int(n_test, "n_test")
    weak_size = _validate.positive_int(weak_size, "weak_size")
    teacher = _validate.choice(teacher, "teacher", ("tree", "pca"))
    seed = _validate.seed(seed)
    strong_alpha = _validate.positive_scalar(strong_alpha, "strong_alpha")
    gamma = _validate.positive_scalar(gamma, "gamma")
    X, labels = load_digits(return_X_y=True)
    X = X / 16.0
    Y = np.eye(10)[labels]
    if m + n + n_test > X.shape[0]:
        raise ValueError(f"m + n + n_test = {m + n + n_test} exceeds the {X.shape[0]} images")
    out = {"teacher": [], "student": [], "strong": []}
    for j in range(splits):  # split j's permutation depends only on (seed, j)
        perm = np.random.default_rng(trial_seed(seed, j)).permutation(X.shape[0])
        i_t, i_s, i_e = perm[:m], perm[m:m + n], perm[m + n:m + n + n_test]
        if teacher == "tree":
            weak = DecisionTreeRegressor(max_depth=weak_size, random_state=j)
        else:
            weak = make_pipeline(PCA(n_components=weak_size), Ridge(alpha=1.0))
        weak.fit(X[i_t], Y[i_t])
        student = KernelRidge(alpha=strong_alpha, kernel="rbf", gamma=gamma).fit(X[i_s], weak.predict(X[i_s]))
        strong = KernelRidge(alpha=strong_alpha, kernel="rbf", gamma=gamma).fit(X[i_s], Y[i_s])

        def mse(pred):
            return float(((pred - Y[i_e]) ** 2).sum(axis=1).mean())

        out["teacher"].append(mse(weak.predict(X[i_e])))
        out["student"].append(mse(student.predict(X[i_e])))
        out["strong"].append(mse(strong.predict(X[i_e])))
    settings = dict(splits=splits, m=m, n=n, teacher=teacher, weak_size=weak_size,
                    strong_alpha=strong_alpha, gamma=gamma, n_test=n_test, seed=seed)
    return DigitsW2S(*(np.array(out[k]) for k in ("teacher", "student", "strong")), settings)



# --------------------------------------------------------------------------------------------
# risks conditioned on the design


def sign_averaged_risk(spectrum, A, b, beta_star, N=None, noise_var: float = 0.0):
    r"""Risk of :math:`\hat\beta = Ab + N\varepsilon` against :math:`\beta_\star`, averaged over the
    noise :math:`\varepsilon \sim \mathcal N(0, \sigma^2 I)` and over independent random signs of the
    coordinates (applied to ``b`` and ``beta_star`` together):

    .. math::
        \sum_i \big[b_i^2 (A^\top\Sigma A)_{ii} - 2 b_i\beta_{\star,i}\lambda_iA_{ii} + \lambda_i\beta_{\star,i}^2\big]
        + \sigma^2\operatorname{tr}(N^\top\Sigma N).

    ``A`` has shape ``(t, p, p, ...)`` (column ``i`` is the estimate for the labels :math:`Xe_i`),
    ``N`` shape ``(t, p, q, ...)``; ``b`` is ``(p,)`` or ``(S, p)`` (then the result has an axis of
    size ``S`` after the trial axis). For a Gaussian design with diagonal :math:`\Sigma` flipping the
    signs of coordinates leaves the law of the design unchanged, so the mean of this quantity over
    designs is the expected risk. Works on the backend's arrays; returns an array of the same kind.
    """
    xp = get_backend().module
    spec = xp.asarray(spectrum)
    p = spec.shape[0]
    extra = (1,) * (A.ndim - 3)
    lam_col = spec.reshape((1, p, 1) + extra)
    quad = (lam_col * A * A).sum(axis=1)  # (t, p, ...): (A^T Sigma A)_ii
    idx = xp.arange(p)
    diag = A[:, idx, idx]  # (t, p, ...)
    bb = xp.asarray(b)
    single = bb.ndim == 1
    bb = bb.reshape(1, p) if single else bb
    bs = xp.asarray(beta_star).reshape(1, p)
    shape = (1, bb.shape[0], p) + extra
    lam = spec.reshape((1, 1, p) + extra)
    out = ((bb * bb).reshape(shape) * quad[:, None]
           - 2.0 * (bb * bs).reshape(shape) * lam * diag[:, None]
           + (lam * bs.reshape((1, 1, p) + extra) ** 2)).sum(axis=2)  # (t, S, ...)
    if N is not None and noise_var > 0:
        out = out + noise_var * (spec.reshape((1, p, 1) + extra) * N * N).sum(axis=(1, 2))[:, None]
    return out[:, 0] if single else out


def _surrogate_conditional(spec_h, b_h, sur, n, noise_var, trials, lams_h, seed, desc):
    xp = get_backend().module
    p, L = spec_h.size, lams_h.size
    per_trial = 8 * (2 * n * p + 3 * min(n, p) ** 2 + 4 * p * (p + n) * L + n * (p + n))
    step = chunk_size(per_trial, trials, "simulate_surrogate_target (conditional)")
    spec = xp.asarray(spec_h)
    sqrt_spec = xp.sqrt(spec)
    nlam = xp.asarray(n * lams_h)
    sur_d, b_d = xp.asarray(sur), xp.asarray(b_h)
    eye = xp.eye(n)
    risks = []
    for start, stop in chunks(trials, step, desc):
        gen = TrialRNG(seed, start, stop, xp)
        t = stop - start
        X = gen.standard_normal((t, n, p), dtype=xp.float64) * sqrt_spec
        Y = xp.concatenate([X, xp.broadcast_to(eye, (t, n, n))], axis=2)
        B = ridge_path(X, Y, nlam)  # (t, p, p + n, L)
        r = sign_averaged_risk(spec, B[:, :, :p], sur_d, b_d, B[:, :, p:], noise_var)  # (t, S, L)
        risks.append(to_numpy(r))
    return np.concatenate(risks)


def _two_stage_conditional(spec_h, b_h, seen, m, n, noise_var, target_noise_var, trials, lam_t, lams_h,
                           seed, desc):
    xp = get_backend().module
    p, k, L = spec_h.size, int(seen.sum()), lams_h.size
    per_trial = 8 * (m * p + m * (p + m) + 2 * k * (p + m) + p * (p + m) + 2 * n * p
                     + n * (2 * p + m + n) + 4 * p * (2 * p + m + n) * L)
    step = chunk_size(per_trial, trials, "simulate_two_stage (conditional)")
    spec = xp.asarray(spec_h)
    sqrt_spec = xp.sqrt(spec)
    b_star = xp.asarray(b_h)
    seen_idx = xp.asarray(np.flatnonzero(seen))
    nlam_t = xp.asarray(np.array([m * lam_t]))
    nlam = xp.asarray(n * lams_h)
    teach, stud, strong = [], [], []
    for start, stop in chunks(trials, step, desc):
        gen = TrialRNG(seed, start, stop, xp)
        t = stop - start
        Xt = gen.standard_normal((t, m, p), dtype=xp.float64) * sqrt_spec
        Yt = xp.concatenate([Xt, xp.broadcast_to(xp.eye(m), (t, m, m))], axis=2)
        Bs = ridge_path(Xt[:, :, seen_idx], Yt, nlam_t)[:, :, :, 0]  # (t, k, p + m)
        T = xp.zeros((t, p, p + m))
        T[:, seen_idx] = Bs
        teach.append(to_numpy(sign_averaged_risk(spec, T[:, :, :p, None], b_star, b_star,
                                                 T[:, :, p:, None], noise_var)[:, 0]))
        X = gen.standard_normal((t, n, p), dtype=xp.float64) * sqrt_spec
        Y = xp.concatenate([X @ T, X, xp.broadcast_to(xp.eye(n), (t, n, n))], axis=2)
        B = ridge_path(X, Y, nlam)  # (t, p, 2p + m + n, L)
        own = B[:, :, 2 * p + m:]
        stud_r = sign_averaged_risk(spec, B[:, :, :p], b_star, b_star, B[:, :, p:p + m], noise_var)
        if target_noise_var > 0:
            stud_r = stud_r + target_noise_var * (spec[None, :, None, None] * own * own).sum(axis=(1, 2))
        strong_r = sign_averaged_risk(spec, B[:, :, p + m:2 * p + m], b_star, b_star, own, noise_var)
        stud.append(to_numpy(stud_r))
        strong.append(to_numpy(strong_r))
    return np.concatenate(teach), np.concatenate(stud), np.concatenate(strong)


# --------------------------------------------------------------------------------------------
# a teacher trained under a different covariance (covariance shift)

__all__ += ["CovarianceShiftSim", "simulate_covariance_shift"]


@dataclass(frozen=True)
class CovarianceShiftSim(PairedTrials):
    """Per-trial risks on the student's covariance: ``teacher`` and ``student`` ``(trials, S)`` for the
    ``S`` teacher spectra, ``strong`` ``(trials,)`` (the student on noisy ground-truth labels). Every
    teacher spectrum shares the trial's draws (common random numbers), so differences between columns
    are paired."""

    teacher: np.ndarray
    student: np.ndarray
    strong: np.ndarray


def simulate_covariance_shift(spectrum, beta_star, teacher_spectra, m: int, n: int, noise_var: float,
                              trials: int, lam_teacher: float = 0.0, target_noise_var: float = 0.0,
                              seed: int = 0, desc: str = "covariance shift",
                              conditional: bool = False) -> CovarianceShiftSim:
    r"""Teacher → student under covariance shift, ``trials`` times, for every teacher spectrum.

    Teacher: ridge (``lam_teacher``; ``0`` is min-norm) on ``m`` samples :math:`x = \Sigma_s^{1/2}g`,
    :math:`g \sim N(0, I_p)`, labels :math:`x^\top\beta_\star + \varepsilon`, for each row
    :math:`\Sigma_s` of ``teacher_spectra`` (shape ``(S, p)`` or ``(p,)``; the same :math:`g` and
    :math:`\varepsilon` for every row). Student: the ridgeless interpolator on ``n`` fresh inputs with
    covariance :math:`\Sigma` = ``spectrum``, labelled :math:`x^\top\beta^s + \varepsilon_t`
    (``Var ε_t = target_noise_var``); on the same inputs it is also fitted on :math:`x^\top\beta_\star +
    \varepsilon'` with ``Var ε' = noise_var`` (``strong``). All risks are :math:`\|\cdot - \beta_\star\|_\Sigma^2`.

    ``conditional=True``: risks given the designs, every label noise integrated and the signs of the
    coordinates of :math:`\beta_\star` averaged (both designs have diagonal covariances; see the module
    docstring). Trial ``i`` draws only from ``(seed, i)``.
    """
    xp = get_backend().module
    spec_h = np.asarray(to_numpy(_validate.spectrum(spectrum)))
    b_h = np.asarray(to_numpy(_validate.vector_like(beta_star, spec_h, "beta_star")))
    sur = _validate.finite_array(teacher_spectra, "teacher_spectra", low=0.0)
    if sur.ndim == 1:
        sur = sur[None, :]
    if sur.ndim != 2 or sur.shape[1] != spec_h.size:
        raise ValueError(f"teacher_spectra must have shape (S, {spec_h.size}) or ({spec_h.size},), "
                         f"got {_validate.describe(teacher_spectra)}")
    if np.any(sur.max(axis=1) <= 0):
        raise ValueError("every row of teacher_spectra needs a positive entry")
    m = _validate.positive_int(m, "m")
    n = _validate.positive_int(n, "n")
    trials = _validate.positive_int(trials, "trials")
    lam_t = _validate.nonneg_scalar(lam_teacher, "lam_teacher")
    seed = _validate.seed(seed)
    sigma2 = _validate.nonneg_scalar(noise_var, "noise_var")
    sigma_t2 = _validate.nonneg_scalar(target_noise_var, "target_noise_var")
    p, S = spec_h.size, sur.shape[0]
    ranks = np.count_nonzero(sur > 0, axis=1)
    if lam_t == 0 and np.any(ranks == m):
        raise ValueError(f"a ridgeless teacher with m = {m} samples on {m} directions sits on the "
                         "interpolation threshold; use lam_teacher > 0 or another m")
    ridgeless_threshold_check(np.array([0.0]), n, int(np.count_nonzero(spec_h > 0)),
                              what="ridgeless student (lam = 0)")
    per_trial = 8 * (2 * m * p + (m + p) * (p + m) * 3 + 2 * n * p + n * (p + n) * 3
                     + 4 * S * p * (p + m))
    step = chunk_size(per_trial, trials, "simulate_covariance_shift")
    spec = xp.asarray(spec_h)
    sqrt_spec = xp.sqrt(spec)
    sqrt_sur = xp.sqrt(xp.asarray(sur))
    b_star = xp.asarray(b_h)
    nlam_t = xp.asarray(np.array([m * lam_t]))
    zero = xp.asarray(np.array([0.0]))
    eye_m = xp.eye(m)
    teach, stud, strong = [], [], []
    for start, stop in chunks(trials, step, desc):
        gen = TrialRNG(seed, start, stop, xp)
        t = stop - start
        G = gen.standard_normal((t, m, p), dtype=xp.float64)
        X = gen.standard_normal((t, n, p), dtype=xp.float64) * sqrt_spec
        # the student's operators: K = estimate for the labels X e_i, M = estimate for e_j
        KM = ridge_path(X, xp.concatenate([X, xp.broadcast_to(xp.eye(n), (t, n, n))], axis=2), zero)
        K, M = KM[:, :, :p, 0], KM[:, :, p:, 0]  # (t, p, p), (t, p, n)
        if not conditional:
            eps_t = gen.standard_normal((t, m), dtype=xp.float64)
            eps_s = gen.standard_normal((t, n), dtype=xp.float64)
        r_teach, r_stud = [], []
        for j in range(S):
            Xt = G * sqrt_sur[j]
            T = ridge_path(Xt, xp.concatenate([Xt, xp.broadcast_to(eye_m, (t, m, m))], axis=2),
                           nlam_t)[:, :, :, 0]  # (t, p, p + m): teacher = T [beta; eps]
            if conditional:
                r_teach.append(sign_averaged_risk(spec, T[:, :, :p, None], b_star, b_star,
                                                  T[:, :, p:, None], sigma2)[:, 0])
                A = (K @ T[:, :, :p])[..., None]
                N = (K @ T[:, :, p:])[..., None]
                r = sign_averaged_risk(spec, A, b_star, b_star, N, sigma2)[:, 0]
                if sigma_t2 > 0:
                    r = r + sigma_t2 * (spec[None, :, None] * M * M).sum(axis=(1, 2))
                r_stud.append(r)
            else:
                bs = (T[:, :, :p] @ b_star) + (T[:, :, p:] @ eps_t[:, :, None])[:, :, 0] * np.sqrt(sigma2)
                r_teach.append((spec * (bs - b_star) ** 2).sum(axis=1))
                bt = (K @ bs[:, :, None])[:, :, 0] + np.sqrt(sigma_t2) * (M @ eps_s[:, :, None])[:, :, 0]
                r_stud.append((spec * (bt - b_star) ** 2).sum(axis=1))
        if conditional:
            r_strong = sign_averaged_risk(spec, K[..., None], b_star, b_star, M[..., None], sigma2)[:, 0]
        else:
            bt = (K @ b_star) + np.sqrt(sigma2) * (M @ eps_s[:, :, None])[:, :, 0]
            r_strong = (spec * (bt - b_star) ** 2).sum(axis=1)
        teach.append(to_numpy(xp.stack(r_teach, axis=1)))
        stud.append(to_numpy(xp.stack(r_stud, axis=1)))
        strong.append(to_numpy(r_strong).reshape(-1))
    return CovarianceShiftSim(np.concatenate(teach), np.concatenate(stud), np.concatenate(strong))
