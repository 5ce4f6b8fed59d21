r"""Ridge regression on non-Gaussian designs: universality and where it fails (the ridge chapter, label ``ch-ridge``).

Every design here has rows :math:`x = \Sigma^{1/2} z` (``Sigma = diag(spectrum)``) with
:math:`\mathbb E zz^\top = I`, so the population covariance is the same as in the Gaussian case;
only the law of :math:`z` changes. All kinds are built from one standard Gaussian draw :math:`g` per
trial (common random numbers: the designs of one trial are coupled across kinds, which makes paired
differences between kinds precise):

* ``"gaussian"``: :math:`z = g`;
* ``"rademacher"``: :math:`z = \operatorname{sign}(g)`, i.i.d. :math:`\pm1`;
* ``"student"``: :math:`z_j = g_j\sqrt{(\nu-2)/w_j}`, :math:`w_j\sim\chi^2_\nu` i.i.d., a Student-t
  with ``nu`` degrees of freedom scaled to unit variance (heavier tails than Gaussian; finite moments
  of order below ``nu``);
* ``"sparse"``: :math:`z_j = g_j b_j/\sqrt q`, :math:`b_j\sim\mathrm{Bernoulli}(q)` i.i.d.: each row has
  about :math:`qp` non-zero, large coordinates;
* ``"elliptical"``: :math:`z = \rho g` with one radial factor per row, :math:`\rho^2\sim
  \mathrm{Gamma}(a, 1/a)` (mean 1, variance ``1/a``): the rows are not concentrated,
  :math:`\|x\|^2/\operatorname{tr}\Sigma \to \rho^2` instead of 1.

:func:`simulate_ridge_path_designs` returns, per trial and penalty, the excess risk *given the
design* (label noise integrated exactly), as :func:`hdreg.sim.ridge.simulate_ridge_path_given_design`
does for Gaussian designs, with the same kernel (:func:`hdreg.sim.ridge.ridge_path_given_design`). Trial ``i`` draws from a stream that depends only on ``(seed, i)``.
"""

from __future__ import annotations

import numpy as np

from .. import _validate
from ..backend import get_backend, rng, to_numpy
from ..batch import chunk_size, chunks
from .ridge import RidgeDesignSim, ridge_path_given_design, ridgeless_threshold_check

__all__ = ["DESIGN_KINDS", "draw_design", "simulate_ridge_path_designs"]

DESIGN_KINDS = ("gaussian", "rademacher", "student", "sparse", "elliptical")
_DEFAULTS = {"nu": 5.0, "q": 0.02, "a": 1.0}


def _trial_gen(seed: int, i: int):
    state = np.random.SeedSequence([int(seed), int(i)]).generate_state(1)[0]
    return rng(int(state))


def _params(kind: str, params: dict) -> dict:
    if kind not in DESIGN_KINDS:
        raise ValueError(f"kind must be one of {DESIGN_KINDS}, got {kind!r}")
    unknown = set(params) - set(_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown design parameter(s) {sorted(unknown)}; known: {sorted(_DEFAULTS)}")
    out = {**_DEFAULTS, **params}
    if not (np.isfinite(out["nu"]) and out["nu"] > 2):
        raise ValueError(f"nu must be a finite number > 2 (unit variance), got {out['nu']!r}")
    if not (0 < out["q"] <= 1):
        raise ValueError(f"q must be in (0, 1], got {out['q']!r}")
    if not (np.isfinite(out["a"]) and out["a"] > 0):
        raise ValueError(f"a must be a finite number > 0, got {out['a']!r}")
    return out


def _z(gen, xp, n, p, kind, par):
    g = gen.standard_normal((n, p), dtype=xp.float64)
    if kind == "gaussian":
        return g
    if kind == "rademacher":
        return xp.where(g >= 0, 1.0, -1.0)
    if kind == "student":
        w = gen.chisquare(par["nu"], size=(n, p))
        return g * xp.sqrt((par["nu"] - 2.0) / w)
    if kind == "sparse":
        b = gen.random((n, p)) < par["q"]
        return g * b / np.sqrt(par["q"])
    rho2 = gen.gamma(par["a"], 1.0 / par["a"], size=(n, 1))
    return g * xp.sqrt(rho2)


def draw_design(kind: str, spectrum, n: int, trials: int, seed: int = 0, **params) -> np.ndarray:
    """Designs ``(trials, n, p)`` of the given kind (see the module docstring), as NumPy arrays.

    ``params``: ``nu`` (Student-t degrees of freedom, > 2), ``q`` (sparse: fraction of non-zero
    coordinates), ``a`` (elliptical: Gamma shape of the squared radial factor).
    """
    xp = get_backend().module
    spec_h = np.asarray(to_numpy(_validate.spectrum(spectrum)))
    n = _validate.positive_int(n, "n")
    trials = _validate.positive_int(trials, "trials")
    par = _params(kind, params)
    sq = xp.sqrt(xp.asarray(spec_h))
    return np.stack([to_numpy(_z(_trial_gen(seed, i), xp, n, spec_h.size, kind, par) * sq)
                     for i in range(trials)])


def simulate_ridge_path_designs(kind: str, spectrum, beta, n: int, lams, noise_var: float,
                                trials: int, seed: int = 0, desc: str = "design trials",
                                **params) -> RidgeDesignSim:
    r"""Design-conditioned ridge risks on ``trials`` designs of the given kind, every penalty.

    Returns a :class:`hdreg.sim.ridge.RidgeDesignSim` (``risk``, ``bias``, ``variance``,
    ``train_error``, each ``(trials, len(lams))``), with the label noise (variance ``noise_var``)
    integrated out exactly given :math:`X`. The same ``seed`` couples trial ``i`` across kinds.
    """
    xp = get_backend().module
    spec_h = np.asarray(to_numpy(_validate.spectrum(spectrum)))
    beta_h = np.asarray(to_numpy(_validate.vector_like(beta, spec_h, "beta")))
    n = _validate.positive_int(n, "n")
    trials = _validate.positive_int(trials, "trials")
    lams_h = _validate.penalties(lams)
    s2 = float(_validate.nonneg(noise_var, "noise_var"))
    par = _params(kind, params)
    p = spec_h.size
    ridgeless_threshold_check(lams_h, n, int(np.count_nonzero(spec_h > 0)))
    L, m = lams_h.size, min(n, p)
    per_trial = 8 * (4 * n * p + 3 * m * m + 3 * p * L + 3 * m * L)
    step = chunk_size(per_trial, trials, "simulate_ridge_path_designs")
    spec = xp.asarray(spec_h)
    sq = xp.sqrt(spec)
    b_star = xp.asarray(beta_h)
    nlam = xp.asarray(n * lams_h)
    out = {k: [] for k in ("risk", "bias", "variance", "train")}
    for start, stop in chunks(trials, step, desc):
        X = xp.stack([_z(_trial_gen(seed, i), xp, n, p, kind, par) * sq
                      for i in range(start, stop)])
        _, bias, var, train = ridge_path_given_design(X, b_star, nlam, s2, spec)
        out["risk"].append(to_numpy(bias + var))
        out["bias"].append(to_numpy(bias))
        out["variance"].append(to_numpy(var))
        out["train"].append(to_numpy(train))
    cat = {k: np.concatenate(v) for k, v in out.items()}
    return RidgeDesignSim(lams_h, cat["risk"], cat["bias"], cat["variance"], cat["train"])
