#!/usr/bin/env python3
"""The claims report: every claim a chapter made, its resolution and the 5% budget.

``python -m pytest`` writes ``_build/claims/claims.jsonl`` (one JSON line per claim, see
``hdreg.claims``) and this script's table to ``_build/claims/claims.md``. Run by hand::

    python tools/claims_report.py [_build/claims/claims.jsonl]

It prints the table and exits 1 if a Monte-Carlo claim is over budget without an exemption or a
claim failed (the chapter run stops at such a claim anyway; this is the second line of defence).
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[1] / "_build" / "claims" / "claims.jsonl"


def read(path) -> list[dict]:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def over_budget(r: dict) -> bool:
    res = r.get("resolution")
    return res is not None and not r.get("exempt") and not res <= r.get("budget", 0.05)


def summary(records: list[dict]) -> str:
    mc = [r for r in records if r.get("resolution") is not None]
    worst = max(mc, key=lambda r: r["resolution"] if not r.get("exempt") else -1.0, default=None)
    ex = [r for r in mc if r.get("exempt")]
    bad = [r for r in records if over_budget(r) or not r.get("passed", True)]
    text = (f"{len(records)} claims in {len({r.get('source') for r in records})} chapters; "
            f"{len(mc)} Monte-Carlo/tolerance claims, {len(ex)} exempt from the budget")
    if worst is not None and not worst.get("exempt"):
        text += f"; worst resolution {worst['resolution']:.1%} ({worst['source']}: {worst['label']})"
    if bad:
        text += f"; {len(bad)} FAILED or over budget"
    return text


def table(records: list[dict]) -> str:
    by = defaultdict(list)
    for r in records:
        by[r.get("source") or "(unknown)"].append(r)
    out = ["# Claims report", "", summary(records), ""]
    for src in sorted(by):
        out += [f"## {src}", "", "| claim | kind | resolution | exemption | outcome |", "|---|---|---|---|---|"]
        for r in by[src]:
            res = "exact" if r.get("resolution") is None else f"{r['resolution']:.2%}"
            outcome = "holds" if r.get("passed") else "FAILS"
            if over_budget(r):
                outcome += ", over budget"
            label = str(r["label"]).replace("|", "/")
            exempt = str(r.get("exempt") or "").replace("|", "/")
            out.append(f"| {label} | {r['kind']} | {res} | {exempt} | {outcome} |")
        out.append("")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else DEFAULT
    records = read(path)
    print(table(records))
    return 1 if any(over_budget(r) or not r.get("passed", True) for r in records) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
