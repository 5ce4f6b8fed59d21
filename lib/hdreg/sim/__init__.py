"""Monte-Carlo simulators, batched over trials and hyperparameters, on NumPy or CuPy."""

from . import distillation, icl, random_features, ridge, synthetic

__all__ = ["ridge", "random_features", "distillation", "icl", "synthetic"]
