r"""Trials in chunks under a memory budget, with one random stream per trial.

Every simulator of :mod:`hdreg.sim` processes its trials in chunks (so that memory stays under
:func:`memory_budget`) and draws its random numbers from :class:`TrialRNG`: trial ``i`` of a run with
seed ``s`` draws from its own generator, seeded by the ``i``-th child of
``numpy.random.SeedSequence(s)`` (the child that ``SeedSequence(s).spawn`` would return in position
``i``). A trial's numbers therefore depend only on ``(seed, i)``: the per-trial results are the same
whatever the chunk size, the memory budget, the free device memory or the number of trials requested
(the first ``k`` trials of a ``2k``-trial run are the ``k``-trial run).

On CuPy each trial's generator is a device generator (Philox, cheap to create) seeded from the same
child, so the rule holds on the device too; the device stream differs from the host one, so results
agree between CPU and GPU in distribution, not bit for bit.
"""

from __future__ import annotations

import os

import numpy as np

from . import _validate
from .backend import get_backend

__all__ = ["memory_budget", "chunk_size", "chunks", "TrialRNG", "trial_seed"]


def memory_budget() -> int:
    """Bytes one batched computation may use: ``HDREG_MEM_BUDGET_GB`` if set, else a quarter of the
    free device memory (CuPy) or 2 GiB (NumPy)."""
    env = os.environ.get("HDREG_MEM_BUDGET_GB")
    if env is not None and env.strip():
        try:
            value = float(env)
        except ValueError:
            raise _validate.InvalidParameterError(
                f"HDREG_MEM_BUDGET_GB must be a number of GiB > 0, got {env!r}") from None
        if not (np.isfinite(value) and value > 0):
            raise _validate.InvalidParameterError(f"HDREG_MEM_BUDGET_GB must be a finite number of GiB > 0, got {env!r}")
        return max(1, int(value * 2**30))
    b = get_backend()
    if b.name == "cupy":
        free, _ = b.module.cuda.runtime.memGetInfo()
        return int(free // 4)
    return 2 * 2**30


def chunk_size(per_trial_bytes: float, trials: int, what: str) -> int:
    """Trials per chunk so that a chunk fits the memory budget; ``MemoryError`` (with the memory one
    trial needs) when a single trial does not fit. The chunk size never changes the results."""
    budget = memory_budget()
    _validate.require_memory(per_trial_bytes, f"{what}: one trial", budget)
    return max(1, min(int(trials), int(budget // max(1, int(per_trial_bytes)))))


def chunks(trials: int, step: int, desc: str = ""):
    """Yield ``(start, stop)`` for consecutive chunks of ``step`` trials, with a progress bar
    (:func:`hdreg.profiles.progress`) over trials."""
    from .profiles import progress  # noqa: PLC0415

    bar = progress(None, desc=desc, total=trials)
    try:
        for start in range(0, trials, step):
            stop = min(trials, start + step)
            yield start, stop
            bar.update(stop - start)
    finally:
        bar.close()


def trial_seed(seed: int, index: int) -> np.random.SeedSequence:
    """The ``index``-th child of ``SeedSequence(seed)`` (what ``spawn`` returns in that position)."""
    return np.random.SeedSequence(seed, spawn_key=(int(index),))


def _device_generator(xp, child: np.random.SeedSequence):
    if xp is np:
        return np.random.Generator(np.random.PCG64(child))
    state = child.generate_state(2, np.uint32)
    value = int(state[0]) | (int(state[1]) << 32)
    random = xp.random
    if hasattr(random, "Philox4x3210") and hasattr(random, "Generator"):
        return random.Generator(random.Philox4x3210(value))
    return random.default_rng(value)


class TrialRNG:
    """Random draws for trials ``start .. stop - 1`` of a run seeded with ``seed``, stacked along a
    leading trial axis: ``standard_normal((t, ...))`` draws ``(...)`` from each trial's own generator.

    The generators persist across calls, so a simulator draws its design, noise, features ... in one
    fixed order per trial; chunking never changes what trial ``i`` sees.
    """

    def __init__(self, seed: int, start: int, stop: int, xp=None):
        seed = _validate.seed(seed)
        self.xp = xp if xp is not None else get_backend().module
        self.start, self.stop = int(start), int(stop)
        if not 0 <= self.start < self.stop:
            raise ValueError(f"need 0 <= start < stop, got {start!r}, {stop!r}")
        self.gens = [_device_generator(self.xp, trial_seed(seed, i)) for i in range(self.start, self.stop)]

    @property
    def trials(self) -> int:
        return self.stop - self.start

    def _shape(self, size):
        size = (size,) if np.isscalar(size) else tuple(size)
        if not size or size[0] != self.trials:
            raise ValueError(f"the leading axis of a draw is the trial axis ({self.trials}), got {size}")
        return size

    def standard_normal(self, size, dtype=np.float64):
        size = self._shape(size)
        xp = self.xp
        out = xp.empty(size, dtype=dtype)
        for i, g in enumerate(self.gens):
            if xp is np:
                g.standard_normal(size[1:], dtype=dtype, out=out[i])
            else:
                out[i] = g.standard_normal(size[1:], dtype=dtype)
        return out

    def random(self, size, dtype=np.float64):
        size = self._shape(size)
        out = self.xp.empty(size, dtype=dtype)
        for i, g in enumerate(self.gens):
            out[i] = g.random(size[1:], dtype=dtype)
        return out
