"""Helper for claims-bite tests: run a chapter with a sabotage cell prepended, expect a ClaimError."""

from __future__ import annotations

import os
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

CHAPTERS = Path(__file__).resolve().parents[1] / "chapters"


def run_with(chapter: str, prelude: str) -> None:
    """Execute ``chapters/<chapter>`` with ``prelude`` as its first code cell."""
    path = CHAPTERS / chapter
    nb = jupytext.read(str(path))
    nb.cells.insert(1, nbformat.v4.new_code_cell(prelude))
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    # A sabotaged run must not write into the claims report of the chapters' real runs.
    saved = os.environ.pop("HDREG_CLAIMS_REPORT", None)
    try:
        client.execute()
    finally:
        if saved is not None:
            os.environ["HDREG_CLAIMS_REPORT"] = saved


def assert_claim_fails(chapter: str, prelude: str, expected_label: str) -> None:
    """The chapter, sabotaged by ``prelude``, must stop at a ClaimError whose message contains
    ``expected_label`` (the label of the claim that checks the sabotaged formula)."""
    with pytest.raises(CellExecutionError) as info:
        run_with(chapter, prelude)
    err = info.value
    # Match the exception itself, not the whole report: the report quotes the cell's source, which
    # contains every label written in that cell.
    assert err.ename == "ClaimError", f"the chapter failed, but not through a claim:\n{str(err)[-2000:]}"
    assert expected_label in err.evalue, f"a different claim failed first: {err.evalue[:2000]}"
