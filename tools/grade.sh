#!/usr/bin/env bash
# Grade a submitted student notebook with nbgrader (see tools/grade.py); last line: score: X/Y
#   tools/grade.sh SUBMISSION.ipynb [--source SOLVED.ipynb|CHAPTER.md] [--keep DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY=python3
[[ -x "$ROOT/.venv/bin/python" ]] && PY="$ROOT/.venv/bin/python"
[[ -n "${VIRTUAL_ENV:-}" ]] && PY="$VIRTUAL_ENV/bin/python"
exec "$PY" "$ROOT/tools/grade.py" "$@"
