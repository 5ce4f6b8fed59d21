r"""Softmax attention with trained embeddings, batched over trials (chapter ``ch-attention-collapse``).

The model and the notation are those of :mod:`hdreg.theory.token_selection`. A sequence enters only
through its token counts :math:`n_s(X)` (the model is permutation invariant), so a batch of ``n``
sequences is a count matrix ``(n, V)``; with :math:`z_s = p^\top E_s`, :math:`u_s = E_s^\top v`,

.. math::
    a_s(X) = \frac{n_s(X)\,e^{z_s}}{\sum_r n_r(X)\,e^{z_r}},\qquad f(X)=\sum_s a_s(X)\,u_s ,

and with :math:`\ell'_X = -y\,\sigma(-yf(X))` the hand-derived gradients of the logistic loss
:math:`L=\hat{\mathbb E}\log(1+e^{-yf})` are

.. math::
    \nabla_{E_s}L = \hat{\mathbb E}\big[\ell'_X\,a_s(X)\big(v + (u_s-f(X))\,p\big)\big],\qquad
    \nabla_p L = \sum_s \hat{\mathbb E}\big[\ell'_X\,a_s(X)\,(u_s - f(X))\big]\,E_s

(tested against finite differences). :func:`train_token_selection` runs the two phases of the
chapter: one gradient step of size ``eta_E`` on the embeddings at :math:`p=0`, then gradient descent
on :math:`p` alone with the embeddings frozen. Trial ``i`` draws its data, embeddings and output
vector from its own stream (:class:`hdreg.batch.TrialRNG`), so it depends only on ``(seed, i)``.
Functions run on the active backend (``xp``) and return NumPy arrays.
"""

from __future__ import annotations

import numpy as np

from .. import _validate
from ..backend import get_backend, namespace_of, to_numpy
from ..batch import TrialRNG, chunk_size, chunks
from ..theory import token_selection as ts_theory

__all__ = ["sample_counts", "attention_forward", "logistic_grads", "one_step_embeddings",
           "train_token_selection"]


def _draw_counts(gen: TrialRNG, xp, pi_pos, pi_neg, n, T, prior, anchor=None):
    t = gen.trials
    y = xp.where(gen.random((t, n)) < prior, 1.0, -1.0)
    u = gen.random((t, n, T))
    if anchor is not None:          # position 0 from the anchor laws, the others from pi
        a_p = xp.asarray(np.cumsum(anchor[0]))
        a_m = xp.asarray(np.cumsum(anchor[1]))
        V0 = a_p.shape[0]
        u0 = u[:, :, 0].ravel()
        t_p = xp.minimum(xp.searchsorted(a_p, u0, side="right"), V0 - 1).reshape(t, n)
        t_m = xp.minimum(xp.searchsorted(a_m, u0, side="right"), V0 - 1).reshape(t, n)
        first = xp.where(y > 0, t_p, t_m)
    cdf_p = xp.asarray(np.cumsum(pi_pos))
    cdf_m = xp.asarray(np.cumsum(pi_neg))
    V = cdf_p.shape[0]
    tok_p = xp.minimum(xp.searchsorted(cdf_p, u.ravel(), side="right"), V - 1).reshape(u.shape)
    tok_m = xp.minimum(xp.searchsorted(cdf_m, u.ravel(), side="right"), V - 1).reshape(u.shape)
    tok = xp.where(y[..., None] > 0, tok_p, tok_m)
    if anchor is not None:
        tok[:, :, 0] = first
    counts = (tok[..., None] == xp.arange(V)).sum(axis=-2).astype(xp.float64)
    return counts, y


def sample_counts(pi_pos, pi_neg, n: int, T: int, trials: int = 1, seed: int = 0,
                  prior: float = 0.5, anchor=None):
    """Token counts ``(trials, n, V)`` and labels ``(trials, n)`` of ``n`` sequences of length ``T``
    per trial: label :math:`+1` with probability ``prior``, tokens i.i.d. from ``pi_pos`` or
    ``pi_neg`` given the label; with ``anchor = (anchor_pos, anchor_neg)`` the first token of each
    sequence is drawn from the anchor law of its label instead (see
    :func:`hdreg.theory.token_selection.anchored_token_laws`)."""
    p, m = _laws(pi_pos, pi_neg)
    n = _validate.positive_int(n, "n")
    T = _validate.positive_int(T, "T")
    trials = _validate.positive_int(trials, "trials")
    prior = _validate.in_interval(prior, "prior", 0.0, 1.0)
    xp = get_backend().module
    anchor = _anchor(anchor, p.size)
    counts, y = _draw_counts(TrialRNG(seed, 0, trials, xp), xp, p, m, n, T, prior, anchor)
    return to_numpy(counts), to_numpy(y)


def _laws(pi_pos, pi_neg):
    # the public check of the theory module (same validation, one implementation)
    sf = ts_theory.signed_frequency(pi_pos, pi_neg)  # validates shapes, signs and sums
    del sf
    return (np.asarray(to_numpy(pi_pos), dtype=float), np.asarray(to_numpy(pi_neg), dtype=float))


def _anchor(anchor, V):
    if anchor is None:
        return None
    if not isinstance(anchor, (tuple, list)) or len(anchor) != 2:
        raise _validate.InvalidParameterError(
            "anchor must be a pair (anchor_pos, anchor_neg) of token laws")
    a_p, a_m = _laws(anchor[0], anchor[1])
    if a_p.size != V:
        raise _validate.InvalidParameterError(
            f"the anchor laws must have one entry per token ({V}), got {a_p.size}")
    return a_p, a_m


def _batch(counts, E, p, v):
    xp = namespace_of(counts, E, p, v)
    counts = xp.asarray(counts, dtype=xp.float64)
    E = xp.asarray(E, dtype=xp.float64)
    p = xp.asarray(p, dtype=xp.float64)
    v = xp.asarray(v, dtype=xp.float64)
    if counts.ndim != 3 or E.ndim != 3:
        raise _validate.InvalidParameterError(
            f"counts must be (trials, n, V) and E (trials, V, D), got {counts.shape} and {E.shape}")
    t, _, V = counts.shape
    if E.shape[:2] != (t, V):
        raise _validate.InvalidParameterError(
            f"E must have shape (trials, V, D) = ({t}, {V}, D), got {E.shape}")
    D = E.shape[2]
    for name, a in (("p", p), ("v", v)):
        if a.shape != (t, D):
            raise _validate.InvalidParameterError(f"{name} must have shape ({t}, {D}), got {a.shape}")
    for name, a in (("counts", counts), ("E", E), ("p", p), ("v", v)):
        if not bool(xp.all(xp.isfinite(a))):
            raise _validate.InvalidParameterError(f"{name} must be finite")
    if bool(xp.any(counts < 0)) or bool(xp.any(counts.sum(-1) <= 0)):
        raise _validate.InvalidParameterError("counts must be >= 0 with a token in every sequence")
    return xp, counts, E, p, v


def _forward(xp, counts, E, p, v):
    z = xp.einsum("tvd,td->tv", E, p)
    u = xp.einsum("tvd,td->tv", E, v)
    present = counts > 0
    zmax = xp.where(present, z[:, None, :], -xp.inf).max(axis=-1, keepdims=True)
    w = counts * xp.exp(xp.where(present, z[:, None, :] - zmax, -xp.inf))
    a = w / w.sum(axis=-1, keepdims=True)
    f = (a * u[:, None, :]).sum(axis=-1)
    return a, f, u


def attention_forward(counts, E, p, v):
    """Attention weights per token type ``a`` ``(trials, n, V)`` (summing to one over a sequence)
    and outputs ``f`` ``(trials, n)``."""
    xp, counts, E, p, v = _batch(counts, E, p, v)
    a, f, _ = _forward(xp, counts, E, p, v)
    return to_numpy(a), to_numpy(f)


def _softplus(xp, x):
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


def _sigmoid(xp, x):
    return 0.5 * (1 + xp.tanh(0.5 * x))


def _grads(xp, counts, y, E, p, v, want_E=True):
    a, f, u = _forward(xp, counts, E, p, v)
    n = counts.shape[1]
    loss = _softplus(xp, -y * f).mean(axis=1)
    lp = -y * _sigmoid(xp, -y * f) / n                    # l'_X / n
    wa = lp[..., None] * a                                 # (t, n, V)
    gz = (wa * (u[:, None, :] - f[..., None])).sum(axis=1)  # dL/dz_s, (t, V)
    gp = xp.einsum("tv,tvd->td", gz, E)
    gE = None
    if want_E:
        gE = wa.sum(axis=1)[..., None] * v[:, None, :] + gz[..., None] * p[:, None, :]
    return loss, gE, gp, a, f


def logistic_grads(counts, y, E, p, v):
    """Logistic loss ``(trials,)`` and its gradients in ``E`` ``(trials, V, D)`` and ``p``
    ``(trials, D)`` (the formulas of the module docstring)."""
    xp, counts, E, p, v = _batch(counts, E, p, v)
    y = xp.asarray(y, dtype=xp.float64)
    if y.shape != counts.shape[:2] or not bool(xp.all(xp.abs(y) == 1)):
        raise _validate.InvalidParameterError(
            f"y must hold labels +1/-1 of shape {counts.shape[:2]}, got shape {y.shape}")
    loss, gE, gp, _, _ = _grads(xp, counts, y, E, p, v)
    return to_numpy(loss), to_numpy(gE), to_numpy(gp)


def _init(gen, xp, V, D, init_scale):
    t = gen.trials
    E0 = init_scale * gen.standard_normal((t, V, D)) / np.sqrt(D)
    v = gen.standard_normal((t, D))
    v = v / xp.linalg.norm(v, axis=1, keepdims=True)
    return E0, v


def one_step_embeddings(pi_pos, pi_neg, n: int, T: int, D: int, eta: float, trials: int = 1,
                        seed: int = 0, init_scale: float = 1e-3, prior: float = 0.5,
                        anchor=None) -> dict:
    r"""Phase one: draw ``n`` sequences, embeddings :math:`E^{(0)}_s\sim\mathcal N(0,
    \text{init\_scale}^2 I_D/D)` and a unit output vector :math:`v`, and take one gradient step of
    size ``eta`` on :math:`E` at :math:`p=0`.

    Returns ``coef`` ``(trials, V)``, the component :math:`\langle E^{(1)}_s-E^{(0)}_s, v\rangle`,
    ``orth`` ``(trials, V)``, the norm of the update orthogonal to :math:`v` (zero up to rounding),
    ``freq`` ``(trials, V)``, the empirical signed frequency :math:`\hat{\mathbb E}[y n_s/T]`, and
    the arrays ``E0``, ``E1``, ``v``, ``counts``, ``y`` of the run.
    """
    trials = _validate.positive_int(trials, "trials")
    V = np.asarray(to_numpy(pi_pos)).size
    step = chunk_size(_per_trial_bytes(n, T, V, D), trials, "one_step_embeddings")
    parts = []
    for start, stop in chunks(trials, step, "one step on the embeddings"):
        out = _phase_one(pi_pos, pi_neg, n, T, D, eta, trials, seed, init_scale, prior,
                         start, stop, anchor)
        parts.append({k: to_numpy(a) for k, a in out.items()})
    return {k: np.concatenate([q[k] for q in parts]) for k in parts[0]}


def _per_trial_bytes(n, T, V, D):
    n, T, V, D = (max(1, int(_validate.positive_int(x, nm))) for x, nm in
                  ((n, "n"), (T, "T"), (V, "vocab"), (D, "D")))
    return n * T * V * 9 + 12 * n * V * 8 + 4 * V * D * 8


def _phase_one(pi_pos, pi_neg, n, T, D, eta, trials, seed, init_scale, prior, start=0, stop=None,
               anchor=None):
    p_, m_ = _laws(pi_pos, pi_neg)
    n = _validate.positive_int(n, "n")
    T = _validate.positive_int(T, "T")
    D = _validate.positive_int(D, "D")
    eta = _validate.positive_scalar(eta, "eta")
    trials = _validate.positive_int(trials, "trials")
    init_scale = _validate.positive_scalar(init_scale, "init_scale")
    prior = _validate.in_interval(prior, "prior", 0.0, 1.0)
    xp = get_backend().module
    stop = trials if stop is None else stop
    gen = TrialRNG(seed, start, stop, xp)
    counts, y = _draw_counts(gen, xp, p_, m_, n, T, prior, _anchor(anchor, p_.size))
    E0, v = _init(gen, xp, p_.size, D, init_scale)
    p0 = xp.zeros((stop - start, D))
    _, gE, _, _, _ = _grads(xp, counts, y, E0, p0, v)
    E1 = E0 - eta * gE
    dE = E1 - E0
    coef = xp.einsum("tvd,td->tv", dE, v)
    orth = xp.linalg.norm(dE - coef[..., None] * v[:, None, :], axis=-1)
    freq = (y[..., None] * counts).mean(axis=1) / T
    return dict(coef=coef, orth=orth, freq=freq, E0=E0, E1=E1, v=v, counts=counts, y=y)


def train_token_selection(pi_pos, pi_neg, n: int, T: int, D: int, eta_E: float, eta_p: float,
                          steps: int, log_steps, trials: int = 1, seed: int = 0,
                          init_scale: float = 1.0, prior: float = 0.5, relevant=None,
                          normalized: bool = True, rule: str = "argmax", anchor=None) -> dict:
    r"""Both phases: one step of size ``eta_E`` on the embeddings (:func:`one_step_embeddings`),
    then ``steps`` steps of gradient descent of size ``eta_p`` on :math:`p` from :math:`p=0`, with
    :math:`E` frozen; the max-margin direction :math:`p_{\rm mm}` of each trial's training set is
    computed once (:func:`hdreg.theory.token_selection.max_margin_direction`).

    ``anchor`` as in :func:`sample_counts` (then ``pi_pos``, ``pi_neg`` are the laws of the other
    tokens). ``relevant`` (default :func:`hdreg.theory.token_selection.relevant_tokens` of the
    per-position laws) is a ``(V,)``
    vector: :math:`+1` for tokens predictive of :math:`y=+1`, :math:`-1` for :math:`y=-1`, 0
    otherwise; the SVM uses the sequences holding a token predictive of their label. Returns, at
    each step of ``log_steps`` (``(trials, L)`` arrays unless said):

    * ``loss``; ``pnorm`` :math:`\|p_t\|`; ``cos`` :math:`\cos(p_t, p_{\rm mm})`;
    * ``mass_opt``: mean attention on each sequence's optimal token :math:`o(X)`;
    * ``mass_rel``: mean attention on tokens predictive of the sequence's label, over the sequences
      that hold one; ``mass_rel_uniform`` ``(trials,)`` the same at uniform attention;
    * ``cos_local_path``: :math:`\cos(p_t, p_{\rm loc})` with :math:`p_{\rm loc}` the max-margin
      direction of the selection made at the end (``sel``: the token of largest attention in each
      sequence); ``cos_local`` ``(trials,)`` its final value, ``frac_sel_relevant`` and
      ``frac_sel_opt`` ``(trials,)`` the fractions of sequences whose selected token is predictive
      of the label (among those holding one) and is the optimal :math:`o(X)`; ``margin_ratio``
      ``(trials,)`` the final normalised margin :math:`\min_k (Ap_T)_k/\|p_T\|` on that selection's
      SVM rows, divided by the largest possible one, :math:`1/\|p_{\rm loc}\|` (NaN where that
      SVM is infeasible);
    * ``scores`` ``(trials, V)``: :math:`p_T^\top E_s` at the end, ``scores_mm`` the same for
      :math:`p_{\rm mm}/\|p_{\rm mm}\|` times :math:`\|p_T\|`; ``coef`` ``(trials, V)`` as in
      :func:`one_step_embeddings`; ``frac_opt_relevant`` ``(trials,)``: among sequences holding a
      token predictive of their label, the fraction whose optimal token is one.
    """
    steps = _validate.nonneg_int(steps, "steps")
    eta_p = _validate.positive_scalar(eta_p, "eta_p")
    log_steps = _validate.step_list(log_steps, "log_steps", steps)
    trials = _validate.positive_int(trials, "trials")
    if relevant is None and anchor is None:
        relevant = ts_theory.relevant_tokens(pi_pos, pi_neg)
    elif relevant is None:
        anchor = _anchor(anchor, np.asarray(to_numpy(pi_pos)).size)
        relevant = ts_theory.relevant_tokens(ts_theory.position_average(anchor[0], pi_pos, T),
                                             ts_theory.position_average(anchor[1], pi_neg, T))
    V = np.asarray(to_numpy(pi_pos)).size
    step = chunk_size(_per_trial_bytes(n, T, V, D), trials, "train_token_selection")
    parts = []
    for start, stop in chunks(trials, step, "token selection"):
        parts.append(_train_chunk(pi_pos, pi_neg, n, T, D, eta_E, eta_p, steps, log_steps, trials,
                                  seed, init_scale, prior, relevant, normalized, rule, start, stop,
                                  anchor))
    out = {k: np.concatenate([q[k] for q in parts]) for k in parts[0] if k != "steps"}
    out["steps"] = log_steps
    return out


def _svm_or_nan(E, v, counts, y, relevant, selected):
    """The max-margin direction of one trial's selection, or NaNs when that SVM is infeasible
    (a selection that no single query can make, e.g. early in training)."""
    try:
        A = ts_theory.svm_constraints(E, v, counts, y, relevant, "argmax", selected)
        return ts_theory.max_margin_direction(A)
    except ValueError:
        return np.full(E.shape[1], np.nan)


def _train_chunk(pi_pos, pi_neg, n, T, D, eta_E, eta_p, steps, log_steps, trials, seed,
                 init_scale, prior, relevant, normalized, rule, start, stop, anchor):
    ph = _phase_one(pi_pos, pi_neg, n, T, D, eta_E, trials, seed, init_scale, prior, start, stop,
                    anchor)
    trials = stop - start
    xp = get_backend().module
    counts, y, E, v = ph["counts"], ph["y"], ph["E1"], ph["v"]
    relevant = _validate.finite_array(relevant, "relevant", shape=(counts.shape[2],))
    rel = xp.asarray(relevant)
    own = (rel[None, None, :] * y[..., None]) > 0                    # (t, n, V)
    has = (own & (counts > 0)).any(axis=-1)                          # (t, n)
    # each trial's optimal tokens and max-margin direction (host, small QPs)
    ch, yh, Eh, vh = (to_numpy(a) for a in (counts, y, E, v))
    opt = np.stack([ts_theory.optimal_tokens(Eh[i], vh[i], ch[i], yh[i]) for i in range(trials)])
    pmm = np.stack([_svm_or_nan(Eh[i], vh[i], ch[i], yh[i], relevant, None)
                    for i in range(trials)])
    onehot_opt = xp.asarray(opt[..., None] == np.arange(counts.shape[2]))
    hasf = has.astype(xp.float64)
    frac_rel = ((onehot_opt & own).any(-1) * hasf).sum(1) / hasf.sum(1)
    a_uni = counts / counts.sum(-1, keepdims=True)
    mass_rel_uni = ((a_uni * own).sum(-1) * hasf).sum(1) / hasf.sum(1)
    pmm_x = xp.asarray(pmm)
    pmm_unit = pmm_x / xp.linalg.norm(pmm_x, axis=1, keepdims=True)
    p = xp.zeros((trials, E.shape[2]))
    L = log_steps.size
    logs = {k: xp.zeros((trials, L)) for k in ("loss", "pnorm", "cos", "mass_opt", "mass_rel")}
    p_path = xp.zeros((trials, L, E.shape[2]))
    j = 0
    for step in range(steps + 1):
        loss, _, gp, a, _ = _grads(xp, counts, y, E, p, v, want_E=False)
        if step == log_steps[j]:
            nrm = xp.linalg.norm(p, axis=1)
            logs["loss"][:, j] = loss
            p_path[:, j] = p
            logs["pnorm"][:, j] = nrm
            logs["cos"][:, j] = (p * pmm_unit).sum(1) / xp.maximum(nrm, 1e-300)
            logs["mass_opt"][:, j] = (a * onehot_opt).sum(-1).mean(1)
            logs["mass_rel"][:, j] = ((a * own).sum(-1) * hasf).sum(1) / hasf.sum(1)
            j += 1
            if j == L:
                break
        if normalized:
            gp = gp / xp.maximum(xp.linalg.norm(gp, axis=1, keepdims=True), 1e-300)
        p = p - eta_p * gp
    # the selection the trained model makes, and the max-margin direction for that selection
    a_end = to_numpy(_forward(xp, counts, E, p, v)[0])
    sel = a_end.argmax(-1)
    ownh = to_numpy(own)
    frac_sel_rel = np.array([ownh[i, np.arange(sel.shape[1]), sel[i]][to_numpy(has)[i]].mean()
                             for i in range(trials)])
    frac_sel_opt = (sel == opt).mean(1)
    p_loc = np.stack([_svm_or_nan(Eh[i], vh[i], ch[i], yh[i], relevant, sel[i])
                      for i in range(trials)])
    ph_ = to_numpy(p)
    cos_local = (ph_ * p_loc).sum(1) / np.linalg.norm(ph_, axis=1) / np.linalg.norm(p_loc, axis=1)
    margin_ratio = np.full(trials, np.nan)
    for i in range(trials):
        if np.all(np.isfinite(p_loc[i])):
            A = ts_theory.svm_constraints(Eh[i], vh[i], ch[i], yh[i], relevant, "argmax", sel[i])
            margin_ratio[i] = ts_theory.svm_margins(A, ph_[i]).min() * np.linalg.norm(p_loc[i])
    pp_ = to_numpy(p_path)
    cos_local_path = np.einsum("tld,td->tl", pp_, p_loc / np.linalg.norm(p_loc, axis=1)[:, None]) \
        / np.maximum(np.linalg.norm(pp_, axis=2), 1e-300)
    scores = xp.einsum("tvd,td->tv", E, p)
    scores_mm = xp.einsum("tvd,td->tv", E, pmm_unit) * xp.linalg.norm(p, axis=1)[:, None]
    out = dict(logs, steps=log_steps, scores=scores, scores_mm=scores_mm, coef=ph["coef"],
               frac_opt_relevant=frac_rel, mass_rel_uniform=mass_rel_uni, p=p, p_mm=pmm_x,
               cos_local=cos_local, cos_local_path=cos_local_path, p_local=p_loc,
               margin_ratio=margin_ratio, frac_sel_relevant=frac_sel_rel,
               frac_sel_opt=frac_sel_opt)
    return {k: to_numpy(a) for k, a in out.items()}
