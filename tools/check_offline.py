#!/usr/bin/env python3
"""Check that the built book works offline.

    python tools/check_offline.py                 # static scan of _build/html
    python tools/check_offline.py --browser       # ... and typeset math in headless Chromium
    python tools/check_offline.py --browser --page chapters/ridge.html

1. Static scan (always): every ``*.html`` under the build folder is parsed and every
   *asset* reference to another host is reported: ``src``/``srcset``/``data`` of
   script, img, iframe, audio/video/source/track, embed, object, input; ``<link href>``
   unless the link is purely navigational (rel=canonical/alternate/next/prev/...);
   ``url(...)``/``@import`` in inline styles, ``<style>`` blocks and every ``*.css``.
   Remote means ``http://``, ``https://`` or protocol-relative ``//host``.  Ordinary
   ``<a href>`` hyperlinks (e.g. DOI links in the bibliography) are allowed.
2. ``--browser``: load pages from ``file://`` in headless Chromium with all network
   traffic sent to a dead proxy, let MathJax run, and count the ``<mjx-container>``
   elements it produced.  A page fails if it has math markup but no container, or if
   MathJax reports a TeX error (``<mjx-merror>``).  By default every page containing
   Sphinx math markup is checked.

Exit status: 0 if every check passes, 1 otherwise, 2 for a usage/environment problem.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REMOTE = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)
CSS_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])\s*((?:https?:)?//[^'")\s]+)""", re.I)
SRC_TAGS = {"script", "img", "iframe", "audio", "video", "source", "track", "embed", "input"}
NAV_RELS = {"canonical", "alternate", "next", "prev", "previous", "index", "search",
            "author", "license", "help", "bookmark", "me", "first", "last", "up", "top"}
MATH_MARKUP = re.compile(r'class="[^"]*\bmath\b')


class AssetScanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.remote: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        found: list[str] = []
        if tag in SRC_TAGS:
            found.append(a.get("src", ""))
            found += [c.strip().split(" ")[0] for c in a.get("srcset", "").split(",")]
        if tag == "video":
            found.append(a.get("poster", ""))
        if tag == "object":
            found.append(a.get("data", ""))
        if tag == "link":
            rels = set(a.get("rel", "").lower().split())
            if not rels or not rels <= NAV_RELS:
                found.append(a.get("href", ""))
        for url in found:
            if url and REMOTE.match(url):
                self.remote.append(f"<{tag}> {url}")
        for m in CSS_URL.finditer(a.get("style", "")):
            self.remote.append(f"<{tag} style> {m.group(1)}")
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.remote += [f"<style> {m.group(1)}" for m in CSS_URL.finditer(data)]


def static_scan(html_dir: Path) -> int:
    problems = 0
    pages = sorted(html_dir.rglob("*.html"))
    for page in pages:
        scanner = AssetScanner()
        scanner.feed(page.read_text(encoding="utf-8", errors="replace"))
        for item in scanner.remote:
            print(f"REMOTE ASSET {page.relative_to(html_dir)}: {item}")
            problems += 1
    # _mathjax is MathJax's own distribution (JS only, no CSS); scan the rest.
    for css in sorted(html_dir.rglob("*.css")):
        for m in CSS_URL.finditer(css.read_text(encoding="utf-8", errors="replace")):
            print(f"REMOTE ASSET {css.relative_to(html_dir)}: {m.group(1)}")
            problems += 1
    print(f"static scan: {len(pages)} HTML pages, {problems} remote asset reference(s)")
    return problems


def find_chromium(explicit: str | None) -> str | None:
    for cand in ([explicit] if explicit else []) + ["/usr/bin/chromium", "chromium",
                                                    "chromium-browser", "google-chrome"]:
        path = shutil.which(cand) if cand else None
        if path:
            return path
    return None


def browser_check(html_dir: Path, pages: list[Path], chromium: str, budget_ms: int) -> int:
    failures = 0
    for page in pages:
        cmd = [
            chromium, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--allow-file-access-from-files",
            # Any attempt to reach the network goes to a closed port and fails.
            "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
            f"--virtual-time-budget={budget_ms}", "--dump-dom", page.resolve().as_uri(),
        ]
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            print(f"FAIL {page.relative_to(html_dir)}: chromium timed out")
            failures += 1
            continue
        dom = out.stdout
        n = len(re.findall(r"<mjx-container\b", dom))
        errors = len(re.findall(r"<mjx-merror\b", dom))
        has_math = bool(MATH_MARKUP.search(page.read_text(encoding="utf-8", errors="replace")))
        ok = out.returncode == 0 and errors == 0 and (n > 0 or not has_math)
        print(f"{'ok  ' if ok else 'FAIL'} {page.relative_to(html_dir)}: "
              f"mjx-container={n} mjx-merror={errors} (chromium rc={out.returncode})")
        if out.returncode != 0:
            print(out.stderr[-2000:], file=sys.stderr)
        failures += not ok
    return failures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--html-dir", type=Path, default=ROOT / "_build" / "html")
    ap.add_argument("--browser", action="store_true", help="also typeset math in headless Chromium")
    ap.add_argument("--page", action="append", default=[],
                    help="page (relative to the HTML dir) to load in the browser; repeatable. "
                         "Default: every page with math markup")
    ap.add_argument("--chromium", help="Chromium binary (default: /usr/bin/chromium or on PATH)")
    ap.add_argument("--budget-ms", type=int, default=10000, help="Chromium --virtual-time-budget")
    args = ap.parse_args(argv)

    html_dir = args.html_dir.resolve()
    if not (html_dir / "index.html").is_file():
        print(f"no built book in {html_dir}; run tools/build_book.sh first", file=sys.stderr)
        return 2

    failures = static_scan(html_dir)

    if args.browser:
        chromium = find_chromium(args.chromium)
        if chromium is None:
            print("Chromium not found. Install it with:\n"
                  "    apt-get update && apt-get install -y chromium\n"
                  "or pass --chromium /path/to/chromium.", file=sys.stderr)
            return 2
        if args.page:
            pages = [html_dir / p for p in args.page]
            missing = [str(p) for p in pages if not p.is_file()]
            if missing:
                print(f"pages not found: {missing}", file=sys.stderr)
                return 2
        else:
            pages = [p for p in sorted(html_dir.rglob("*.html"))
                     if "_mathjax" not in p.parts
                     and MATH_MARKUP.search(p.read_text(encoding="utf-8", errors="replace"))]
            if not pages:
                print("FAIL: no page with math markup found", file=sys.stderr)
                return 1
        failures += browser_check(html_dir, pages, chromium, args.budget_ms)

    print("offline check:", "PASSED" if failures == 0 else f"FAILED ({failures} problem(s))")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
