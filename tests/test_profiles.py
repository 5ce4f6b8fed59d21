"""hdreg.profiles: HDREG_SCALE, choose() and the progress reporter."""

from __future__ import annotations

import pytest
from _hdreg_fixtures import clean_env  # noqa: F401  (autouse)

from hdreg import backend, profiles


@pytest.mark.parametrize("value, expected", [("ci", "ci"), ("full", "full"), (" FULL ", "full"),
                                             ("Ci", "ci")])
def test_scale_from_environment(monkeypatch, value, expected):
    monkeypatch.setenv("HDREG_SCALE", value)
    assert profiles.scale() == expected


def test_scale_default_follows_backend(monkeypatch):
    monkeypatch.setenv("HDREG_BACKEND", "numpy")
    assert profiles.scale() == "ci"
    fake = backend.Backend("cupy", object(), "fake GPU")
    monkeypatch.setattr(backend, "_current", fake)
    assert profiles.scale() == "full"


@pytest.mark.parametrize("value", ["medium", "cifull", "0"])
def test_invalid_scale_raises(monkeypatch, value):
    monkeypatch.setenv("HDREG_SCALE", value)
    with pytest.raises(ValueError, match="HDREG_SCALE must be one of"):
        profiles.scale()


def test_choose_picks_the_active_scale(monkeypatch):
    ci, full = dict(n=10, trials=4), dict(n=1000, trials=200)
    monkeypatch.setenv("HDREG_SCALE", "ci")
    S = profiles.choose(ci=ci, full=full)
    assert (S.n, S.trials) == (10, 4)
    monkeypatch.setenv("HDREG_SCALE", "full")
    S = profiles.choose(ci=ci, full=full)
    assert (S.n, S.trials) == (1000, 200)


def test_choose_rejects_mismatched_keys(monkeypatch):
    monkeypatch.setenv("HDREG_SCALE", "ci")
    with pytest.raises(ValueError, match="same keys") as info:
        profiles.choose(ci=dict(n=10, trials=4), full=dict(n=1000))
    assert "trials" in str(info.value)


def test_progress_silent_when_disabled(monkeypatch, capsys):
    monkeypatch.setenv("HDREG_PROGRESS", "0")
    monkeypatch.setenv("HDREG_SCALE", "full")  # would show by default at full scale
    assert list(profiles.progress(range(5), desc="work")) == [0, 1, 2, 3, 4]
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


@pytest.mark.parametrize("flag", ["1", "yes", "on", "true"])
def test_progress_writes_when_forced(monkeypatch, capsys, flag):
    monkeypatch.setenv("HDREG_PROGRESS", flag)
    monkeypatch.setenv("HDREG_SCALE", "ci")
    assert list(profiles.progress(range(3), desc="work")) == [0, 1, 2]
    err = capsys.readouterr().err
    assert "work" in err and "3/3" in err and "100%" in err  # a tqdm text bar in a terminal


def test_progress_default_depends_on_scale(monkeypatch, capsys):
    monkeypatch.delenv("HDREG_PROGRESS")
    monkeypatch.setenv("HDREG_SCALE", "ci")
    list(profiles.progress(range(3), desc="quiet"))
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("HDREG_SCALE", "full")
    list(profiles.progress(iter(range(3)), desc="loud"))  # no len(): total unknown
    err = capsys.readouterr().err
    assert "loud" in err and "3it" in err


def test_progress_by_hand_for_chunks(monkeypatch, capsys):
    from hdreg.batch import chunks

    monkeypatch.setenv("HDREG_PROGRESS", "1")
    assert list(chunks(10, 4, "trials")) == [(0, 4), (4, 8), (8, 10)]
    err = capsys.readouterr().err
    assert "trials" in err and "10/10" in err
