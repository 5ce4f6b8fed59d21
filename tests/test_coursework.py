"""The coursework tools (tools/): student edition, leak check, notebooks, grading.

All on the fixture chapter ``tests/course_fixture/toy_chapter.md`` (a worked example of the exercise
format), never on a whole chapter. The grading test runs nbgrader once for three submissions.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "course_fixture"
CHAPTER = FIXTURE / "toy_chapter.md"
sys.path.insert(0, str(ROOT / "tools"))

import coursework as cw  # noqa: E402

SECRETS = ["Quokka", "Platypus", "Bandicoot", "wombat", "echidna"]  # one word in each solution


def test_student_text_removes_solutions_and_stubs_scaffolds():
    text = CHAPTER.read_text()
    student, removed = cw.student_text(text)
    assert len(removed.prose) == 3 and len(removed.code) == 2
    for word in SECRETS:
        assert word in text and word not in student
    assert "{solution}" not in student and "BEGIN SOLUTION" not in student
    assert student.count(cw.STUB) == 2
    # every exercise, scaffold and check survives; scaffolds and checks may fail in the build
    assert student.count("{exercise}") == text.count("{exercise}") == 4
    blocks = [b for b in cw.walk(cw.parse_blocks(student.split("\n"))) if b.name == "code-cell"]
    graded = [b for b in blocks if {cw.SCAFFOLD_TAG, cw.CHECK_TAG} & set(cw.cell_tags(b))]
    assert len(graded) == 4
    assert all(cw.ALLOW_ERROR_TAG in cw.cell_tags(b) for b in graded)
    # a later cell that uses a student's answer may fail too; the cells before the exercises may not
    uses = [b for b in blocks if "predicted_risk(2.0)" in "\n".join(b.body(student.split("\n")))]
    assert len(uses) == 1 and cw.ALLOW_ERROR_TAG in cw.cell_tags(uses[0])
    assert sum(cw.ALLOW_ERROR_TAG in cw.cell_tags(b) for b in blocks) == 5
    assert "points: 2" in student  # other cell options are kept
    # the stub keeps the indentation of the markers
    assert "    " + cw.STUB in student
    # idempotent: the student edition of the student edition is itself
    again, removed_again = cw.student_text(student)
    assert again == student and not removed_again.prose


def test_student_text_rejects_broken_scaffolds():
    bad = "```{code-cell} ipython3\n:tags: [exercise-scaffold]\nx = 1\n### BEGIN SOLUTION\nx = 2\n```\n"
    with pytest.raises(ValueError, match="BEGIN SOLUTION"):
        cw.student_text(bad)
    with pytest.raises(ValueError, match="BEGIN SOLUTION"):
        cw.student_text(bad.replace("### BEGIN SOLUTION\n", ""))


def test_nested_fences_and_gated_solutions():
    text = ("before\n\n:::{solution-start} ex\n:::\nhidden gated text\n\n```python\nprint(1)\n```\n"
            ":::{solution-end}\n:::\n\n````{solution} ex\n:class: dropdown\nhidden\n```python\n"
            "```\n````\nafter\n")
    student, removed = cw.student_text(text)
    assert "hidden" not in student and "before" in student and "after" in student
    assert len(removed.prose) == 2


def run_tool(*args, env=None):
    return subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, env=env)


def test_make_notebooks(tmp_path):
    run = run_tool("tools/make_notebooks.py", "--no-outputs", "--out", tmp_path, CHAPTER)
    assert run.returncode == 0, run.stderr
    import nbformat

    for edition in ("student", "solved"):
        nb = nbformat.read(tmp_path / edition / "toy_chapter.ipynb", as_version=4)
        nbformat.validate(nb)
        text = json.dumps(nb)
        assert "{prf:theorem}" not in text and "{exercise}" not in text
        assert "{solution}" not in text and "{glue:text}" not in text
        assert ("Quokka" in text) == (edition == "solved")
        assert ("wombat" in text) == (edition == "solved")
        kinds = []
        for cell in nb.cells:
            if cell.cell_type == "markdown" and cell.source.startswith("#### Exercise"):
                kinds.append("exercise")
            elif "nbgrader" in cell.metadata:
                kinds.append("answer" if cell.metadata.nbgrader["solution"] else "check")
        # exercises one per cell, each followed by its scaffold and check
        assert kinds == ["exercise", "exercise", "answer", "check", "exercise", "answer", "check",
                         "exercise"]
        points = [c.metadata.nbgrader.get("points") for c in nb.cells
                  if c.metadata.get("nbgrader", {}).get("grade")]
        assert points == [1.0, 2.0]
    assert (tmp_path / "student.zip").exists() and (tmp_path / "solved.zip").exists()


def test_check_student_finds_leaks(tmp_path):
    site = tmp_path / "html"
    (site / "chapters").mkdir(parents=True)
    student, _ = cw.student_text(CHAPTER.read_text())
    page = site / "chapters" / "toy_chapter.html"
    page.write_text(f"<html><body><pre>{student}</pre></body></html>")
    book = tmp_path / "book"
    (book / "chapters").mkdir(parents=True)
    shutil.copy(CHAPTER, book / "chapters")
    (book / "_toc.yml").write_text("format: jb-book\nroot: chapters/toy_chapter\n")
    args = ("tools/check_student.py", "--html", site, "--source", book)
    ok = run_tool(*args)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    page.write_text(page.read_text() + "<p>Platypus explanation: below <em>gamma = 1</em> the data "
                    "determine beta_star; above it only its projection</p>")
    leak = run_tool(*args)
    assert leak.returncode == 1 and "toy_chapter.html" in leak.stdout


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory):
    out = tmp_path_factory.mktemp("nb")
    run = run_tool("tools/make_notebooks.py", "--no-outputs", "--out", out, CHAPTER)
    assert run.returncode == 0, run.stderr
    return out


def test_grade_solved_untouched_and_one_wrong_answer(notebooks, tmp_path):
    """One nbgrader run: solved Y/Y, untouched < Y, one wrong answer loses exactly its points."""
    pytest.importorskip("nbgrader")
    import nbformat

    subs = {}
    for name, edition in (("solved", "solved"), ("untouched", "student"), ("wrong", "solved")):
        (tmp_path / name).mkdir()
        subs[name] = tmp_path / name / "toy_chapter.ipynb"
        shutil.copy(notebooks / edition / "toy_chapter.ipynb", subs[name])
    wrong = nbformat.read(subs["wrong"], as_version=4)
    cell = next(c for c in wrong.cells if "def mp_edges" in c.source)
    cell.source = cell.source.replace("(1 + root) ** 2", "(1 + root)")  # a wrong upper edge
    nbformat.write(wrong, subs["wrong"])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(FIXTURE), str(ROOT / "lib")]))
    run = subprocess.run(["bash", "tools/grade.sh", *subs.values(), "--source", CHAPTER],
                         cwd=ROOT, capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.strip().splitlines()
    blocks = {}
    for line in lines:
        if line.startswith("== "):
            current = line[3:].split(":")[0]
            blocks[current] = []
        else:
            blocks[current].append(line)
    assert blocks["solved"][-1] == "score: 3/3"
    assert blocks["untouched"][-1] in ("score: 0/3", "score: 1/3", "score: 2/3")
    # the wrong answer loses the 2 points of its own check, and nothing else
    assert blocks["wrong"][-1] == "score: 1/3"
    assert any(re.match(r"^-- ex-toy-edges-check\s+0/2$", x) for x in blocks["wrong"])
    assert any(re.match(r"^ok ex-toy-risk-check\s+1/1$", x) for x in blocks["wrong"])
    assert lines[-1].startswith("score: ")


def test_short_messages_in_a_kernel():
    """A failed check and an unanswered scaffold print one line; other errors keep a traceback."""
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    cells = [
        "from hdreg.exercises import ExerciseError, attempt\n"
        "def f():\n    raise NotImplementedError('your answer here')",
        "attempt(f)",                                        # check of an unanswered scaffold
        "raise ExerciseError('not yet: the sign is wrong')",  # a failed check
        "f()",                                               # a cell that uses the answer
        "raise NotImplementedError('something else')",       # not ours: full traceback
        "print('still running')",
    ]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    env_path = os.pathsep.join([str(ROOT / "lib"), os.environ.get("PYTHONPATH", "")])
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = env_path
    try:
        NotebookClient(nb, allow_errors=True, timeout=120, kernel_name="python3").execute()
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH")
        else:
            os.environ["PYTHONPATH"] = old
    out = [c.outputs for c in nb.cells]
    for k in (1, 2, 3):
        assert len(out[k]) == 1 and out[k][0].output_type == "error"
        assert len(out[k][0].traceback) == 1
    assert out[1][0].traceback[0].startswith("NotAnswered: not answered yet")
    assert out[2][0].traceback == ["ExerciseError: not yet: the sign is wrong"]
    assert "not answered yet" in out[3][0].traceback[0]
    assert out[4][0].ename == "NotImplementedError" and len(out[4][0].traceback) > 1
    assert out[5][0].text == "still running\n"
