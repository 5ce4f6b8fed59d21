"""Benchmark: the batched ridge-path simulator against a scikit-learn ``Ridge`` loop.

    python benchmarks/bench_ridge_path.py [--n 1000] [--p 1000] [--lams 50] [--trials 32]
                                          [--repeats 3] [--baseline-repeats 1]

Problem: n = p = 1000, a power-law spectrum ``lambda_i = i^{-1}`` scaled to trace p, 50 penalties
``logspace(-4, 1)``, 32 independent data sets; per trial and penalty, the excess risk
``||b - beta||_Sigma^2``.

* hdreg: ``simulate_ridge_path`` end to end (data generation, one eigendecomposition per trial,
  the whole path from it), median of ``--repeats`` runs.
* baseline: the same data (drawn with the same generator, in the same order, so that the answers can
  be compared), then one ``sklearn.linear_model.Ridge(alpha=n*lam, fit_intercept=False)`` fit per
  trial and penalty. sklearn minimises ``||y - Xw||^2 + alpha ||w||^2``, so ``alpha = n lam`` is
  the library's ``(1/n)||y - Xb||^2 + lam ||b||^2``. Each candidate solver is first timed on a few
  fits; the full loop uses the fastest direct solver (normally ``auto``, which is ``cholesky``
  here), so the baseline is the best that the loop can do. Iterative solvers (``lsqr``, ``sag``, ...)
  stop at ``tol = 1e-4`` and do not compute the same coefficients, so they are not candidates. The full loop is long (minutes), hence ``--baseline-repeats 1`` by
  default; the spread over its trials is reported.

Both must give the same risks to ``rtol = 1e-8``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import blas_threads, fmt_s, load_average, machine, md_table, timed  # noqa: E402

import hdreg  # noqa: E402
from hdreg.sim.ridge import simulate_ridge_path  # noqa: E402

# Direct solvers only: the iterative ones (lsqr, sparse_cg, sag, saga) stop at tol=1e-4 and do not
# compute the same coefficients.
SOLVERS = ("auto", "cholesky", "svd")


def problem(n: int, p: int, n_lams: int, seed: int = 0):
    spec = np.arange(1, p + 1, dtype=float) ** -1.0
    spec *= p / spec.sum()
    beta = np.random.default_rng(seed + 1).standard_normal(p) / np.sqrt(p)
    lams = np.logspace(-4, 1, n_lams)
    return spec, beta, lams


def same_data(spec, beta, n, noise_var, trials, seed):
    """The draws of ``simulate_ridge_path``: per trial, from its own stream, the design then the noise."""
    from hdreg.batch import TrialRNG  # noqa: PLC0415

    gen = TrialRNG(seed, 0, trials, np)
    X = gen.standard_normal((trials, n, spec.size)) * np.sqrt(spec)
    y = X @ beta + np.sqrt(noise_var) * gen.standard_normal((trials, n))
    return X, y


def sklearn_fit(X, y, alpha, solver):
    from sklearn.linear_model import Ridge  # noqa: PLC0415

    return Ridge(alpha=alpha, fit_intercept=False, solver=solver).fit(X, y).coef_


def sklearn_path(spec, beta, n, lams, noise_var, trials, seed, solver):
    """Baseline: same data, one sklearn fit per (trial, penalty). Returns risks and per-trial times."""
    t0 = time.perf_counter()
    X, y = same_data(spec, beta, n, noise_var, trials, seed)
    t_data = time.perf_counter() - t0
    risk = np.empty((trials, lams.size))
    per_trial = []
    for t in range(trials):
        start = time.perf_counter()
        for j, lam in enumerate(lams):
            err = sklearn_fit(X[t], y[t], n * lam, solver) - beta
            risk[t, j] = spec @ (err * err)
        per_trial.append(time.perf_counter() - start)
    return risk, t_data, per_trial


def run(n=1000, p=1000, n_lams=50, trials=32, repeats=3, baseline_repeats=1, noise_var=0.25,
        seed=0, solvers=SOLVERS, log=print) -> dict:
    os.environ["HDREG_MEM_BUDGET_GB"] = "16"  # one chunk, so the baseline can redraw the same data
    os.environ.setdefault("HDREG_PROGRESS", "0")
    spec, beta, lams = problem(n, p, n_lams, seed)
    load0 = load_average()

    def lib():
        return simulate_ridge_path(spec, beta, n, lams, noise_var, trials, seed=seed)

    # hdreg runs before and after the (long) baseline, so that a change of load hits both.
    first = (repeats + 1) // 2
    lib_times = [timed(lib) for _ in range(first)]
    sim = lib()
    log(f"hdreg simulate_ridge_path: {', '.join(fmt_s(t) for t in lib_times)}")

    # Pick the fastest sklearn solver on a few fits of trial 0.
    X0, y0 = same_data(spec, beta, n, noise_var, 1, seed)
    probe_alphas = n * lams[[0, n_lams // 2, -1]]
    per_fit = {}
    for solver in solvers:
        ts = []
        for a in probe_alphas:
            t = time.perf_counter()
            sklearn_fit(X0[0], y0[0], a, solver)
            ts.append(time.perf_counter() - t)
        per_fit[solver] = statistics.median(ts)
        log(f"sklearn Ridge solver={solver!r}: {fmt_s(per_fit[solver])} per fit")
    best = min(per_fit, key=per_fit.get)

    # Where the time goes, for one data set: what hdreg pays once per trial (Gram matrix and its
    # eigendecomposition) against what the loop pays per penalty (a whole fit).
    G0 = X0[0].T @ X0[0]
    t_gram = statistics.median(timed(lambda: X0[0].T @ X0[0]) for _ in range(3))
    t_eigh = statistics.median(timed(lambda: np.linalg.eigh(G0)) for _ in range(3))
    log(f"one trial: Gram {fmt_s(t_gram)}, eigh {fmt_s(t_eigh)}")

    runs = []
    for _ in range(baseline_repeats):
        t = time.perf_counter()
        risk_ref, t_data, per_trial = sklearn_path(spec, beta, n, lams, noise_var, trials, seed, best)
        runs.append(time.perf_counter() - t)
        log(f"sklearn loop ({best}): {fmt_s(runs[-1])} (data {fmt_s(t_data)}, per trial median "
            f"{fmt_s(statistics.median(per_trial))}, range {fmt_s(min(per_trial))}-"
            f"{fmt_s(max(per_trial))})")
    t_ref = statistics.median(runs)
    lib_times += [timed(lib) for _ in range(repeats - first)]
    t_lib = statistics.median(lib_times)
    log(f"hdreg simulate_ridge_path: median {fmt_s(t_lib)} of {', '.join(fmt_s(t) for t in lib_times)}")
    rel = float(np.max(np.abs(sim.risk - risk_ref) / np.abs(risk_ref)))
    log(f"ratio {t_ref / t_lib:.1f}x, max relative risk difference {rel:.1e}")
    if not rel <= 1e-8:
        raise AssertionError(f"hdreg and sklearn risks differ: max relative difference {rel:.3g}")
    return dict(n=n, p=p, lams=n_lams, trials=trials, repeats=repeats,
                baseline_repeats=baseline_repeats, t_lib=t_lib, lib_times=lib_times,
                per_fit=per_fit, solver=best, t_baseline=t_ref, baseline_times=runs,
                baseline_data=t_data, baseline_trial_median=statistics.median(per_trial),
                ratio=t_ref / t_lib, max_rel_diff=rel, t_gram=t_gram, t_eigh=t_eigh,
                load=(load0, load_average()))


def markdown(r: dict) -> str:
    rows = [[f"{r['n']} x {r['p']}", r["lams"], r["trials"], fmt_s(r["t_lib"]),
             f"{fmt_s(r['t_baseline'])} ({r['solver']})", f"{r['ratio']:.1f}x",
             f"{r['max_rel_diff']:.1e}"]]
    table = md_table(["n x p", "penalties", "trials", f"hdreg (median of {r['repeats']})",
                      f"sklearn loop (median of {r['baseline_repeats']})", "ratio",
                      "max rel. risk diff"], rows)
    fits = ", ".join(f"`{k}` {fmt_s(v)}" for k, v in r["per_fit"].items())
    per_trial_lib = r["t_lib"] / r["trials"]
    per_trial_ref = r["t_baseline"] / r["trials"]
    return (table + f"\n\nsklearn `Ridge` time per fit on one data set: {fits}.\n\n"
            f"Where the time goes, per trial: hdreg {fmt_s(per_trial_lib)} in all, of which the "
            f"Gram matrix {fmt_s(r['t_gram'])} and its eigendecomposition {fmt_s(r['t_eigh'])} "
            f"(one `numpy.linalg.eigh`, p = {r['p']}); the sklearn loop {fmt_s(per_trial_ref)} = "
            f"{r['lams']} fits of about {fmt_s(per_trial_ref / r['lams'])}. The ratio is roughly "
            f"(penalties x one fit) / (Gram + eigh), so it grows linearly with the number of "
            f"penalties: about {r['lams'] * 10 / max(r['ratio'], 1e-9):.0f} penalties would give 10x "
            "here.")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--p", type=int, default=1000)
    ap.add_argument("--lams", type=int, default=50)
    ap.add_argument("--trials", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--baseline-repeats", type=int, default=1)
    ap.add_argument("--threads", type=int, default=None, help="limit BLAS threads (default: all)")
    args = ap.parse_args(argv)
    with blas_threads(args.threads):
        for k, v in machine().items():
            print(f"{k:>14}: {v}")
        res = run(args.n, args.p, args.lams, args.trials, args.repeats, args.baseline_repeats)
    print()
    print(markdown(res))


if __name__ == "__main__":
    main()
