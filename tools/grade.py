#!/usr/bin/env python3
"""Grade a submitted student notebook with nbgrader; last line of output ``score: X/Y``.

    tools/grade.sh SUBMISSION.ipynb                      # chapter found by the file name
    tools/grade.sh SUBMISSION.ipynb --source SOLVED.ipynb|CHAPTER.md [--keep DIR] [--student ID]
    tools/grade.sh a/ridge.ipynb b/ridge.ipynb ...   # several students in one run

The instructor's version of the chapter (``--source``; default: ``_build/notebooks/solved/<name>.ipynb``
if ``tools/make_notebooks.py`` has written it, else ``chapters/<name>.md`` rendered on the fly) is
the nbgrader *source* of a throw-away course folder: ``nbgrader generate_assignment`` records its
graded cells (the exercise-check cells, with their points), ``nbgrader autograde`` restores those
cells in the submission from the source (a student cannot edit a check into passing), runs the
notebook top to bottom in a fresh kernel and scores each check cell: full points if it runs without
an error, none otherwise. A scaffold left as ``raise NotImplementedError`` fails its check ("not
answered yet"); a wrong answer fails its check with the check's hint. The kernel inherits this
process's environment (``HDREG_SCALE``, ``PYTHONPATH``, ...).

Exit status: 0 when the notebook was graded (whatever the score), 2 when it could not be.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parents[1]
STUB = 'raise NotImplementedError("your answer here")'

CONFIG = f"""
c = get_config()
c.CourseDirectory.root = {{root!r}}
c.CourseDirectory.db_url = "sqlite:///" + {{db!r}}
c.ClearSolutions.code_stub = {{{{"python": {STUB!r}}}}}
c.ClearSolutions.enforce_metadata = True
c.Execute.timeout = {{timeout}}
c.Execute.allow_errors = True
"""


def solved_notebook(source: Path, out: Path) -> Path:
    """The instructor's notebook: an .ipynb as is, or a MyST chapter rendered (no outputs)."""
    import jupytext
    import nbformat

    import coursework as cw
    import notebooks as nbr

    if source.suffix == ".ipynb":
        shutil.copy(source, out)
        return out
    labels = nbr.collect_labels(cw.book_sources(ROOT) + [source])
    nb = jupytext.read(source, fmt="md:myst")
    nb = nbr.render_notebook(nb, nbr.Context(labels=labels, cites={}, glue={}))
    nbformat.write(nb, out)
    return out


def find_source(submission: Path) -> Path:
    name = submission.stem
    for cand in (ROOT / "_build" / "notebooks" / "solved" / f"{name}.ipynb",
                 ROOT / "chapters" / f"{name}.md"):
        if cand.exists():
            return cand
    raise SystemExit(f"grade: no instructor version of '{name}' (give --source)")


def fmt(x: float) -> str:
    return f"{x:g}"


def grade(submission: Path, source: Path, student: str = "student", keep: Path | None = None,
          timeout: int = 600) -> tuple[float, float, list[tuple[str, float, float]]]:
    """Score one submission: (score, max score, [(grade_id, score, max score), ...])."""
    return grade_many({student: submission}, source, keep, timeout)[student]


def grade_many(submissions: dict[str, Path], source: Path, keep: Path | None = None,
               timeout: int = 600) -> dict[str, tuple[float, float, list]]:
    """Score several submissions of one chapter (student id -> notebook) in one nbgrader run."""
    name = next(iter(submissions.values())).stem
    assignment = name.replace("_", "-")
    work = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="grade-"))
    if work.exists() and keep:
        shutil.rmtree(work)
    (work / "source" / assignment).mkdir(parents=True)
    solved_notebook(source, work / "source" / assignment / f"{name}.ipynb")
    db = str(work / "gradebook.db")
    (work / "nbgrader_config.py").write_text(
        CONFIG.format(root=str(work), db=db, timeout=timeout))
    for student, submission in submissions.items():
        sub_dir = work / "submitted" / student / assignment
        sub_dir.mkdir(parents=True)
        shutil.copy(submission, sub_dir / f"{name}.ipynb")
    env = dict(os.environ, HDREG_PROGRESS="0")
    env.pop("MPLBACKEND", None)
    for cmd in (["generate_assignment", assignment, "--create", "--force"],
                ["autograde", assignment, "--create", "--force"]):
        run = subprocess.run([sys.executable, "-m", "nbgrader", *cmd], cwd=work, env=env,
                             capture_output=True, text=True)
        if run.returncode != 0:
            sys.stderr.write(run.stdout + run.stderr)
            raise SystemExit(f"grade: nbgrader {cmd[0]} failed (course folder {work})")
    from nbgrader.api import Gradebook

    results = {}
    with Gradebook("sqlite:///" + db) as gb:
        for student in submissions:
            nb = gb.find_submission_notebook(name, assignment, student)
            rows = sorted(((g.name, float(g.score), float(g.max_score)) for g in nb.grades),
                          key=lambda r: r[0])
            results[student] = (float(nb.score), float(nb.max_score), rows)
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    return results


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", type=Path, nargs="+",
                    help="submissions of one chapter (same file name; several are graded in one "
                         "run, each named by its folder)")
    ap.add_argument("--source", type=Path, help="instructor's notebook (.ipynb) or chapter (.md)")
    ap.add_argument("--student", default="student", help="student id (one submission)")
    ap.add_argument("--keep", type=Path, help="keep nbgrader's course folder here")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = ap.parse_args(argv)
    for nb in args.notebooks:
        if not nb.exists():
            print(f"grade: no such notebook {nb}", file=sys.stderr)
            return 2
    if len({nb.name for nb in args.notebooks}) != 1:
        print("grade: several submissions must be of the same chapter", file=sys.stderr)
        return 2
    if len(args.notebooks) == 1:
        subs = {args.student: args.notebooks[0].resolve()}
    else:
        subs = {}
        for k, nb in enumerate(args.notebooks):
            sid = re.sub(r"[^A-Za-z0-9_-]", "-", nb.resolve().parent.name) or f"s{k}"
            subs[sid if sid not in subs else f"{sid}-{k}"] = nb.resolve()
    source = args.source or find_source(args.notebooks[0])
    results = grade_many(subs, source.resolve(), args.keep, args.timeout)
    for sid, (score, total, rows) in results.items():
        if len(results) > 1:
            print(f"== {sid}: {subs[sid]}")
        width = max((len(r[0]) for r in rows), default=10)
        for gid, s, m in rows:
            mark = "ok " if s >= m else "-- "
            print(f"{mark}{gid:<{width}}  {fmt(s)}/{fmt(m)}")
        print(f"score: {fmt(score)}/{fmt(total)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
