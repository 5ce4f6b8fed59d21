"""Non-Gaussian designs: the law of each kind, and the design-conditioned risks against direct
linear algebra on the same designs."""

from __future__ import annotations

import numpy as np
import pytest

from hdreg.sim.universality import DESIGN_KINDS, draw_design, simulate_ridge_path_designs


def _exact(X, spectrum, beta, lams, noise_var):
    n, p = X.shape
    out = []
    for lam in lams:
        A = np.linalg.pinv(X.T @ X + n * lam * np.eye(p), rcond=1e-12) @ X.T
        err = A @ X @ beta - beta
        out.append(err @ (spectrum * err) + noise_var * np.trace((A.T * spectrum) @ A))
    return np.array(out)


@pytest.mark.parametrize("kind", DESIGN_KINDS)
@pytest.mark.parametrize("n,p", [(10, 25), (25, 10)])
def test_risk_matches_linear_algebra_on_the_same_designs(kind, n, p):
    spectrum = np.linspace(2.0, 0.1, p)
    beta = np.sin(np.arange(p) + 1.0)
    lams = np.array([0.0, 0.01, 0.3])
    kw = {"q": 0.3} if kind == "sparse" else {}
    out = simulate_ridge_path_designs(kind, spectrum, beta, n, lams, 0.2, trials=3, seed=4, **kw)
    X = draw_design(kind, spectrum, n, trials=3, seed=4, **kw)
    for t in range(3):
        np.testing.assert_allclose(out.risk[t], _exact(X[t], spectrum, beta, lams, 0.2),
                                   rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(out.risk, out.bias + out.variance)


@pytest.mark.parametrize("kind", DESIGN_KINDS)
def test_unit_covariance(kind):
    z = draw_design(kind, np.ones(50), 400, trials=5, seed=1, nu=6.0)
    second = (z ** 2).mean()
    assert abs(second - 1.0) < 0.05, second


def test_kinds_are_coupled_and_have_their_law():
    s = np.array([4.0, 1.0, 0.25])
    g = draw_design("gaussian", s, 7, trials=2, seed=3)
    r = draw_design("rademacher", s, 7, trials=2, seed=3)
    e = draw_design("elliptical", s, 7, trials=2, seed=3)
    np.testing.assert_allclose(np.abs(r), np.broadcast_to(np.sqrt(s), r.shape))
    np.testing.assert_array_equal(np.sign(r), np.where(g >= 0, 1.0, -1.0))
    ratio = e / g  # one radial factor per row
    np.testing.assert_allclose(ratio, ratio[..., :1] * np.ones_like(ratio), rtol=1e-12)
    sp = draw_design("sparse", np.ones(2000), 5, trials=1, seed=2, q=0.1)
    assert 0.07 < np.mean(sp != 0) < 0.13


def test_trial_stream_depends_only_on_seed_and_index():
    s = np.linspace(1, 0.1, 8)
    a = simulate_ridge_path_designs("student", s, np.ones(8), 5, [0.1], 0.1, trials=3, seed=9)
    b = simulate_ridge_path_designs("student", s, np.ones(8), 5, [0.1], 0.1, trials=2, seed=9)
    np.testing.assert_array_equal(a.risk[:2], b.risk)


@pytest.mark.parametrize("kwargs,match", [
    (dict(kind="cauchy"), "kind"),
    (dict(nu=2.0), "nu"),
    (dict(q=0.0), "q"),
    (dict(q=1.5), "q"),
    (dict(a=-1.0), "a must"),
    (dict(shape=2.0), "unknown design parameter"),
    (dict(lams=[-0.1]), "lams"),
    (dict(noise_var=-1.0), "noise_var"),
    (dict(spectrum=[1.0, np.nan, 0.5]), "spectrum"),
    (dict(spectrum=[1.0, -0.5, 0.5]), "spectrum"),
    (dict(beta=[1.0, 2.0]), "beta"),
    (dict(n=3, lams=[0.0]), "interpolation threshold"),
    (dict(trials=0), "trials"),
])
def test_bad_input(kwargs, match):
    args = dict(kind="student", spectrum=[1.0, 0.5, 0.2], beta=[1.0, 0.0, 1.0], n=5,
                lams=[0.1], noise_var=0.1, trials=2)
    args.update(kwargs)
    kind = args.pop("kind")
    with pytest.raises(ValueError, match=match):
        simulate_ridge_path_designs(kind, **args)


def test_draw_design_bad_input():
    with pytest.raises(ValueError, match="n"):
        draw_design("gaussian", [1.0, 1.0], 0, trials=1)
    with pytest.raises(ValueError, match="kind"):
        draw_design("uniform", [1.0, 1.0], 3, trials=1)
