"""Deterministic equivalents and closed forms: pure functions of spectra and sizes.

One module per topic, each documenting the equations it implements and the chapter deriving them.
"""

from . import (distillation, gradient_flow, icl, isotropic, marchenko_pastur, random_features, ridge, scaling,
               softmax_attention, spectral, synthetic, ttt, weak_to_strong)

__all__ = ["ridge", "isotropic", "marchenko_pastur", "scaling", "random_features", "distillation",
           "weak_to_strong", "icl", "ttt", "synthetic", "spectral", "gradient_flow", "softmax_attention"]

from . import parity  # noqa: E402

__all__ += ["parity"]
