"""Helpers shared by the benchmarks: machine description, timing, load check, markdown tables."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_info() -> str:
    try:
        from threadpoolctl import threadpool_info  # noqa: PLC0415

        libs = [f"{i['internal_api']} {i.get('version') or ''} ({i['num_threads']} threads)".strip()
                for i in threadpool_info() if i["user_api"] == "blas"]
        return ", ".join(libs) or "unknown"
    except Exception:  # noqa: BLE001
        return "unknown"


def load_average() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def machine() -> dict:
    import scipy  # noqa: PLC0415

    info = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "blas": blas_info(),
    }
    try:
        import sklearn  # noqa: PLC0415

        info["scikit-learn"] = sklearn.__version__
    except ImportError:
        pass
    import hdreg  # noqa: PLC0415

    info["hdreg"] = hdreg.__version__
    info["hdreg backend"] = hdreg.backend.get_backend().name
    info["git commit"] = git_commit()
    return info


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "lib"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
        return out + (" (lib/ modified)" if dirty else "")
    except Exception:  # noqa: BLE001
        return "unknown"


def blas_threads(n: int | None):
    """Context manager limiting BLAS threads to ``n`` (no-op for None or without threadpoolctl)."""
    import contextlib  # noqa: PLC0415

    if n is None:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits  # noqa: PLC0415
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(limits=n, user_api="blas")


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def median_time(fn, repeats: int, warmup: int = 0) -> tuple[float, list[float]]:
    """Median wall time of ``fn()`` over ``repeats`` runs (after ``warmup`` untimed runs)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times


def md_table(header: list[str], rows: list[list]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def fmt_s(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"
