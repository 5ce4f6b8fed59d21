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
    with pytest.raises(ValueError, match="NaN"):
        claims.mean_se([1.0, np.nan])
    with pytest.raises(ValueError, match="empty"):
        claims.mean_se([])


def test_within_se(capsys):
    z = claims.within_se([10.0, 20.1], [10.0, 20.0], se=0.05, k=4)
    assert z == pytest.approx(2.0)
    assert "claim holds" in capsys.readouterr().out
    with pytest.raises(ClaimError) as info:
        claims.within_se([10.0, 20.5], [10.0, 20.0], se=0.05, k=4, label="risk curve")
    msg = str(info.value)
    assert "risk curve" in msg and "20.5" in msg and "z=+10.00" in msg and "entry 1" in msg
    with pytest.raises(ClaimError, match="non-finite"):
        claims.within_se([np.nan], [1.0], se=1.0)
    with pytest.raises(ValueError, match="standard errors must be positive"):
        claims.within_se([1.0], [1.0], se=0.0)


def test_rel_close():
    assert claims.rel_close([1.0, 2.0], [1.0, 2.0 + 1e-9], rtol=1e-8) < 1e-8
    with pytest.raises(ClaimError) as info:
        claims.rel_close([1.0, 2.2], [1.0, 2.0], rtol=0.05)
    with pytest.raises(ClaimError, match="cannot see a 5% error"):
        claims.rel_close([1.0], [1.0], rtol=0.2)
    assert claims.rel_close([1.0], [1.1], rtol=0.2, exempt="a coarse check, said so in the text") > 0
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
        claims.slope(x, y, expected=-1.0, tol=0.04)
    assert "-0.5000" in str(info.value) and "-1.0000" in str(info.value)
    with pytest.raises(ClaimError, match="positive finite values"):
        claims.slope(x, -y, expected=-0.5, tol=0.02)
    with pytest.raises(ClaimError, match="cannot see a 5% error"):
        claims.slope(x, y, expected=-0.5, tol=0.1)
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
    assert claims.less(1.0, 1.5, se=0.1, k=4, exempt="this test is about margins") == pytest.approx(0.5)
    with pytest.raises(ClaimError, match="required margin 0.6 = 3 s.e."):
        claims.less(1.0, 1.5, se=0.2, k=3)
    with pytest.raises(ClaimError, match="required margin"):
        claims.greater(1.5, 1.0, se=0.2, k=3)
    # the budget: 4 s.e. must be at most 5% of the smaller value
    assert claims.less(10.0, 15.0, se=0.1) == pytest.approx(5.0)
    with pytest.raises(ClaimError, match="cannot see a 5% error"):
        claims.less(10.0, 15.0, se=0.2)
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


def test_nothing_fools_within_se():
    """NaN standard errors, too few trials, empty input and shape mismatches raise."""
    with pytest.raises(ValueError, match="finite"):
        claims.within_se(1.0, 100.0, np.nan)
    with pytest.raises(ValueError, match="positive"):
        claims.within_se(1.0, 1.0, -1.0)
    with pytest.raises(ValueError, match="empty"):
        claims.within_se([], [], 1.0)
    with pytest.raises(ValueError, match="shapes do not match"):
        claims.within_se([1.0, 2.0], [1.0, 2.0, 3.0], 0.01)
    with pytest.raises(ValueError, match="at least 2 samples"):
        claims.within_mc(np.ones((1, 3)), np.ones(3))
    with pytest.raises(ValueError, match="k must be"):
        claims.within_se(1.0, 1.0, 0.01, k=np.nan)
    with pytest.raises(TypeError, match="numeric"):
        claims.within_se("1.0", 1.0, 0.01)
    with pytest.raises(ValueError, match="None"):
        claims.within_se(None, 1.0, 0.01)


def test_budget_and_k_min():
    """The resolution uses max(k, 4): a smaller k cannot buy a better resolution."""
    # 4 * 0.01 / 1 = 4%: within budget
    claims.within_se(1.0, 1.0, 0.01)
    # 4 * 0.02 / 1 = 8% even with k = 2
    with pytest.raises(ClaimError, match="cannot see a 5% error"):
        claims.within_se(1.0, 1.0, 0.02, k=2)
    # a theory value of zero needs an explicit scale
    with pytest.raises(ClaimError, match="cannot see"):
        claims.within_se(0.0, 0.0, 0.01)
    claims.within_se(0.0, 0.0, 0.01, scale=1.0)
    with pytest.raises(ValueError, match="exempt must be a sentence"):
        claims.within_se(1.0, 1.0, 0.02, exempt="")
    n0 = len(claims.RECORDS)
    claims.within_se(1.0, 1.0, 0.02, exempt="only 40 images per class exist in this data set")
    rec = claims.RECORDS[n0]
    assert rec["resolution"] == pytest.approx(0.08) and rec["exempt"].startswith("only 40")


def test_within_mc_and_paired():
    rng = np.random.default_rng(0)
    common = rng.normal(size=400)
    a = 10.0 + common + 0.01 * rng.normal(size=400)
    b = 9.0 + common + 0.01 * rng.normal(size=400)
    # unpaired, the common noise makes the mean of a too uncertain for a 5% budget? (se ~ 0.05)
    claims.within_mc(a, 10.0, exempt="the unpaired comparison, shown for contrast")
    # paired: the difference is resolved to about 0.004
    z = claims.paired(a, b, 1.0, scale=10.0)
    assert z < 4
    with pytest.raises(ClaimError, match="exceeds 4 standard errors"):
        claims.paired(a, b, 1.05, scale=10.0)
    with pytest.raises(ValueError, match="same shape"):
        claims.paired(a, b[:-1], 1.0, scale=10.0)
    with pytest.raises(ValueError, match="scale"):
        claims.paired(a, b, 1.0, scale=None)


def test_report_file(tmp_path, monkeypatch):
    path = tmp_path / "claims.jsonl"
    monkeypatch.setenv("HDREG_CLAIMS_REPORT", str(path))
    monkeypatch.setenv("HDREG_CLAIMS_SOURCE", "ridge.md")
    claims.within_se(1.0, 1.0, 0.01, label="first")
    with pytest.raises(ClaimError):
        claims.within_se(1.0, 2.0, 0.01, label="second")
    import json
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["label"] for r in rows] == ["first", "second"]
    assert rows[0]["passed"] and not rows[1]["passed"] and rows[0]["source"] == "ridge.md"
    assert rows[0]["resolution"] == pytest.approx(0.04)


def test_within_rtol():
    """A tolerance for the theory's finite-size error, with the noise kept below it."""
    rng = np.random.default_rng(1)
    samples = 1.02 + 0.01 * rng.normal(size=200)  # 2% above the theory, se ~ 0.0007
    assert claims.within_rtol(samples, 1.0, rtol=0.03) == pytest.approx(0.02, abs=0.003)
    with pytest.raises(ClaimError, match="relative gap"):
        claims.within_rtol(samples, 1.0, rtol=0.01)
    with pytest.raises(ClaimError, match="cannot see a 5% error"):
        claims.within_rtol(samples, 1.0, rtol=0.08)
    noisy = 1.0 + 0.5 * rng.normal(size=20)  # 4 s.e. ~ 45%
    with pytest.raises(ClaimError, match="Monte-Carlo error"):
        claims.within_rtol(noisy, 1.0, rtol=0.5 + 0.04)
    with pytest.raises(ClaimError, match="above 3.0%"):
        claims.within_rtol(np.array([0.97, 1.03] * 5), 1.0, rtol=0.04, noise_max=0.03)
