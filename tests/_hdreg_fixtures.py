"""Shared fixtures and reference solvers for the hdreg unit tests.

Kept out of ``conftest.py`` on purpose (that file belongs to the notebook tests); each test module
imports what it needs with ``from _hdreg_fixtures import ...``. Importing the ``clean_env`` fixture
into a module activates it (it is ``autouse``) for every test there.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

import hdreg.backend

try:  # ships with scikit-learn; optional
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover
    threadpool_limits = None

HDREG_ENV = ("HDREG_BACKEND", "HDREG_SCALE", "HDREG_PROGRESS", "HDREG_MEM_BUDGET_GB")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """Every test starts with no HDREG_* settings (progress silenced) and an unresolved backend;
    the backend cache is restored afterwards, so no test leaks its choice into the next.

    BLAS runs single-threaded inside a test: the unit tests use small matrices, and with
    ``pytest -n 2`` on two cores a multi-threaded OpenBLAS oversubscribes the CPU, which makes
    batched ``eigh`` calls 10-40x slower (measured: 0.12 s -> 5 s).
    """
    for name in HDREG_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HDREG_PROGRESS", "0")
    monkeypatch.setattr(hdreg.backend, "_current", None)
    if threadpool_limits is None:  # pragma: no cover
        yield
    else:
        with threadpool_limits(limits=1, user_api="blas"):
            yield
    # monkeypatch restores the previous _current (None or a resolved backend) on teardown.


def kappa_brentq(spectrum, n, lam) -> float:
    """Reference effective regularisation at one point, by ``scipy.optimize.brentq``.

    Independent of the library's bracket and starting point: it solves the fixed point in
    ``u = log kappa`` (relative accuracy in kappa whatever its magnitude) on
    ``[log lam, log(lam + tr/n)]`` for ``lam > 0``; for ``lam = 0`` the lower end is ``1e-300``, and
    ``kappa = 0`` when ``n > rank``. It uses the well-conditioned form
    ``n g = (n - rank) + c1 - n lam/kappa`` with ``c1 = rank - df1`` when ``c1`` is the smaller sum
    (no cancellation near the interpolation threshold), and ``n - df1 - n lam/kappa`` elsewhere.
    """
    s = np.asarray(spectrum, dtype=float)
    s = s[s > 0]
    rank = s.size
    if lam == 0 and n > rank:
        return 0.0

    def ng(u):
        k = np.exp(u)
        inv = 1.0 / (s + k)
        df1, c1 = np.sum(s * inv), k * np.sum(inv)
        return ((n - rank) + c1 if c1 < df1 else n - df1) - n * lam / k

    lo = np.log(lam) if lam > 0 else np.log(1e-300)
    hi = np.log(lam + s.sum() / n)
    if ng(hi) <= 0 or ng(lo) >= 0:  # lam so large that [lam, lam + tr/n] is a few floats wide
        return float(np.exp(hi if ng(hi) <= 0 else lo))
    return float(np.exp(brentq(ng, lo, hi, xtol=1e-16, rtol=4 * np.finfo(float).eps, maxiter=1000)))


def power_law(p: int, alpha: float = 1.5) -> np.ndarray:
    return np.arange(1, p + 1, dtype=float) ** (-alpha)


def two_level(p_hi: int, p_lo: int, hi: float = 10.0, lo: float = 0.1) -> np.ndarray:
    return np.concatenate([np.full(p_hi, hi), np.full(p_lo, lo)])


class PerTrial:
    """The simulators' random draws, written out independently of ``hdreg.batch``: trial ``i`` draws
    from ``default_rng(SeedSequence(seed).spawn(trials)[i])``, and ``standard_normal((trials, ...))``
    stacks one ``(...)`` draw per trial, in the order the simulator makes them."""

    def __init__(self, seed: int, trials: int):
        self.gens = [np.random.default_rng(c) for c in np.random.SeedSequence(seed).spawn(trials)]

    def standard_normal(self, size):
        assert size[0] == len(self.gens), "the leading axis is the trial axis"
        return np.stack([g.standard_normal(size[1:]) for g in self.gens])
