r"""Monte-Carlo teacher → student with (random-feature) ridge on both sides.

See the chapter *Weak-to-strong generalisation improves the scaling law in random-feature ridge
regression*, label ``ch-w2s-rf``.

Each trial draws a teacher data set (``n_teacher`` inputs :math:`x\sim\mathcal N(0,\Sigma)`, labels
:math:`x^\top\beta_\star+\varepsilon`), the teacher's features, fits the teacher (penalty
``lam_teacher``), then draws ``n_student`` fresh inputs, labels them with the teacher's predictions,
draws the student's features (independent of the teacher's) and fits the student for every penalty
in ``lams``. On the same student inputs and features it also fits the *oracle*: the same student
trained on ground-truth labels (same noise level as the teacher's data), the baseline of the
"constant-factor cost". Feature maps, from :mod:`hdreg.features`:

``"linear"``  :math:`z=F^\top x/\sqrt p`, any diagonal Σ; risks :math:`\|\Sigma^{1/2}(F\hat w/\sqrt p-\beta_\star)\|^2`.
``"relu"``    :math:`z_j=(\mathrm{relu}(f_j^\top x/\sqrt{sD})-\mu_0)/\sqrt p`, :math:`\|f_j\|=\sqrt D`,
              isotropic Σ = sI; risks exact through the arc-cosine kernel and Stein's lemma.

``p_teacher=None`` / ``p_student=None`` is plain ridge on ``x`` (the kernel limit of linear features).
Batched over trials under :func:`hdreg.sim.ridge.memory_budget`, on the active backend. On NumPy the
batched eigendecompositions run with single-threaded BLAS (through ``threadpoolctl``, when installed):
for these small matrices threads bring nothing, and on a loaded two-core machine a multi-threaded
OpenBLAS made the same call about 100 times slower (measured: 0.23 s against 26 s).

With ``conditional=True`` every per-trial risk is conditioned on the designs and the features: the
label noise is integrated exactly and the risk is averaged over the signs of the coordinates of
:math:`\beta_\star` (the law of the Gaussian inputs with diagonal Σ, of Gaussian features and of
ReLU features on isotropic inputs is unchanged by flipping the signs of coordinates). The mean over
trials estimates the same expected risk with a far smaller Monte-Carlo error (see
:func:`hdreg.sim.distillation.sign_averaged_risk`); each trial costs more (one label column per
input direction and per noise coordinate).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate
from ..backend import get_backend, single_threaded_blas, to_numpy
from ..batch import TrialRNG, chunk_size, chunks
from ..features import FEATURES, FeatureMap
from ._summary import PairedTrials
from .ridge import ridge_path

__all__ = ["W2SSim", "simulate_w2s", "FEATURES"]



@dataclass(frozen=True)
class W2SSim(PairedTrials):
    """Per-trial excess risks: ``teacher`` (trials,), ``student`` and ``oracle`` (trials, L)."""

    lams: np.ndarray
    teacher: np.ndarray
    student: np.ndarray
    oracle: np.ndarray


def _p(value, name):
    return None if value is None else _validate.positive_int(value, name)


def simulate_w2s(spectrum, beta, noise_var: float, n_teacher: int, lam_teacher: float, n_student: int,
                 lams, trials: int, p_teacher=None, p_student=None, features: str = "linear",
                 seed: int = 0, desc: str = "teacher -> student", conditional: bool = False) -> W2SSim:
    r"""Simulate teacher → student ``trials`` times (see the module docstring).

    Compare with :func:`hdreg.theory.weak_to_strong.student_risk` (for ``"relu"`` through
    :func:`hdreg.theory.random_features.relu_gaussian_equivalent`). ``conditional=True`` returns
    risks conditioned on the designs and features (module docstring): same mean, smaller variance.
    """
    xp = get_backend().module
    spec_h = np.asarray(to_numpy(_validate.spectrum(spectrum)))
    b_h = np.asarray(to_numpy(_validate.vector_like(beta, spec_h, "beta")))
    n_t = _validate.positive_int(n_teacher, "n_teacher")
    n_s = _validate.positive_int(n_student, "n_student")
    trials = _validate.positive_int(trials, "trials")
    p_t, p_s = _p(p_teacher, "p_teacher"), _p(p_student, "p_student")
    features = _validate.choice(features, "features", FEATURES)
    seed = _validate.seed(seed)
    if features == "relu":
        if p_t is None or p_s is None:
            raise ValueError("features='relu' needs p_teacher and p_student (numbers of features)")
        if not np.allclose(spec_h, spec_h[0], rtol=1e-12, atol=0):
            raise ValueError("features='relu' needs isotropic inputs: spectrum must be constant")
    lam_t = _validate.nonneg_scalar(lam_teacher, "lam_teacher")
    lams_h = _validate.penalties(lams)
    sigma = float(np.sqrt(_validate.nonneg_scalar(noise_var, "noise_var")))
    D = spec_h.size
    rank = int(np.count_nonzero(spec_h > 0))

    def feat_rank(p):
        return rank if p is None else (p if features == "relu" else min(p, rank))

    if lam_t == 0 and n_t == feat_rank(p_t):
        raise ValueError(f"a ridgeless teacher with n_teacher = {n_t} equal to the rank of its "
                         "features sits on the interpolation threshold; use lam_teacher > 0")
    if np.any(lams_h == 0) and n_s == feat_rank(p_s):
        raise ValueError(f"a ridgeless student with n_student = {n_s} equal to the rank of its "
                         "features sits on the interpolation threshold; use lam > 0")
    dt, ds = (D if p_t is None else p_t), (D if p_s is None else p_s)
    L = lams_h.size
    if conditional:
        return W2SSim(lams_h, *_w2s_conditional(spec_h, b_h, sigma**2, n_t, lam_t, n_s, lams_h, trials,
                                                p_t, p_s, features, seed, desc))
    per_trial = 8 * (n_t * D + n_s * D + 2 * D * (dt + ds) + n_t * dt + n_s * ds
                     + 3 * min(n_t, dt) ** 2 + 3 * min(n_s, ds) ** 2 + 6 * max(ds, D) * L
                     + (2 * ds * ds + 2 * dt * dt if features == "relu" else 0))
    step = chunk_size(per_trial, trials, "simulate_w2s")
    spec = xp.asarray(spec_h)
    sqrt_spec = xp.sqrt(spec)
    b_star = xp.asarray(b_h)
    signal = float((spec_h * b_h * b_h).sum())
    s_iso = float(spec_h[0])
    nlam_t = xp.asarray(np.array([n_t * lam_t]))
    nlam = xp.asarray(n_s * lams_h)
    teach, stud, orac = [], [], []
    with single_threaded_blas(xp):
        for start, stop in chunks(trials, step, desc):
            gen = TrialRNG(seed, start, stop, xp)
            t = stop - start
            Xt = gen.standard_normal((t, n_t, D), dtype=xp.float64) * sqrt_spec
            yt = Xt @ b_star + sigma * gen.standard_normal((t, n_t), dtype=xp.float64)
            ft = FeatureMap(xp, gen, t, D, p_t, features, s_iso)
            Wt = ridge_path(ft(Xt), yt, nlam_t)  # (t, dt, 1)
            teach.append(to_numpy(ft.risk(Wt, spec, b_star, signal)[:, 0]))
            Xs = gen.standard_normal((t, n_s, D), dtype=xp.float64) * sqrt_spec
            y_teacher = (ft(Xs) @ Wt)[:, :, 0]
            y_true = Xs @ b_star + sigma * gen.standard_normal((t, n_s), dtype=xp.float64)
            fs = FeatureMap(xp, gen, t, D, p_s, features, s_iso)
            W = ridge_path(fs(Xs), xp.stack([y_teacher, y_true], axis=2), nlam)  # (t, ds, 2, L)
            stud.append(to_numpy(fs.risk(W[:, :, 0, :], spec, b_star, signal)))
            orac.append(to_numpy(fs.risk(W[:, :, 1, :], spec, b_star, signal)))
    return W2SSim(lams_h, np.concatenate(teach), np.concatenate(stud), np.concatenate(orac))


def _w2s_conditional(spec_h, b_h, noise_var, n_t, lam_t, n_s, lams_h, trials, p_t, p_s, features, seed,
                     desc):
    """Per-trial risks given designs and features: noise integrated, signs of beta averaged."""
    xp = get_backend().module
    D, L = spec_h.size, lams_h.size
    dt, ds = (D if p_t is None else p_t), (D if p_s is None else p_s)
    Ct, C = D + n_t, 2 * D + n_t + n_s
    per_trial = 8 * (n_t * (D + dt + Ct) + n_s * (D + ds + C) + 2 * D * (dt + ds) + 3 * dt * Ct
                     + 3 * min(n_t, dt) ** 2 + 3 * min(n_s, ds) ** 2 + 4 * max(ds, D) * C * L
                     + (2 * ds * ds + 2 * dt * dt if features == "relu" else 0))
    step = chunk_size(per_trial, trials, "simulate_w2s (conditional)")
    spec = xp.asarray(spec_h)
    sqrt_spec = xp.sqrt(spec)
    w_sig = xp.asarray(b_h * b_h)
    s_iso = float(spec_h[0])
    nlam_t = xp.asarray(np.array([n_t * lam_t]))
    nlam = xp.asarray(n_s * lams_h)
    tgt_t = xp.concatenate([xp.eye(D), xp.zeros((D, n_t))], axis=1)  # (D, D + n_t)
    tgt_o = xp.concatenate([xp.eye(D), xp.zeros((D, n_s))], axis=1)

    def combine(cols, n_noise):  # (t, D + n_noise, L) -> (t, L)
        return (w_sig[None, :, None] * cols[:, :D]).sum(axis=1) + noise_var * cols[:, D:].sum(axis=1)

    teach, stud, orac = [], [], []
    with single_threaded_blas(xp):
        for start, stop in chunks(trials, step, desc):
            gen = TrialRNG(seed, start, stop, xp)
            t = stop - start
            Xt = gen.standard_normal((t, n_t, D), dtype=xp.float64) * sqrt_spec
            ft = FeatureMap(xp, gen, t, D, p_t, features, s_iso)
            Yt = xp.concatenate([Xt, xp.broadcast_to(xp.eye(n_t), (t, n_t, n_t))], axis=2)
            Wt = ridge_path(ft(Xt), Yt, nlam_t)  # (t, dt, D + n_t, 1)
            teach.append(to_numpy(combine(ft.risk_columns(Wt, spec, tgt_t), n_t)[:, 0]))
            Xs = gen.standard_normal((t, n_s, D), dtype=xp.float64) * sqrt_spec
            fs = FeatureMap(xp, gen, t, D, p_s, features, s_iso)
            Ys = xp.concatenate([ft(Xs) @ Wt[:, :, :, 0], Xs, xp.broadcast_to(xp.eye(n_s), (t, n_s, n_s))],
                                axis=2)
            W = ridge_path(fs(Xs), Ys, nlam)  # (t, ds, C, L)
            stud.append(to_numpy(combine(fs.risk_columns(W[:, :, :Ct], spec, tgt_t), n_t)))
            orac.append(to_numpy(combine(fs.risk_columns(W[:, :, Ct:], spec, tgt_o), n_s)))
    return np.concatenate(teach), np.concatenate(stud), np.concatenate(orac)
