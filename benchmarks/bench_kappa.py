"""Benchmark: the vectorised effective regularisation against a per-point ``scipy.optimize.brentq`` loop.

    python benchmarks/bench_kappa.py [--sizes 200 1000 5000] [--repeats 3] [--before 163d8d1]

Problem: a power-law spectrum ``lambda_i = i^{-1.5}`` of size P; a grid of 100 sample sizes
``n = geomspace(10, 10 P)`` (both sides of the interpolation threshold n = P; a grid point at n = P is moved to
P + 1/2) by 100 penalties
(``lam = 0`` and 99 values in ``logspace(-4, 1)``): 10^4 points, solved for
``kappa - lam = (kappa/n) sum_i lambda_i/(lambda_i + kappa)``.

Baseline: a straightforward but fair loop, one ``brentq`` call per point on
``g(kappa) = 1 - lam/kappa - df1(kappa)/n`` with ``df1`` a NumPy sum, bracket ``[lam, lam + tr/n]``
(ridgeless: ``[lambda_min (rank/n - 1), tr/n]``, as in the library; ``kappa = 0`` when n > rank),
``rtol = 4 eps``. The two answers must agree to ``rtol = 1e-10``.

hdreg is timed twice: the default ``effective_regularization`` (which, for this many points, solves
on piecewise Chebyshev interpolants of the spectral sums, ``hdreg.theory.spectral``) and the exact path
(``_solve_kappa(method="exact")``: every Newton step evaluates the sum over the spectrum exactly).

``--before REF`` also times ``effective_regularization`` from ``lib/hdreg/theory/ridge.py`` at git
revision REF (default: the commit before the solver was first rewritten), to document the change.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.optimize import brentq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, blas_threads, fmt_s, load_average, machine, md_table, timed  # noqa: E402

from hdreg.theory import ridge, spectral  # noqa: E402

BEFORE_DEFAULT = "163d8d1"  # lib/hdreg/theory/ridge.py before the table-started Newton solver


def spectrum(P: int) -> np.ndarray:
    return np.arange(1, P + 1, dtype=float) ** -1.5


def grid(P: int):
    n = np.geomspace(10, 10 * P, 100)
    n[np.abs(n - P) < 0.5] = P + 0.5  # ridgeless at n = rank exactly is the (infinite) threshold
    n = n[:, None]
    lam = np.concatenate([[0.0], np.logspace(-4, 1, 99)])[None, :]
    return n, lam


def kappa_brentq_loop(spec, n, lam) -> np.ndarray:
    """One brentq per point (the baseline)."""
    s = spec[spec > 0]
    rank, trace, lam_min = s.size, s.sum(), s.min()
    N, L = np.broadcast_arrays(n, lam)
    out = np.empty(N.shape)
    for idx in np.ndindex(N.shape):
        nn, ll = float(N[idx]), float(L[idx])
        if ll == 0 and nn > rank:
            out[idx] = 0.0
            continue

        def g(k, nn=nn, ll=ll):
            return 1.0 - ll / k - np.sum(s / (s + k)) / nn

        lo = max(ll, lam_min * (rank / nn - 1.0) if rank > nn else 0.0)
        hi = ll + trace / nn
        # xtol is negligible here (kappa >= 1e-6 on this grid): rtol = 4 eps governs.
        out[idx] = lo if g(lo) >= 0 else brentq(g, lo, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps)
    return out


def timed_both(fn, cpu: list) -> float:
    """Wall time of ``fn()``; its process CPU time is appended to ``cpu``. On a shared machine a
    job of a few ms is either not interrupted or waits a whole scheduler slice, so its wall time
    is bimodal; CPU time is not (BLAS runs single-threaded here, so CPU time <= wall time)."""
    c = time.process_time()
    wall = timed(fn)
    cpu.append(time.process_time() - c)
    return wall


def kappa_exact_path(spec, n, lam) -> np.ndarray:
    """The library's solver with exact sums at every Newton step (no interpolation table)."""
    s, xp, n_h, lam_h, rank, _ = ridge._prepare(spec, n, lam)
    return ridge._solve_kappa(s, xp, n_h, lam_h, rank, method="exact")


def load_revision(ref: str):
    """``hdreg.theory.ridge`` as it was at git revision ``ref`` (None if unavailable)."""
    try:
        src = subprocess.run(["git", "show", f"{ref}:lib/hdreg/theory/ridge.py"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
    except Exception:  # noqa: BLE001
        return None
    path = Path(tempfile.mkdtemp()) / "ridge_before.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("hdreg.theory._ridge_before", path)
    mod = importlib.util.module_from_spec(spec)
    mod.__package__ = "hdreg.theory"
    spec.loader.exec_module(mod)
    return mod


def exact_passes(solve, spec, n, lam, module=ridge) -> float:
    """Exact evaluations of the sums over the spectrum per point made by ``solve(spec, n, lam)``
    (interpolation-table nodes included)."""
    calls = []
    real_moments = getattr(module, "_moments", None)
    real_sums = spectral.exact_sums

    def counting_moments(spec_, kappa, xp, weights=None):
        calls.append(kappa.shape[0])
        return real_moments(spec_, kappa, xp, weights)

    def counting_sums(spec_, kappa, xp, weights=None):
        calls.append(kappa.shape[0])
        return real_sums(spec_, kappa, xp, weights)

    module._moments = counting_moments
    spectral.exact_sums = counting_sums
    try:
        solve(spec, n, lam)
    finally:
        module._moments = real_moments
        spectral.exact_sums = real_sums
    return sum(calls) / np.broadcast(n, lam).size


def run(sizes=(200, 1000, 5000), repeats=3, before=BEFORE_DEFAULT, log=print) -> dict:
    old = load_revision(before) if before else None
    results = []
    for P in sizes:
        spec = spectrum(P)
        n, lam = grid(P)
        points = np.broadcast(n, lam).size
        load0 = load_average()
        kap = ridge.effective_regularization(spec, n, lam)  # warm-up, and the answer to check
        kap_exact = kappa_exact_path(spec, n, lam)
        k_pass = np.maximum(kap, 1e-3).ravel()
        # Interleaved repeats, so that a change of machine load hits every method alike.
        times = {"lib": [], "exact": [], "ref": [], "pass": [], "old": [], "lib_cpu": [],
                 "ref_cpu": []}
        for _ in range(repeats):
            times["lib"].append(timed_both(lambda: ridge.effective_regularization(spec, n, lam),
                                           times["lib_cpu"]))
            times["exact"].append(timed(lambda: kappa_exact_path(spec, n, lam)))
            times["ref"].append(timed_both(lambda: kappa_brentq_loop(spec, n, lam), times["ref_cpu"]))
            # one exact vectorised evaluation of the sums at every point: the floor for any method
            # that evaluates the sum over the spectrum exactly at its answer
            times["pass"].append(timed(lambda: spectral.exact_sums(spec, k_pass, np)))
            if old is not None:
                times["old"].append(timed(lambda: old.effective_regularization(spec, n, lam)))
        t_lib, t_exact, t_ref, t_pass = (statistics.median(times[k])
                                         for k in ("lib", "exact", "ref", "pass"))
        ref = kappa_brentq_loop(spec, n, lam)
        pos = ref > 0
        rel = float(np.max(np.abs(kap[pos] - ref[pos]) / ref[pos]))
        rel_exact = float(np.max(np.abs(kap_exact[pos] - ref[pos]) / ref[pos]))
        rel_paths = float(np.max(np.abs(kap[pos] - kap_exact[pos]) / kap_exact[pos]))
        zeros_agree = bool(np.all(kap[~pos] == 0) and np.all(kap_exact[~pos] == 0))
        cpu_lib, cpu_ref = statistics.median(times["lib_cpu"]), statistics.median(times["ref_cpu"])
        row = dict(P=P, points=points, t_lib=t_lib, t_brentq=t_ref, ratio=t_ref / t_lib,
                   cpu_lib=cpu_lib, cpu_brentq=cpu_ref, ratio_cpu=cpu_ref / cpu_lib,
                   t_exact=t_exact, ratio_exact=t_ref / t_exact,
                   t_one_pass=t_pass, ratio_ceiling=t_ref / t_pass, max_rel_diff=rel,
                   max_rel_diff_exact=rel_exact, max_rel_diff_paths=rel_paths,
                   zeros_agree=zeros_agree,
                   passes=exact_passes(ridge.effective_regularization, spec, n, lam),
                   passes_exact=exact_passes(kappa_exact_path, spec, n, lam),
                   load=(load0, load_average()))
        if old is not None:
            t_old = statistics.median(times["old"])
            row.update(t_before=t_old, ratio_before=t_ref / t_old,
                       passes_before=exact_passes(old.effective_regularization, spec, n, lam, old))
        results.append(row)
        log(f"P={P}: hdreg {fmt_s(t_lib)}, exact path {fmt_s(t_exact)}, brentq {fmt_s(t_ref)}, "
            f"ratio {t_ref / t_lib:.1f}x (CPU time {cpu_ref / cpu_lib:.1f}x; exact path "
            f"{t_ref / t_exact:.1f}x), max rel diff {rel:.1e}"
            + (f", before {fmt_s(row['t_before'])}" if old else ""))
        if not (max(rel, rel_exact) <= 1e-10 and rel_paths <= 1e-12 and zeros_agree):
            raise AssertionError(f"P={P}: library and brentq disagree (max rel diff {rel:.3g}, "
                                 f"exact path {rel_exact:.3g}, between paths {rel_paths:.3g})")
    return dict(results=results, repeats=repeats, before=before if old is not None else None)


def markdown(res: dict) -> str:
    has_old = res["before"] is not None
    header = ["P", "points", "hdreg (median)", "brentq loop (median)", "ratio", "ratio (CPU time)",
              "exact evaluations / point", "hdreg exact path", "ratio exact path",
              "exact passes / point (exact path)", "one exact pass", "ratio ceiling (exact)",
              "max rel. diff vs brentq", "max rel. diff between paths"]
    if has_old:
        header += [f"hdreg before ({res['before']})", "ratio before", "passes before"]
    rows = []
    for r in res["results"]:
        row = [r["P"], r["points"], fmt_s(r["t_lib"]), fmt_s(r["t_brentq"]), f"{r['ratio']:.1f}x",
               f"{r['ratio_cpu']:.1f}x ({fmt_s(r['cpu_lib'])} / {fmt_s(r['cpu_brentq'])})",
               f"{r['passes']:.3f}", fmt_s(r["t_exact"]), f"{r['ratio_exact']:.1f}x",
               f"{r['passes_exact']:.2f}", fmt_s(r["t_one_pass"]), f"{r['ratio_ceiling']:.0f}x",
               f"{r['max_rel_diff']:.1e}", f"{r['max_rel_diff_paths']:.1e}"]
        if has_old:
            row += [fmt_s(r["t_before"]), f"{r['ratio_before']:.1f}x", f"{r['passes_before']:.1f}"]
        rows.append(row)
    return md_table(header, rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[200, 1000, 5000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None, help="limit BLAS threads (default: all)")
    ap.add_argument("--before", default=BEFORE_DEFAULT,
                    help="git revision of the old solver to time as well ('' to skip)")
    args = ap.parse_args(argv)
    with blas_threads(args.threads):
        for k, v in machine().items():
            print(f"{k:>14}: {v}")
        res = run(args.sizes, args.repeats, args.before or None)
    print()
    print(markdown(res))


if __name__ == "__main__":
    main()
