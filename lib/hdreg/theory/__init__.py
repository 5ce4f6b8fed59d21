"""Deterministic equivalents and closed forms: pure functions of spectra and sizes.

One module per topic, each documenting the equations it implements and the chapter deriving them.
"""

from . import (collapse, distillation, gradient_flow, heavy_ball, icl, isotropic, marchenko_pastur,
               parity, random_features, ridge, scaling, softmax_attention, spectral, synthetic,
               token_selection, ttt, weak_to_strong)

__all__ = ["ridge", "isotropic", "marchenko_pastur", "scaling", "spectral", "random_features",
           "distillation", "weak_to_strong", "parity", "icl", "softmax_attention", "ttt",
           "synthetic", "gradient_flow", "token_selection", "collapse", "heavy_ball"]
