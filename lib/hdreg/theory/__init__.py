"""Deterministic equivalents and closed forms: pure functions of spectra and sizes."""

from . import isotropic, marchenko_pastur, ridge

__all__ = ["ridge", "isotropic", "marchenko_pastur"]
