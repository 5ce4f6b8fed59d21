"""hdreg: theory and simulation for high-dimensional regression.

The shared library of the book *Learning and Data in the Age of LLMs: theoretical insights from
high-dimensional regression*. ``hdreg.theory`` holds deterministic equivalents and closed forms,
``hdreg.sim`` the batched Monte-Carlo simulators, ``hdreg.claims`` the checks that make a chapter's
statements falsifiable, ``hdreg.backend`` and ``hdreg.profiles`` the NumPy/CuPy and ci/full switches,
``hdreg.batch`` the memory budget, chunks and per-trial random streams of the simulators, and
``hdreg.features`` the random feature maps.
"""

from . import backend, batch, claims, features, plotting, profiles, selection, sim, theory
from .backend import backend_info, to_numpy
from .claims import ClaimError

__version__ = "0.1.0"
__all__ = ["backend", "batch", "claims", "features", "plotting", "profiles", "selection", "sim", "theory", "backend_info", "to_numpy", "ClaimError"]
