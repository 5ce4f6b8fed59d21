r"""Exact Monte-Carlo gradient flow and gradient descent on least squares, batched over trials and
whole time grids (chapter ``ch-gd-dynamics``).

One eigendecomposition of the smaller Gram matrix per trial gives the iterate at every time: with
:math:`\hat\Sigma = X^\top X/n` and the filter :math:`\varphi` (gradient flow
:math:`1 - e^{-ts}`, gradient descent :math:`1 - (1-\eta s)^k`),
:math:`b = \sum_j \varphi(s_j)\,s_j^{-1} v_j v_j^\top X^\top y/n`, with the eigensystem from
:func:`hdreg.sim.ridge.gram_eigensystem` (re-exported here), next to the ridge-path kernel.

Besides the realised risk and training error (one noise draw per trial), every trial reports its
*design-conditioned* bias and variance: the label noise is integrated exactly given ``X``, which
removes the noise's share of the Monte-Carlo variance (the chapter's claims use these). Trial ``i``
draws its design, noise and initialisation, in that order, from its own stream
(:class:`hdreg.batch.TrialRNG`: the generator of ``SeedSequence(seed).spawn(trials)[i]``), so results
do not depend on how trials are chunked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate
from ..backend import get_backend, to_numpy
from ..batch import TrialRNG, chunk_size, chunks
from ._summary import RiskTrials
from .ridge import gram_eigensystem

__all__ = ["GradientFlowSim", "simulate_gradient_flow", "gram_eigensystem"]


@dataclass(frozen=True)
class GradientFlowSim(RiskTrials):
    """Per-trial results, arrays of shape ``(trials, len(times))``.

    ``risk``/``train_error``: realised (one noise draw). ``bias``/``variance``: given the design, noise
    integrated exactly; ``cond_risk = bias + variance``, ``cond_train`` likewise for the training
    error. ``steps`` is ``None`` for gradient flow, else the number of GD steps per time.
    """

    times: np.ndarray
    risk: np.ndarray
    train_error: np.ndarray
    bias: np.ndarray
    variance: np.ndarray
    cond_train: np.ndarray
    steps: np.ndarray | None = None

    @property
    def cond_risk(self) -> np.ndarray:
        return self.bias + self.variance


def _filter(xp, s, times, eta, steps=None):
    """(1 - phi) and phi / s on (t, m, T); for GD ``steps`` are the integer step counts (a
    negative base 1 - eta s, for eta s > 1, needs an integer power)."""
    S = s[..., None]
    if eta is None:
        T = xp.asarray(times)
        psi = xp.exp(-S * T)
        phi_over_s = xp.where(S > 0, -xp.expm1(-S * T) / xp.where(S > 0, S, 1.0), 0.0)
    else:
        K = xp.asarray(steps)
        psi = (1.0 - eta * S) ** K
        phi_over_s = xp.where(S > 0, (1.0 - psi) / xp.where(S > 0, S, 1.0), 0.0)
    return psi, phi_over_s


def simulate_gradient_flow(spectrum, beta, n: int, times, noise_var: float, trials: int,
                           seed: int = 0, step: float | None = None, init_var: float = 0.0,
                           desc: str = "gradient-flow trials") -> GradientFlowSim:
    r"""Gradient flow (``step=None``) or gradient descent with step ``step`` on ``trials`` data sets,
    exactly, at every time in ``times`` (``t >= 0``; for GD, ``times`` must be multiples of ``step``:
    ``k = t / step`` steps). Data: ``x ~ N(0, diag(spectrum))``, ``y = x^T beta + eps``,
    ``Var eps = noise_var``; ``b(0) = 0`` and :math:`\dot b = X^\top(y - Xb)/n`. With ``init_var``
    = σ0² > 0, ``b(0) ~ N(0, σ0² I/p)`` is drawn per trial (realised risk and training error) and
    integrated exactly in the design-conditioned ``bias`` and ``cond_train``.
    """
    xp = get_backend().module
    spec_h = np.asarray(to_numpy(_validate.spectrum(spectrum)))
    beta_h = np.asarray(to_numpy(_validate.vector_like(beta, spec_h, "beta")))
    n = _validate.positive_int(n, "n")
    trials = _validate.positive_int(trials, "trials")
    seed = _validate.seed(seed)
    times_h = np.atleast_1d(np.asarray(to_numpy(times), dtype=float))
    if times_h.ndim != 1 or not np.all(np.isfinite(times_h)) or np.any(times_h < 0):
        raise ValueError(f"times must be a 1-D array of finite values >= 0, got {times!r}")
    sigma2 = float(_validate.nonneg(noise_var, "noise_var"))
    init = float(_validate.nonneg(init_var, "init_var"))
    eta = None
    steps = None
    if step is not None:
        eta = float(_validate.nonneg(step, "step", allow_zero=False))
        steps = np.rint(times_h / eta)
        if not np.allclose(steps * eta, times_h, rtol=1e-9, atol=1e-12):
            raise ValueError("with a step size, times must be integer multiples of step (t = k step)")
    p = spec_h.size
    m = min(n, p)
    T = times_h.size
    per_trial = 8 * (3 * n * p + 3 * m * m + 4 * p * T + 4 * m * T + n + p)
    step = chunk_size(per_trial, trials, "simulate_gradient_flow")
    spec = xp.asarray(spec_h)
    sqrt_spec = xp.sqrt(spec)
    b_star = xp.asarray(beta_h)
    out = {k: [] for k in ("risk", "train", "bias", "var", "ctrain")}
    for start, stop in chunks(trials, step, desc):
        gen = TrialRNG(seed, start, stop, xp)  # trial i: its design, noise, b(0), in that order
        c = stop - start
        X = gen.standard_normal((c, n, p), dtype=xp.float64) * sqrt_spec
        eps = np.sqrt(sigma2) * gen.standard_normal((c, n), dtype=xp.float64)
        if init > 0:
            b0 = np.sqrt(init / p) * gen.standard_normal((c, p), dtype=xp.float64)
        s, A, B = gram_eigensystem(X)
        psi, phi_s = _filter(xp, s, times_h, eta, steps)  # (c, m, T)
        signal = X @ b_star  # (c, n)
        # coordinates: Xb* = sqrt(n) A diag(sqrt s) B^T b*, so A^T X b* = sqrt(n s) (B^T b*)
        a_sig = (A.transpose(0, 2, 1) @ signal[..., None])[..., 0]  # (c, m)
        a_eps = (A.transpose(0, 2, 1) @ eps[..., None])[..., 0]
        # b(t) = B diag(phi / s) B^T X^T y / n and B^T X^T y / n = sqrt(s / n) A^T y
        scale = xp.sqrt(s / n)
        coef_sig = phi_s * (scale * a_sig)[..., None]  # (c, m, T)
        coef_eps = phi_s * (scale * a_eps)[..., None]
        err_sig = B @ coef_sig - b_star[None, :, None]  # (c, p, T)
        noise_part = B @ coef_eps
        err = err_sig + noise_part
        bias = (spec[None, :, None] * err_sig * err_sig).sum(1)
        if init > 0:
            # b(0) enters as e^{-t Sigma_hat} b0 = b0 - B diag(1 - psi) B^T b0 (its null-space part
            # never moves); given X its mean square is sigma0^2/p tr(e^{-t S} Sigma e^{-t S})
            c0 = B.transpose(0, 2, 1) @ b0[..., None]  # (c, m, 1)
            err = err + (b0[..., None] - B @ ((1.0 - psi) * c0))
            H = B.transpose(0, 2, 1) @ (spec[None, :, None] * B)  # (c, m, m) = B^T Sigma B
            G0 = xp.diagonal(H, axis1=1, axis2=2)
            one_m = 1.0 - psi  # (c, m, T)
            quad = (one_m * (H @ one_m)).sum(1)
            bias = bias + init / p * (spec.sum() - 2 * (one_m * G0[..., None]).sum(1) + quad)
        risk = (spec[None, :, None] * err * err).sum(1)
        # variance given X: sigma^2 sum_j (phi_j/s_j)^2 (s_j/n) (B^T Sigma B)_jj
        G = (B * (spec[None, :, None] * B)).sum(1)  # (c, m) diag of B^T Sigma B
        var = sigma2 * ((phi_s**2) * (s / n * G)[..., None]).sum(1)
        # training error: residual r = y - Xb; in the A basis 1 - phi = psi, outside it untouched
        ay = a_sig + a_eps
        y = signal + eps
        yy = (y * y).sum(1)
        # X e^{-t S} b0 = sqrt(n) A diag(sqrt(s) psi) B^T b0: b(0) shifts the A-coordinates only
        ay0 = ay if init == 0 else ay - xp.sqrt(n * s) * c0[..., 0]
        resid_in = (psi * ay0[..., None]) ** 2
        train = (resid_in.sum(1) + (yy - (ay * ay).sum(1))[:, None]) / n
        ctrain = ((psi**2) * (a_sig**2 + sigma2 + n * s * init / p)[..., None]).sum(1)
        ctrain = (ctrain + sigma2 * (n - m)) / n
        for key, val in (("risk", risk), ("train", train), ("bias", bias), ("var", var),
                         ("ctrain", ctrain)):
            out[key].append(to_numpy(val))
    cat = {k: np.concatenate(v) for k, v in out.items()}
    return GradientFlowSim(times_h, cat["risk"], cat["train"], cat["bias"], cat["var"],
                           cat["ctrain"], steps)
