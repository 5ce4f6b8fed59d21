#!/usr/bin/env python3
"""Screenshots of the built book in headless Chromium, and the code blocks that scroll sideways.

    python tools/screenshots.py                          # every page of _build/html/chapters
    python tools/screenshots.py --html _build/student/html --pages chapters/ridge.html
    python tools/screenshots.py --all                    # every page, not only chapters

For each page: ``_build/screenshots/<page>.png`` (the whole page at the theme's default layout: a
1440 px wide window, unless ``--width``, where sphinx-book-theme shows both sidebars and its text
column has reached its full width, about 89 characters of code; at 1280 px the column holds only
about 77) and tiles ``<page>-NN.png`` of ``--tile`` pixels (default
1600) that are easy to look at one by one. The pages are loaded from ``file://`` with the network
cut off (a dead proxy), after MathJax has typeset. The script also lists, per page, every code
block whose text is wider than its box (a horizontal scrollbar: a line too long for the page) and
counts the folded (``hide-input``) cells. Exit status 1 if a code block scrolls, 0 otherwise, 2 for
an environment problem. Needs ``chromium`` (``apt-get install chromium``) and ``websocket-client``
(a Jupyter dependency).
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """(() => {
  const out = [];
  for (const pre of document.querySelectorAll('div.highlight pre, div.cell_output pre')) {
    if (pre.scrollWidth > pre.clientWidth + 1) {
      const longest = pre.innerText.split('\\n').reduce((a, b) => b.length > a.length ? b : a, '');
      out.push({chars: longest.length, over: pre.scrollWidth - pre.clientWidth,
                output: !!pre.closest('div.cell_output'), line: longest.slice(0, 100)});
    }
  }
  const folded = document.querySelectorAll('details.hide-input, div.tag_hide-input').length;
  const mathjax = !!(window.MathJax && window.MathJax.startup && window.MathJax.startup.promise);
  return JSON.stringify({overflow: out, folded: folded, mathjax: mathjax,
                         height: document.documentElement.scrollHeight});
})()"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """A headless Chromium driven through the DevTools protocol."""

    def __init__(self, width: int, height: int, loopback: bool = False):
        """``loopback``: allow connections to 127.0.0.1 (a local server); all else stays cut off."""
        exe = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                    if shutil.which(n)), None)
        if exe is None:
            raise SystemExit(2)
        import websocket  # websocket-client

        self.port = free_port()
        self.profile = tempfile.mkdtemp(prefix="shots-")
        self.proc = subprocess.Popen(
            [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--remote-debugging-port={self.port}", f"--user-data-dir={self.profile}",
             "--proxy-server=127.0.0.1:9",
             "--proxy-bypass-list=" + ("127.0.0.1;localhost" if loopback else "<-loopback>"),
             "--allow-file-access-from-files", f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list") as r:
                    targets = json.load(r)
                page = next(t for t in targets if t["type"] == "page")
                break
            except Exception:
                time.sleep(0.2)
        else:
            self.close()
            raise SystemExit("chromium did not start")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=120,
                                              suppress_origin=True)
        self.n = 0
        self.width, self.height = width, height
        self.call("Page.enable")
        self.call("Runtime.enable")

    def call(self, method: str, **params):
        self.n += 1
        self.ws.send(json.dumps({"id": self.n, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.n:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def wait_event(self, name: str, timeout: float = 60):
        end = time.time() + timeout
        while time.time() < end:
            msg = json.loads(self.ws.recv())
            if msg.get("method") == name:
                return msg

    def evaluate(self, js: str, await_promise: bool = False):
        res = self.call("Runtime.evaluate", expression=js, returnByValue=True,
                        awaitPromise=await_promise)
        return res.get("result", {}).get("value")

    def shoot(self, url: str) -> tuple[bytes, dict]:
        self.call("Emulation.setDeviceMetricsOverride", width=self.width, height=self.height,
                  deviceScaleFactor=1, mobile=False)
        self.call("Page.navigate", url=url)
        self.wait_event("Page.loadEventFired")
        # Let MathJax typeset (its startup promise resolves when the first pass is done).
        self.evaluate("window.MathJax && MathJax.startup && MathJax.startup.promise"
                      " ? MathJax.startup.promise.then(() => true) : true", await_promise=True)
        time.sleep(0.3)
        info = json.loads(self.evaluate(PROBE))
        height = int(info["height"])
        self.call("Emulation.setDeviceMetricsOverride", width=self.width, height=height,
                  deviceScaleFactor=1, mobile=False)
        time.sleep(0.2)
        shot = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                         clip={"x": 0, "y": 0, "width": self.width, "height": height, "scale": 1})
        return base64.b64decode(shot["data"]), info

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


def tiles(png: Path, tile: int) -> list[Path]:
    from PIL import Image

    img = Image.open(png)
    out = []
    for k, top in enumerate(range(0, img.height, tile)):
        part = png.with_name(f"{png.stem}-{k + 1:02d}.png")
        img.crop((0, top, img.width, min(img.height, top + tile))).save(part)
        out.append(part)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--html", type=Path, default=ROOT / "_build" / "html")
    ap.add_argument("--out", type=Path, default=ROOT / "_build" / "screenshots")
    ap.add_argument("--pages", nargs="*", help="pages relative to --html (default: chapters/*)")
    ap.add_argument("--all", action="store_true", help="every page of the book")
    ap.add_argument("--width", type=int, default=1440)
    ap.add_argument("--height", type=int, default=900, help="viewport height while loading")
    ap.add_argument("--tile", type=int, default=1600, help="tile height in pixels (0: none)")
    args = ap.parse_args(argv)
    html = args.html.resolve()
    if args.pages:
        pages = [html / p for p in args.pages]
    elif args.all:
        pages = sorted(p for p in html.rglob("*.html") if "_static" not in p.parts
                       and p.name not in ("search.html", "genindex.html"))
    else:
        pages = sorted((html / "chapters").glob("*.html"))
    if not pages:
        print(f"no pages under {html}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    browser = Browser(args.width, args.height)
    scrolling = 0
    try:
        for page in pages:
            data, info = browser.shoot(page.as_uri())
            name = str(page.relative_to(html).with_suffix("")).replace("/", "__")
            png = args.out / f"{name}.png"
            for old in args.out.glob(f"{name}-*.png"):
                old.unlink()
            png.write_bytes(data)
            parts = tiles(png, args.tile) if args.tile else []
            print(f"{page.relative_to(html)}: {info['height']} px, {len(parts)} tiles, "
                  f"{info['folded']} folded cells, {len(info['overflow'])} code blocks scroll")
            for o in info["overflow"]:
                kind = "output" if o["output"] else "code"
                print(f"    {kind} line of {o['chars']} chars, {o['over']} px too wide: "
                      f"{o['line']!r}")
            scrolling += sum(not o["output"] for o in info["overflow"])
    finally:
        browser.close()
    print(f"screenshots in {args.out}")
    return 1 if scrolling else 0


if __name__ == "__main__":
    sys.exit(main())
