"""hdreg.theory.ttt: one-step test-time training (Chapter 6), limits, exact finite sizes, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from _hdreg_fixtures import clean_env  # noqa: F401  (autouse fixture)
from hdreg.theory import ttt


def test_isotropic_losses_closed_forms():
    r = ttt.isotropic_losses(2.0, 1.0)
    assert r.icl == pytest.approx(1 / 3)
    assert r.warm == pytest.approx(1 / 3 - 0.5 / 27)
    assert r.cold == pytest.approx(0.5)
    assert r.warm_same == pytest.approx(1 / 6)
    assert r.cold_same == pytest.approx(0.5)
    arr = ttt.isotropic_losses(np.array([0.5, 1.0]), 2.0)
    assert arr.warm.shape == (2,)


def test_threshold_is_the_crossing():
    for a in (0.1, 1.0, 5.0):
        g = ttt.warm_start_threshold(a)
        r = ttt.isotropic_losses(a, g)
        assert r.warm == pytest.approx(r.cold, rel=1e-12)
        assert ttt.isotropic_losses(a, 0.9 * g).warm < ttt.isotropic_losses(a, 0.9 * g).cold
        assert ttt.isotropic_losses(a, 1.1 * g).warm > ttt.isotropic_losses(a, 1.1 * g).cold
    assert ttt.warm_start_threshold(0.0) == pytest.approx(0.5)


@pytest.mark.parametrize("start", ["warm", "cold"])
@pytest.mark.parametrize("protocol", ["fresh", "same"])
def test_exact_finite_size_tends_to_the_limit(start, protocol):
    d = 10**5
    exact = ttt.isotropic_ttt(2 * d, d, d, start, protocol).after
    lim = ttt.isotropic_losses(2.0, 1.0)
    expected = getattr(lim, start if protocol == "fresh" else f"{start}_same")
    assert exact == pytest.approx(expected, rel=1e-4)


def test_cold_start_exact_formula_and_step():
    n, k, d = np.array([5, 30, 200]), np.array([7, 50, 100]), np.array([10, 40, 300])
    r = ttt.isotropic_ttt(n, k, d, "cold")
    np.testing.assert_allclose(r.after, 1 - k / (k + d + 1) * n**2 / (n**2 + 4 * n + d + 3), rtol=1e-12)
    np.testing.assert_allclose(r.before, 1.0)
    # the reported step minimises the quadratic loss_at
    for f in (0.5, 0.9, 1.1, 2.0):
        assert np.all(r.loss_at(f * r.eta) > r.after)
    np.testing.assert_allclose(r.loss_at(r.eta), r.after, rtol=1e-12)


def test_warm_before_is_icl_loss():
    n, d = 40, 30
    r = ttt.isotropic_ttt(n, 10, d, "warm")
    assert r.before == pytest.approx((d + 1) / (n + d + 1), rel=1e-12)
    assert r.after < r.before


def test_diagonal_matches_isotropic():
    d, n, k = 200, 400, 200
    lam, beta = np.ones(d), np.ones(d) / np.sqrt(d)
    cold = ttt.diagonal_ttt(lam, np.zeros(d), beta, n, k)
    exact = ttt.isotropic_ttt(n, k, d, "cold")
    assert cold.after == pytest.approx(exact.after, rel=1e-12)      # exact for cold start
    warm = ttt.diagonal_ttt(lam, np.full(d, 1 / (n + d + 1)), beta, n, k)
    exact = ttt.isotropic_ttt(n, k, d, "warm")
    assert warm.before == pytest.approx(exact.before, rel=1e-12)
    assert warm.after == pytest.approx(exact.after, rel=2e-3)        # factorised E a: O(1/d)


def test_sample_complexity():
    n_icl, n_ttt = ttt.context_length_for_loss(0.25, 100, 400)
    assert n_icl == 303
    assert n_ttt == int(np.ceil(ttt.cold_context_length(0.25, 100, 400)))
    assert ttt.isotropic_ttt(n_ttt, 400, 100, "cold").after <= 0.25 < ttt.isotropic_ttt(n_ttt - 1, 400, 100, "cold").after
    assert ttt.cold_context_length(0.25, 100, 100) == np.inf      # gamma < 1/eps - 1: impossible
    assert ttt.context_length_for_loss(0.25, 100, 100, n_max=50) == (-1, -1)


def test_bad_input():
    with pytest.raises(ValueError, match="alpha"):
        ttt.isotropic_losses(-1.0, 1.0)
    with pytest.raises(ValueError, match="gamma"):
        ttt.isotropic_losses(1.0, np.nan)
    with pytest.raises(ValueError, match="alpha"):
        ttt.warm_start_threshold(-0.5)
    with pytest.raises(ValueError, match="start"):
        ttt.isotropic_ttt(10, 10, 10, "hot")
    with pytest.raises(ValueError, match="protocol"):
        ttt.isotropic_ttt(10, 10, 10, "warm", "stale")
    with pytest.raises(ValueError, match="n"):
        ttt.isotropic_ttt(2.5, 10, 10)
    with pytest.raises(ValueError, match="k"):
        ttt.isotropic_ttt(10, 0, 10)
    with pytest.raises(ValueError, match="spectrum"):
        ttt.diagonal_ttt([1.0, -1.0], [0.0, 0.0], [1.0, 1.0], 5, 5)
    with pytest.raises(ValueError, match="w0"):
        ttt.diagonal_ttt([1.0, 1.0], [0.0], [1.0, 1.0], 5, 5)
    with pytest.raises(ValueError, match="target"):
        ttt.context_length_for_loss(1.5, 10, 10)
    with pytest.raises(ValueError, match="target"):
        ttt.cold_context_length(0.0, 10, 10)


# --------------------------------------------------------------------------- covariate shift, label noise
def test_shifted_ttt_reduces_to_isotropic_without_shift_or_noise():
    for protocol in ("fresh", "same"):
        for start in ("warm", "cold"):
            a = ttt.shifted_ttt(40, 60, 30, 1.0, 0.0, start, protocol)
            b = ttt.isotropic_ttt(40, 60, 30, start, protocol)
            for f in ("before", "after", "eta", "mean_b", "mean_a"):
                assert np.isclose(getattr(a, f), getattr(b, f), rtol=1e-12)


def test_shifted_ttt_limit_and_exact_icl_loss():
    al, ga, s, s2, d = 0.5, 1.0, 1.5, 1.0, 40000
    n, k = int(al * d), int(ga * d)
    a = 1 / (1 + al)
    L = 1 - (2 * s - s * s) * (1 - a)
    warm = L - ga * (1 - s * (1 - a)) ** 4 / ((1 + ga) * L + s2)
    cold = 1 - ga / (1 + ga + s2)
    assert np.isclose(ttt.shifted_ttt(n, k, d, s, s2).after, warm, rtol=1e-3)
    assert np.isclose(ttt.shifted_ttt(n, k, d, s, s2, "cold").after, cold, rtol=1e-3)
    # exact ICL loss at finite size, and the zero predictor is matched at s = 2
    n, d = 7, 5
    assert np.isclose(ttt.shifted_ttt(n, 3, d, 0.7).before, 1 - (2 * 0.7 - 0.49) * n / (n + d + 1))
    assert np.isclose(ttt.shifted_ttt(n, 3, d, 2.0).before, 1.0)
    # noise only increases the loss after the step, and leaves cold start independent of the scale
    assert ttt.shifted_ttt(n, 3, d, 1.0, 2.0).after > ttt.shifted_ttt(n, 3, d, 1.0, 0.0).after
    assert np.isclose(ttt.shifted_ttt(n, 3, d, 3.0, 0.5, "cold").after,
                      ttt.shifted_ttt(n, 3, d, 0.3, 0.5, "cold").after)


@pytest.mark.parametrize("kwargs, match", [
    (dict(scale=0.0), "scale"), (dict(scale=-1.0), "scale"), (dict(scale=np.nan), "scale"),
    (dict(label_noise=-0.1), "label_noise"), (dict(label_noise=np.inf), "label_noise"),
    (dict(start="hot"), "start"), (dict(protocol="old"), "protocol"),
])
def test_shifted_ttt_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ttt.shifted_ttt(10, 10, 10, **kwargs)
    with pytest.raises(ValueError, match="context length"):
        ttt.shifted_ttt(0, 10, 10)
