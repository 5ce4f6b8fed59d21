"""Shared summaries of per-trial simulation results (means, standard errors, paired gaps)."""

from __future__ import annotations

import numpy as np


class PairedTrials:
    """Mixin for result dataclasses whose fields hold one row per trial (or split).

    Fields compared with :meth:`gap` must come from the same trials, so that the difference is paired.
    """

    def mean_se(self, field: str):
        """Mean over trials and its standard error (``ddof=1``)."""
        a = getattr(self, field)
        return a.mean(axis=0), a.std(axis=0, ddof=1) / np.sqrt(a.shape[0])

    def gap(self, better: str, worse: str):
        """Mean and standard error of the paired difference ``worse - better`` (per column)."""
        a, b = getattr(self, better), getattr(self, worse)
        if a.ndim != b.ndim:  # a per-trial scalar against a per-penalty path
            a = a[:, None] if a.ndim == 1 else a
            b = b[:, None] if b.ndim == 1 else b
        d = b - a
        return d.mean(axis=0), d.std(axis=0, ddof=1) / np.sqrt(d.shape[0])
