r"""Weak-to-strong generalisation with (random-feature) ridge teachers and students.

See the chapter *Weak-to-strong generalisation improves the scaling law in random-feature ridge
regression* (label ``ch-w2s-rf``).

Setting (conventions of :mod:`hdreg.theory.ridge` and :mod:`hdreg.theory.random_features`): inputs
:math:`x\sim\mathcal N(0,\Sigma)`, :math:`\Sigma=\operatorname{diag}(\text{spectrum})`, ground truth
:math:`y = x^\top\beta_\star+\varepsilon`, :math:`\operatorname{Var}\varepsilon` = ``noise_var``.

* The **teacher** is ridge (``p_teacher=None``, the kernel limit) or random-feature ridge with
  ``p_teacher`` features, penalty ``lam_teacher``, fitted on ``n_teacher`` ground-truth samples.
* The **student** is ridge or random-feature ridge (``p_student`` features, drawn independently of the
  teacher's) with penalty ``lam_student``, fitted on ``n_student`` fresh inputs labelled by the
  teacher's predictions (no extra noise).
* The risk is the student's excess test error against the ground truth.

**Teacher moments** (Chapter ``ch-w2s-rf``, ``prop-rf-teacher``). In the Gaussian-equivalent sense the teacher's
linear part is :math:`\beta_T` with independent coordinates of mean :math:`t_i\beta_{\star,i}`,
:math:`t_i=\lambda_i/(\lambda_i+\nu)`, and variance ``var_i``. For ridge, :math:`\nu=\kappa` and the
variance is that of :func:`hdreg.theory.distillation.teacher_moments`. For ``p`` random features,
:math:`\nu=\nu_2` and (in whitened coordinates :math:`\theta_i=\sqrt{\lambda_i}\beta_i`)

.. math::
    \operatorname{Var}\theta_{T,i} = \frac{\gamma_F^2}{p}\frac{\lambda_i}{(\lambda_i+\nu)^2}
    + \frac{\gamma_D^2}{n}\Big[t_i^2 + t_i(1-t_i)\frac{e}{p-d_2}
    + \frac{\mu_\star^2}{p}\frac{\lambda_i}{(\lambda_i+\nu)^2(1-d_2/p)}\Big],

with :math:`d_2=\sum t_i^2`, :math:`e=\sum t_i(1-t_i)`,
:math:`\gamma_F^2=\nu^2\sum_j\lambda_j^2\beta_{\star,j}^2/(\lambda_j+\nu)^2/(1-d_2/p)` (randomness of the
features) and :math:`\gamma_D^2=(\sigma^2+\mathsf E)/(1-\mathrm{df}_F/n)` (randomness of the data;
:math:`\mathsf E`, :math:`\mathrm{df}_F` from :func:`hdreg.theory.random_features.rf_risk`). With a
nonlinear activation (``nonlinear_var`` :math:`=\mu_\star^2>0`) the teacher also has a nonlinear part,
orthogonal to every linear function, of energy ``teacher_nonlinear`` = teacher risk minus the error of
its linear part; the student sees it as label noise.

**Student** (Chapter ``ch-w2s-rf``, ``thm-w2s``). For a label vector :math:`\beta^s` independent of the student,
the model-shift identity gives
:math:`\mathcal R_S = \mathcal R_{\rm self}(\beta^s) + \sum_i\lambda_i[2(s_i-1)\beta^s_i(\beta^s_i-\beta_{\star,i})
+ (\beta^s_i-\beta_{\star,i})^2]` with :math:`\mathcal R_{\rm self}` the student's risk against its own
labels (:func:`~hdreg.theory.ridge.ridge_risk` or :func:`~hdreg.theory.random_features.rf_risk`) and
:math:`s_i=\lambda_i/(\lambda_i+\nu_S)` its mean filter. Both are linear in
:math:`(\beta^s_i)^2` and :math:`\beta^s_i`, so averaging over the teacher only needs its per-coordinate
mean and second moment: :math:`\mathcal R_{\rm self}` is evaluated at ``beta = sqrt(E beta_s^2)``.

In the kernel limit with a nonlinear activation, the nonlinear part of the kernel acts as an extra
penalty :math:`\mu_\star^2/n` (the ``p -> inf`` limit of the random-feature fixed point).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate
from ..backend import as_host, to_numpy
from . import distillation as distillation_theory
from . import random_features as rf_theory
from . import ridge as ridge_theory

__all__ = ["TeacherState", "teacher_state", "W2SRisk", "student_risk", "tuned_student",
           "SETTINGS", "predicted_rates", "RateScan", "rate_scan"]

_BLOCK = 1 << 21  # elements of one (points x spectrum) block


def _host_spec(spectrum):
    spec = as_host(_validate.spectrum(spectrum))
    if np.any(spec <= 0):
        raise ValueError("spectrum must be strictly positive here (drop the zero eigenvalues: they "
                         "carry no signal and no risk)")
    return spec


def _scalar(value, name, allow_zero=True):
    if np.ndim(value):
        raise ValueError(f"{name} must be a scalar, got shape {np.shape(value)}")
    return _validate.nonneg_scalar(value, name, allow_zero=allow_zero)


def _features(p, name):
    if p is None:
        return None
    return _validate.nonneg(p, f"{name} (a number of random features, or None)", allow_zero=False)


@dataclass(frozen=True)
class TeacherState:
    r"""Gaussian-equivalent description of a trained teacher (all in the eigenbasis of Σ).

    ``mean`` (:math:`t_i\beta_{\star,i}`) and ``var`` are the per-coordinate mean and variance of the
    teacher's linear part :math:`\beta_T`; ``nonlinear`` is the energy of its nonlinear part (``0`` for
    linear features and in the kernel limit); ``risk`` its excess risk; ``nu`` its effective
    regularisation (:math:`\kappa` for ridge, :math:`\nu_2` for random features).
    """

    mean: np.ndarray
    var: np.ndarray
    nonlinear: float
    risk: float
    nu: float


def teacher_state(spectrum, beta, noise_var, n_teacher, lam_teacher, p_teacher=None,
                  nonlinear_var=0.0) -> TeacherState:
    r"""Mean, variance and nonlinear energy of a (random-feature) ridge teacher; see the module
    docstring for the formulas (Chapter ``ch-w2s-rf``, Proposition ``prop-rf-teacher``)."""
    spec = _host_spec(spectrum)
    b = as_host(_validate.vector_like(beta, spec, "beta"))
    sigma2 = _scalar(noise_var, "noise_var")
    n = _scalar(n_teacher, "n_teacher", allow_zero=False)
    lam = _scalar(lam_teacher, "lam_teacher")
    mu2 = _scalar(nonlinear_var, "nonlinear_var")
    p = _features(p_teacher, "p_teacher")
    if p is None:
        mom = distillation_theory.teacher_moments(spec, b, n, sigma2, lam + mu2 / n)
        return TeacherState(mom.mean, mom.var, 0.0, float(mom.risk), float(mom.kappa))
    if p.ndim:
        raise ValueError(f"p_teacher must be a scalar (one teacher), got shape {p.shape}")
    p = float(p)
    fit = rf_theory.rf_risk(spec, b, n, p, lam, sigma2, mu2)
    nu = float(fit.nu2)
    t = spec / (spec + nu)
    d2 = float(np.sum(t * t))
    e = float(np.sum(t * (1.0 - t)))
    w = spec * b * b
    gamma_f = nu**2 * float(np.sum(spec * w / (spec + nu) ** 2)) / (1.0 - d2 / p)
    gamma_d = (sigma2 + float(fit.approx)) / (1.0 - float(fit.df_features) / n)
    shape = spec / (spec + nu) ** 2
    var_theta = (gamma_f / p) * shape + (gamma_d / n) * (
        t * t + t * (1.0 - t) * e / (p - d2) + (mu2 / p) * shape / (1.0 - d2 / p))
    linear_err = float(np.sum(w * (1.0 - t) ** 2) + np.sum(var_theta))
    nonlinear = max(float(fit.risk) - linear_err, 0.0) if mu2 > 0 else 0.0
    return TeacherState(t * b, var_theta / spec, nonlinear, float(fit.risk), nu)


@dataclass(frozen=True)
class W2SRisk:
    r"""The student's excess risk and its parts, arrays of the broadcast shape of
    ``(n_student, lam_student, p_student)`` (floats for scalar input).

    ``risk = mean_error + passed + own``: ``mean_error`` :math:`=\sum_i\lambda_i(s_i\bar\beta_{T,i}
    -\beta_{\star,i})^2` is the error of the student's average predictor; ``passed``
    :math:`=\sum_i\lambda_is_i^2\operatorname{Var}\beta_{T,i}` is the teacher's variance that the
    student's filter lets through; ``own`` is the student's own fluctuation (its finite sample and
    features). ``teacher`` is the teacher's risk and ``nu`` the student's effective regularisation
    (:math:`\kappa` or :math:`\nu_2`). ``state`` is the :class:`TeacherState`.
    """

    risk: np.ndarray
    mean_error: np.ndarray
    passed: np.ndarray
    own: np.ndarray
    nu: np.ndarray
    teacher: float
    state: TeacherState


def student_risk(spectrum, beta, noise_var, n_teacher, lam_teacher, n_student, lam_student,
                 p_teacher=None, p_student=None, nonlinear_var=0.0) -> W2SRisk:
    r"""Deterministic equivalent of the excess risk (against ``beta``) of a student trained on a
    teacher's labels (Chapter ``ch-w2s-rf``, Theorem ``thm-w2s``).

    Parameters
    ----------
    spectrum, beta : (D,) eigenvalues of Σ (positive) and :math:`\beta_\star` in its eigenbasis.
    noise_var : noise variance of the teacher's ground-truth labels.
    n_teacher, lam_teacher : the teacher's sample size and normalised penalty (scalars; ``0`` is
        the minimum-norm teacher).
    n_student, lam_student : the student's sample size(s) and penalty(ies), broadcast together
        (and with ``p_student``).
    p_teacher, p_student : numbers of random features; ``None`` is the kernel limit (plain ridge on
        ``x``). The student's features are independent of the teacher's.
    nonlinear_var : :math:`\mu_\star^2` of both activations (``0``: linear features), as in
        :func:`hdreg.theory.random_features.rf_risk`.

    Returns a :class:`W2SRisk` (``.risk`` plus its parts).
    """
    spec = _host_spec(spectrum)
    b = as_host(_validate.vector_like(beta, spec, "beta"))
    mu2 = _scalar(nonlinear_var, "nonlinear_var")
    st = teacher_state(spec, b, noise_var, n_teacher, lam_teacher, p_teacher, mu2)
    n_s = np.asarray(to_numpy(_validate.nonneg(n_student, "n_student", allow_zero=False)),
                     dtype=np.float64)
    lam_s = as_host(_validate.nonneg(lam_student, "lam_student"))
    p_s = _features(p_student, "p_student")
    q = st.mean**2 + st.var  # E beta_T,i^2
    b_eff = np.sqrt(q)
    if p_s is None:
        n_b, lam_b = np.broadcast_arrays(n_s, lam_s)
        fit = ridge_theory.ridge_risk(spec, b_eff, n_b, lam_b + mu2 / n_b, st.nonlinear)
        nu = np.asarray(fit.kappa, dtype=np.float64)
    else:
        n_b, lam_b, p_b = np.broadcast_arrays(n_s, lam_s, p_s)
        fit = rf_theory.rf_risk(spec, b_eff, n_b, p_b, lam_b, st.nonlinear, mu2)
        nu = np.asarray(fit.nu2, dtype=np.float64)
    self_risk = np.asarray(fit.risk, dtype=np.float64)
    flat = nu.reshape(-1)
    shift = np.empty(flat.size)
    mean_err = np.empty(flat.size)
    passed = np.empty(flat.size)
    cross = q - st.mean * b  # E[beta_T (beta_T - beta_star)]
    dist2 = float(np.sum(spec * (q - 2.0 * st.mean * b + b * b)))  # E||beta_T - beta_star||^2
    step = max(1, _BLOCK // spec.size)
    for a in range(0, flat.size, step):
        s = spec[None, :] / (spec[None, :] + flat[a:a + step, None])
        shift[a:a + step] = 2.0 * ((s - 1.0) * spec * cross).sum(axis=1) + dist2
        mean_err[a:a + step] = (spec * (s * st.mean - b) ** 2).sum(axis=1)
        passed[a:a + step] = (spec * s * s * st.var).sum(axis=1)
    risk = self_risk + shift.reshape(nu.shape)
    mean_err = mean_err.reshape(nu.shape)
    passed = passed.reshape(nu.shape)
    own = risk - mean_err - passed

    def out(a):
        a = as_host(a)
        return float(a) if a.ndim == 0 else a

    return W2SRisk(out(risk), out(mean_err), out(passed), out(own), out(nu), st.risk, st)


def tuned_student(spectrum, beta, noise_var, n_teacher, lam_teacher, n_student, p_teacher=None,
                  p_student=None, nonlinear_var=0.0, lam_grid=None):
    r"""The student's risk minimised over its penalty on ``lam_grid`` (default 81 log-spaced values
    in :math:`[10^{-7}, 10]\cdot\lambda_1` plus ``0``), refined by a parabola in :math:`\log\lambda`.
    Scalar ``n_student`` and ``p_student``. Returns ``(risk, lam)``."""
    spec = _host_spec(spectrum)
    if np.ndim(n_student) or (p_student is not None and np.ndim(p_student)):
        raise ValueError("tuned_student takes a scalar n_student and p_student")
    grid = (np.concatenate([[0.0], np.geomspace(1e-7, 10.0, 81) * spec.max()]) if lam_grid is None
            else as_host(lam_grid))
    if grid.ndim != 1 or grid.size < 3:
        raise ValueError("lam_grid must be a 1-D array with at least 3 penalties")
    if p_student is None and np.any(grid == 0) and float(n_student) == spec.size:
        grid = grid[grid > 0]  # the ridgeless student sits on its interpolation threshold
    if p_student is not None and np.any(grid == 0) and float(n_student) == float(p_student):
        grid = grid[grid > 0]
    r = np.asarray(student_risk(spec, beta, noise_var, n_teacher, lam_teacher, n_student, grid,
                                p_teacher, p_student, nonlinear_var).risk)
    j = int(np.argmin(r))
    best, lam = float(r[j]), float(grid[j])
    if 0 < j < grid.size - 1 and grid[j - 1] > 0:
        x = np.log(grid[j - 1:j + 2])
        a2, a1, _ = np.polyfit(x, r[j - 1:j + 2], 2)
        if a2 > 0:
            lam_ref = float(np.exp(np.clip(-a1 / (2 * a2), x[0], x[2])))
            r_ref = float(student_risk(spec, beta, noise_var, n_teacher, lam_teacher, n_student,
                                       lam_ref, p_teacher, p_student, nonlinear_var).risk)
            if r_ref < best:
                best, lam = r_ref, lam_ref
    return best, lam


SETTINGS = ("noisy_kernel", "noiseless_rf")


def predicted_rates(alpha, r, setting: str = "noisy_kernel", ell=None):
    r"""Predicted rates ``(teacher, student)`` (``risk ≍ n^(-rate)``) with :math:`n_S = n_T = n` and the
    student's penalty tuned (Chapter ``ch-w2s-rf``, Proposition ``prop-rates``); :math:`m=\min(r,1)`.

    ``"noisy_kernel"``: kernel teacher, noisy labels, :math:`\lambda_T = n^{-\ell}` (``ell=None``:
    ridgeless). Teacher :math:`\min(2\ell m, 1-\ell/\alpha)` (``0`` if ridgeless or
    :math:`\ell\ge\alpha`); student :math:`\min(2\ell m,\ 2\alpha m/(2\alpha m+1))`: the student
    filters the teacher's variance but cannot undo its shrinkage.

    ``"noiseless_rf"``: ridgeless random-feature teacher with :math:`p_T = c\,n` features
    (:math:`c<1`), noiseless labels (``ell`` must be ``None``). Teacher
    :math:`a_T = \alpha\min(2r, 1)` (its error is the fluctuation of its random features); student
    :math:`2\alpha m(a_T+1)/(2\alpha m+1)`, larger than :math:`a_T` iff :math:`r > 1/2`.
    """
    from .scaling import exponents  # noqa: PLC0415

    if setting not in SETTINGS:
        raise ValueError(f"setting must be one of {SETTINGS}, got {setting!r}")
    a, rr = exponents(alpha, r)
    m = np.minimum(rr, 1.0)
    minimax = 2 * a * m / (2 * a * m + 1)
    if setting == "noiseless_rf":
        if ell is not None:
            raise ValueError("setting 'noiseless_rf' has a ridgeless teacher: pass ell=None")
        teacher = a * np.minimum(2 * rr, 1.0)
        student = 2 * a * m * (teacher + 1) / (2 * a * m + 1)
    elif ell is None:
        teacher, student = np.zeros_like(a), minimax
    else:
        e = as_host(ell)
        if not np.all(np.isfinite(e)) or np.any(e <= 0):
            raise ValueError(f"ell must be finite and > 0, got {ell!r}")
        teacher = np.where(e < a, np.minimum(2 * e * m, 1 - e / a), 0.0)
        student = np.minimum(2 * e * m, minimax)

    def out(v):
        v = as_host(v)
        return float(v) if v.ndim == 0 else v

    return out(teacher), out(student)


@dataclass(frozen=True)
class RateScan:
    """Teacher, tuned student and oracle (tuned ridge on ground-truth labels) along ``n``, from the
    equivalent, with the student's tuned penalty and effective regularisation and ``correction``: the
    size of the leading pre-asymptotic corrections per ``n`` (see :func:`rate_scan`)."""

    n: np.ndarray
    teacher: np.ndarray
    student: np.ndarray
    oracle: np.ndarray
    lam_student: np.ndarray
    nu_student: np.ndarray
    correction: np.ndarray


def rate_scan(alpha, r, P, ns, noise_var, setting: str = "noisy_kernel", ell=None,
              feature_ratio: float = 0.5, lam_grid=None) -> RateScan:
    r"""Evaluate the equivalent along ``ns`` (:math:`n_S = n_T = n`) on the power-law problem with
    ``P`` directions (:func:`hdreg.theory.scaling.power_law_problem`), in one of the settings of
    :func:`predicted_rates` (``"noiseless_rf"`` uses :math:`p_T` = ``feature_ratio * n``).

    ``correction`` is :func:`hdreg.theory.scaling.correction_size` (Euler–Maclaurin, truncation,
    discreteness of the bias; plus :math:`\kappa/\lambda - 1` for a teacher with a penalty) evaluated
    for the student and for the teacher (with :math:`p_T` in place of ``n`` for random features), the
    larger of the two, and at least the relative drift of a ridgeless kernel teacher's risk
    (which should be flat). Chapter ``ch-w2s-rf`` fits exponents with tolerance ``2 max(correction) max(1, rate)``.
    """
    from . import scaling as _sc  # noqa: PLC0415

    if setting not in SETTINGS:
        raise ValueError(f"setting must be one of {SETTINGS}, got {setting!r}")
    spec, beta = _sc.power_law_problem(P, alpha, r)
    ns = as_host(ns)
    if ns.ndim != 1 or ns.size < 3 or np.any(ns <= 0):
        raise ValueError("ns must be a 1-D array of at least 3 positive sample sizes")
    if not 0 < feature_ratio < 1:
        raise ValueError(f"feature_ratio must be in (0, 1), got {feature_ratio!r}")
    if setting == "noiseless_rf" and ell is not None:
        raise ValueError("setting 'noiseless_rf' has a ridgeless teacher: pass ell=None")
    grid = (np.geomspace(1e-12 if setting == "noiseless_rf" else 1e-8, 1e-1, 41)
            if lam_grid is None else lam_grid)
    out = {k: [] for k in ("teacher", "student", "lam", "nu", "corr")}
    for n in ns:
        p_t = feature_ratio * n if setting == "noiseless_rf" else None
        lam_t = 0.0 if ell is None else float(n ** (-float(ell)))
        risk, lam = tuned_student(spec, beta, noise_var, n, lam_t, n, p_t, None, 0.0, grid)
        res = student_risk(spec, beta, noise_var, n, lam_t, n, lam, p_t, None)
        nu_s = float(res.nu)
        d1, d2 = ridge_theory.degrees_of_freedom(spec, nu_s)
        corr = float(_sc.correction_size(alpha, r, P, n, nu_s, d1, d2, ridgeless=True))
        nu_t = res.state.nu
        n_eff = n if p_t is None else p_t
        d1t, d2t = ridge_theory.degrees_of_freedom(spec, nu_t)
        corr = max(corr, float(_sc.correction_size(alpha, r, P, n_eff, nu_t, d1t, d2t,
                                                   ridgeless=(ell is None))))
        out["teacher"].append(res.teacher)
        out["student"].append(risk)
        out["lam"].append(lam)
        out["nu"].append(nu_s)
        out["corr"].append(corr)
    teacher = np.array(out["teacher"])
    corr = np.array(out["corr"])
    if setting == "noisy_kernel" and ell is None:
        corr = np.maximum(corr, teacher.max() / teacher.min() - 1.0)
    oracle = np.asarray(_sc.optimal_lambda(spec, beta, ns, noise_var, grid=17, rounds=3).risk)
    return RateScan(ns, teacher, np.array(out["student"]), oracle, np.array(out["lam"]),
                    np.array(out["nu"]), corr)


# --------------------------------------------------------------------------------------------------
# the student's width: finite-width correction and the width needed for the kernel-limit rate

__all__ += ["WidthCorrection", "width_correction", "predicted_width_rate", "WidthScan", "width_scan"]


@dataclass(frozen=True)
class WidthCorrection:
    r"""Finite-width correction of a linear random-feature student, arrays shaped like ``p_student``
    (floats for scalar input).

    ``exact`` :math:`=\mathcal R_S(p_S)-\mathcal R_S(\infty)` from the equivalent (Theorem ``thm-w2s``) at
    the same penalty; ``first_order`` its expansion to first order in :math:`1/p_S` (see
    :func:`width_correction`); ``kernel`` the kernel-limit risk :math:`\mathcal R_S(\infty)`; ``df1``
    :math:`\mathrm{df}_1(\kappa_S)` of the kernel student; ``shift`` the part of ``first_order`` that
    comes from the shift of the effective regularisation (zero at a stationary penalty).
    """

    exact: np.ndarray
    first_order: np.ndarray
    shift: np.ndarray
    kernel: float
    df1: float


def width_correction(spectrum, beta, noise_var, n_teacher, lam_teacher, n_student, lam_student,
                     p_student, p_teacher=None) -> WidthCorrection:
    r"""Risk of a student with ``p_student`` linear random features minus that of the kernel-limit
    student at the same penalty, exactly (from the equivalent) and to first order in :math:`1/p_S`
    (Chapter ``ch-w2s-rf``, Proposition ``prop-w2s-width``; our derivation).

    With the kernel student's :math:`\kappa_S`, :math:`s_i=\lambda_i/(\lambda_i+\kappa_S)`,
    :math:`d_1=\sum s_i`, :math:`d_2=\sum s_i^2`, :math:`e=d_1-d_2`, the teacher's second moments
    :math:`\bar w_i=\lambda_i\mathbb E\beta_{T,i}^2` and the self-risk
    :math:`\mathcal R_{\rm self}=\sum_i\bar w_i(1-s_i)^2/(1-d_2/n_S)`,

    .. math::
        \Delta_1 = \frac{e}{p_S}\Big[\frac{\sum_i\bar w_i s_i(1-s_i)}{1-d_2/n_S}
        + \frac{e\,\mathcal R_{\rm self}}{n_S-d_2}\Big]
        + \frac{\partial\mathcal R_S(\infty)}{\partial\kappa_S}\,
        \frac{\kappa_S d_1(1-d_1/n_S)}{p_S(1-d_2/n_S)} .

    The first term is the explicit :math:`1/p` part of the random-feature equivalent (the feature term
    of :math:`\mathsf E` and of :math:`\mathrm{df}_F`), the second the shift :math:`\nu_2-\kappa_S` of the
    effective regularisation; it vanishes where the kernel student's risk is stationary in its penalty.
    Scalar ``n_student`` and ``lam_student`` (``> 0``); ``p_student`` broadcasts. Linear features only.
    """
    spec = _host_spec(spectrum)
    b = as_host(_validate.vector_like(beta, spec, "beta"))
    n = _scalar(n_student, "n_student", allow_zero=False)
    lam = _scalar(lam_student, "lam_student", allow_zero=False)
    p = np.asarray(as_host(_validate.nonneg(p_student, "p_student", allow_zero=False)), dtype=np.float64)
    kern = student_risk(spec, b, noise_var, n_teacher, lam_teacher, n, lam, p_teacher, None)
    st, kap = kern.state, float(kern.nu)
    qb = st.mean**2 + st.var
    wb = spec * qb
    s = spec / (spec + kap)
    d1, d2 = float(s.sum()), float((s * s).sum())
    e, den = d1 - d2, 1.0 - d2 / n
    r_self = float(np.sum(wb * (1.0 - s) ** 2)) / den
    explicit = (e / p) * (float(np.sum(wb * s * (1.0 - s))) / den + e * r_self / (n - d2))
    d_r_self = 2.0 * float(np.sum(wb * s * (1.0 - s) ** 2)) / kap / den \
        - r_self * 2.0 * float(np.sum(s * s * (1.0 - s))) / kap / (n * den)
    d_shift = -2.0 * float(np.sum(s * (1.0 - s) * spec * (qb - st.mean * b))) / kap
    shift = (d_r_self + d_shift) * kap * d1 * (1.0 - d1 / n) / (p * den)
    finite = np.asarray(student_risk(spec, b, noise_var, n_teacher, lam_teacher, n, lam, p_teacher,
                                     p).risk, dtype=np.float64)

    def out(a):
        a = np.asarray(a, dtype=np.float64)
        return float(a) if a.ndim == 0 else a

    return WidthCorrection(out(finite - kern.risk), out(explicit + shift), out(shift),
                           float(kern.risk), d1)


def predicted_width_rate(alpha, r, q):
    r"""Rate of the tuned student with :math:`p_S = n^q` linear random features, trained on a
    variance-dominated (e.g. ridgeless) kernel teacher with noisy labels, :math:`n_S=n_T=n`
    (Chapter ``ch-w2s-rf``, Proposition ``prop-w2s-width``; our derivation). Returns ``(rate, q_star)``.

    The teacher's variance acts on the student as label noise, so the student's rate is that of
    random-feature ridge tuned along :math:`p = n^q`: the largest over :math:`\gamma\le\alpha\min(1,q)`
    of :math:`\min\big(q+\gamma(\min(2r,1)-1/\alpha),\ 2m\gamma,\ 1-\gamma/\alpha\big)` (the three terms of
    :func:`hdreg.theory.random_features.rf_phase_rate`). For :math:`r\le 1/2` this is
    :math:`2\alpha m\min(q, q^\star)` with :math:`q^\star=1/(2\alpha m+1)`; in general
    :math:`q^\star=(1+\alpha(2m-\min(2r,1)))/(2\alpha m+1)`: the kernel-limit (minimax) rate
    :math:`2\alpha m/(2\alpha m+1)` is kept exactly when :math:`q\ge q^\star`. Broadcasts over ``q``.
    """
    a = float(_validate.nonneg_scalar(alpha, "alpha", allow_zero=False))
    rr = float(_validate.nonneg_scalar(r, "r", allow_zero=False))
    qq = np.asarray(as_host(_validate.nonneg(q, "q", allow_zero=False)), dtype=np.float64)
    m, c = min(rr, 1.0), min(2 * rr, 1.0)
    g_max = a * np.minimum(1.0, qq)

    def g(gam):
        return np.minimum(np.minimum(qq + gam * (c - 1 / a), 2 * m * gam), 1 - gam / a)

    cands = [g_max, qq / (2 * m - c + 1 / a) + 0 * qq, a / (2 * a * m + 1) + 0 * qq,
             (1 - qq) / c]
    rate = np.max([np.where((x > 0) & (x <= g_max + 1e-15), g(np.minimum(x, g_max)), -np.inf)
                   for x in cands], axis=0)
    q_star = (1 + a * (2 * m - c)) / (2 * a * m + 1)
    return (float(rate) if rate.ndim == 0 else rate), float(q_star)


@dataclass(frozen=True)
class WidthScan:
    """Students of widths ``p = n^q`` along ``n`` (:func:`width_scan`): ``kernel`` (n,) is the tuned
    kernel-limit student; ``tuned`` (n, q) the students tuned at their own width; ``at_kernel_lam``
    (n, q) the same widths at the kernel student's penalty ``lam_kernel``, and ``first_order`` (n, q)
    the first-order prediction of ``at_kernel_lam - kernel``; ``df1`` (n,) is
    :math:`\\mathrm{df}_1(\\kappa_S)` of the kernel student; ``teacher`` (n,) the teacher's risk."""

    n: np.ndarray
    q: np.ndarray
    p: np.ndarray
    teacher: np.ndarray
    kernel: np.ndarray
    lam_kernel: np.ndarray
    df1: np.ndarray
    tuned: np.ndarray
    at_kernel_lam: np.ndarray
    first_order: np.ndarray


def width_scan(alpha, r, P, ns, qs, noise_var, lam_grid=None, tune_span: float = 100.0) -> WidthScan:
    r"""Ridgeless kernel teacher and students of widths :math:`p_S = n^q` (one per ``qs``) on the
    power-law problem with ``P`` directions (:func:`hdreg.theory.scaling.power_law_problem`),
    :math:`n_S = n_T = n` along ``ns``, from the equivalent (Chapter ``ch-w2s-rf``). The kernel
    student's penalty is tuned with :func:`tuned_student` on ``lam_grid`` (default 41 values in
    :math:`[10^{-8}, 10^{-1}]`); each finite-width student is tuned on 25 log-spaced multiples of it
    between ``1/tune_span`` and ``tune_span`` (one batched evaluation per ``n``). Returns a
    :class:`WidthScan` of NumPy arrays."""
    from . import scaling as _sc  # noqa: PLC0415

    spec, beta = _sc.power_law_problem(P, alpha, r)
    ns = as_host(ns)
    qs = as_host(qs)
    if ns.ndim != 1 or ns.size < 2 or np.any(~np.isfinite(ns)) or np.any(ns <= 0):
        raise ValueError(f"ns must be a 1-D array of at least 2 positive sample sizes, got {ns!r}")
    if qs.ndim != 1 or qs.size < 1 or np.any(~np.isfinite(qs)) or np.any(qs <= 0):
        raise ValueError(f"qs must be a 1-D array of positive width exponents, got {qs!r}")
    if not (np.isfinite(tune_span) and tune_span > 1):
        raise ValueError(f"tune_span must be a finite number > 1, got {tune_span!r}")
    grid = np.geomspace(1e-8, 1e-1, 41) if lam_grid is None else lam_grid
    mult = np.geomspace(1.0 / tune_span, tune_span, 25)
    p = ns[:, None] ** qs[None, :]
    cols = {k: np.empty(ns.size) for k in ("teacher", "kernel", "lam", "df1")}
    tuned, at_k, first = (np.empty(p.shape) for _ in range(3))
    for i, n in enumerate(ns):
        _, lam = tuned_student(spec, beta, noise_var, n, 0.0, n, None, None, 0.0, grid)
        wc = width_correction(spec, beta, noise_var, n, 0.0, n, lam, p[i])
        cols["kernel"][i], cols["lam"][i], cols["df1"][i] = wc.kernel, lam, wc.df1
        at_k[i] = wc.kernel + np.asarray(wc.exact)
        first[i] = wc.first_order
        path = student_risk(spec, beta, noise_var, n, 0.0, n, lam * mult[:, None], None,
                            p[i][None, :])
        cols["teacher"][i] = path.teacher
        tuned[i] = np.minimum(np.asarray(path.risk).min(axis=0), at_k[i])
    return WidthScan(ns, qs, p, cols["teacher"], cols["kernel"], cols["lam"], cols["df1"], tuned,
                     at_k, first)
