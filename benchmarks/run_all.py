"""Run every benchmark and write ``benchmarks/RESULTS.md``.

    python benchmarks/run_all.py [--quick]

``--quick`` shrinks the problems (a smoke test of the scripts, not numbers to quote). The full run
takes about ten minutes on two cores, most of it in the scikit-learn baseline loop. Run it on an
otherwise idle machine: the load average is recorded, and timings taken under load are flagged.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_kappa  # noqa: E402
import bench_ridge_path  # noqa: E402
from _common import blas_threads, load_average, machine  # noqa: E402

HERE = Path(__file__).resolve().parent


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes: check that the scripts run")
    ap.add_argument("--out", default=str(HERE / "RESULTS.md"))
    ap.add_argument("--threads", type=int, default=None,
                    help="limit BLAS threads for every method (default: the library default); "
                         "1 avoids OpenBLAS's busy-wait slowdowns on a shared machine")
    args = ap.parse_args(argv)
    os.environ.setdefault("HDREG_PROGRESS", "0")

    ctx = blas_threads(args.threads)
    ctx.__enter__()
    info = machine()
    info["BLAS threads used"] = args.threads or "library default"
    start = dt.datetime.now(dt.timezone.utc)
    load_start = load_average()
    for k, v in info.items():
        print(f"{k:>14}: {v}")

    print("\n== effective regularisation: vectorised vs brentq ==")
    if args.quick:
        kap = bench_kappa.run(sizes=(200,), repeats=1)
    else:
        kap = bench_kappa.run(sizes=(200, 1000, 5000), repeats=3)
    print("\n== ridge path: hdreg vs scikit-learn ==")
    if args.quick:
        rp = bench_ridge_path.run(n=200, p=150, n_lams=10, trials=4, repeats=1)
    else:
        rp = bench_ridge_path.run(n=1000, p=1000, n_lams=50, trials=32, repeats=3,
                                  baseline_repeats=1)
    load_end = load_average()
    minutes = (dt.datetime.now(dt.timezone.utc) - start).total_seconds() / 60

    loads = [load_start, load_end, *kap["results"][0]["load"], *rp["load"]]
    busy = max(loads) > (info['cores'] or 1) + 0.5  # more runnable threads than cores
    lines = [
        "# Benchmark results",
        "",
        f"Written by `benchmarks/run_all.py{' --quick' if args.quick else ''}` on "
        f"{start:%Y-%m-%d %H:%M} UTC ({minutes:.1f} min). See `benchmarks/README.md` for what is "
        "measured and why these baselines.",
        "",
    ]
    if args.quick:
        lines += ["**Quick run (reduced sizes): a smoke test, not numbers to quote.**", ""]
    if busy:
        lines += [f"**Warning: the machine was busy during the run (1-minute load average up to "
                  f"{max(loads):.1f} on {info['cores']} cores); timings are pessimistic and noisy.**",
                  ""]
    lines += ["## Machine", ""]
    lines += [f"- {k}: {v}" for k, v in info.items()]
    lines += [f"- load average (1 min) at start / end: {load_start:.2f} / {load_end:.2f}", ""]
    lines += [
        "## Ridge path: `simulate_ridge_path` vs a scikit-learn `Ridge` loop",
        "",
        f"n = {rp['n']}, p = {rp['p']}, {rp['lams']} penalties `logspace(-4, 1)`, {rp['trials']} "
        "trials; hdreg end to end (data generation included), baseline on the same data "
        "(generation included) with the fastest direct sklearn solver. Target: >= 10x.",
        "",
        bench_ridge_path.markdown(rp),
        "",
        "## Effective regularisation: vectorised solver vs a per-point `brentq` loop",
        "",
        "Power-law spectrum `i^-1.5` of size P; 100 sample sizes `geomspace(10, 10 P)` x 100 "
        "penalties (`0` and `logspace(-4, 1, 99)`) = 10^4 points. Target: >= 100x. "
        "*hdreg*: the default `effective_regularization`, which here solves on piecewise Chebyshev "
        "interpolants of the spectral sums (`hdreg.theory.spectral`); *ratio (CPU time)*: the same "
        "ratio in process CPU time, which a busy machine distorts less; *exact evaluations / point*: "
        "evaluations of the full sum over the spectrum per point (the table's nodes). "
        "*hdreg exact path*: the same solver with the exact sum at every Newton step. "
        "*One exact pass*: the time of a single vectorised evaluation of the sums at every "
        "point, a floor for any method that evaluates the sum exactly at its answer; "
        "*ratio ceiling (exact)* = brentq time / that floor.",
        "",
        bench_kappa.markdown(kap),
        "",
    ]
    Path(args.out).write_text("\n".join(lines))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
