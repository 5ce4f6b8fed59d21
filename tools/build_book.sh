#!/usr/bin/env bash
# Strict, full build of the Jupyter Book into _build/html (reader/instructor edition), or of the
# student edition into _build/student/html.
#
#   tools/build_book.sh            # from anywhere; builds the book at the repo root
#   tools/build_book.sh --student  # student edition: tools/student_edition.py writes a copy of the
#                                  # sources without solutions (_build/student/src), built the same
#                                  # strict way; then run python tools/check_student.py
#   tools/build_book.sh --student --source DIR   # ... of another book folder (tests, toy books)
#
# * clean output   _build/html and _build/.doctrees are deleted first.
# * --all           re-reads and re-executes every page (JB's --all = Sphinx fresh env);
#                   together with execute_notebooks: force in _config.yml nothing stale survives.
# * -W --keep-going every Sphinx warning is an error, but all of them are reported
#                   before the build exits non-zero.
# * -n              nit-picky: unresolved cross-references are warnings too (hence errors).
# * a notebook cell that raises fails the build (execute.raise_on_error in _config.yml).
# Exit status: 0 only for a warning-free build with every notebook executed cleanly.
# Extra arguments are passed on to `jupyter-book build` (e.g. -v).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Prefer the project's virtual environment when there is one.
if [[ -x "$ROOT/.venv/bin/jupyter-book" ]]; then
    JB="$ROOT/.venv/bin/jupyter-book"
    export PATH="$ROOT/.venv/bin:$PATH"
else
    JB="$(command -v jupyter-book)" || { echo "jupyter-book not found (pip install -r requirements.txt)" >&2; exit 2; }
fi

# hdreg: no progress bars in built pages; scale/backend come from the caller's
# HDREG_SCALE / HDREG_BACKEND (defaults: see lib/hdreg/profiles.py, backend.py).
export HDREG_PROGRESS="${HDREG_PROGRESS:-0}"
# Notebook kernels must use their inline backend: MPLBACKEND=Agg (fine for tests) would leave the
# figures out of the pages, and then every figure reference is unresolved.
unset MPLBACKEND

if [[ "${1:-}" == "--student" ]]; then
    shift
    SRC="$ROOT"
    if [[ "${1:-}" == "--source" ]]; then SRC="$(cd "$2" && pwd)"; shift 2; fi
    OUT="$ROOT/_build/student"
    # The student edition's claims (its scaffolds are stubs) go to a report of their own.
    if [[ -n "${HDREG_CLAIMS_REPORT:-}" ]]; then
        export HDREG_CLAIMS_REPORT="${HDREG_CLAIMS_REPORT%.jsonl}-student.jsonl"
    fi
    PY="$(dirname "$JB")/python"; [[ -x "$PY" ]] || PY=python3
    rm -rf "$OUT"
    "$PY" "$ROOT/tools/student_edition.py" "$SRC" "$OUT/src"
    status=0
    "$JB" build "$OUT/src" --path-output "$OUT" --all -W -n --keep-going --builder html "$@" || status=$?
    # JB writes to <path-output>/_build/{html,jupyter_execute}; lift them to _build/student/.
    for d in html jupyter_execute; do
        [[ -d "$OUT/_build/$d" ]] && mv "$OUT/_build/$d" "$OUT/$d"
    done
    rm -rf "$OUT/_build"
    [[ $status -eq 0 ]] && echo "student edition: $OUT/html/index.html"
    exit $status
fi

# Start from an empty output folder so that pages removed from _toc.yml do not
# linger in _build/html (Sphinx never deletes old output files).
rm -rf "$ROOT/_build/html" "$ROOT/_build/.doctrees"

exec "$JB" build "$ROOT" --all -W -n --keep-going --builder html "$@"
