"""Self-checking exercises: the checks a student runs after writing an answer.

A computational exercise in a chapter is three cells: the ``{exercise}`` text, a *scaffold* cell
(tagged ``exercise-scaffold``) in which the student writes a function, and a *check* cell (tagged
``exercise-check``) that calls a check from ``hdreg.exercises.<topic>``. In the book's source the
scaffold holds the reference solution between ``### BEGIN SOLUTION`` and ``### END SOLUTION``, so
that building the book and running the tests run and test it; the student edition replaces those
lines with ``raise NotImplementedError``.

A check says what is right, and for what is wrong it raises :class:`ExerciseError` with a hint,
never with the answer. The helpers below are the vocabulary the topic modules use.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np

from ..backend import to_numpy

__all__ = ["ExerciseError", "NotAnswered", "attempt", "expect", "close"]


class ExerciseError(AssertionError):
    """An exercise's answer is wrong (the message says what, and gives a hint).

    In IPython/Jupyter a failed check shows its message only, not a traceback (the expected state of
    a student's notebook is "not yet"); the cell still fails, for "Run All", nbval and the grader.
    """

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of formatting a traceback (InteractiveShell.showtraceback).
        return [f"{type(self).__name__}: {self}"]


class NotAnswered(ExerciseError):
    """The scaffold still raises ``NotImplementedError``: nothing to check yet."""


def attempt(fn, *args, **kwargs):
    """Call the student's function ``fn``; an unanswered scaffold becomes :class:`NotAnswered`."""
    name = getattr(fn, "__name__", "your function")
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as err:
        raise NotAnswered(f"not answered yet: write the body of {name} in the cell above") from err


def expect(condition: bool, right: str, wrong: str, hint: str | None = None) -> None:
    """Print ``right`` if ``condition`` holds, else raise :class:`ExerciseError` with ``wrong``."""
    if bool(condition):
        print(textwrap.fill(f"correct: {right}", width=88, subsequent_indent="    ",
                            break_on_hyphens=False))
        return
    msg = f"not yet: {wrong}"
    if hint:
        msg += f"\nhint: {hint}"
    raise ExerciseError(msg)


def close(value, target, *, rtol: float = 1e-6, atol: float = 0.0, what: str = "your value",
          hint: str | None = None) -> None:
    """``value`` agrees with ``target`` elementwise; the message never shows ``target``."""
    v = np.asarray(to_numpy(value), dtype=float) if value is not None else None
    t = np.asarray(to_numpy(target), dtype=float)
    if v is None or v.shape != t.shape and v.size != 1:
        expect(False, "", f"{what} should have shape {t.shape}, got "
               f"{None if v is None else v.shape}", hint)
    if not np.all(np.isfinite(v)):
        expect(False, "", f"{what} contains NaN or infinite values", hint)
    err = np.abs(v - t)
    ok = np.all(err <= atol + rtol * np.abs(t))
    worst = float(np.max(err / np.maximum(np.abs(t), math.ulp(1.0))))
    expect(ok, f"{what} is right (relative error {worst:.1e})",
           f"{what} is off (largest relative error {worst:.2g})", hint)


# An unanswered scaffold raises NotImplementedError("your answer here") (the student edition's stub),
# in its own cell or in any cell that calls it. IPython shows that as one line too, not a traceback;
# any other NotImplementedError keeps its traceback. The cell still fails.
_STUB_MESSAGE = "your answer here"


def _unanswered(shell, etype, value, tb, tb_offset=None):
    # A custom exception handler must display the error itself (InteractiveShell.run_code).
    if _STUB_MESSAGE in str(value):
        shell._showtraceback(etype, value, [
            "NotAnswered: not answered yet: this cell needs the answer to an exercise above "
            "(its cell still says raise NotImplementedError)"])
    else:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)


def _short_stub_errors() -> None:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - plain Python
        return
    shell = get_ipython()
    if shell is not None and hasattr(shell, "_showtraceback"):
        shell.set_custom_exc((NotImplementedError,), _unanswered)


_short_stub_errors()
