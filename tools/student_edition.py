#!/usr/bin/env python3
"""Write the student edition's sources: a copy of the book with solutions removed.

    python tools/student_edition.py [SRC] [DST]     # default: . -> _build/student/src

Copies the book's sources (not ``_build``, ``.git``, ``.venv``, ``lib``, ``tests``, ``benchmarks``)
and rewrites every Markdown page with :func:`coursework.student_text`: ``{solution}`` blocks removed,
scaffold answers replaced by ``raise NotImplementedError("your answer here")``, scaffold and check
cells tagged ``raises-exception`` so that the strict build may run them. ``_config.yml`` gets an
announcement banner saying which edition this is. ``tools/build_book.sh --student`` builds the result
into ``_build/student/html``; ``tools/check_student.py`` checks that nothing of the solutions leaked.
A reference to a removed solution's label is an error here (it would be one in the strict build).
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import coursework as cw  # noqa: E402

SKIP = {"_build", ".git", ".venv", "lib", "tests", "benchmarks", ".ci", ".github", "__pycache__",
        ".pytest_cache", ".jupyter_cache", ".ipynb_checkpoints"}
BANNER = ("Student edition: worked solutions are left out, and the scaffold cells are yours to "
          "fill in.")


def make(src: Path, dst: Path) -> dict[str, cw.Solutions]:
    src, dst = src.resolve(), dst.resolve()
    if dst.exists():
        shutil.rmtree(dst)

    def ignore(folder, names):
        here = Path(folder).resolve()
        skip = {n for n in names if n in SKIP or n.endswith(".egg-info") or n.startswith("venv")}
        if here == src:
            skip |= {n for n in names if (src / n).resolve() == dst or n == dst.name}
        return skip

    shutil.copytree(src, dst, ignore=ignore)
    removed: dict[str, cw.Solutions] = {}
    for page in dst.rglob("*.md"):
        text = page.read_text(encoding="utf-8")
        new, sol = cw.student_text(text)
        if new != text:
            page.write_text(new, encoding="utf-8")
        removed[str(page.relative_to(dst))] = sol
    labels = {lab for s in removed.values() for lab in s.labels}
    for page in dst.rglob("*.md"):
        text = page.read_text(encoding="utf-8")
        for lab in labels:
            if re.search(r"`[^`]*<?" + re.escape(lab) + r">?`", text):
                raise SystemExit(f"{page.relative_to(dst)} refers to the removed solution label {lab}")
    cfg = dst / "_config.yml"
    if cfg.exists():
        text = cfg.read_text(encoding="utf-8")
        text, n = re.subn(r'(?m)^(\s*announcement:).*$', rf'\1 "{BANNER}"', text)
        if n == 0:
            text += f'\nhtml:\n  announcement: "{BANNER}"\n'
        cfg.write_text(text, encoding="utf-8")
    return removed


def main(argv: list[str]) -> int:
    root = Path(__file__).resolve().parents[1]
    src = Path(argv[0]) if argv else root
    dst = Path(argv[1]) if len(argv) > 1 else root / "_build" / "student" / "src"
    removed = make(src, dst)
    n_sol = sum(len(s.prose) for s in removed.values())
    n_code = sum(len(s.code) for s in removed.values())
    print(f"student sources in {dst}: {n_sol} solutions removed, {n_code} scaffolds emptied")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
