r"""Exact Fourier facts about sparse parities and ReLU neurons on the Boolean cube (chapter
``ch-progressive-distillation``).

For :math:`f:\{\pm1\}^d\to\mathbb R` the Fourier coefficient on a subset :math:`T` is
:math:`\hat f(T) = \mathbb E_x[f(x)\chi_T(x)]`, :math:`\chi_T(x) = \prod_{i\in T}x_i`, with
:math:`x` uniform. The characters are orthonormal, :math:`\mathbb E[\chi_S\chi_T] = \mathbf 1\{S=T\}`
(:func:`character_inner`), so the parity :math:`\chi_S` has no mass below degree :math:`|S|`.

A neuron that sees only the support, :math:`\mathrm{relu}(\sum_{i\in S}v_ix_i + b)`, is a function of
:math:`k = |S|` signs, and its coefficients are finite sums over :math:`2^k` points
(:func:`neuron_coefficients`). For :math:`v = \mathbf 1`, :math:`b = 0` (a neuron aligned with the
support) the coefficients depend only on the degree: :func:`aligned_neuron_coefficient`.
"""

from __future__ import annotations

import itertools
from math import comb

import numpy as np

from .. import _validate

__all__ = ["character_inner", "neuron_coefficients", "aligned_neuron_coefficient",
           "aligned_neuron_norm", "aligned_neuron_correlation"]


def character_inner(S, T) -> float:
    """:math:`\\mathbb E_x[\\chi_S(x)\\chi_T(x)]` for index sets ``S``, ``T`` (1 if equal, else 0),
    by the product formula :math:`\\chi_S\\chi_T = \\chi_{S\\triangle T}`."""
    S, T = set(int(i) for i in S), set(int(i) for i in T)
    return 1.0 if not (S ^ T) else 0.0


def neuron_coefficients(v, bias: float = 0.0) -> dict:
    """All Fourier coefficients of :math:`\\mathrm{relu}(\\sum_{i<k} v_ix_i + b)` as a function of
    :math:`x\\in\\{\\pm1\\}^k`, by enumeration of the :math:`2^k` points: ``{T (tuple): coefficient}``
    for every subset ``T`` of ``range(k)``."""
    v = _validate.finite_array(v, "v", ndim=1)
    if v.size == 0 or v.size > 20:
        raise _validate.InvalidParameterError(f"v must have between 1 and 20 entries, got {v.size}")
    b = _validate.scalar(bias, "bias")
    k = v.size
    X = np.array(list(itertools.product((-1.0, 1.0), repeat=k)))
    f = np.maximum(X @ v + b, 0.0)
    out = {}
    for deg in range(k + 1):
        for T in itertools.combinations(range(k), deg):
            chi = X[:, list(T)].prod(axis=1) if T else np.ones(len(X))
            out[T] = float((f * chi).mean())
    return out


def aligned_neuron_coefficient(k: int, degree: int) -> float:
    """:math:`\\hat f(T)` for :math:`f = \\mathrm{relu}(x_1+\\dots+x_k)` and any :math:`T\\subseteq S`
    with :math:`|T| = j` (``degree``): with :math:`m` the number of minus signs,
    :math:`s = k - 2m` and

    .. math:: \\hat f(T) = 2^{-k}\\sum_{m=0}^{k} \\mathrm{relu}(k-2m)\\,K_j(m),\\qquad
       K_j(m) = \\sum_{i}(-1)^i\\binom{m}{i}\\binom{k-m}{j-i},

    (:math:`K_j` the Krawtchouk polynomial: the sum of :math:`\\chi_T` over the points with
    :math:`m` minus signs, divided by :math:`\\binom km`, times :math:`\\binom km`). Since
    :math:`\\mathrm{relu}(s) = s/2 + |s|/2`, the coefficient is 1/2 at degree 1 and vanishes at
    every other odd degree."""
    k = _validate.positive_int(k, "k")
    j = _validate.nonneg_int(degree, "degree")
    if j > k:
        raise _validate.InvalidParameterError(f"degree must be an integer in [0, k={k}], got {degree!r}")
    total = 0.0
    for m in range(k + 1):
        kraw = sum((-1) ** i * comb(m, i) * comb(k - m, j - i) for i in range(0, min(m, j) + 1))
        # kraw counts sum over points with m minus signs of chi_T, averaged over choices of T:
        # sum_{|x^-|=m} chi_T(x) = binom(k, m) * kraw / binom(k, j)
        total += max(k - 2 * m, 0) * comb(k, m) * kraw / comb(k, j)
    return total / 2 ** k


def aligned_neuron_norm(k: int) -> float:
    """:math:`\\sqrt{\\mathbb E\\,\\mathrm{relu}(x_1+\\dots+x_k)^2}`."""
    k = _validate.positive_int(k, "k")
    return float(np.sqrt(sum(comb(k, m) * max(k - 2 * m, 0) ** 2 for m in range(k + 1)) / 2 ** k))


def aligned_neuron_correlation(k: int, degree: int) -> float:
    """Correlation :math:`\\hat f(T)/\\|f\\|_2` of the aligned neuron with :math:`\\chi_T`, :math:`|T|` =
    ``degree``, :math:`T\\subseteq S` (what :func:`hdreg.sim.parity.monomial_correlations`
    estimates)."""
    return aligned_neuron_coefficient(k, degree) / aligned_neuron_norm(k)
