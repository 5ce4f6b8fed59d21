#!/usr/bin/env python3
"""Write every chapter as a plain Jupyter notebook, in a student and a solved set, and zip each set.

    python tools/make_notebooks.py                  # chapters of _toc.yml -> _build/notebooks/
    python tools/make_notebooks.py --out DIR FILE.md ...   # given pages only (used by the tests)

* ``_build/notebooks/solved/<chapter>.ipynb``: the chapter as in the reader edition, worked solutions
  included, scaffolds holding the reference answers;
* ``_build/notebooks/student/<chapter>.ipynb``: the student edition (no solutions, scaffold bodies
  replaced by ``raise NotImplementedError("your answer here")``);
* ``_build/notebooks/student.zip`` and ``solved.zip``, each with a README.

Theorem, exercise and figure markup is rendered as Markdown that JupyterLab and classic Notebook show
well (see ``tools/notebooks.py``); scaffold and check cells carry nbgrader metadata for
``tools/grade.sh``. If the book was built, outputs and glued values come from the executed notebooks
(``_build/jupyter_execute`` for the solved set, ``_build/student/jupyter_execute`` for the student
set); otherwise the notebooks have no outputs (run them in Jupyter).
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

import jupytext
import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import coursework as cw  # noqa: E402
import notebooks as nbr  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

README = """{title}

{what}

Open a notebook in JupyterLab or Jupyter Notebook with the book's library installed:

    pip install -r requirements.txt -e .      # in a clone of the book's repository

and run it top to bottom. Each computational exercise is an exercise text, a scaffold cell in
which you write the answer, and a check cell that says what is right and what is wrong (with a
hint) without giving the answer away.
"""


def bibfiles(root: Path) -> list[Path]:
    import yaml

    cfg = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    return [root / b for b in cfg.get("bibtex_bibfiles", [])]


def build(pages: list[Path], out: Path, root: Path, executed: dict[str, Path | None]) -> list[Path]:
    labels = nbr.collect_labels(cw.book_sources(root) if (root / "_toc.yml").exists() else [])
    labels = nbr.collect_labels(pages, labels)
    cites = nbr.load_citations(bibfiles(root)) if (root / "_config.yml").exists() else {}
    written = []
    for edition in ("solved", "student"):
        folder = out / edition
        folder.mkdir(parents=True, exist_ok=True)
        for page in pages:
            text = page.read_text(encoding="utf-8")
            if edition == "student":
                text, _ = cw.student_text(text)
            nb = jupytext.reads(text, fmt="md:myst")
            ex = cand = None
            base = executed.get(edition)
            if base is not None:
                try:
                    rel = page.resolve().relative_to(root.resolve())
                except ValueError:
                    rel = Path(page.name)
                cand = base / rel.with_suffix(".ipynb")
                if cand.exists():
                    ex = nbformat.read(cand, as_version=4)
            ctx = nbr.Context(labels=labels, cites=cites, glue={})
            nb = nbr.render_notebook(nb, ctx, executed=ex,
                                     executed_path=cand if ex is not None else None)
            target = folder / (page.stem + ".ipynb")
            nbformat.write(nb, target)
            written.append(target)
        what = ("Worked solutions included: for instructors, and for checking your own answers."
                if edition == "solved" else
                "The student edition: no worked solutions, scaffold cells to fill in.")
        (folder / "README.txt").write_text(README.format(
            title=f"Learning and Data in the Age of LLMs: {edition} notebooks", what=what))
        with zipfile.ZipFile(out / f"{edition}.zip", "w", zipfile.ZIP_DEFLATED) as z:
            for f in sorted(folder.iterdir()):
                z.write(f, f"{edition}/{f.name}")
    return written


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pages", nargs="*", type=Path, help="MyST pages (default: chapters in _toc.yml)")
    ap.add_argument("--out", type=Path, default=ROOT / "_build" / "notebooks")
    ap.add_argument("--root", type=Path, default=ROOT, help="book root (for labels, bibliography)")
    ap.add_argument("--no-outputs", action="store_true", help="ignore executed notebooks")
    args = ap.parse_args(argv)
    pages = args.pages or [p for p in cw.book_sources(args.root)
                           if p.parent.name == "chapters"]
    executed = {"solved": args.root / "_build" / "jupyter_execute",
                "student": args.root / "_build" / "student" / "jupyter_execute"}
    if args.no_outputs:
        executed = {}
    written = build(pages, args.out, args.root, executed)
    for w in written:
        print(w)
    print(f"zips: {args.out / 'student.zip'}, {args.out / 'solved.zip'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
