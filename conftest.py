"""pytest configuration shared by the unit tests and the notebook checks.

The chapters are MyST Markdown notebooks (jupytext). nbval only collects ``.ipynb`` files, so this
shim collects every ``chapters/*.md`` that declares a ``kernelspec`` and hands nbval the notebook
read by jupytext. With ``--nbval-lax`` (set in ``pyproject.toml``) a chapter passes when every cell
runs without raising, and every claim cell raises when its claim fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Keep progress reports out of test logs; kernels started by nbval inherit this environment.
os.environ.setdefault("HDREG_PROGRESS", "0")
os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = Path(__file__).resolve().parent
CHAPTERS = ROOT / "chapters"


def is_notebook_markdown(path: Path) -> bool:
    """A chapter source with jupytext front matter (``kernelspec`` within the first lines)."""
    if path.suffix != ".md" or path.parent != CHAPTERS:
        return False
    head = path.read_text(encoding="utf-8")[:3000]
    return head.startswith("---") and "kernelspec" in head


try:
    import jupytext
    import nbval.plugin as _nbval

    class MarkdownNotebook(_nbval.IPyNbFile):
        """nbval's notebook collector, fed by jupytext instead of ``nbformat.read``."""

        def collect(self):
            nb = jupytext.read(str(self.path))
            original = _nbval.nbformat.read
            _nbval.nbformat.read = lambda *args, **kwargs: nb
            try:
                yield from super().collect()
            finally:
                _nbval.nbformat.read = original

except ImportError:  # pragma: no cover - nbval/jupytext missing: only the unit tests run
    MarkdownNotebook = None


def pytest_collect_file(file_path: Path, parent):
    opt = parent.config.option
    if MarkdownNotebook is None or not (getattr(opt, "nbval", False) or getattr(opt, "nbval_lax", False)):
        return None
    if is_notebook_markdown(Path(file_path)):
        return MarkdownNotebook.from_parent(parent, path=file_path)
    return None


def pytest_ignore_collect(collection_path: Path, config):
    # The book's build output contains executed copies of the notebooks; never collect them.
    parts = set(Path(collection_path).parts)
    if {"_build", ".venv"} & parts:
        return True
    return None
