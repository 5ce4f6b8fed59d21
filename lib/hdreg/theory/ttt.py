r"""One-step test-time training (TTT) of a linear-attention in-context learner.

See the chapter *Test-time training for in-context learning* (label ``ch-ttt``).

Setting (notation of Chapter ``ch-ttt``). A test task :math:`\beta` is fixed. The test prompt gives a context
:math:`(X, y)` of ``n`` pairs, :math:`u = X^\top y`, and ``k`` further labelled queries
:math:`(X_{tr}, y_{tr})` that share this context. Starting from weights :math:`W_0` (*warm start*:
the pretrained :math:`W^\star` of Chapter ``ch-icl``; *cold start*: :math:`W_0 = 0`), TTT takes one gradient
step on :math:`\hat L(W) = \sum_{j\le k}(y_j - x_j^\top W u)^2`:

.. math::
    W_1 = W_0 - \eta\nabla\hat L(W_0) = W_0 + 2\eta\, g\,u^\top,\qquad g = X_{tr}^\top(y_{tr} - X_{tr}W_0u),

a rank-one update. Labels are noiseless. Two evaluation protocols:

``"fresh"``
    the updated :math:`W_1` answers new prompts of the same task, each with a *fresh* context of
    ``n`` pairs (the protocol under which the warm/cold threshold exists);
``"same"``
    new queries are answered with the *same* context :math:`u` that was used for the update.

Losses are excess test errors :math:`\mathbb E(x^\top\beta - \hat y)^2` divided by
:math:`\|\beta\|_\Sigma^2` where stated. The step :math:`\eta` is the one minimising the *expected*
loss after the step (a deterministic number, not an oracle chosen per prompt); with
:math:`t = 2\eta` the expected loss is the quadratic :math:`L_0 - 2t\,\mathbb E b + t^2\,\mathbb E a`,
so :math:`t^\star = \mathbb E b/\mathbb E a` and the loss is :math:`L_0 - (\mathbb E b)^2/\mathbb E a`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate
from ..backend import as_host

__all__ = ["TTTLimit", "TTTResult", "isotropic_losses", "warm_start_threshold", "isotropic_ttt",
           "diagonal_ttt", "context_length_for_loss", "cold_context_length", "shifted_ttt"]


# --------------------------------------------------------------------------- isotropic limit
@dataclass(frozen=True)
class TTTLimit:
    """Normalised noiseless losses in the limit :math:`d\\to\\infty`, :math:`n=\\alpha d`, :math:`k=\\gamma d`.

    ``icl``: before TTT; ``warm``/``cold``: after one optimal step from :math:`W^\\star`/from 0,
    evaluated on fresh contexts; ``warm_same``/``cold_same``: the same, evaluated with the context used
    for the update.
    """

    icl: np.ndarray
    warm: np.ndarray
    cold: np.ndarray
    warm_same: np.ndarray
    cold_same: np.ndarray


def _ratio(value, name):
    return _validate.nonneg(value, name)


def isotropic_losses(alpha, gamma) -> TTTLimit:
    r"""Chapter ``ch-ttt``, ``thm-ttt-iso``: with :math:`a = 1/(1+\alpha)`,

    .. math::
        L_{ICL} = a,\quad L_{warm} = a - \frac{\gamma}{1+\gamma}a^3,\quad L_{cold} = \frac1{1+\gamma},\quad
        L_{warm}^{same} = \frac{a}{1+\gamma},\quad L_{cold}^{same} = \frac1{1+\gamma}.

    ``alpha = n/d`` >= 0 and ``gamma = k/d`` >= 0, broadcast together.
    """
    al, ga = np.broadcast_arrays(_ratio(alpha, "alpha"), _ratio(gamma, "gamma"))
    a = 1.0 / (1.0 + al)
    frac = ga / (1.0 + ga)
    out = dict(icl=a, warm=a - frac * a**3, cold=1.0 - frac, warm_same=a * (1.0 - frac),
               cold_same=1.0 - frac)
    if al.ndim == 0:
        out = {k: float(v) for k, v in out.items()}
    return TTTLimit(**out)


def warm_start_threshold(alpha):
    r"""The ratio :math:`\gamma^\star = (1+\alpha)^2/(2+\alpha)` above which cold start beats warm start
    (fresh-context protocol, isotropic limit; Chapter ``ch-ttt``, ``cor-threshold``)."""
    al = _ratio(alpha, "alpha")
    out = (1.0 + al) ** 2 / (2.0 + al)
    return float(out) if out.ndim == 0 else out


# --------------------------------------------------------------------------- isotropic, exact at finite d
def _chi_moment(nu, m):
    """E[(chi^2_nu)^m] = nu (nu + 2) ... (nu + 2m - 2)."""
    out = np.ones_like(nu, dtype=float)
    for i in range(m):
        out = out * (nu + 2.0 * i)
    return out


class _Poly:
    """Polynomial in r ~ chi2_n and c ~ chi2_{d-1} (independent) with array coefficients."""

    __array_ufunc__ = None  # make ``ndarray * _Poly`` defer to ``_Poly.__rmul__``

    def __init__(self, terms):
        self.terms = dict(terms)

    def __add__(self, other):
        other = other if isinstance(other, _Poly) else _Poly({(0, 0): other})
        t = dict(self.terms)
        for key, v in other.terms.items():
            t[key] = t.get(key, 0.0) + v
        return _Poly(t)

    __radd__ = __add__

    def __mul__(self, other):
        if not isinstance(other, _Poly):
            return _Poly({key: v * other for key, v in self.terms.items()})
        t = {}
        for (a1, b1), v1 in self.terms.items():
            for (a2, b2), v2 in other.terms.items():
                key = (a1 + a2, b1 + b2)
                t[key] = t.get(key, 0.0) + v1 * v2
        return _Poly(t)

    __rmul__ = __mul__

    def __sub__(self, other):
        return self + (-1.0) * other

    def __rsub__(self, other):
        return (-1.0) * self + other

    def mean(self, n, d):
        return sum(v * _chi_moment(n, a) * _chi_moment(d - 1.0, b) for (a, b), v in self.terms.items())


@dataclass(frozen=True)
class TTTResult:
    """Loss before and after the optimal step (normalised by :math:`\\|\\beta\\|_\\Sigma^2`), the optimal
    step ``eta`` (for :math:`\\|\\beta\\|_\\Sigma^2 = 1`; it scales as :math:`1/\\|\\beta\\|^2`) and the
    coefficients of the expected loss :math:`L_0 - 4\\eta\\,\\mathbb E b + 4\\eta^2\\,\\mathbb E a`."""

    before: np.ndarray
    after: np.ndarray
    eta: np.ndarray
    mean_b: np.ndarray
    mean_a: np.ndarray

    def loss_at(self, eta):
        """Expected loss after a step of size ``eta`` (any value, not only the optimum)."""
        t = 2.0 * as_host(eta)
        return self.before - 2.0 * t * self.mean_b + t * t * self.mean_a


def _sizes(n, k, d):
    out = {}
    for v, name in ((n, "n (the context length)"), (k, "k (the number of TTT examples)"), (d, "d")):
        a = _validate.finite_array(v, name)
        if np.any(a < 1) or np.any(a != np.round(a)):
            raise _validate.InvalidParameterError(
                f"{name} must be a positive integer (or an array of them), got {_validate.describe(v)}")
        out[name.split()[0]] = a
    return _validate.broadcast(out)


def _check_start_protocol(start, protocol):
    if start not in ("warm", "cold"):
        raise ValueError(f"start must be 'warm' or 'cold', got {start!r}")
    if protocol not in ("fresh", "same"):
        raise ValueError(f"protocol must be 'fresh' or 'same', got {protocol!r}")


def _one_step(n, k, d, w, s2, protocol) -> TTTResult:
    """The exact one-step TTT moments for the isotropic problem with warm start ``W_0 = w I``
    (``w`` broadcast with ``n``) and TTT label-noise variance ``s2`` (relative to the signal):
    every expectation is a polynomial in the moments of ``r ~ chi2_n`` and ``c ~ chi2_{d-1}``.
    The one implementation behind :func:`isotropic_ttt` (``s2 = 0``) and :func:`shifted_ttt`."""
    q1 = _Poly({(1, 0): 1.0})
    q2 = _Poly({(2, 0): 1.0, (1, 1): 1.0})
    e2 = 1.0 - 2.0 * w * q1 + (w * w) * q2          # ||e0||^2, e0 = (I - w S) beta
    before = 1.0 - 2.0 * w * n + w * w * n * (n + d + 1.0)
    if protocol == "fresh":
        mb = k * n * ((1.0 - (n + 1.0) * w) * (q1 - w * (q1 * q1)) - w * q1 + (w * w) * q2).mean(n, d)
        quad = (n + 1.0) * (q1 * q1) + q2
        ma = (k + d + 1.0) * (e2 * quad).mean(n, d)
        if s2:  # the noise term X_tr^T eps of the gradient: sigma^2 k d, in E a only
            ma = ma + s2 * d * quad.mean(n, d)
        ma = n * k * ma
    else:
        mb = k * (q2 * e2).mean(n, d)
        ma = (k + d + 1.0) * (q2 * q2 * e2).mean(n, d)
        if s2:
            ma = ma + s2 * d * (q2 * q2).mean(n, d)
        ma = k * ma
    t = mb / ma
    after = before - mb * mb / ma
    res = dict(before=before, after=after, eta=t / 2.0, mean_b=mb, mean_a=ma)
    if n.ndim == 0:
        res = {key: float(v) for key, v in res.items()}
    return TTTResult(**res)


def isotropic_ttt(n, k, d, start="warm", protocol="fresh") -> TTTResult:
    r"""Exact finite-size one-step TTT for :math:`\Sigma_x=\Sigma_\beta=I_d`, noiseless (Chapter ``ch-ttt``).

    ``start``: ``"warm"`` (:math:`W_0 = I/(n+d+1)`, the pretrained weights) or ``"cold"``
    (:math:`W_0 = 0`). ``protocol``: ``"fresh"`` or ``"same"`` (see the module docstring).
    By rotation invariance :math:`q_1 = \beta^\top S\beta` and :math:`q_2 = \beta^\top S^2\beta`
    (:math:`S = X^\top X`, :math:`\|\beta\| = 1`) are :math:`r` and :math:`r^2 + rc` with independent
    :math:`r\sim\chi^2_n`, :math:`c\sim\chi^2_{d-1}`; every expectation is a polynomial in their moments.
    Broadcasts over ``n``, ``k``, ``d``.
    """
    _check_start_protocol(start, protocol)
    n, k, d = _sizes(n, k, d)
    return _one_step(n, k, d, 1.0 / (n + d + 1.0) if start == "warm" else np.zeros_like(n), 0.0,
                     protocol)


# --------------------------------------------------------------------------- diagonal covariances
def _wishart_pair(lam, n, p, q, r, s):
    """E[(p^T S q)(r^T S s)] for S ~ Wishart(n, diag(lam))."""
    ip = lambda a, b: np.sum(a * lam * b)  # noqa: E731
    return n * n * ip(p, q) * ip(r, s) + n * (ip(p, r) * ip(q, s) + ip(p, s) * ip(q, r))


def _error_moment(lam, w0, beta, n, A):
    """E[e0^T diag(A) e0] with e0 = (I - W0 S) beta, W0 = diag(w0)."""
    ebar = (1.0 - n * w0 * lam) * beta
    sb = lam * beta
    return (np.sum(A * ebar * ebar) + n * np.sum(w0 * A * w0 * sb * sb)
            + n * np.sum(w0 * A * w0 * lam) * np.sum(beta * sb))


def diagonal_ttt(spectrum, w0, beta, n, k) -> TTTResult:
    r"""One-step TTT, fresh-context protocol, for :math:`\Sigma_x = \operatorname{diag}(\text{spectrum})`,
    :math:`W_0 = \operatorname{diag}(w_0)` and a fixed test task ``beta`` (Chapter ``ch-ttt``, ``thm-ttt-general``).

    :math:`\mathbb E b` is exact (second moments of the Wishart matrix :math:`S = X^\top X`);
    :math:`\mathbb E a` replaces the mean of a product of two quadratic forms in :math:`S` by the product
    of their means (exact to leading order as :math:`d\to\infty`; relative error :math:`O(1/d)`). In the
    limit the gain is

    .. math::
        \Delta = \frac{\big(k\,\bar e^\top\Sigma^2\bar e\big)^2}{k(k+1)\,\mathbb E[e_0^\top\Sigma^3e_0]
        + k\operatorname{tr}(\Sigma^2)\,\mathbb E[e_0^\top\Sigma e_0]},\qquad \bar e = (I - nW_0\Sigma)\beta .

    Losses are *not* normalised here: they are :math:`\mathbb E(x^\top\beta-\hat y)^2` for this
    ``beta``; divide by ``beta @ (spectrum * beta)`` to normalise.
    """
    lam = as_host(_validate.spectrum(spectrum), dtype=float)
    w0 = as_host(_validate.vector_like(w0, lam, "w0"), dtype=float)
    beta = as_host(_validate.vector_like(beta, lam, "beta"), dtype=float)
    n = _validate.positive_int(n, "n (the context length)")
    k = _validate.positive_int(k, "k (the number of TTT examples)")
    sb = lam * beta
    signal = np.sum(beta * sb)
    # loss before the step (noiseless fixed-task ICL loss of diag(w0))
    before = (signal - 2 * n * np.sum(sb * w0 * sb) + n * (n + 1) * np.sum(w0 * sb * lam * w0 * sb)
              + n * signal * np.sum(w0 * lam * w0 * lam))
    # E b / (n k): three terms, see Chapter ``ch-ttt`` (proof of thm-ttt-general)
    v = sb                                    # u^T Sigma beta = beta^T S v
    c1 = lam**2 * beta                        # beta^T Sigma^2 e0 = c1^T e0
    c2 = lam**2 * w0 * lam * beta             # beta^T Sigma W0 Sigma^2 e0 = c2^T e0

    def cross(c):  # E[(beta^T S v)(c^T e0)], e0 = beta - W0 S beta
        return np.sum(c * beta) * n * np.sum(beta * lam * v) - _wishart_pair(lam, n, beta, v, w0 * c, beta)

    dmat = lam * w0 * lam**2 * w0            # Sigma W0 Sigma^2 W0 (diagonal)
    e_usw = (n * np.sum(beta * lam * (lam * w0 * lam**2) * beta)
             - (n * n + n) * np.sum(sb * dmat * sb) - n * np.sum(dmat * lam) * signal)
    mean_b = n * k * (cross(c1) - (n + 1) * cross(c2) - signal * e_usw)
    # E a ~ n [(n+1) E(u^T Sigma beta)^2 + E(u^T Sigma u) beta^T Sigma beta] [k(k+1) E e0'S^3 e0 + k tr S^2 E e0'S e0]
    e_ub2 = _wishart_pair(lam, n, beta, v, beta, v)
    e_usu = n * (n + 1) * np.sum(beta * lam**3 * beta) + n * np.sum(lam**2) * signal
    e3 = _error_moment(lam, w0, beta, n, lam**3)
    e1 = _error_moment(lam, w0, beta, n, lam)
    mean_a = n * ((n + 1) * e_ub2 + e_usu * signal) * (k * (k + 1) * e3 + k * np.sum(lam**2) * e1)
    t = mean_b / mean_a
    return TTTResult(before=float(before), after=float(before - mean_b * mean_b / mean_a),
                     eta=float(t / 2.0), mean_b=float(mean_b), mean_a=float(mean_a))


# --------------------------------------------------------------------------- sample complexity
def context_length_for_loss(target, d, k, n_max=None):
    r"""Smallest context lengths reaching a normalised loss ``target`` (isotropic, exact finite size).

    Returns ``(n_icl, n_ttt)``: for the pretrained model alone, :math:`(d+1)/(n+d+1)\le` ``target``;
    and with one step of TTT on ``k`` examples (fresh-context protocol, the better of warm and cold
    start). An entry is ``-1`` when no ``n <= n_max`` (default ``100 d``) reaches the target.
    """
    t = _validate.nonneg_scalar(target, "target", allow_zero=False)
    if t >= 1:
        raise ValueError(f"target must be in (0, 1) (a normalised loss), got {target!r}")
    d = _validate.positive_int(d, "d")
    k = _validate.positive_int(k, "k (the number of TTT examples)")
    n_max = 100 * d if n_max is None else _validate.positive_int(n_max, "n_max")
    n_icl = int(np.ceil((d + 1) * (1.0 / t - 1.0)))
    n_icl = n_icl if n_icl <= n_max else -1
    # TTT with the optimal step is never worse than no step (eta = 0), and cold start has a closed
    # form: both bound the search. Scan in blocks of n (memory O(block), whatever d).
    limit = n_max if n_icl < 0 else min(n_max, n_icl)
    cold = cold_context_length(t, d, k)
    if np.isfinite(cold):
        limit = min(limit, int(np.ceil(cold)) + 1)
    block = 1 << 16
    for start in range(1, limit + 1, block):
        ns = np.arange(start, min(limit, start + block - 1) + 1)
        best = np.minimum(isotropic_ttt(ns, k, d, "warm").after, isotropic_ttt(ns, k, d, "cold").after)
        ok = np.nonzero(best <= t)[0]
        if ok.size:
            return n_icl, int(ns[ok[0]])
    return n_icl, -1


def cold_context_length(target, d, k):
    r"""Closed form of the context length cold-start TTT needs (isotropic, exact finite size).

    From :math:`L_{cold} = 1 - \frac{k}{k+d+1}\,\frac{n^2}{n^2+4n+d+3}` (Chapter ``ch-ttt``, ``eq-cold-exact``):
    with :math:`\delta = \frac{k}{(k+d+1)(1-\epsilon)} - 1 > 0`, :math:`L_{cold}\le\epsilon` iff
    :math:`n \ge \big(2 + \sqrt{4 + \delta(d+3)}\big)/\delta \approx \sqrt{d/\delta}`. Returns that
    (real) bound, ``inf`` where :math:`\delta \le 0` (too few TTT examples). Broadcasts over ``d``, ``k``.
    """
    t = _validate.nonneg_scalar(target, "target", allow_zero=False)
    if t >= 1:
        raise ValueError(f"target must be in (0, 1) (a normalised loss), got {target!r}")
    d_ = _validate.finite_array(d, "d", low=1.0)
    k_ = _validate.finite_array(k, "k (the number of TTT examples)", low=1.0)
    d_, k_ = _validate.broadcast({"d": d_, "k": k_})
    delta = k_ / ((k_ + d_ + 1.0) * (1.0 - t)) - 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(delta > 0, (2.0 + np.sqrt(4.0 + delta * (d_ + 3.0))) / delta, np.inf)
    return float(out) if out.ndim == 0 else out


# --------------------------------------------------------------------------- covariate shift, label noise
def shifted_ttt(n, k, d, scale=1.0, label_noise=0.0, start="warm", protocol="fresh") -> TTTResult:
    r"""Exact finite-size one-step TTT under a covariate shift and with noisy TTT labels (the test-time training chapter (label ``ch-ttt``)).

    Pretraining used :math:`\Sigma_x = \Sigma_\beta = I_d` (warm start :math:`W_0 = I/(n+d+1)`); at test
    time the covariates are :math:`\mathcal N(0, s I_d)`, ``scale`` :math:`= s > 0`, for the context, the
    TTT examples and the queries, and the ``k`` TTT labels carry independent noise of variance
    ``label_noise`` :math:`\times\|\beta\|_\Sigma^2` (a noise-to-signal ratio; the context labels stay
    noiseless). Losses are normalised by :math:`\|\beta\|_\Sigma^2 = s\|\beta\|^2`.

    In the coordinates :math:`x = \sqrt s\,z` the problem is the isotropic one of
    :func:`isotropic_ttt` with the warm start :math:`W_0 = sI/(n+d+1)`, plus the noise term
    :math:`X_{tr}^\top\varepsilon` in the gradient, whose second moment :math:`\sigma^2 kd` adds to
    :math:`\mathbb E a` only. ``eta`` is the optimal step for :math:`\|\beta\| = 1` in the shifted
    units; in the original units it is ``eta / (scale**3 * ||beta||**2)``. ``scale = 1``,
    ``label_noise = 0`` gives :func:`isotropic_ttt`. Broadcasts over ``n``, ``k``, ``d``.
    """
    _check_start_protocol(start, protocol)
    s = float(_validate.nonneg(scale, "scale", allow_zero=False))
    s2 = float(_validate.nonneg(label_noise, "label_noise"))
    n, k, d = _sizes(n, k, d)
    return _one_step(n, k, d, s / (n + d + 1.0) if start == "warm" else np.zeros_like(n), s2,
                     protocol)
