"""Benchmark: covariance-matching selection with rank-one updates against a naive implementation.

The naive implementation (``hdreg.selection.covariance_matching_naive``) is what one writes from the
definition: at every greedy step, for every remaining candidate, recompute the covariance of the
selected set plus that candidate and its Frobenius distance to the real covariance. The library
version (``hdreg.selection.covariance_matching``) scores all candidates at once from rank-one
(Welford) updates. Both must return the same indices; the script checks that, times both (median of
``--repeats`` runs) and writes ``benchmarks/RESULTS_selection.md``.

Run by hand: ``python benchmarks/bench_selection.py`` (a few minutes on 2 CPU cores; ``--quick`` for a
smoke run). On a machine with a working GPU the library version also runs on CuPy (the naive one is
NumPy only) and the CuPy timings are added.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import hdreg
from hdreg import backend, selection

HERE = Path(__file__).resolve().parent


def _data(n_real, n_syn, d_raw, seed=0):
    g = np.random.default_rng(seed)
    A = g.standard_normal((d_raw, d_raw)) / np.sqrt(d_raw)
    real = g.standard_normal((n_real, d_raw)) @ A
    syn = g.standard_normal((n_syn, d_raw)) @ A * g.uniform(0.5, 1.5, (n_syn, 1))
    return real, syn


def _time(fn, repeats):
    out, times = None, []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, statistics.median(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, one repeat (smoke run)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=str(HERE / "RESULTS_selection.md"))
    args = ap.parse_args(argv)
    # (candidates N, selected k, PCA dimension d); real: 200 rows in 64 raw dimensions
    cases = [(500, 50, 16), (1000, 100, 32), (2000, 100, 32)] if not args.quick else [(300, 20, 8)]
    naive_cap = 2000  # the naive version is O(N k^2 d^2): skip it beyond this many candidates
    repeats = 1 if args.quick else args.repeats
    backend.set_backend("numpy")
    rows = []
    for N, k, d in cases:
        real, syn = _data(200, N, 64)
        fast, t_fast = _time(lambda: selection.covariance_matching(real, syn, k, n_components=d), repeats)
        if N <= naive_cap:
            naive, t_naive = _time(lambda: selection.covariance_matching_naive(real, syn, k, n_components=d),
                                   1)
            same = bool(np.array_equal(fast, naive))
            if not same:
                sys.exit(f"fast and naive selections differ for N={N}, k={k}, d={d}")
        else:
            t_naive, same = float("nan"), None
        rows.append(dict(N=N, k=k, d=d, fast=t_fast, naive=t_naive, same=same))
        print(f"N={N:5d} k={k:4d} d={d:3d}  rank-one {t_fast * 1e3:8.1f} ms   naive {t_naive:8.2f} s   "
              f"speed-up {t_naive / t_fast:8.0f}x   identical={same}")
    gpu_rows = []
    try:
        b = backend.set_backend("cupy")
        for N, k, d in cases + ([(20000, 500, 32)] if not args.quick else []):
            real, syn = _data(200, N, 64)
            selection.covariance_matching(real, syn, min(k, 5), n_components=d)  # warm-up
            _, t = _time(lambda: selection.covariance_matching(real, syn, k, n_components=d), repeats)
            gpu_rows.append(dict(N=N, k=k, d=d, t=t, device=b.device))
    except backend.BackendError as exc:
        gpu_note = ("CuPy is not available on this machine, so no GPU timings were recorded "
                    f"({type(exc).__name__}).")
    else:
        gpu_note = ""
    finally:
        backend.set_backend("numpy")

    lines = [
        "# Benchmark: covariance-matching selection",
        "",
        "Written by `benchmarks/bench_selection.py`; rerun it to refresh. Greedy covariance matching",
        "(Chapter 7) selects `k` of `N` synthetic rows so that their covariance, in a `d`-dimensional PCA",
        "space of 200 real rows, matches the real covariance. *Rank-one*: `hdreg.selection.covariance_matching`",
        "(all candidates scored at once from Welford updates, O(Nd) per step). *Naive*:",
        "`hdreg.selection.covariance_matching_naive` (covariance recomputed for each candidate, O(N m d²)",
        "per step). Both return identical indices (checked). Times are medians of wall-clock seconds.",
        "",
        f"* machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
        f"Python {platform.python_version()}, NumPy {np.__version__}, hdreg {hdreg.__version__}",
        f"* repeats: {repeats} (rank-one), 1 (naive); BLAS threads: "
        f"{os.environ.get('OMP_NUM_THREADS', 'default')}; 1-minute load average at the end: "
        f"{os.getloadavg()[0]:.1f} (a shared machine inflates both columns alike)",
        "",
        "| N | k | d | rank-one (ms) | naive (s) | speed-up | identical |",
        "|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    for r in rows:
        lines.append(f"| {r['N']} | {r['k']} | {r['d']} | {r['fast'] * 1e3:.1f} | {r['naive']:.2f} | "
                     f"{r['naive'] / r['fast']:.0f}× | {'yes' if r['same'] else 'n/a'} |")
    lines.append("")
    if gpu_rows:
        lines += [f"CuPy ({gpu_rows[0]['device']}):", "", "| N | k | d | rank-one on GPU (ms) |",
                  "|---:|---:|---:|---:|"]
        lines += [f"| {r['N']} | {r['k']} | {r['d']} | {r['t'] * 1e3:.1f} |" for r in gpu_rows]
    else:
        lines.append(gpu_note)
    lines.append("")
    Path(args.out).write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
