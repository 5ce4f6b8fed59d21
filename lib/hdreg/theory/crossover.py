r"""The noiseless-to-noisy crossover of ridge on power-law problems (the scaling-laws chapter, label ``ch-scaling``).

On the problem :math:`\lambda_i = i^{-\alpha}`, :math:`\lambda_i\beta_{\star,i}^2 = i^{-(1+2\alpha r)}` with
penalty :math:`\lambda = n^{-\ell}`, the bias of the deterministic equivalent decays like the noiseless
risk and the variance carries the noise; the sample size :math:`n^\star` where they are equal separates
an *effectively noiseless* regime (:math:`n \ll n^\star`) from an *effectively noisy* one
(:math:`n \gg n^\star`), the crossover of Cui, Loureiro, Krzakala and Zdeborová (2021). The leading-order
formulas below follow from the power-law asymptotics of :mod:`hdreg.theory.scaling`
(:func:`~hdreg.theory.scaling.capacity_constant`, :func:`~hdreg.theory.scaling.bias_constant`).
"""

from __future__ import annotations

import numpy as np

from .. import _validate
from . import scaling as scaling_theory

__all__ = ["ridgeless_crossover_n", "penalised_crossover_n", "regime_rates"]


def _check(alpha, r, noise_var):
    a = float(alpha)
    rr = float(r)
    if not (np.isfinite(a) and a > 1):
        raise ValueError(f"alpha must be a finite number > 1, got {alpha!r}")
    if not (np.isfinite(rr) and rr > 0 and rr != 1):
        raise ValueError(f"r must be finite, > 0 and != 1 (log corrections at r = 1), got {r!r}")
    s2 = np.asarray(noise_var, dtype=np.float64)
    _validate.nonneg(s2, "noise_var", allow_zero=False)
    return a, rr, min(rr, 1.0), s2


def ridgeless_crossover_n(alpha, r, noise_var):
    r"""Leading-order :math:`n^\star` where the ridgeless bias :math:`\approx \alpha J (C_\alpha/n)^{2\alpha m}`
    meets the tempered variance :math:`\sigma^2(\alpha - 1)`:
    :math:`n^\star = C_\alpha\big(\alpha J/(\sigma^2(\alpha-1))\big)^{1/(2\alpha m)}`."""
    a, rr, m, s2 = _check(alpha, r, noise_var)
    C = float(scaling_theory.capacity_constant(a))
    J = float(scaling_theory.bias_constant(a, rr))
    return C * (a * J / (s2 * (a - 1.0))) ** (1.0 / (2 * a * m))


def penalised_crossover_n(alpha, r, ell, noise_var):
    r"""Leading-order :math:`n^\star` for :math:`\lambda = n^{-\ell}` with :math:`\ell^\star < \ell < \alpha`
    (:math:`\kappa \approx \lambda`): bias :math:`J n^{-2\ell m}` meets variance
    :math:`\sigma^2(1-1/\alpha)C_\alpha n^{\ell/\alpha - 1}`, so
    :math:`n^\star = \big(J/(\sigma^2(1-1/\alpha)C_\alpha)\big)^{1/(2\ell m + \ell/\alpha - 1)}`; ``nan``
    outside that range of ``ell`` (for :math:`\ell \le \ell^\star` the bias dominates at every large
    ``n``). Asymptotic: accurate only when :math:`n^\star` is large enough that :math:`\kappa \approx
    \lambda` there."""
    a, rr, m, s2 = _check(alpha, r, noise_var)
    e = np.asarray(ell, dtype=np.float64)
    if not np.all(np.isfinite(e)) or np.any(e <= 0):
        raise ValueError(f"ell must be finite and > 0, got {ell!r}")
    C = float(scaling_theory.capacity_constant(a))
    J = float(scaling_theory.bias_constant(a, rr))
    expo = 2 * e * m + e / a - 1.0
    ok = (expo > 0) & (e < a)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (J / (s2 * (1 - 1 / a) * C)) ** (1.0 / np.where(ok, expo, 1.0))
    return np.where(ok, out, np.nan)


def regime_rates(alpha, r, ell):
    r"""``(noiseless, noisy)`` rates of the excess risk for :math:`\lambda = n^{-\ell}`:
    noiseless :math:`2\min(\ell, \alpha)m`; noisy :math:`\min(2\ell m, 1 - \ell/\alpha)` for
    :math:`\ell < \alpha` and ``0`` for :math:`\ell \ge \alpha` (the four regions of the phase
    diagram)."""
    a, rr, m, _ = _check(alpha, r, 1.0)
    e = np.asarray(ell, dtype=np.float64)
    if not np.all(np.isfinite(e)) or np.any(e <= 0):
        raise ValueError(f"ell must be finite and > 0, got {ell!r}")
    noiseless = 2 * np.minimum(e, a) * m
    noisy = np.asarray(scaling_theory.predicted_rate(a, rr, "fixed_lambda", e))
    return noiseless, noisy
