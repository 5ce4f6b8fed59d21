"""Small, boring plotting helpers shared by the chapters (Matplotlib, NumPy inputs only)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .backend import to_numpy

__all__ = ["style", "theory_and_sim", "new_axes"]


def style() -> None:
    """The book's Matplotlib defaults: readable fonts, light grid, no top/right spines."""
    plt.rcParams.update({
        "figure.figsize": (6.4, 4.0),
        "figure.dpi": 110,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "font.size": 10,
        "legend.frameon": False,
    })


def new_axes(ncols: int = 1, width: float = 6.4, height: float = 4.0):
    """A figure with ``ncols`` side-by-side axes (returns ``fig, axes``; ``axes`` is a list)."""
    fig, axes = plt.subplots(1, ncols, figsize=(width, height), squeeze=False)
    return fig, list(axes[0])


def theory_and_sim(ax, x_theory, theory, x_sim, sim_mean, sim_se, label: str, color=None,
                   marker: str = "o", k: float = 2.0):
    """A theory line and simulation markers with ``k`` standard-error bars, in one colour."""
    (line,) = ax.plot(to_numpy(x_theory), to_numpy(theory), color=color, lw=1.6, label=f"{label}: theory")
    ax.errorbar(to_numpy(x_sim), to_numpy(sim_mean), yerr=k * np.asarray(to_numpy(sim_se)), fmt=marker,
                ms=4, color=line.get_color(), capsize=2, label=f"{label}: simulation (±{k:g} s.e.)")
    return line
