#!/usr/bin/env bash
# The book as a PDF, through Jupyter Book's LaTeX builder (XeLaTeX), offline.
#
#   tools/build_pdf.sh              # reader edition (with solutions)  -> _build/pdf/book.pdf
#   tools/build_pdf.sh --student    # student edition (no solutions)   -> _build/pdf/book-student.pdf
#   tools/build_pdf.sh [--student] --source DIR    # another book folder (toy books)
#
# Needs TeX (Debian/Ubuntu: apt-get install texlive-latex-extra texlive-fonts-recommended
# texlive-xetex latexmk xindy fonts-freefont-otf texlive-fonts-extra texlive-science; see the README).
# Not run in CI.
#
# Executing every chapter again is the slow part, so the notebooks already executed by the HTML
# build of the same edition are reused when they exist (_build/jupyter_execute after
# tools/build_book.sh, _build/student/jupyter_execute after tools/build_book.sh --student): the
# staged copy of the book then holds those .ipynb files instead of the .md chapters, and execution
# is switched off. Without them, the chapters are executed here as in the HTML build.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [[ -x "$ROOT/.venv/bin/jupyter-book" ]]; then
    export PATH="$ROOT/.venv/bin:$PATH"
fi
JB="$(command -v jupyter-book)" || { echo "jupyter-book not found" >&2; exit 2; }
PY="$(dirname "$JB")/python"; [[ -x "$PY" ]] || PY=python3
command -v xelatex >/dev/null && command -v latexmk >/dev/null \
    || { echo "xelatex/latexmk not found: see the README (PDF)" >&2; exit 2; }
export HDREG_PROGRESS="${HDREG_PROGRESS:-0}"
unset MPLBACKEND

EDITION=reader
SRC="$ROOT"
if [[ "${1:-}" == "--student" ]]; then EDITION=student; shift; fi
if [[ "${1:-}" == "--source" ]]; then SRC="$(cd "$2" && pwd)"; shift 2; fi

OUT="$ROOT/_build/pdf"
STAGE="$OUT/$EDITION-src"
rm -rf "$STAGE" "$OUT/$EDITION-work"
mkdir -p "$OUT"
if [[ $EDITION == student ]]; then
    "$PY" "$ROOT/tools/student_edition.py" "$SRC" "$STAGE"
    EXEC="$ROOT/_build/student/jupyter_execute"
    NAME=book-student.pdf
else
    "$PY" - "$SRC" "$STAGE" <<'PYEOF'
import shutil, sys
from pathlib import Path
sys.path.insert(0, "tools")
from student_edition import SKIP
src, dst = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
shutil.copytree(src, dst, ignore=lambda d, names: {n for n in names if n in SKIP
                or n.endswith(".egg-info") or n.startswith("venv")})
PYEOF
    EXEC="$ROOT/_build/jupyter_execute"
    NAME=book.pdf
fi

# Reuse executed notebooks of the same edition when every chapter has one.
"$PY" - "$STAGE" "$EXEC" <<'PYEOF'
import re, sys
from pathlib import Path
sys.path.insert(0, "tools")
import coursework as cw
stage, execd = Path(sys.argv[1]), Path(sys.argv[2])
pages = [p for p in cw.book_sources(stage) if "kernelspec" in p.read_text()[:3000]]
have = [execd / p.relative_to(stage).with_suffix(".ipynb") for p in pages]
if pages and all(h.exists() for h in have):
    import nbformat
    import notebooks as nbr
    for p, h in zip(pages, have):
        nb = nbformat.read(h, as_version=4)
        nbr.restore_glue(nb, h)  # myst-nb keeps hidden glue values in <page>.glue.json
        p.unlink()
        nbformat.write(nb, p.with_suffix(".ipynb"))
    cfg = stage / "_config.yml"
    cfg.write_text(re.sub(r"(?m)^(\s*execute_notebooks:).*$", r"\1 off", cfg.read_text()))
    print(f"pdf: reusing {len(pages)} executed notebooks from {execd}")
else:
    print("pdf: executing the chapters (no complete set of executed notebooks to reuse)")
PYEOF

"$JB" build "$STAGE" --path-output "$OUT/$EDITION-work" --builder pdflatex "$@"
cp "$OUT/$EDITION-work/_build/latex/book.pdf" "$OUT/$NAME"
echo "pdf: $OUT/$NAME"
