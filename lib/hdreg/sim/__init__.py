"""Monte-Carlo simulators, batched over trials and hyperparameters, on NumPy or CuPy."""

from . import (distillation, gradient_flow, icl, random_features, ridge, softmax_attention, synthetic,
               uniformity, weak_to_strong)

__all__ = ["ridge", "random_features", "distillation", "weak_to_strong", "icl", "synthetic",
           "uniformity", "gradient_flow", "softmax_attention"]

from . import parity  # noqa: E402

__all__ += ["parity"]
