"""hdreg.claims: each helper passes on true statements and fails, with the numbers, on false ones."""

from __future__ import annotations

import numpy as np
import pytest
from _hdreg_fixtures import clean_env  # noqa: F401  (autouse)

from hdreg import claims
from hdreg.claims import ClaimError


def test_claim_error_is_an_assertion_error():
    assert issubclass(ClaimError, AssertionError)


def test_mean_se():
    x = np.array([[1.0, 10.0], [3.0, 14.0]])
    m, se = claims.mean_se(x)
    np.testing.assert_allclose(m, [2.0, 12.0])
    np.testing.assert_allclose(se, np.std(x, axis=0, ddof=1) / np.sqrt(2))
    m1, se1 = claims.mean_se(x, axis=1)
    np.testing.assert_allclose(m1, [5.5, 8.5])
    with pytest.raises(ValueError, match="at least 2 samples"):
        claims.mean_se(np.ones((1, 3)))


def test_within_se(capsys):
    z = claims.within_se([1.0, 2.1], [1.0, 2.0], se=0.05, k=4)
    assert z == pytest.approx(2.0)
    assert "claim holds" in capsys.readouterr().out
    with pytest.raises(ClaimError) as info:
        claims.within_se([1.0, 2.5], [1.0, 2.0], se=0.05, k=4, label="risk curve")
    msg = str(info.value)
    assert "risk curve" in msg and "2.5" in msg and "z=+10.00" in msg and "entry 1" in msg
    with pytest.raises(ClaimError, match="non-finite"):
        claims.within_se([np.nan], [1.0], se=1.0)
    with pytest.raises(ValueError, match="standard errors must be positive"):
        claims.within_se([1.0], [1.0], se=0.0)


def test_rel_close():
    assert claims.rel_close([1.0, 2.0], [1.0, 2.0 + 1e-9], rtol=1e-8) < 1e-8
    with pytest.raises(ClaimError) as info:
        claims.rel_close([1.0, 2.2], [1.0, 2.0], rtol=0.05)
    msg = str(info.value)
    assert "0.1" in msg and "2.2" in msg and "entry 1" in msg
    with pytest.raises(ClaimError, match="non-finite"):
        claims.rel_close([np.inf], [1.0], rtol=1.0)


def test_slope():
    x = np.geomspace(10, 1000, 8)
    y = 3.0 * x ** -0.5
    assert claims.slope(x, y, expected=-0.5, tol=1e-8) == pytest.approx(-0.5)
    s, se = claims.fit_slope(x, y)
    assert s == pytest.approx(-0.5) and se < 1e-10
    with pytest.raises(ClaimError) as info:
        claims.slope(x, y, expected=-1.0, tol=0.1)
    assert "-0.5000" in str(info.value) and "-1.0000" in str(info.value)
    with pytest.raises(ClaimError, match="positive values"):
        claims.slope(x, -y, expected=-0.5, tol=0.1)
    with pytest.raises(ValueError, match="at least 3 points"):
        claims.fit_slope([1.0, 2.0], [1.0, 2.0])


def test_less_and_greater():
    assert claims.less([1.0, 2.0], [1.5, 3.0]) == pytest.approx(0.5)
    assert claims.greater([1.5, 3.0], [1.0, 2.0]) == pytest.approx(0.5)
    with pytest.raises(ClaimError) as info:
        claims.less([1.0, 2.0], [1.5, 1.9], label="ridge beats ols")
    msg = str(info.value)
    assert "ridge beats ols" in msg and "entry 1" in msg and "a=2" in msg and "b=1.9" in msg
    # with a standard-error margin: the gap 0.5 must exceed k * se
    assert claims.less(1.0, 1.5, se=0.1, k=4) == pytest.approx(0.5)
    with pytest.raises(ClaimError, match="required margin 0.6 = 3 s.e."):
        claims.less(1.0, 1.5, se=0.2, k=3)
    with pytest.raises(ClaimError, match="required margin"):
        claims.greater(1.5, 1.0, se=0.2, k=3)
    with pytest.raises(ClaimError):
        claims.less(1.0, 1.0)  # strict


def test_in_range():
    claims.in_range([0.1, 0.5, 1.0], 0.0, 1.0)
    with pytest.raises(ClaimError) as info:
        claims.in_range([0.1, 1.5], 0.0, 1.0, label="probability")
    assert "probability" in str(info.value) and "1.5" in str(info.value)
    with pytest.raises(ClaimError):
        claims.in_range([np.nan], 0.0, 1.0)


def test_monotone():
    claims.monotone([1, 2, 3])
    claims.monotone([3, 2, 1], increasing=False)
    with pytest.raises(ClaimError) as info:
        claims.monotone([1, 3, 2], label="risk in n")
    assert "risk in n" in str(info.value) and "-1" in str(info.value)
    with pytest.raises(ClaimError, match="decreasing"):
        claims.monotone([1, 1, 0], increasing=False)
