"""Monte-Carlo simulators, batched over trials and hyperparameters, on NumPy or CuPy."""

from . import (collapse, distillation, gradient_flow, heavy_ball, icl, parity, pruning,
               random_features, ridge, softmax_attention, synthetic, token_selection, uniformity,
               weak_to_strong)

__all__ = ["ridge", "random_features", "distillation", "weak_to_strong", "parity", "icl",
           "softmax_attention", "synthetic", "uniformity", "gradient_flow", "token_selection",
           "collapse", "heavy_ball", "pruning"]
