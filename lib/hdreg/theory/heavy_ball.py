r"""Heavy ball (Polyak momentum) on a quadratic: mode rates, optimal parameters, time rescaling.

Used by the chapter ``ch-optimisers-pruning``. On ``f(x) = x^T A x / 2`` with eigenvalues ``lam`` the
heavy-ball recursion

.. math:: x_{t+1} = x_t - \alpha \nabla f(x_t) + \beta (x_t - x_{t-1})

decouples into eigen-modes; mode ``lam`` is the linear recursion with characteristic polynomial
``z^2 - (1 + beta - alpha lam) z + beta`` (a damped oscillator sampled at integer times). Its two
roots have modulus ``sqrt(beta)`` when complex (under-damped: ``(1 - sqrt(beta))^2 < alpha lam <
(1 + sqrt(beta))^2``) and are real otherwise. Gradient descent is ``beta = 0``. The optimal
parameters on ``[mu, L]`` are Polyak's (1964); the derivations in the chapter are ours.
"""

from __future__ import annotations

import numpy as np

from .. import _validate

__all__ = ["mode_rate", "heavy_ball_rate", "gd_rate", "optimal_gd", "optimal_heavy_ball",
           "critical_momentum", "underdamped", "effective_step", "steps_to_reach"]


def _params(alpha, beta):
    alpha = _validate.positive_scalar(alpha, "alpha")
    beta = _validate.in_interval(beta, "beta", 0.0, 1.0, high_open=True)
    return alpha, beta


def mode_rate(alpha, beta, lam) -> np.ndarray:
    r"""Spectral radius of the heavy-ball iteration matrix of one eigen-mode (elementwise in ``lam``).

    The largest modulus of the roots of ``z^2 - (1 + beta - alpha lam) z + beta``; ``beta = 0`` gives
    gradient descent's ``|1 - alpha lam|``. ``lam`` >= 0 (an array of curvatures).
    """
    alpha, beta = _params(alpha, beta)
    lam = _validate.finite_array(lam, "lam", low=0.0)
    b = 1.0 + beta - alpha * lam
    disc = b * b - 4.0 * beta
    real = 0.5 * (np.abs(b) + np.sqrt(np.maximum(disc, 0.0)))
    return np.where(disc >= 0.0, real, np.sqrt(beta))


def heavy_ball_rate(alpha, beta, lam) -> float:
    """Worst mode rate over the spectrum ``lam`` (the asymptotic contraction factor per step)."""
    return float(np.max(mode_rate(alpha, beta, lam)))


def gd_rate(alpha, lam) -> float:
    """Gradient descent's contraction factor ``max |1 - alpha lam|`` over the spectrum ``lam``."""
    return heavy_ball_rate(alpha, 0.0, lam)


def _mu_L(mu, L):
    mu = _validate.positive_scalar(mu, "mu")
    L = _validate.positive_scalar(L, "L")
    if L < mu:
        raise _validate.InvalidParameterError(f"L must be >= mu, got L={L!r} < mu={mu!r}")
    return mu, L


def optimal_gd(mu, L) -> tuple[float, float]:
    """Best constant step of gradient descent on ``[mu, L]``: ``(2/(L + mu), (k - 1)/(k + 1))``."""
    mu, L = _mu_L(mu, L)
    k = L / mu
    return 2.0 / (L + mu), (k - 1.0) / (k + 1.0)


def optimal_heavy_ball(mu, L) -> tuple[float, float, float]:
    r"""Polyak's optimal heavy ball on ``[mu, L]``: ``(alpha, beta, rate)`` with
    ``alpha = 4/(sqrt L + sqrt mu)^2``, ``beta = ((sqrt k - 1)/(sqrt k + 1))^2`` and
    ``rate = sqrt(beta) = (sqrt k - 1)/(sqrt k + 1)``, ``k = L/mu``."""
    mu, L = _mu_L(mu, L)
    sk = np.sqrt(L / mu)
    alpha = 4.0 / (np.sqrt(L) + np.sqrt(mu)) ** 2
    rate = (sk - 1.0) / (sk + 1.0)
    return float(alpha), float(rate * rate), float(rate)


def critical_momentum(alpha, lam) -> np.ndarray:
    """The momentum ``(1 - sqrt(alpha lam))^2`` above which mode ``lam`` is under-damped (oscillates),
    for ``alpha lam <= 1``."""
    alpha = _validate.positive_scalar(alpha, "alpha")
    lam = _validate.finite_array(lam, "lam", low=0.0)
    if np.any(alpha * lam > 1.0):
        raise _validate.InvalidParameterError(f"alpha * lam must be <= 1, got {np.max(alpha * lam):.6g}")
    return (1.0 - np.sqrt(alpha * lam)) ** 2


def underdamped(alpha, beta, lam) -> np.ndarray:
    """Whether mode ``lam`` has complex roots (oscillates with modulus ``sqrt(beta)``)."""
    alpha, beta = _params(alpha, beta)
    lam = _validate.finite_array(lam, "lam", low=0.0)
    b = 1.0 + beta - alpha * lam
    return b * b < 4.0 * beta


def effective_step(alpha, beta) -> float:
    """The gradient-descent step ``alpha / (1 - beta)`` that heavy ball mimics on modes with
    ``alpha lam << (1 - beta)^2`` (over-damped, friction-dominated)."""
    alpha, beta = _params(alpha, beta)
    return alpha / (1.0 - beta)


def steps_to_reach(rate, eps) -> np.ndarray:
    """Steps ``log(eps) / log(rate)`` for a geometric contraction ``rate`` to shrink an error by
    ``eps`` (elementwise)."""
    rate = _validate.finite_array(rate, "rate", low=0.0)
    eps = _validate.in_interval(eps, "eps", 0.0, 1.0, low_open=True, high_open=True)
    if np.any(rate >= 1.0) or np.any(rate <= 0.0):
        raise _validate.InvalidParameterError("rate must be in (0, 1)")
    return np.log(eps) / np.log(rate)
