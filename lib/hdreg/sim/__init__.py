"""Monte-Carlo simulators, batched over trials and hyperparameters, on NumPy or CuPy."""

from . import ridge

__all__ = ["ridge"]
