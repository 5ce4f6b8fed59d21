r"""Token selection by softmax attention with trained embeddings (chapter ``ch-attention-collapse``).

The model (Wu, Shevchenko, Oymak and Mondelli, arXiv 2505.17282): a vocabulary of ``V`` tokens with
embeddings :math:`E_s\in\mathbb R^D` (rows of ``E``), a ⟨cls⟩ embedding :math:`p` and an output
vector :math:`v`; a sequence :math:`X=(x_1,\dots,x_T)` with label :math:`y=\pm1` is classified by

.. math::
    f(X) = \sum_{t=1}^T \frac{e^{p^\top E_{x_t}}}{\sum_{r} e^{p^\top E_{x_r}}}\,E_{x_t}^\top v ,

trained with the logistic loss :math:`\hat{\mathbb E}\log(1+e^{-yf(X)})`.

Closed forms implemented here (derived in the chapter; ours, in our notation):

* the data model: tokens drawn i.i.d. given the label from class-conditional laws
  :math:`\pi^\pm` (:func:`token_laws`);
* the *average signed frequency* :math:`c_s = \mathbb E[y\,n_s(X)/T] = q\pi^+_s-(1-q)\pi^-_s`
  (:func:`signed_frequency`, :math:`q = P(y=+1)`), and the one gradient step on the embeddings at
  :math:`p = 0` from a vanishing initialisation, :math:`E_s^{(1)}-E_s^{(0)} = \tfrac{\eta}{2}c_s\,v`
  in the population limit (:func:`one_step_coefficient`);
* the attention-SVM (max-margin) direction of Tarzanagh et al. (2023),
  :math:`\min\|p\|` subject to :math:`p^\top(E_{o(X)} - E_s)\ge 1` for every training sequence
  :math:`X` and every token type :math:`s\ne o(X)` present in it, where :math:`o(X)` is the token
  of :math:`X` with the largest :math:`y\,E_s^\top v` (:func:`svm_constraints`,
  :func:`max_margin_direction`, solved in the dual by bound-constrained L-BFGS).

Functions take NumPy or CuPy arrays and return NumPy arrays.
"""

from __future__ import annotations

import numpy as np

from .. import _validate
from ..backend import namespace_of, to_numpy

__all__ = ["token_laws", "anchored_token_laws", "position_average", "relevant_tokens", "signed_frequency", "one_step_coefficient", "optimal_tokens",
           "svm_constraints", "max_margin_direction", "svm_margins"]


def token_laws(vocab: int = 60, group: int = 5, boost: float = 6.0, neutral_boost: float = 3.0):
    r"""Class-conditional token laws ``(pi_pos, pi_neg)`` of the chapter's synthetic task.

    Tokens ``0 .. group-1`` (predictive of :math:`y=+1`) occur only in positive sequences, with
    weight ``boost``; tokens ``group .. 2 group-1`` (predictive of :math:`y=-1`) only in negative
    ones, with the same weight; tokens ``2 group .. 3 group-1`` have weight ``neutral_boost`` in
    both classes (frequent but uninformative); the rest have weight 1 in both. Returns two
    probability vectors of length ``vocab``.
    """
    vocab = _validate.positive_int(vocab, "vocab")
    group = _validate.positive_int(group, "group")
    if 3 * group > vocab:
        raise _validate.InvalidParameterError(
            f"vocab must be >= 3 * group = {3 * group} (three groups of tokens), got {vocab}")
    boost = _validate.positive_scalar(boost, "boost")
    neutral_boost = _validate.positive_scalar(neutral_boost, "neutral_boost")
    pos = np.ones(vocab)
    neg = np.ones(vocab)
    pos[:group], neg[:group] = boost, 0.0
    pos[group:2 * group], neg[group:2 * group] = 0.0, boost
    pos[2 * group:3 * group] = neutral_boost
    neg[2 * group:3 * group] = neutral_boost
    return pos / pos.sum(), neg / neg.sum()


def anchored_token_laws(vocab: int = 30, group: int = 5, neutral_boost: float = 3.0) -> dict:
    r"""Laws of a task with exactly one important token per sequence.

    The *anchor* (one position per sequence) is drawn uniformly from the label's own important
    tokens: ``anchor_pos`` uniform on ``0 .. group-1``, ``anchor_neg`` on ``group .. 2 group-1``; the
    other positions are drawn from ``rest``, the same law in both classes, zero on the important
    tokens, weight ``neutral_boost`` on ``2 group .. 3 group-1`` and 1 on the others. Returns the dict
    ``anchor_pos``, ``anchor_neg``, ``rest``.
    """
    vocab = _validate.positive_int(vocab, "vocab")
    group = _validate.positive_int(group, "group")
    if 3 * group > vocab:
        raise _validate.InvalidParameterError(
            f"vocab must be >= 3 * group = {3 * group} (three groups of tokens), got {vocab}")
    neutral_boost = _validate.positive_scalar(neutral_boost, "neutral_boost")
    a_pos = np.zeros(vocab)
    a_neg = np.zeros(vocab)
    a_pos[:group] = 1.0 / group
    a_neg[group:2 * group] = 1.0 / group
    rest = np.ones(vocab)
    rest[:2 * group] = 0.0
    rest[2 * group:3 * group] = neutral_boost
    return dict(anchor_pos=a_pos, anchor_neg=a_neg, rest=rest / rest.sum())


def position_average(anchor, rest, T: int) -> np.ndarray:
    r"""Per-position marginal law :math:`(\alpha + (T-1)\rho)/T` of a sequence of length ``T`` whose
    anchor is drawn from ``anchor`` (:math:`\alpha`) and whose other tokens from ``rest``
    (:math:`\rho`); the signed frequency of an anchored task is that of these laws."""
    a, r = _laws(anchor, rest)
    T = _validate.positive_int(T, "T")
    return (a + (T - 1) * r) / T


def relevant_tokens(pi_pos, pi_neg) -> np.ndarray:
    r"""``+1`` for tokens that occur only in positive sequences, ``-1`` for those only in negative
    ones, ``0`` for the rest: the tokens whose presence reveals the label."""
    p, m = _laws(pi_pos, pi_neg)
    return np.where((p > 0) & (m == 0), 1.0, np.where((m > 0) & (p == 0), -1.0, 0.0))


def _laws(pi_pos, pi_neg):
    p = _validate.finite_array(pi_pos, "pi_pos", ndim=1, low=0.0)
    m = _validate.finite_array(pi_neg, "pi_neg", ndim=1, low=0.0)
    if p.shape != m.shape:
        raise _validate.InvalidParameterError(
            f"pi_neg must have the shape of pi_pos {p.shape}, got {m.shape}")
    for name, a in (("pi_pos", p), ("pi_neg", m)):
        if abs(a.sum() - 1.0) > 1e-9:
            raise _validate.InvalidParameterError(f"{name} must sum to 1, got {a.sum():.6g}")
    return p, m


def signed_frequency(pi_pos, pi_neg, prior: float = 0.5) -> np.ndarray:
    r"""Average signed frequency :math:`c_s=\mathbb E[y\,n_s(X)/T]=q\pi^+_s-(1-q)\pi^-_s` of every token
    (``prior`` :math:`=q=P(y=+1)`); it does not depend on the sequence length :math:`T`."""
    p, m = _laws(pi_pos, pi_neg)
    q = _validate.in_interval(prior, "prior", 0.0, 1.0)
    return q * p - (1.0 - q) * m


def one_step_coefficient(pi_pos, pi_neg, eta: float, prior: float = 0.5) -> np.ndarray:
    r"""Coefficient :math:`\langle E^{(1)}_s - E^{(0)}_s, v\rangle/\|v\|^2 = \tfrac{\eta}{2}c_s` of one
    gradient step of size ``eta`` on the embeddings at :math:`p=0`, in the limit of a vanishing
    initialisation (:math:`f\approx 0`, :math:`\sigma(0)=1/2`) and of many sequences."""
    eta = _validate.positive_scalar(eta, "eta")
    return 0.5 * eta * signed_frequency(pi_pos, pi_neg, prior)


def _embeddings(E, v):
    xp = namespace_of(E, v)
    E = xp.asarray(E, dtype=xp.float64)
    v = xp.asarray(v, dtype=xp.float64)
    if E.ndim != 2:
        raise _validate.InvalidParameterError(f"E must be a (vocab, D) matrix, got shape {E.shape}")
    if v.shape != (E.shape[1],):
        raise _validate.InvalidParameterError(
            f"v must be a vector of length D = {E.shape[1]}, got shape {v.shape}")
    if not (bool(xp.all(xp.isfinite(E))) and bool(xp.all(xp.isfinite(v)))):
        raise _validate.InvalidParameterError("E and v must be finite")
    return xp, E, v


def _counts(counts, y, vocab):
    c = _validate.finite_array(counts, "counts", ndim=2, low=0.0)
    if c.shape[1] != vocab:
        raise _validate.InvalidParameterError(
            f"counts must have one column per token ({vocab}), got shape {c.shape}")
    yy = _validate.finite_array(y, "y", ndim=1)
    if yy.shape[0] != c.shape[0] or not np.all(np.abs(yy) == 1):
        raise _validate.InvalidParameterError(
            f"y must hold one label +1/-1 per sequence ({c.shape[0]}), got shape {yy.shape}")
    if np.any(c.sum(1) <= 0):
        raise _validate.InvalidParameterError("every sequence (row of counts) must hold a token")
    return c, yy


def optimal_tokens(E, v, counts, y) -> np.ndarray:
    r"""For each sequence (row of the token-count matrix ``counts``, label ``y``), the token type
    :math:`o(X)=\arg\max_{s\in X} y\,E_s^\top v` that attention should select to maximise
    :math:`y f(X)`."""
    xp, E, v = _embeddings(E, v)
    c, yy = _counts(counts, y, E.shape[0])
    u = to_numpy(E @ v)
    score = np.where(c > 0, yy[:, None] * u[None, :], -np.inf)
    return np.argmax(score, axis=1)


def svm_constraints(E, v, counts, y, relevant=None, rule: str = "argmax",
                    selected=None) -> np.ndarray:
    r"""The rows :math:`E_{o(X)}-E_s` of the attention-SVM, one per distinct pair
    :math:`(o(X), s)` with :math:`s\ne o(X)` present in a training sequence :math:`X`.

    With ``relevant`` (a ``(V,)`` vector of ``+1``/``-1``/``0``, see :func:`relevant_tokens`) only the
    sequences holding a token predictive of their own label enter: a sequence without one has no
    token worth selecting, and the orderings of uninformative tokens it would ask for conflict
    between the two classes (the problem would be infeasible).

    ``rule="set"`` (needs ``relevant``) selects a set instead of one token: the rows are
    :math:`E_s-E_r` for every token :math:`s` predictive of the label of a sequence holding it and
    every token :math:`r` of that sequence that predicts nothing.

    ``selected`` (one token index per sequence, present in it) replaces :math:`o(X)` by the token a
    trained model actually selects: the rows then define the max-margin direction *for that
    selection* (the locally-optimal SVM of Tarzanagh et al., 2023).
    """
    rule = _validate.choice(rule, "rule", ("argmax", "set"))
    if rule == "set" and relevant is None:
        raise _validate.InvalidParameterError("rule='set' needs the relevant tokens")
    xp, E, v = _embeddings(E, v)
    c, yy = _counts(counts, y, E.shape[0])
    sel = None
    if selected is not None:
        sel = _validate.finite_array(selected, "selected", shape=(c.shape[0],)).astype(int)
        if np.any(sel < 0) or np.any(sel >= E.shape[0]) or \
                not np.all(c[np.arange(c.shape[0]), np.clip(sel, 0, E.shape[0] - 1)] > 0):
            raise _validate.InvalidParameterError("selected must name a token present in each sequence")
    if relevant is not None:
        rel = _validate.finite_array(relevant, "relevant", shape=(E.shape[0],))
        keep = ((yy[:, None] * rel[None, :] > 0) & (c > 0)).any(axis=1)
        if not keep.any():
            raise _validate.InvalidParameterError("no sequence holds a relevant token")
        c, yy = c[keep], yy[keep]
        sel = None if sel is None else sel[keep]
    V = E.shape[0]
    pairs = np.zeros((V, V), dtype=bool)
    if rule == "set":
        for lab in (1.0, -1.0):
            pres = (c[yy == lab] > 0)
            own = (lab * rel > 0)
            for s_ in np.nonzero(own)[0]:
                pairs[s_] |= (pres[pres[:, s_]] .any(axis=0) if pres[:, s_].any() else False) & (rel == 0)
        a, b = np.nonzero(pairs)
        Eh = to_numpy(E)
        return Eh[a] - Eh[b]
    o = optimal_tokens(E, v, c, yy) if sel is None else sel
    for tok in np.unique(o):
        present = (c[o == tok] > 0).any(axis=0)
        pairs[tok] = present
        pairs[tok, tok] = False
    a, b = np.nonzero(pairs)
    if a.size == 0:
        raise _validate.InvalidParameterError("no constraint: every sequence holds a single token type")
    Eh = to_numpy(E)
    return Eh[a] - Eh[b]


def max_margin_direction(A, tol: float = 1e-3) -> np.ndarray:
    r"""Solution :math:`p_{\rm mm}` of :math:`\min\frac12\|p\|^2` s.t. :math:`Ap\ge 1` (rows of ``A``).

    Solved in the dual, :math:`\min_{\alpha\ge0}\frac12\|A^\top\alpha\|^2-\mathbf 1^\top\alpha`,
    :math:`p=A^\top\alpha`, by bound-constrained L-BFGS (SciPy, on the host). Raises ``ValueError``
    when the dual's point violates a constraint by more than ``tol`` (infeasible constraints: the
    dual is unbounded); otherwise it is rescaled onto the feasible set.
    """
    from scipy.optimize import minimize  # noqa: PLC0415

    A = _validate.finite_array(A, "A", ndim=2)
    tol = _validate.positive_scalar(tol, "tol")
    if not np.any(A):
        raise _validate.InvalidParameterError("A must have a non-zero row")
    G = A @ A.T

    def fun(a):
        Ga = G @ a
        return 0.5 * a @ Ga - a.sum(), Ga - 1.0

    res = minimize(fun, np.zeros(A.shape[0]), jac=True, method="L-BFGS-B",
                   bounds=[(0.0, None)] * A.shape[0],
                   options=dict(maxiter=50000, maxfun=100000, ftol=1e-16, gtol=1e-12))
    p = A.T @ res.x
    low = float((A @ p).min()) if np.all(np.isfinite(p)) else -np.inf
    if not low >= 1.0 - tol:
        raise ValueError("max_margin_direction: the constraints A p >= 1 look infeasible "
                         f"(smallest A p = {low:.3g} after {res.nit} iterations)")
    return p / low  # feasible; the direction is unchanged


def svm_margins(A, p) -> np.ndarray:
    r"""The normalised margins :math:`A p/\|p\|` of a direction ``p`` on the SVM rows ``A``; the
    max-margin direction maximises their minimum, :math:`1/\|p_{\rm mm}\|`."""
    A = _validate.finite_array(A, "A", ndim=2)
    p = _validate.finite_array(p, "p", ndim=1, shape=(A.shape[1],))
    nrm = float(np.linalg.norm(p))
    if nrm == 0:
        raise _validate.InvalidParameterError("p must be non-zero")
    return A @ p / nrm
