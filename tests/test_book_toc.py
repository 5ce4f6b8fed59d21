"""The chapter lists a reader sees (the book's front page and the README) follow ``_toc.yml``, and
the chapters' code fits the page.

Both list every chapter of the table of contents, in its order, and nothing else; every chapter
file in ``chapters/`` is in the table of contents (a chapter left out would never be built).
"""
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def toc_chapters():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [ch["file"] + ".md" for part in toc["parts"] for ch in part["chapters"]
            if ch["file"].startswith("chapters/")]


def listed(text):
    """Paths of the numbered chapter links ``1. [title](chapters/x.md)``, in order."""
    return re.findall(r"^\s*\d+\.\s+\[[^\]]+\]\((chapters/[^)]+\.md)\)", text, flags=re.M)


def test_every_chapter_file_is_in_the_toc():
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "chapters").glob("*.md"))
    assert sorted(toc_chapters()) == files


def test_front_page_lists_the_toc_in_order():
    text = (ROOT / "intro.md").read_text(encoding="utf-8")
    block = text.split("<!-- CHAPTER LIST")[1].split("<!-- END CHAPTER LIST -->")[0]
    assert listed(block) == toc_chapters()


def test_readme_lists_the_toc_in_order():
    assert listed((ROOT / "README.md").read_text(encoding="utf-8")) == toc_chapters()


def test_chapter_files_carry_no_numbers():
    assert not [c for c in toc_chapters() if re.match(r"chapters/\d", c)]


def test_code_cells_fit_the_page():
    """Code lines of the chapters' code cells (not their YAML metadata) fit the page: at most 88
    characters, so that no code block scrolls sideways (``tools/screenshots.py`` measures the
    rendered pages; this is its cheap source-level guard)."""
    long = []
    for path in sorted((ROOT / "chapters").glob("*.md")):
        in_code = in_meta = False
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.startswith("```{code-cell}"):
                in_code, in_meta = True, False
                continue
            if in_code and line.startswith("```"):
                in_code = False
                continue
            if in_code and line.strip() == "---":
                in_meta = not in_meta
                continue
            if in_code and not in_meta and len(line) > 88:
                long.append(f"{path.name}:{number} ({len(line)} characters)")
    assert not long, "code lines longer than 88 characters: " + ", ".join(long)
