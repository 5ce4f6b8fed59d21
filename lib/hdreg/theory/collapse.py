r"""Closed forms for the mean-field network of the neural-collapse part of chapter
``ch-attention-collapse``.

The network is :math:`h(x)=\frac1N\sum_{j=1}^N a_j\tanh(w_j^\top x)\in\mathbb R^K` with i.i.d.
initial neurons :math:`a_j\sim\mathcal N(0,I_K)`, :math:`w_j\sim\mathcal N(0,I_d/d)` (see
:mod:`hdreg.sim.collapse`). At initialisation :math:`h(x)` is an average of :math:`N` independent
centred terms, so its mean-field limit is :math:`0` and its finite-width fluctuation has

.. math::
    N\,\mathbb E\|h(x)\|^2 = K\,\mathbb E_{g\sim\mathcal N(0,\|x\|^2/d)}\big[\tanh^2 g\big]

exactly, for every width (:func:`initial_feature_energy`, Gauss-Hermite quadrature). Ours.
"""

from __future__ import annotations

import numpy as np

from .. import _validate

__all__ = ["initial_feature_energy"]


def initial_feature_energy(X, K: int, nodes: int = 80) -> np.ndarray:
    r""":math:`N\,\mathbb E\|h(x)\|^2 = K\,\mathbb E[\tanh^2 g]`, :math:`g\sim\mathcal N(0,\|x\|^2/d)`, for
    every row ``x`` of ``X`` ``(n, d)``; the expectation over the initial neurons is computed by
    Gauss-Hermite quadrature with ``nodes`` nodes."""
    X = _validate.finite_array(X, "X", ndim=2)
    K = _validate.positive_int(K, "K")
    nodes = _validate.integer(nodes, "nodes", 2)
    z, w = np.polynomial.hermite_e.hermegauss(nodes)
    s = np.sqrt((X * X).sum(1) / X.shape[1])
    return K * (w * np.tanh(s[:, None] * z) ** 2).sum(1) / np.sqrt(2 * np.pi)
