"""Effective ranks of benign overfitting."""

from __future__ import annotations

import numpy as np
import pytest

from hdreg.theory import benign, ridge


def test_flat_spectrum():
    r, R = benign.effective_ranks(np.full(10, 0.5))
    np.testing.assert_allclose(r, 10 - np.arange(10))
    np.testing.assert_allclose(R, 10 - np.arange(10))


def test_spike_plus_flat_and_unsorted_input():
    s = np.concatenate([np.full(90, 0.01), np.ones(2)])  # unsorted on purpose
    r, R = benign.effective_ranks(s)
    assert r[2] == pytest.approx(90.0) and R[2] == pytest.approx(90.0)
    assert r[0] == pytest.approx((2 + 0.9) / 1.0)
    assert benign.critical_index(s, 20) == 2
    assert benign.critical_index(s, 2) == 0  # r_0 = 2.9 >= 2
    assert benign.critical_index(s, 3) == 2  # r_0 = 2.9 and r_1 = 1.9 < 3 <= r_2 = 90
    np.testing.assert_array_equal(benign.critical_index(s, [1, 20, 200]), [0, 2, 92])
    assert benign.variance_proxy(s, 20) == pytest.approx(2 / 20 + 20 / 90)
    assert benign.variance_proxy(s, 200) == np.inf


def test_proxy_tracks_the_equivalent_on_a_benign_spectrum():
    n = 100
    s = np.concatenate([np.ones(3), np.full(5000, 1 / 5000)])
    v = ridge.ridge_risk(s, np.zeros(s.size), n, 0.0, 1.0).variance
    assert float(v) == pytest.approx(benign.variance_proxy(s, n), rel=0.15)


@pytest.mark.parametrize("bad", [[1.0, -0.1], [1.0, np.nan], [0.0, 0.0], [[1.0, 2.0]]])
def test_bad_spectrum(bad):
    with pytest.raises(ValueError):
        benign.effective_ranks(bad)


def test_bad_n_and_b():
    with pytest.raises(ValueError, match="n"):
        benign.critical_index([1.0, 0.5], 0)
    with pytest.raises(ValueError, match="b"):
        benign.critical_index([1.0, 0.5], 3, b=-1.0)


def test_elliptical_ridgeless_risk():
    from hdreg.theory import universality as uni
    s = np.arange(1, 301) ** -1.0
    b = np.ones(300)
    base = ridge.ridge_risk(s, b, 100, 0.0, 0.5)
    assert uni.elliptical_ridgeless_risk(s, b, 100, 0.5, 1.0) == pytest.approx(float(base.risk))
    assert uni.elliptical_ridgeless_risk(s, b, 100, 0.5, 1.5) == pytest.approx(
        float(base.bias) + 1.5 * float(base.variance))
    np.testing.assert_allclose(uni.gamma_inverse_moment([0.5, 1.0, 3.0]), [np.inf, np.inf, 1.5])
    with pytest.raises(ValueError, match="inverse_moment"):
        uni.elliptical_ridgeless_risk(s, b, 100, 0.5, 0.9)
    with pytest.raises(ValueError, match="rank"):
        uni.elliptical_ridgeless_risk(s, b, 300, 0.5, 1.5)
    with pytest.raises(ValueError, match="a"):
        uni.gamma_inverse_moment(-1.0)
