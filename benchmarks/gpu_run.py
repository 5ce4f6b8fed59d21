"""The GPU run: the heavy cells timed on both backends, then every chapter at ``full`` scale on CuPy.

    tools/gpu_run.sh                      # on a machine with a CUDA GPU (see the README)
    python benchmarks/gpu_run.py [--chapters chapters/ridge.md ...] [--scale full|ci]
                                 [--cells-only] [--smoke] [--out benchmarks/RESULTS_gpu.md]
                                 [--budget SECONDS] [--cell-timeout SECONDS]

1. Times the *heavy cells*: the library calls that dominate the chapters at ``full`` scale (the
   sizes below are the chapters' ``full`` profiles), once on NumPy and once on CuPy, in this process
   (``hdreg.backend.set_backend``), and checks that both give the same answer in distribution
   (simulations) or to rounding (theory).
2. Executes every chapter (``chapters/*.md``, through jupytext and nbclient) with
   ``HDREG_BACKEND=cupy`` and ``HDREG_SCALE=full`` in a fresh kernel each, recording the wall time
   and the first error of each (a chapter that fails is reported, the run goes on). With
   ``--budget`` (the seconds a lent device allows), a chapter starts only while time is left and no
   cell runs past the budget.
3. Writes ``benchmarks/RESULTS_gpu.md``: the device, per-chapter wall time and status, GPU/CPU
   ratio per heavy cell; rewritten after the cells and after each chapter, so that a run stopped
   from outside keeps what it measured.

``--smoke`` shrinks the heavy cells to seconds (the test suite runs the whole script that way under
the CuPy stand-in of ``tests/fake_cupy.py``). The strict book build at full scale on the GPU is
``HDREG_SCALE=full HDREG_BACKEND=cupy tools/build_book.sh`` (``tools/gpu_run.sh --build`` runs it
after this script).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))

import hdreg  # noqa: E402
from hdreg import backend  # noqa: E402


def power_law(P, alpha=1.5, r=0.5):
    i = np.arange(1, P + 1, dtype=float)
    spec = i ** -alpha
    return spec, np.sqrt(i ** -(1 + 2 * alpha * r) / spec)


def heavy_cells(smoke: bool):
    """(name, chapter, thunk, compare) for the heaviest calls of the chapters at full scale."""
    from hdreg.sim import icl as sicl
    from hdreg.sim import random_features as srf
    from hdreg.sim import ridge as sridge
    from hdreg.sim import synthetic as ssyn
    from hdreg.sim import weak_to_strong as sw2s
    from hdreg.theory import ridge as tridge
    from hdreg.theory import scaling

    s = 10 if smoke else 1  # smoke: sizes / 10 (trials / 20)
    t = 20 if smoke else 1
    p_path, n_path = 2000 // s, 800 // s
    spec, beta = power_law(p_path)
    lams = np.logspace(-4, 0, 30)
    D, n = 4000 // s, 800 // s
    spec_rf, beta_rf = power_law(D)
    big, big_beta = power_law(4 * 10**6 // (100 if smoke else 1))
    ns = np.geomspace(100, 10**5, 200)
    sx = np.diag(np.linspace(1.0, 0.2, 16))
    return [
        ("simulate_ridge_path (p = %d, n = %d, %d trials, 30 penalties)" % (p_path, n_path, 200 // t),
         "ch-ridge", lambda: sridge.simulate_ridge_path(spec, beta, n_path, lams, 0.2, 200 // t, seed=1),
         lambda o: o.risk.mean(axis=0)),
        ("simulate_rf_path (D = %d, n = %d, p = %d, %d trials)" % (D, n, n // 2, 200 // t),
         "ch-random-features", lambda: srf.simulate_rf_path(spec_rf, beta_rf, n, n // 2, lams[::3], 0.1,
                                                           200 // t, seed=2),
         lambda o: o.risk.mean(axis=0)),
        ("ridge_risk over %d sizes, P = %d" % (ns.size, big.size), "ch-scaling",
         lambda: tridge.ridge_risk(big, big_beta, ns, 1e-4, 0.1), lambda o: o.risk),
        ("optimal_lambda, P = %d" % (10**6 // (100 if smoke else 1)), "ch-scaling",
         lambda: scaling.optimal_lambda(big[: 10**6 // (100 if smoke else 1)],
                                        big_beta[: 10**6 // (100 if smoke else 1)], ns[::20], 0.1),
         lambda o: o.risk),
        ("simulate_w2s (D = %d, %d trials)" % (400 // (2 if smoke else 1), 160 // t), "ch-w2s-rf",
         lambda: sw2s.simulate_w2s(*power_law(400 // (2 if smoke else 1)), 0.1, 200 // s, 1e-3, 150 // s,
                                   lams[::5], 160 // t, p_teacher=100 // s, p_student=300 // s, seed=3),
         lambda o: o.student.mean(axis=0)),
        ("pretrain_sgd (d = 16, %d steps, batch %d, %d runs)" % (2000 // t, 1024 // s, 64 // t), "ch-icl",
         lambda: sicl.pretrain_sgd(sx, np.eye(16) / 16, 32, 0.1, steps=2000 // t, batch=1024 // s,
                                   runs=max(2, 64 // t), seed=4),
         lambda o: o.loss[:, -1]),
        ("simulate_ttt (d = %d, %d trials)" % (400 // s, 400 // t), "ch-ttt",
         lambda: sicl.simulate_ttt(np.ones(400 // s), np.eye(400 // s) / (400 // s), np.ones(400 // s) / 20,
                                   400 // s, 200 // s, [0.0, 1e-4, 1e-3], 400 // t, seed=5),
         lambda o: o.loss.mean(axis=0)),
        ("simulate_mixed_training (p = %d, n = %d, %d trials)" % (600 // s, 2400 // s, 100 // t),
         "ch-synthetic", lambda: ssyn.simulate_mixed_training(np.ones(600 // s), 2 * np.ones(600 // s),
                                                              np.ones(600 // s) / 10, 1200 // s, 1200 // s,
                                                              1.0, max(2, 100 // t), seed=6),
         lambda o: o.risk.mean()),
    ]


def run_cells(smoke: bool, backends=("numpy", "cupy")):
    rows = []
    for name, chapter, thunk, summary in heavy_cells(smoke):
        times, values = {}, {}
        for b in backends:
            backend.set_backend(b)
            thunk()  # warm-up (kernels compiled, memory pools filled)
            start = time.perf_counter()
            out = thunk()
            times[b] = time.perf_counter() - start
            values[b] = np.atleast_1d(np.asarray(summary(out), dtype=float))
        a, b = values[backends[0]], values[backends[-1]]
        agree = float(np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-300)))
        rows.append((name, chapter, times[backends[0]], times[backends[-1]], agree))
    return rows


def run_chapters(chapters, scale: str, deadline=None, cell_timeout=3600, on_row=None):
    """Execute each chapter in a fresh kernel; ``deadline`` (a ``time.perf_counter()`` value) caps the
    run: a chapter is started only before it, and no cell may run past it (the chapter is then
    reported as stopped by the budget); ``on_row`` is called after each chapter (partial reports)."""
    import jupytext
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError

    env = dict(HDREG_BACKEND="cupy", HDREG_SCALE=scale, HDREG_PROGRESS="0", MPLBACKEND="Agg")
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    rows = []
    try:
        for ch in chapters:
            start = time.perf_counter()
            left = None if deadline is None else deadline - start
            if left is not None and left < 5:
                rows.append((Path(ch).name, 0.0, "not run (budget spent)"))
                continue
            nb = jupytext.read(str(ch))
            timeout = int(cell_timeout if left is None else max(1, min(cell_timeout, left)))
            status = "ok"
            try:
                NotebookClient(nb, timeout=timeout, kernel_name="python3",
                               resources={"metadata": {"path": str(Path(ch).parent)}}).execute()
            except CellTimeoutError as exc:
                if timeout < cell_timeout:  # the budget, not the per-cell limit, stopped it
                    status = f"stopped by the budget after {timeout} s (a cell was still running)"
                else:
                    status = f"FAILED: a cell ran past --cell-timeout {cell_timeout} s ({exc})"[:300]
            except Exception as exc:  # noqa: BLE001 - report and go on
                last = (str(exc).strip().splitlines() or [""])[-1][:200]
                status = f"FAILED: {type(exc).__name__}: {last}"
            rows.append((Path(ch).name, time.perf_counter() - start, status))
            if on_row is not None:
                on_row(rows)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return rows


def report(path, device, chapter_rows, cell_rows, scale, smoke):
    lines = [
        "# GPU run: chapters at full scale on CuPy, heavy cells on both backends",
        "",
        f"Written by `benchmarks/gpu_run.py` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
        + (" (**smoke run**: small sizes)" if smoke else "") + ".",
        "",
        f"- device: {device}",
        f"- host: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"numpy {np.__version__}",
        "",
        f"## Chapters (`HDREG_BACKEND=cupy`, `HDREG_SCALE={scale}`)",
        "",
        "| chapter | wall time | status |",
        "|---|---|---|",
    ]
    lines += [f"| {c} | {w:.1f} s | {s} |" for c, w, s in chapter_rows] or ["| (none run) | | |"]
    lines += [
        "",
        "## Heavy cells: GPU / CPU",
        "",
        "Each cell timed once after a warm-up, on NumPy (CPU) and on CuPy (GPU), same seeds; *agreement* is "
        "the largest relative difference of the summaries (means over trials for simulations: they "
        "differ by Monte-Carlo error, as the two backends draw different streams; theory: rounding).",
        "",
        "| cell | chapter | CPU (NumPy) | GPU (CuPy) | speed-up | agreement |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {n} | `{c}` | {tc:.3f} s | {tg:.3f} s | {tc / tg:.1f}x | {a:.1e} |"
              for n, c, tc, tg, a in cell_rows]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--chapters", nargs="*", default=None)
    ap.add_argument("--scale", default="full", choices=("ci", "full"))
    ap.add_argument("--cells-only", action="store_true")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "RESULTS_gpu.md"))
    ap.add_argument("--budget", type=float, default=None,
                    help="seconds for the whole run (a lent device's limit): the heavy cells first, "
                         "then chapters while time is left; the report is rewritten after each step")
    ap.add_argument("--cell-timeout", type=int, default=3600, help="seconds per notebook cell")
    args = ap.parse_args(argv)
    deadline = None if args.budget is None else time.perf_counter() + args.budget
    b = backend.set_backend("cupy")  # fails with an explanation when there is no usable GPU
    device = b.device
    chapters = [] if args.cells_only else (
        args.chapters if args.chapters is not None else sorted(str(p) for p in (ROOT / "chapters").glob("*.md")))
    # heavy cells first: the GPU/CPU table is the run's main result and takes minutes, while a
    # chapter at full scale may take much longer; the report is written after every step, so a run
    # stopped from outside still leaves what it measured
    cell_rows = run_cells(args.smoke)
    backend.set_backend("cupy")
    report(args.out, device, [], cell_rows, args.scale, args.smoke)
    chapter_rows = run_chapters(
        chapters, args.scale, deadline, args.cell_timeout,
        on_row=lambda rows: report(args.out, device, rows, cell_rows, args.scale, args.smoke)) if chapters else []
    print(report(args.out, device, chapter_rows, cell_rows, args.scale, args.smoke))
    return 1 if any(s.startswith("FAILED") for _, _, s in chapter_rows) else 0


if __name__ == "__main__":
    sys.exit(main())
