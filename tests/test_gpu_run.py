"""The GPU run command (tools/gpu_run.sh -> benchmarks/gpu_run.py), proven under the CuPy stand-in:
a chapter executed in a fresh kernel that sees only the stand-in (``import cupy`` gives
``tests/fake_cupy.py``, and hdreg's real CUDA probe accepts it), the heavy cells timed on both
backends, and the results file written."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CHAPTER = textwrap.dedent('''\
    ---
    jupytext:
      text_representation:
        extension: .md
        format_name: myst
    kernelspec:
      display_name: Python 3
      language: python
      name: python3
    ---

    # A tiny chapter

    ```{code-cell} ipython3
    import numpy as np
    import hdreg
    from hdreg.sim.ridge import simulate_ridge_path
    info = hdreg.backend_info()
    assert info["backend"] == "cupy", info
    sim = simulate_ridge_path(np.ones(8), np.ones(8) / 3, 12, [0.0, 0.1], 0.2, trials=4)
    assert type(sim.risk) is np.ndarray
    ```
    ''')


def test_gpu_run_under_the_standin(tmp_path):
    pytest.importorskip("nbclient")
    site = tmp_path / "site"
    site.mkdir()
    # every Python process of the run (this script and its kernels) imports the stand-in as cupy
    (site / "sitecustomize.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT / 'tests')!r})\n"
        "import fake_cupy\nsys.modules['cupy'] = fake_cupy.FakeCupy()\n")
    chapter = tmp_path / "tiny.md"
    chapter.write_text(CHAPTER)
    out = tmp_path / "RESULTS_gpu.md"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(ROOT / "lib")]),
               HDREG_PROGRESS="0", OPENBLAS_NUM_THREADS="1")
    env.pop("HDREG_BACKEND", None)
    run = subprocess.run([str(ROOT / "tools" / "gpu_run.sh"), "--smoke", "--scale", "ci",
                          "--chapters", str(chapter), "--out", str(out)],
                         env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    text = out.read_text()
    assert "Fake CUDA device" in text
    assert "| tiny.md |" in text and "| ok |" in text
    for cell in ("simulate_ridge_path", "simulate_rf_path", "ridge_risk", "pretrain_sgd", "simulate_ttt",
                 "simulate_mixed_training", "simulate_w2s", "optimal_lambda"):
        assert cell in text
    # a budget already spent by the heavy cells: the chapter is reported as not run, not as failed
    out2 = tmp_path / "RESULTS_budget.md"
    run = subprocess.run([str(ROOT / "tools" / "gpu_run.sh"), "--smoke", "--scale", "ci", "--budget", "0.01",
                          "--chapters", str(chapter), "--out", str(out2)],
                         env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "| tiny.md | 0.0 s | not run (budget spent) |" in out2.read_text()


def test_a_chapter_running_past_the_budget_is_stopped_not_failed(tmp_path):
    pytest.importorskip("nbclient")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import gpu_run
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    slow = tmp_path / "slow.md"
    slow.write_text(CHAPTER.split("# A tiny chapter")[0]
                    + "# A slow chapter\n\n```{code-cell} ipython3\nimport time\ntime.sleep(60)\n```\n")
    rows = gpu_run.run_chapters([str(slow)], "ci", deadline=gpu_run.time.perf_counter() + 10)
    assert rows[0][0] == "slow.md" and rows[0][2].startswith("stopped by the budget"), rows
