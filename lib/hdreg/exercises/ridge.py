"""Checks for the exercises of the ridge chapter (``chapters/ridge.md``)."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar

from ..theory import isotropic
from . import attempt, close, expect

__all__ = ["check_optimal_penalty", "check_noiseless_risk", "check_gcv",
           "check_elliptical_ridgeless", "check_effective_ranks"]

_CASES = [(0.5, 1.0, 0.25), (2.0, 1.0, 0.25), (4.0, 2.0, 0.5), (0.8, 0.5, 1.0)]


def _numerical_optimum(gamma, signal, noise_var):
    res = minimize_scalar(lambda lam: isotropic.isotropic_risk(gamma, lam, signal, noise_var).risk,
                          bounds=(1e-8, 50.0), method="bounded", options={"xatol": 1e-10})
    return res.x


def check_optimal_penalty(optimal_penalty) -> None:
    """``optimal_penalty(gamma, signal, noise_var)`` must return the minimiser of the isotropic
    ridge risk; it is compared with a numerical minimisation at several settings."""
    for gamma, r2, s2 in _CASES:
        got = attempt(optimal_penalty, gamma, r2, s2)
        close(got, _numerical_optimum(gamma, r2, s2), rtol=1e-4,
              what=f"your penalty at gamma={gamma}, r^2={r2}, sigma^2={s2}",
              hint="minimise the risk over kappa instead of lambda, then use the fixed-point "
                   "equation to translate the critical kappa back into lambda")
    expect(True, "your formula minimises the isotropic risk at every setting tried", "")


def check_noiseless_risk(predicted_risk) -> None:
    """``predicted_risk(gamma)`` must be the ridgeless isotropic risk with r^2 = 1 and no noise,
    for arrays of gamma on both sides of 1."""
    gammas = np.array([0.3, 0.7, 1.5, 2.0, 4.0])
    got = attempt(predicted_risk, gammas)
    below = gammas < 1
    close(np.asarray(got)[below], isotropic.ridgeless_isotropic_risk(gammas[below], 1.0, 0.0),
          atol=1e-9, what="your risk for gamma < 1",
          hint="with n > p and no noise, least squares recovers beta exactly")
    close(np.asarray(got)[~below], isotropic.ridgeless_isotropic_risk(gammas[~below], 1.0, 0.0),
          rtol=1e-8, what="your risk for gamma > 1",
          hint="the interpolator recovers the projection of beta on the n-dimensional row space "
               "of X; what fraction of a random vector's energy lies there?")


def _gcv_reference(X, y, lams):
    n = X.shape[0]
    d, U = np.linalg.eigh(X @ X.T)
    d = np.clip(d, 0.0, None)
    a = U.T @ y
    out = []
    for lam in lams:
        shrink = n * lam / (d + n * lam)
        train = np.sum((shrink * a) ** 2) / n
        df = np.sum(d / (d + n * lam))
        out.append(train / (1 - df / n) ** 2)
    return np.array(out)


def check_gcv(gcv) -> None:
    """``gcv(X, y, lams)`` must return the GCV criterion for each penalty in ``lams``."""
    rng = np.random.default_rng(0)
    for n, p in [(40, 100), (80, 30)]:
        X = rng.standard_normal((n, p)) * np.linspace(1.0, 0.2, p)
        y = X @ rng.standard_normal(p) / np.sqrt(p) + 0.5 * rng.standard_normal(n)
        lams = np.array([1e-3, 1e-2, 1e-1, 1.0])
        got = attempt(gcv, X, y, lams)
        close(got, _gcv_reference(X, y, lams), rtol=1e-6,
              what=f"your GCV values (n={n}, p={p})",
              hint="the training error uses the normalised ridge of the chapter, "
                   "(X^T X + n lam I)^{-1} X^T y, and df is tr X (X^T X + n lam I)^{-1} X^T")


def check_elliptical_ridgeless(predicted_risk) -> None:
    """``predicted_risk(bias, variance, a)`` must be the mean ridgeless risk of the elliptical
    design with rho^2 ~ Gamma(a, 1/a), given the Gaussian design's bias and variance."""
    cases = [(0.2, 0.05, 3.0), (0.1, 0.4, 2.0), (0.0, 1.0, 5.0), (0.3, 0.0, 1.5)]
    for b, v, a in cases:
        got = attempt(predicted_risk, b, v, a)
        close(got, b + a / (a - 1.0) * v, rtol=1e-10,
              what=f"your risk at bias={b}, variance={v}, a={a}",
              hint="the row scaling leaves the row space unchanged (what does that do to the "
                   "bias?) and divides the noise of row i by rho_i; you need E[rho^-2] for a "
                   "Gamma(a, 1/a) variable")
    expect(True, "your prediction is the Gaussian bias plus E[rho^-2] times the variance", "")


def check_effective_ranks(effective_ranks) -> None:
    """``effective_ranks(eigenvalues, k)`` must return ``(r_k, R_k)`` for a spectrum sorted in
    decreasing order; compared with :func:`hdreg.theory.benign.effective_ranks`."""
    from ..theory import benign

    spectra = [np.arange(1, 201) ** -1.0, np.arange(1, 101) ** -2.0,
               np.concatenate([np.ones(3), np.full(500, 1e-3)])]
    for s in spectra:
        r, R = benign.effective_ranks(s)
        for k in (0, 3):
            got = attempt(effective_ranks, s, k)
            if not (hasattr(got, "__len__") and len(got) == 2):
                expect(False, "", "your function must return a pair (r_k, R_k)")
            close(got[0], r[k], rtol=1e-10, what=f"your r_k at k={k}",
                  hint="r_k divides the tail sum from index k+1 on by the single eigenvalue "
                       "lambda_{k+1} (eigenvalues indexed from 1)")
            close(got[1], R[k], rtol=1e-10, what=f"your R_k at k={k}",
                  hint="R_k is the squared tail sum divided by the tail sum of squares")
    expect(True, "your effective ranks match on three spectra and two values of k", "")
