"""Structure rules of the library: no module imports another module's private (underscore) names,
and docstrings refer to chapters by label or title, never by number (numbers go stale)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[1] / "lib" / "hdreg"
# the lead's modules, maintained elsewhere
SKIP = {"claims.py"}
FILES = sorted(p for p in LIB.rglob("*.py") if p.name not in SKIP and "exercises" not in p.parts)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(LIB)))
def test_no_cross_module_private_imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = []
    modules = {}  # local alias -> imported hdreg module
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            for a in node.names:
                if a.name.startswith("_") and a.name != "_validate":
                    bad.append(f"from {'.' * node.level}{node.module or ''} import {a.name}")
                else:
                    modules[a.asname or a.name] = a.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in modules and node.attr.startswith("_")
                and not node.attr.startswith("__") and node.value.id != "_validate"):
            bad.append(f"{node.value.id}.{node.attr}")
    assert not bad, f"{path.name} uses private names of other modules: {bad}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(LIB)))
def test_docstrings_name_chapters_by_label_not_number(path):
    hits = re.findall(r"\b[Cc]hapters? \d", path.read_text(encoding="utf-8"))
    assert not hits, f"{path.name} refers to chapters by number: {hits}"
