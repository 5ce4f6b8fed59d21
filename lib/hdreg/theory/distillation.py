r"""Surrogate-to-target training (knowledge distillation) and weak-to-strong generalisation.

See the chapter *Knowledge distillation and weak-to-strong generalisation* (label ``ch-
distillation``).

Conventions are those of :mod:`hdreg.theory.ridge`: rows ``x ~ N(0, Σ)`` with ``Σ = diag(spectrum)``,
vectors in the eigenbasis, normalised ridge :math:`\frac1n\|y - Xb\|^2 + \lambda\|b\|^2` (``lam = 0``
is the minimum-norm interpolator) and risk :math:`\|\hat\beta - \beta_\star\|_\Sigma^2`.

**Model shift.** A *target* is fitted on ``n`` samples whose labels come from a *surrogate*,
:math:`y = x^\top\beta^s + \varepsilon` (``Var ε = noise_var``), and is evaluated against
:math:`\beta_\star`. With :math:`\kappa = \kappa(n, \lambda)` the effective regularisation of Chapter ``ch-ridge``,
:math:`s_i = \lambda_i/(\lambda_i + \kappa)` and :math:`c = \mathrm{df}_2/(n - \mathrm{df}_2)`, the
model-shift lemma (Chapter ``ch-distillation``, ``lem-model-shift``) gives

.. math::
    \bar{\mathcal R}(\beta^s) = \sum_i \lambda_i (s_i\beta^s_i - \beta_{\star,i})^2
      + c\Big[\sigma^2 + \sum_i \lambda_i (1 - s_i)^2 (\beta^s_i)^2\Big].

It is a separable quadratic in :math:`\beta^s`; its minimiser (``thm-optimal-surrogate``) is
:math:`\beta^{s\star}_i = s_i\beta_{\star,i}/(s_i^2 + c(1 - s_i)^2)`, which amplifies direction ``i``
iff :math:`\lambda_i > c\kappa`, and the best 0–1 mask keeps ``i`` iff
:math:`\lambda_i > \kappa(\sqrt{1 + c} - 1)` (``prop-mask``), a rule that does not involve
:math:`\beta_\star`.

**Two stages.** A *teacher* (ridge with penalty ``lam_teacher`` on the features in ``features``)
is fitted on ``m`` samples of ground-truth labels; its predictions label the ``n`` samples of the
*student* (all features). The teacher's fit is described by its Gaussian equivalent
(``thm-two-stage``): mean :math:`t_i\beta_{\star,i}` and per-coordinate variance
:math:`v_i = \gamma_s^2\lambda_i/(m(\lambda_i + \kappa_s)^2)` on the features it sees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate
from ..backend import as_host, on_active_backend, to_numpy
from .ridge import degrees_of_freedom, effective_regularization

__all__ = [
    "SurrogateRisk",
    "surrogate_risk",
    "surrogate_risk_terms",
    "optimal_surrogate",
    "optimal_surrogate_risk",
    "numerical_optimal_ratio",
    "amplification_threshold",
    "mask_threshold",
    "optimal_mask",
    "TeacherMoments",
    "teacher_moments",
    "TwoStageRisk",
    "two_stage_risk",
    "power_law_ratio_limit",
]

_BLOCK = 1 << 20  # elements of one (points x spectrum) block


def _scalar_nonneg(value, name):
    if np.ndim(value):
        raise ValueError(f"{name} must be a scalar, got shape {np.shape(value)}")
    return _validate.nonneg_scalar(value, name)


def _host_spectrum(spectrum):
    return as_host(_validate.spectrum(spectrum))


def _host_vector(values, spec, name):
    return as_host(_validate.vector_like(values, spec, name))


def _shrinkage(spec, kappa, xp=np):
    """``s_i = lambda_i/(lambda_i + kappa)`` and ``1 - s_i`` for a 1-D ``kappa``; rows are points.
    ``spec`` lives on ``xp`` (the active backend for large spectra, see :func:`_on_backend`).

    Zero eigenvalues get ``s = 0`` (they carry no risk: every term is multiplied by ``lambda_i``).
    """
    k = xp.asarray(as_host(kappa))[:, None]
    pos = spec[None, :] > 0
    denom = xp.where(pos, spec[None, :] + k, 1.0)
    s = xp.where(pos, spec[None, :] / denom, 0.0)
    one_minus = xp.where(pos, k / denom, 1.0)
    return s, one_minus


def _on_backend(*host_arrays):
    """The per-coordinate sums over large spectra (e.g. the 2 x 10^6 directions of the distillation
    chapter's scaling check) run on the active backend: ``(xp, arrays on xp)``."""
    spec, xp = on_active_backend(host_arrays[0])
    return xp, (spec,) + tuple(xp.asarray(a) for a in host_arrays[1:])


def _c_factor(spec, kappa, n):
    """``c = df2/(n - df2)`` at every (kappa, n) point (host arrays of one shape)."""
    _, df2 = degrees_of_freedom(spec, kappa)
    df2 = as_host(df2)
    return df2, df2 / (n - df2)


def _kappa_grid(spec, n, lam):
    n_h = _validate.nonneg(n, "n", allow_zero=False)
    lam_h = as_host(lam)
    kappa = np.asarray(effective_regularization(spec, n_h, lam_h), dtype=np.float64)
    n_b, _ = np.broadcast_arrays(n_h, lam_h)
    return kappa, np.broadcast_to(n_b, kappa.shape).astype(np.float64)


@dataclass(frozen=True)
class SurrogateRisk:
    r"""Terms of the surrogate-to-target risk, each of the broadcast shape of ``(n, lam)``.

    ``bias`` is :math:`\sum_i\lambda_i(s_i\beta^s_i - \beta_{\star,i})^2` (the squared distance of the
    target's mean from :math:`\beta_\star`), ``fluctuation`` is
    :math:`c\sum_i\lambda_i(1 - s_i)^2(\beta^s_i)^2`, ``noise`` is :math:`c\sigma^2`, and
    ``risk = bias + fluctuation + noise``.
    """

    kappa: np.ndarray
    c: np.ndarray
    bias: np.ndarray
    fluctuation: np.ndarray
    noise: np.ndarray
    risk: np.ndarray


def surrogate_risk_terms(spectrum, beta_star, beta_surrogate, n, noise_var, lam=0.0) -> SurrogateRisk:
    r"""Deterministic equivalent of the risk against ``beta_star`` of ridge (``lam``, default ridgeless)
    fitted on ``n`` samples labelled by ``beta_surrogate`` with noise variance ``noise_var``.

    Broadcasts over ``n`` and ``lam``. Implements eq. ``eq-surrogate-risk`` of Chapter ``ch-distillation``:
    :math:`\sum_i\lambda_i(s_i\beta^s_i - \beta_{\star,i})^2 + c[\sigma^2 + \sum_i\lambda_i(1 - s_i)^2(\beta^s_i)^2]`.
    """
    spec = _host_spectrum(spectrum)
    b_star = _host_vector(beta_star, spec, "beta_star")
    b_sur = _host_vector(beta_surrogate, spec, "beta_surrogate")
    sigma2 = _scalar_nonneg(noise_var, "noise_var")
    kappa, n_b = _kappa_grid(spec, n, lam)
    flat_k = kappa.reshape(-1)
    df2, c = _c_factor(spec, flat_k, n_b.reshape(-1))
    bias = np.empty(flat_k.size)
    fluct_sum = np.empty(flat_k.size)
    xp, (sp, bs, bt) = _on_backend(spec, b_star, b_sur)
    step = max(1, _BLOCK // spec.size)
    for a in range(0, flat_k.size, step):
        s, om = _shrinkage(sp, flat_k[a:a + step], xp)
        bias[a:a + step] = as_host((sp * (s * bt - bs) ** 2).sum(axis=1))
        fluct_sum[a:a + step] = as_host((sp * (om * bt) ** 2).sum(axis=1))
    fluct = c * fluct_sum
    noise = c * sigma2
    risk = bias + fluct + noise

    def out(a):
        a = np.asarray(a).reshape(kappa.shape)
        return float(a) if a.ndim == 0 else a

    return SurrogateRisk(out(kappa), out(c), out(bias), out(fluct), out(noise), out(risk))


def surrogate_risk(spectrum, beta_star, beta_surrogate, n, noise_var, lam=0.0):
    r"""Risk against :math:`\beta_\star` of the target trained on ``n`` samples with labels
    :math:`x^\top\beta^s + \varepsilon` (a float, or an array of the broadcast shape of ``(n, lam)``).

    ``lam = 0`` is the minimum-norm target. See :func:`surrogate_risk_terms` for the decomposition;
    with ``beta_surrogate = beta_star`` this equals :func:`hdreg.theory.ridge.ridge_risk` ``.risk``.
    """
    return surrogate_risk_terms(spectrum, beta_star, beta_surrogate, n, noise_var, lam).risk


def _scalar_point(spec, n, lam):
    if np.ndim(n) or np.ndim(lam):
        raise ValueError("n and lam must be scalars here (one target model)")
    n_v = _validate.nonneg_scalar(n, "n", allow_zero=False)
    lam_v = _validate.nonneg_scalar(lam, "lam")
    kappa = float(effective_regularization(spec, n_v, lam_v))
    df2, c = _c_factor(spec, np.array([kappa]), np.array([n_v]))
    return kappa, float(c[0])


def optimal_surrogate(spectrum, beta_star, n, lam=0.0):
    r"""The surrogate :math:`\beta^{s\star}` that minimises :func:`surrogate_risk` (for any noise level).

    :math:`\beta^{s\star}_i = \dfrac{s_i}{s_i^2 + c(1 - s_i)^2}\,\beta_{\star,i}` with
    :math:`s_i = \lambda_i/(\lambda_i + \tau)` and :math:`c = \mathrm{df}_2/(n - \mathrm{df}_2)` at the
    implicit regularisation :math:`\tau` of the ridgeless target (``lam = 0``, the default), or at
    :math:`\kappa(n, \lambda)` for a ridge target. Chapter ``ch-distillation``, Theorem ``thm-optimal-surrogate``.

    An under-parameterised ridgeless target (``n`` above the number of non-zero eigenvalues) has
    ``s = 1``, and the optimal surrogate is :math:`\beta_\star` itself. Directions with a zero
    eigenvalue do not affect the risk; they get ``0``.
    """
    spec = _host_spectrum(spectrum)
    b_star = _host_vector(beta_star, spec, "beta_star")
    kappa, c = _scalar_point(spec, n, lam)
    s, om = _shrinkage(spec, [kappa])
    s, om = s[0], om[0]
    denom = s * s + c * om * om
    weight = np.where(spec > 0, s / np.where(spec > 0, denom, 1.0), 0.0)
    return weight * b_star


def numerical_optimal_ratio(spectrum, beta_star, n, directions, lam=0.0):
    r"""Minimise :func:`surrogate_risk` over one coordinate :math:`eta^s_i` at a time, without the
    closed form of :func:`optimal_surrogate`; returns :math:`rg\min/eta_{\star,i}` per direction.

    The other coordinates are held at :math:`eta_\star`. The risk is a quadratic in each coordinate
    (eq. ``eq-surrogate-risk``), so the parabola through its values at :math:`eta^s_i = ueta_{\star,i}`,
    :math:`u \in \{0, 1, 2\}`, is exact and its vertex is the minimiser. ``directions`` are 0-based
    indices of directions with :math:`\lambda_i > 0` and :math:`eta_{\star,i} 
e 0`.
    """
    spec = _host_spectrum(spectrum)
    b_star = _host_vector(beta_star, spec, "beta_star")
    idx = np.atleast_1d(np.asarray(directions))
    if idx.ndim != 1 or idx.size == 0 or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(f"directions must be a non-empty 1-D array of integer indices, got {directions!r}")
    if np.any(idx < 0) or np.any(idx >= spec.size):
        raise ValueError(f"directions must lie in [0, {spec.size - 1}], got {idx}")
    if np.any(spec[idx] <= 0) or np.any(b_star[idx] == 0):
        raise ValueError("directions must have a positive eigenvalue and a non-zero beta_star entry")
    out = np.empty(idx.size)
    for j, i in enumerate(idx):
        r = []
        for u in (0.0, 1.0, 2.0):
            b = b_star.copy()
            b[i] = u * b_star[i]
            r.append(surrogate_risk(spec, b_star, b, n, 0.0, lam))
        a = (r[2] - 2 * r[1] + r[0]) / 2
        out[j] = -(r[1] - r[0] - a) / (2 * a)
    return out


def optimal_surrogate_risk(spectrum, beta_star, n, noise_var, lam=0.0) -> float:
    r"""Risk of :func:`optimal_surrogate`:
    :math:`\sum_i\lambda_i\beta_{\star,i}^2\,\frac{c(1-s_i)^2}{s_i^2 + c(1-s_i)^2} + c\sigma^2`."""
    return surrogate_risk(spectrum, beta_star, optimal_surrogate(spectrum, beta_star, n, lam), n,
                          noise_var, lam)


def amplification_threshold(spectrum, n, lam=0.0) -> float:
    r"""The eigenvalue :math:`c\kappa` above which the optimal surrogate amplifies a direction
    (:math:`|\beta^{s\star}_i| > |\beta_{\star,i}|` iff :math:`\lambda_i > c\kappa`), below which it
    shrinks it. ``0`` for an under-parameterised ridgeless target (nothing is amplified or shrunk)."""
    spec = _host_spectrum(spectrum)
    kappa, c = _scalar_point(spec, n, lam)
    return float(c * kappa)


def mask_threshold(spectrum, n, lam=0.0) -> float:
    r"""The eigenvalue :math:`\kappa(\sqrt{1 + c} - 1)` above which the optimal 0–1 surrogate keeps a
    feature (Chapter ``ch-distillation``, Proposition ``prop-mask``)."""
    spec = _host_spectrum(spectrum)
    kappa, c = _scalar_point(spec, n, lam)
    return float(kappa * (np.sqrt(1.0 + c) - 1.0))


def optimal_mask(spectrum, n, lam=0.0, beta_star=None):
    r"""Boolean mask of the best 0–1 surrogate :math:`\beta^s = M\beta_\star` for the target on ``n``
    samples: keep feature ``i`` iff :math:`(1 + c)(1 - s_i)^2 < 1`, i.e.
    :math:`\lambda_i > \kappa(\sqrt{1 + c} - 1)` (:func:`mask_threshold`).

    The rule depends on the spectrum and ``n`` only: keeping feature ``i`` costs
    :math:`(1 + c)(1 - s_i)^2\lambda_i\beta_{\star,i}^2` and dropping it costs
    :math:`\lambda_i\beta_{\star,i}^2`, so :math:`\beta_{\star,i}^2` cancels from the comparison. It
    matters only where :math:`\beta_{\star,i} = 0` (then both choices are optimal); pass
    ``beta_star`` to drop those features as well. Features with a zero eigenvalue are dropped.
    Chapter ``ch-distillation``, Proposition ``prop-mask``.
    """
    spec = _host_spectrum(spectrum)
    keep = spec > mask_threshold(spec, n, lam)
    if beta_star is not None:
        b = _host_vector(beta_star, spec, "beta_star")
        keep &= b != 0
    return keep


@dataclass(frozen=True)
class TeacherMoments:
    r"""Gaussian-equivalent description of a teacher (ridge on a subset of features, ``m`` samples).

    ``mean`` (:math:`t_i\beta_{\star,i}`, zero on unseen features) and ``var`` (:math:`v_i`) are
    per-coordinate arrays; ``risk`` is the teacher's own excess risk
    :math:`\sum_i\lambda_i[(t_i - 1)^2\beta_{\star,i}^2 + v_i]`; ``kappa`` its effective
    regularisation and ``noise_eff`` the label noise it sees (noise plus the signal of unseen features).
    """

    mean: np.ndarray
    var: np.ndarray
    risk: float
    kappa: float
    noise_eff: float


def features_mask(features, spec):
    """Boolean mask of the features a teacher sees: ``None`` (all), an int ``k`` (the ``k`` leading
    ones) or a boolean mask of the spectrum's shape (at least one positive eigenvalue selected)."""
    if features is None:
        return np.ones(spec.size, dtype=bool)
    f = np.asarray(to_numpy(features))
    if f.ndim == 0:
        k = _validate.positive_int(f.item(), "features")
        if k > spec.size:
            raise ValueError(f"features (a number of leading features) must be <= {spec.size}, got {k}")
        mask = np.zeros(spec.size, dtype=bool)
        mask[:k] = True
        return mask
    if f.dtype != bool or f.shape != spec.shape:
        raise ValueError(f"features must be None, an int (the k leading features) or a boolean mask of "
                         f"shape {spec.shape}, got dtype {f.dtype} and shape {f.shape}")
    if not np.any(f & (spec > 0)):
        raise ValueError("features must select at least one direction with a positive eigenvalue")
    return f.copy()


_features_mask = features_mask  # old private name, kept for existing callers


def teacher_moments(spectrum, beta_star, m, noise_var, lam=0.0, features=None) -> TeacherMoments:
    r"""Mean and per-coordinate variance of a teacher fitted by ridge (``lam``, default ridgeless) on
    ``m`` samples :math:`y = x^\top\beta_\star + \varepsilon`, using only the features in ``features``
    (``None``: all; an int ``k``: the ``k`` leading ones; or a boolean mask).

    The unseen features are independent of the seen ones, so they act as extra label noise:
    :math:`\sigma_{\rm eff}^2 = \sigma^2 + \sum_{i\notin S}\lambda_i\beta_{\star,i}^2`. On the seen
    features, with :math:`\kappa_s = \kappa(m, \lambda)` of the restricted spectrum,
    :math:`t_i = \lambda_i/(\lambda_i + \kappa_s)` and

    .. math::
        v_i = \frac{\gamma_s^2}{m}\frac{\lambda_i}{(\lambda_i + \kappa_s)^2},\qquad
        \gamma_s^2 = \frac{\sigma_{\rm eff}^2 + \kappa_s^2\sum_{i\in S}\lambda_i\beta_{\star,i}^2/(\lambda_i+\kappa_s)^2}
        {1 - \mathrm{df}_2^{(S)}/m}.

    Chapter ``ch-distillation``, Theorem ``thm-two-stage``.
    """
    spec = _host_spectrum(spectrum)
    b_star = _host_vector(beta_star, spec, "beta_star")
    sigma2 = _scalar_nonneg(noise_var, "noise_var")
    if np.ndim(m) or np.ndim(lam):
        raise ValueError("m and lam must be scalars (one teacher)")
    m_v = _validate.nonneg_scalar(m, "m", allow_zero=False)
    lam_v = _validate.nonneg_scalar(lam, "lam")
    seen = features_mask(features, spec)
    spec_s = np.where(seen, spec, 0.0)
    noise_eff = sigma2 + float(np.sum(np.where(seen, 0.0, spec * b_star**2)))
    kappa = float(effective_regularization(spec_s, m_v, lam_v))
    t, om = _shrinkage(spec_s, [kappa])
    t, om = t[0], om[0]
    _, df2 = degrees_of_freedom(spec_s, kappa)
    df2 = float(df2)
    pos = spec_s > 0
    bias_s = float(np.sum(np.where(pos, spec_s * (om * b_star) ** 2, 0.0)))
    gamma2 = (noise_eff + bias_s) / (1.0 - df2 / m_v)
    denom = np.where(pos, spec_s + kappa, 1.0)
    var = np.where(pos, gamma2 / m_v * spec_s / denom**2, 0.0)
    mean = np.where(pos, t * b_star, 0.0)
    risk = float(np.sum(spec * ((mean - b_star) ** 2 + var)))
    return TeacherMoments(mean, var, risk, kappa, noise_eff)


@dataclass(frozen=True)
class TwoStageRisk:
    """Teacher, student and strong-label baseline risks; student arrays have the broadcast shape of
    ``(n, lam)``. ``strong`` is the same student trained on ground-truth labels with noise
    ``noise_var`` (same ``n``, same penalty)."""

    teacher: float
    student: np.ndarray
    strong: np.ndarray
    moments: TeacherMoments


def two_stage_risk(spectrum, beta_star, m, n, noise_var, lam_teacher=0.0, lam=0.0, features=None,
                   target_noise_var=0.0) -> TwoStageRisk:
    r"""Expected risk of a student trained on ``n`` samples labelled by a teacher fitted on ``m``
    ground-truth samples (see :func:`teacher_moments`), against :math:`\beta_\star`.

    Averaging the model-shift risk over the teacher (independent of the student's data),

    .. math::
        \mathbb E\bar{\mathcal R} = \sum_i\lambda_i\big[(s_it_i - 1)^2\beta_{\star,i}^2 + s_i^2v_i\big]
        + c\Big[\sigma_t^2 + \sum_i\lambda_i(1 - s_i)^2\big(t_i^2\beta_{\star,i}^2 + v_i\big)\Big],

    where :math:`\sigma_t^2` = ``target_noise_var`` is the noise added to the teacher's labels
    (``0``: the student sees the teacher's predictions). Chapter ``ch-distillation``, Theorem ``thm-two-stage``.
    """
    spec = _host_spectrum(spectrum)
    b_star = _host_vector(beta_star, spec, "beta_star")
    sigma_t = _scalar_nonneg(target_noise_var, "target_noise_var")
    mom = teacher_moments(spec, b_star, m, noise_var, lam_teacher, features)
    student = student_risk_given_teacher(spec, b_star, mom.mean, mom.var, n, sigma_t, lam)
    strong = surrogate_risk(spec, b_star, b_star, n, noise_var, lam)
    return TwoStageRisk(mom.risk, student, strong, mom)


def power_law_ratio_limit(alpha: float, source: float) -> float:
    r"""Limit, as :math:`p/n \to \infty` and then :math:`n \to \infty`, of the ratio of the optimal
    surrogate's noiseless risk to the ground-truth surrogate's, for :math:`\lambda_i = i^{-\alpha}` and
    :math:`\lambda_i\beta_{\star,i}^2 = i^{-\text{source}}` (``1 < source < 1 + 2 alpha``).

    With :math:`i = x\,i_0`, :math:`\tau = i_0^{-\alpha}`, :math:`1 - s = x^\alpha/(1 + x^\alpha)` and
    :math:`c \to \alpha - 1`, both risks are :math:`i_0^{1 - \text{source}}` times an integral, so the
    exponent is the same and the ratio of the constants is

    .. math::
        \frac{\int_0^\infty x^{-\text{source}}\,\frac{c(1-s)^2}{s^2 + c(1-s)^2}\,dx}
        {(1 + c)\int_0^\infty x^{-\text{source}}(1 - s)^2\,dx}.
    """
    from scipy.integrate import quad  # noqa: PLC0415

    a = float(alpha)
    b = float(source)
    if not a > 1:
        raise ValueError(f"alpha must be > 1, got {alpha!r}")
    if not 1 < b < 1 + 2 * a:
        raise ValueError(f"source must lie in (1, 1 + 2 alpha) = (1, {1 + 2 * a:g}), got {source!r}")
    c = a - 1.0

    def one_minus(x):
        return x**a / (1.0 + x**a)

    def opt(x):
        om = one_minus(x)
        s = 1.0 - om
        return x ** (-b) * c * om * om / (s * s + c * om * om)

    def std(x):
        om = one_minus(x)
        return x ** (-b) * om * om

    num = quad(opt, 0, 1, limit=200)[0] + quad(opt, 1, np.inf, limit=200)[0]
    den = quad(std, 0, 1, limit=200)[0] + quad(std, 1, np.inf, limit=200)[0]
    return float(num / ((1.0 + c) * den))


# --------------------------------------------------------------------------------------------
# a teacher trained under a different covariance (covariance shift), and teacher capacity

__all__ += [
    "student_risk_given_teacher",
    "shifted_teacher_moments",
    "covariance_shift_risk",
    "power_shift_spectrum",
    "optimal_teacher_spectrum",
    "teacher_capacity_curve",
]


def student_risk_given_teacher(spectrum, beta_star, teacher_mean, teacher_var, n, target_noise_var=0.0,
                               lam=0.0):
    r"""Expected risk against :math:`\beta_\star` of a student (ridge ``lam``, default ridgeless) trained
    on ``n`` samples labelled by a random surrogate whose coordinates (in the eigenbasis of
    :math:`\Sigma`) have means ``teacher_mean`` and variances ``teacher_var`` and are independent of the
    student's data.

    The model-shift risk (``eq-surrogate-risk``) is a diagonal quadratic in :math:`\beta^s`, so only
    the first two moments of each coordinate enter:

    .. math::
        \sum_i\lambda_i\big[(s_i\mu_i - \beta_{\star,i})^2 + s_i^2v_i\big]
        + c\Big[\sigma_t^2 + \sum_i\lambda_i(1 - s_i)^2(\mu_i^2 + v_i)\Big],

    i.e. the model-shift risk of the mean plus :math:`\sum_i\lambda_iv_i(s_i^2 + c(1 - s_i)^2)`.
    Broadcasts over ``n`` and ``lam``; returns a float or a NumPy array of their broadcast shape.
    """
    spec = _host_spectrum(spectrum)
    b_star = _host_vector(beta_star, spec, "beta_star")
    mean = _host_vector(teacher_mean, spec, "teacher_mean")
    var = _host_vector(teacher_var, spec, "teacher_var")
    if np.any(var < 0):
        raise ValueError(f"teacher_var must be >= 0 entrywise, got a minimum of {var.min()!r}")
    sigma_t = _scalar_nonneg(target_noise_var, "target_noise_var")
    terms = surrogate_risk_terms(spec, b_star, mean, n, sigma_t, lam)
    kappa = np.atleast_1d(terms.kappa).reshape(-1)
    c = np.atleast_1d(terms.c).reshape(-1)
    extra = np.empty(kappa.size)
    xp, (sp, var_x, c_x) = _on_backend(spec, var, c)
    step = max(1, _BLOCK // spec.size)
    for a in range(0, kappa.size, step):
        s, om = _shrinkage(sp, kappa[a:a + step], xp)
        extra[a:a + step] = as_host((sp * var_x * (s * s + c_x[a:a + step, None] * om * om)).sum(axis=1))
    out = np.asarray(terms.risk) + extra.reshape(np.shape(terms.risk))
    return float(out) if out.ndim == 0 else out


def shifted_teacher_moments(spectrum, beta_star, teacher_spectrum, m, noise_var, lam=0.0) -> TeacherMoments:
    r"""Gaussian-equivalent moments of a teacher fitted by ridge (``lam``, default ridgeless) on ``m``
    samples :math:`y = x^\top\beta_\star + \varepsilon` with :math:`x \sim N(0, \Sigma_s)`,
    :math:`\Sigma_s = \mathrm{diag}(\text{teacher\_spectrum})` in the eigenbasis of
    :math:`\Sigma = \mathrm{diag}(\text{spectrum})` (the two covariances commute).

    The teacher is a correctly specified regression under :math:`\Sigma_s`, so with
    :math:`\kappa_s = \kappa(m, \lambda)` of :math:`\Sigma_s`, :math:`t_i = \lambda^s_i/(\lambda^s_i + \kappa_s)`,

    .. math::
        v_i = \frac{\gamma_s^2}{m}\frac{\lambda^s_i}{(\lambda^s_i + \kappa_s)^2},\qquad
        \gamma_s^2 = \frac{\sigma^2 + \kappa_s^2\sum_i\lambda^s_i\beta_{\star,i}^2/(\lambda^s_i + \kappa_s)^2}
        {1 - \mathrm{df}_2^{(s)}(\kappa_s)/m}

    (:func:`teacher_moments` with the spectrum :math:`\Sigma_s`). A zero ``teacher_spectrum`` entry is a
    direction absent from the teacher's data: its mean and variance are ``0``. ``risk`` is the
    teacher's excess risk on the *student's* distribution, :math:`\sum_i\lambda_i[(t_i - 1)^2\beta_{\star,i}^2 + v_i]`.
    """
    spec = _host_spectrum(spectrum)
    b_star = _host_vector(beta_star, spec, "beta_star")
    spec_s = as_host(_validate.vector_like(teacher_spectrum, spec, "teacher_spectrum"))
    spec_s = as_host(_validate.spectrum(spec_s, "teacher_spectrum"))  # non-negative, one positive
    mom = teacher_moments(spec_s, b_star, m, noise_var, lam)
    risk = float(np.sum(spec * ((mom.mean - b_star) ** 2 + mom.var)))
    return TeacherMoments(mom.mean, mom.var, risk, mom.kappa, mom.noise_eff)


def covariance_shift_risk(spectrum, beta_star, teacher_spectrum, m, n, noise_var, lam_teacher=0.0, lam=0.0,
                          target_noise_var=0.0) -> TwoStageRisk:
    r"""Teacher → student under covariance shift: the teacher is fitted on ``m`` samples with covariance
    :math:`\Sigma_s` (``teacher_spectrum``, see :func:`shifted_teacher_moments`), the student on ``n``
    samples with covariance :math:`\Sigma` labelled by the teacher (plus noise of variance
    ``target_noise_var``), and both are scored on :math:`\Sigma`.

    ``student`` is :func:`student_risk_given_teacher` at the teacher's moments; ``strong`` is the same
    student trained on ground-truth labels with noise ``noise_var``; ``teacher`` the teacher's risk on
    :math:`\Sigma`. With ``teacher_spectrum = spectrum`` this is :func:`two_stage_risk` with all features.
    """
    spec = _host_spectrum(spectrum)
    b_star = _host_vector(beta_star, spec, "beta_star")
    mom = shifted_teacher_moments(spec, b_star, teacher_spectrum, m, noise_var, lam_teacher)
    student = student_risk_given_teacher(spec, b_star, mom.mean, mom.var, n, target_noise_var, lam)
    strong = surrogate_risk(spec, b_star, b_star, n, noise_var, lam)
    return TwoStageRisk(mom.risk, student, strong, mom)


def power_shift_spectrum(spectrum, exponent, total=None):
    r"""The shifted spectrum :math:`\lambda^s_i = T\lambda_i^a/\sum_j\lambda_j^a` (``a`` = ``exponent``,
    ``T`` = ``total``, default :math:`\operatorname{tr}\Sigma`): ``a = 1`` is no shift, ``a < 1`` a
    flatter teacher covariance (more weight on the tail), ``a > 1`` a steeper one. Zero eigenvalues stay
    zero. Returns a NumPy array; with a 1-D ``exponent`` of length ``A``, an array ``(A, p)``."""
    spec = _host_spectrum(spectrum)
    a = as_host(_validate.finite_array(exponent, "exponent"))
    if a.ndim > 1:
        raise ValueError(f"exponent must be a scalar or a 1-D array, got shape {a.shape}")
    tot = float(spec.sum()) if total is None else _validate.positive_scalar(total, "total")
    pos = spec > 0
    logs = np.where(pos, np.log(np.where(pos, spec, 1.0)), 0.0)
    w = np.where(pos[None, :], np.exp(np.atleast_1d(a)[:, None] * logs[None, :]), 0.0)
    out = tot * w / w.sum(axis=1, keepdims=True)
    return out[0] if a.ndim == 0 else out


def optimal_teacher_spectrum(spectrum, n, total=None, lam=0.0):
    r"""The teacher covariance :math:`\Sigma_s` (trace ``total``, default :math:`\operatorname{tr}\Sigma`)
    that minimises the student's risk when the teacher is an *under-parameterised* ridgeless
    least-squares fit (``m`` above the number of features):

    .. math::
        \lambda^s_i = T\,\frac{\sqrt{\lambda_i w_i}}{\sum_j\sqrt{\lambda_j w_j}},\qquad
        w_i = s_i^2 + c(1 - s_i)^2,

    with :math:`s_i`, :math:`c` those of the student (``n``, ``lam``). Such a teacher is unbiased
    (:math:`t_i = 1`) with variances :math:`v_i = \sigma^2/((m - p)\lambda^s_i)`, so the student pays
    :math:`\frac{\sigma^2}{m - p}\sum_i\lambda_iw_i/\lambda^s_i` on top of the model-shift risk of
    :math:`\beta_\star`; minimising it under :math:`\sum_i\lambda^s_i = T` (Lagrange, or Cauchy–Schwarz)
    gives the square-root rule, which does not depend on ``m``, the noise or :math:`\beta_\star`.
    Zero eigenvalues get ``0``. Returns a NumPy array.
    """
    spec = _host_spectrum(spectrum)
    tot = float(spec.sum()) if total is None else _validate.positive_scalar(total, "total")
    kappa, c = _scalar_point(spec, n, lam)
    s, om = _shrinkage(spec, [kappa])
    w = s[0] ** 2 + c * om[0] ** 2
    root = np.where(spec > 0, np.sqrt(spec * w), 0.0)
    return tot * root / root.sum()


def teacher_capacity_curve(spectrum, beta_star, m, n, noise_var, features, lam_teacher=0.0, lam=0.0,
                           target_noise_var=0.0):
    r"""The student's risk (:func:`two_stage_risk` ``.student``) for a teacher that sees the ``k``
    leading features, for every ``k`` in ``features`` (positive integers; for a ridgeless teacher,
    ``k = m`` is its interpolation threshold, where the risk is infinite, and is refused).

    For ``k < m`` the ridgeless teacher is an unbiased least-squares fit on its features with the
    unseen signal as extra noise, :math:`\sigma_{\rm eff}^2(k) = \sigma^2 + \sum_{i>k}\lambda_i\beta_{\star,i}^2`,
    and the curve has the closed form

    .. math::
        R(k) = \sum_{i>k}\lambda_i\beta_{\star,i}^2 + (1 + c)\sum_{i\le k}\lambda_i(1 - s_i)^2\beta_{\star,i}^2
        + c\sigma_t^2 + \frac{\sigma_{\rm eff}^2(k)}{m - k}\sum_{i\le k}\big(s_i^2 + c(1 - s_i)^2\big).

    Returns a NumPy array of the shape of ``features``.
    """
    spec = _host_spectrum(spectrum)
    b_star = _host_vector(beta_star, spec, "beta_star")
    ks = np.asarray(to_numpy(features))
    if ks.size == 0 or not np.issubdtype(ks.dtype, np.integer) or np.any(ks < 1) or np.any(ks > spec.size):
        raise ValueError(f"features must be a non-empty array of integers in [1, {spec.size}], got "
                         f"{_validate.describe(features)}")
    if _validate.nonneg_scalar(lam_teacher, "lam_teacher") == 0 and np.any(ks == m):
        raise ValueError(f"features contains k = m = {m}, the interpolation threshold of the ridgeless "
                         "teacher (infinite risk)")
    out = np.array([two_stage_risk(spec, b_star, m, n, noise_var, lam_teacher, lam, int(k),
                                   target_noise_var).student for k in ks.reshape(-1)], dtype=float)
    return out.reshape(ks.shape)
