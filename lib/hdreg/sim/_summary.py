"""Shared summaries of per-trial simulation results (means, standard errors, paired gaps).

Every summary goes through :func:`hdreg.claims.mean_se`, the book's one mean/standard-error helper:
it raises on fewer than two trials and on non-finite values instead of returning ``se = nan``.
"""

from __future__ import annotations

import numpy as np

from ..claims import mean_se


class PairedTrials:
    """Mixin for result dataclasses whose fields hold one row per trial (or split).

    Fields compared with :meth:`gap` must come from the same trials, so that the difference is paired.
    """

    def mean_se(self, field: str):
        """Mean over trials and its standard error (``ddof=1``; at least 2 finite trials)."""
        return mean_se(np.asarray(getattr(self, field)), axis=0)

    def gap(self, better: str, worse: str):
        """Mean and standard error of the paired difference ``worse - better`` (per column)."""
        a, b = np.asarray(getattr(self, better)), np.asarray(getattr(self, worse))
        if a.ndim != b.ndim:  # a per-trial scalar against a per-penalty path
            a = a[:, None] if a.ndim == 1 else a
            b = b[:, None] if b.ndim == 1 else b
        return mean_se(b - a, axis=0)


class RiskTrials(PairedTrials):
    """:class:`PairedTrials` for results with a per-trial ``risk`` field: ``trials`` is its number of
    rows and ``mean_se()`` summarises the risk by default."""

    @property
    def trials(self) -> int:
        return self.risk.shape[0]

    def mean_se(self, field: str = "risk"):
        """Mean over trials and its standard error (``ddof=1``; needs at least 2 trials)."""
        return PairedTrials.mean_se(self, field)
