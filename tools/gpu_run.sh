#!/usr/bin/env bash
# The GPU run (README, "Using a GPU"): on a machine with a CUDA GPU and `pip install -r
# requirements-gpu.txt`, execute every chapter at full scale on CuPy, time the heavy cells on both
# backends and write benchmarks/RESULTS_gpu.md. With --build, then the strict book build at full
# scale on the GPU (tools/build_book.sh). Other arguments go to benchmarks/gpu_run.py
# (--chapters ..., --cells-only, --smoke, --out FILE).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [[ -x "$ROOT/.venv/bin/python" ]]; then PY="$ROOT/.venv/bin/python"; else PY="$(command -v python3)"; fi
build=0
args=()
for a in "$@"; do
    if [[ "$a" == "--build" ]]; then build=1; else args+=("$a"); fi
done
export HDREG_BACKEND=cupy HDREG_PROGRESS="${HDREG_PROGRESS:-0}" PYTHONPATH="$ROOT/lib${PYTHONPATH:+:$PYTHONPATH}"
status=0
"$PY" benchmarks/gpu_run.py "${args[@]+"${args[@]}"}" || status=$?
if [[ $build == 1 ]]; then
    HDREG_SCALE=full tools/build_book.sh || status=$?
fi
exit $status
