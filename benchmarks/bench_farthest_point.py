"""Benchmark: greedy farthest-point selection and the minimum pairwise distance.

``hdreg.selection.farthest_point`` keeps the distances to the chosen set up to date with one
matrix-vector product per step (Gram identity) and re-scores near-ties exactly. It is timed against
two plain NumPy loops a reader would write from the definition:

* *incremental loop*: the same one-pass-per-step update, with ``np.linalg.norm(X - x, axis=1)``;
* *from-scratch loop*: at every step, the distances of every point to the whole chosen set
  (``O(n m^2 d)`` in all; only at the smaller sizes).

All three must return identical indices (checked). ``hdreg.selection.min_pairwise_distance`` is
timed against ``scipy.spatial.distance.pdist(X).min()`` (which holds all ``n(n-1)/2`` distances).
Writes ``benchmarks/RESULTS_farthest_point.md``. Run by hand:
``python benchmarks/bench_farthest_point.py`` (about a minute on 2 CPU cores; ``--quick`` for a
smoke run). With CuPy and a GPU, the library functions are also timed on the device.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import fmt_s, machine, md_table, median_time  # noqa: E402

from hdreg import backend, selection  # noqa: E402

HERE = Path(__file__).resolve().parent


def incremental_loop(X, m, start=0):
    """Plain NumPy farthest-point loop: one distance pass per step."""
    dmin = np.linalg.norm(X - X[start], axis=1)
    chosen = [start]
    for _ in range(1, m):
        j = int(np.argmax(dmin))
        chosen.append(j)
        dmin = np.minimum(dmin, np.linalg.norm(X - X[j], axis=1))
    return np.asarray(chosen)


def from_scratch_loop(X, m, start=0):
    """Plain NumPy farthest-point loop recomputing all distances to the chosen set each step."""
    chosen = [start]
    for _ in range(1, m):
        S = X[chosen]
        D = np.sqrt(((X[:, None, :] - S[None]) ** 2).sum(axis=2)).min(axis=1)
        chosen.append(int(np.argmax(D)))
    return np.asarray(chosen)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=str(HERE / "RESULTS_farthest_point.md"))
    args = ap.parse_args(argv)
    reps = 1 if args.quick else args.repeats
    cases = [(2000, 16, 50)] if args.quick else [(10_000, 16, 100), (100_000, 16, 500),
                                                  (100_000, 64, 500)]
    scratch_cap = 10_000
    backend.set_backend("numpy")
    rows = []
    for n, d, m in cases:
        X = np.random.default_rng(0).random((n, d))
        ref = selection.farthest_point(X, m)
        t_lib, _ = median_time(lambda: selection.farthest_point(X, m), reps)
        inc = incremental_loop(X, m)
        t_inc, _ = median_time(lambda: incremental_loop(X, m), reps)
        if not np.array_equal(inc, ref):
            sys.exit(f"incremental loop and library differ for n={n}, d={d}, m={m}")
        if n <= scratch_cap:
            scr = from_scratch_loop(X, m)
            t_scr, _ = median_time(lambda: from_scratch_loop(X, m), 1)
            if not np.array_equal(scr, ref):
                sys.exit(f"from-scratch loop and library differ for n={n}, d={d}, m={m}")
            scr_s, scr_r = fmt_s(t_scr), f"{t_scr / t_lib:.0f}×"
        else:
            scr_s = scr_r = "not run"
        rows.append([n, d, m, fmt_s(t_lib), fmt_s(t_inc), f"{t_inc / t_lib:.1f}×", scr_s, scr_r])
        print(rows[-1], flush=True)
    from scipy.spatial.distance import pdist  # noqa: PLC0415

    hrows = []
    for n, d in ([(1000, 16)] if args.quick else [(5000, 16), (5000, 64)]):
        X = np.random.default_rng(1).random((n, d))
        h = selection.min_pairwise_distance(X)
        if not np.isclose(h, pdist(X).min(), rtol=1e-12):
            sys.exit("min_pairwise_distance disagrees with pdist")
        t_lib, _ = median_time(lambda: selection.min_pairwise_distance(X), reps)
        t_pd, _ = median_time(lambda: pdist(X).min(), reps)
        hrows.append([n, d, fmt_s(t_lib), fmt_s(t_pd), f"{t_pd / t_lib:.1f}×"])
        print(hrows[-1], flush=True)
    gpu = []
    try:
        b = backend.set_backend("cupy")
        xp = b.module
        for n, d, m in cases:
            X = xp.asarray(np.random.default_rng(0).random((n, d)))
            selection.farthest_point(X, 5)
            t, _ = median_time(lambda: selection.farthest_point(X, m), reps)
            gpu.append([n, d, m, fmt_s(t)])
        gnote = f"CuPy on {b.device}:"
    except backend.BackendError as exc:
        gnote = f"CuPy is not available here, so no GPU timings ({type(exc).__name__})."
    finally:
        backend.set_backend("numpy")
    info = machine()
    lines = ["# Benchmark: farthest-point selection and the minimum pairwise distance", "",
             "Written by `benchmarks/bench_farthest_point.py` (see its docstring); points uniform in",
             "the unit cube, start index 0, medians of wall-clock times. Identical indices checked.", "",
             *[f"* {k}: {v}" for k, v in info.items()],
             f"* BLAS threads (OMP_NUM_THREADS): {os.environ.get('OMP_NUM_THREADS', 'default')}; "
             f"1-minute load average at the end: {os.getloadavg()[0]:.1f} (shared machine)", "",
             "## `farthest_point(points, m)`", "",
             md_table(["n", "d", "m", "hdreg", "incremental NumPy loop", "ratio",
                       "from-scratch NumPy loop", "ratio"], rows), "",
             "## `min_pairwise_distance(points)`", "",
             md_table(["n", "d", "hdreg (blocks)", "scipy pdist().min()", "ratio"], hrows), "",
             gnote, ""]
    if gpu:
        lines += [md_table(["n", "d", "m", "hdreg on GPU"], gpu), ""]
    Path(args.out).write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
