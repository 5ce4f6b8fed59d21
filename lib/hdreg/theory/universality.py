r"""Where the Gaussian deterministic equivalent of ridge stops applying: elliptical designs (the ridge chapter, label ``ch-ridge``).

For rows :math:`x_i = \rho_i\Sigma^{1/2}g_i` with Gaussian :math:`g_i` and an independent radial factor
:math:`\rho_i` (:math:`\mathbb E\rho^2 = 1`), the minimum-norm interpolator (``p > n``) has exactly the
bias of the Gaussian design and, in expectation, :math:`\mathbb E[\rho^{-2}]` times its variance (the
row scaling leaves the row space unchanged and divides the noise of row ``i`` by :math:`\rho_i`).
"""

from __future__ import annotations

import numpy as np

from .. import _validate
from . import ridge

__all__ = ["gamma_inverse_moment", "elliptical_ridgeless_risk"]


def gamma_inverse_moment(a) -> np.ndarray:
    r""":math:`\mathbb E\rho^{-2} = a/(a-1)` for :math:`\rho^2\sim\mathrm{Gamma}(a, 1/a)` (``inf`` for
    ``a <= 1``)."""
    a = np.asarray(a, dtype=np.float64)
    _validate.nonneg(a, "a", allow_zero=False)
    with np.errstate(divide="ignore"):
        return np.where(a > 1, a / np.where(a > 1, a - 1.0, 1.0), np.inf)


def elliptical_ridgeless_risk(spectrum, beta, n: int, noise_var: float, inverse_moment):
    r"""Mean ridgeless excess risk for elliptical rows, ``p > n``: :math:`\mathsf B +
    \mathbb E[\rho^{-2}]\,\mathsf V` with :math:`\mathsf B, \mathsf V` of the Gaussian equivalent
    (:func:`hdreg.theory.ridge.ridge_risk` at ``lam = 0``). ``inverse_moment`` is
    :math:`\mathbb E\rho^{-2} \ge 1`."""
    m = float(inverse_moment)
    if not (np.isfinite(m) and m >= 1.0):
        raise ValueError(f"inverse_moment must be finite and >= 1 (Jensen), got {inverse_moment!r}")
    spec = np.asarray(_validate.spectrum(spectrum))
    n = _validate.positive_int(n, "n")
    if np.count_nonzero(spec > 0) <= n:
        raise ValueError(f"needs rank(Sigma) > n (the interpolating regime), got rank "
                         f"{np.count_nonzero(spec > 0)} and n = {n}")
    out = ridge.ridge_risk(spec, beta, n, 0.0, noise_var)
    return float(out.bias) + m * float(out.variance)
