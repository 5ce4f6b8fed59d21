#!/usr/bin/env python3
"""Open a chapter as a notebook in a real JupyterLab, run it top to bottom, take screenshots.

    python tools/lab_check.py chapters/ridge.md            # -> _build/screenshots/lab-ridge-*.png

Starts ``jupyter lab`` headless on a free local port (no token, in a temporary settings folder that
makes "Jupytext Notebook" the default viewer of ``.md`` files), opens the chapter in headless
Chromium, runs *Run All Cells*, waits until the kernel is idle and every code cell has run, reports
the cells that raised, and saves screenshots: the top of the notebook, and each rendered theorem,
exercise and figure found, scrolled into view. Exit status 0 if every cell ran without an error
(cells tagged ``raises-exception`` excepted), 1 otherwise. Needs ``requirements-lab.txt``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from screenshots import Browser, free_port  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

STATE = """(() => {
  const app = window.jupyterapp;
  if (!app) return JSON.stringify({ready: false});
  // Headless, nothing has the focus, so currentWidget is empty: find the notebook panel among the
  // main area's widgets and activate it (commands such as run-all act on the current widget).
  const w = Array.from(app.shell.widgets('main')).find(x => x.content && x.content.model &&
                                                         x.context && x.context.path === PATH);
  if (!w) return JSON.stringify({ready: false});
  if (app.shell.currentWidget !== w) app.shell.activateById(w.id);
  const nb = w.content;
  const kernel = w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  const cells = [];
  for (let i = 0; i < nb.model.cells.length; i++) {
    const c = nb.model.cells.get(i);
    if (c.type !== 'code') continue;
    const outs = c.outputs ? c.outputs.toJSON() : [];
    const tags = (c.getMetadata && c.getMetadata('tags')) || [];
    cells.push({index: i, count: c.executionCount, tags: tags,
                errors: outs.filter(o => o.output_type === 'error').map(o => o.ename + ': ' +
                        String(o.evalue).slice(0, 120))});
  }
  return JSON.stringify({ready: true, status: kernel ? kernel.status : 'none',
                         factory: w.context ? w.context.factoryName || '' : '',
                         title: w.title.label, cells: cells,
                         markdown: nb.model.cells.length - cells.length});
})()"""


def wait_http(url: str, timeout: float = 120) -> None:
    end = time.time() + timeout
    while time.time() < end:
        try:
            urllib.request.urlopen(url, timeout=5)
            return
        except Exception:
            time.sleep(1)
    raise SystemExit(f"JupyterLab did not answer at {url}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("chapter", type=Path)
    ap.add_argument("--out", type=Path, default=ROOT / "_build" / "screenshots")
    ap.add_argument("--root", type=Path, default=ROOT, help="folder JupyterLab serves")
    ap.add_argument("--timeout", type=int, default=900, help="seconds for Run All")
    ap.add_argument("--width", type=int, default=1400)
    ap.add_argument("--height", type=int, default=1000)
    args = ap.parse_args(argv)
    chapter = args.chapter.resolve()
    root = args.root.resolve()
    rel = chapter.relative_to(root)
    args.out.mkdir(parents=True, exist_ok=True)

    settings = Path(tempfile.mkdtemp(prefix="lab-settings-"))
    plugin = settings / "@jupyterlab" / "docmanager-extension"
    plugin.mkdir(parents=True)
    (plugin / "plugin.jupyterlab-settings").write_text(json.dumps(
        {"defaultViewers": {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"},
         "autosave": False}))  # never write the chapter back
    news = settings / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text(json.dumps(
        {"fetchNews": "false", "checkForUpdates": False}))
    port = free_port()
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(settings), HDREG_PROGRESS="0")
    env.pop("MPLBACKEND", None)
    log = open(args.out / "lab-server.log", "w")
    lab = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
         "--ServerApp.token=", "--ServerApp.password=", "--ServerApp.ip=127.0.0.1",
         "--LabApp.expose_app_in_browser=True", f"--ServerApp.root_dir={root}",
         f"--LabApp.workspaces_dir={settings / 'workspaces'}",
         "--allow-root"],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    browser = None
    failed = 1
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/api/status")
        browser = Browser(args.width, args.height, loopback=True)
        browser.call("Emulation.setDeviceMetricsOverride", width=args.width, height=args.height,
                     deviceScaleFactor=1, mobile=False)
        browser.call("Emulation.setFocusEmulationEnabled", enabled=True)
        # ?reset: a fresh workspace (never the tabs of an earlier session)
        browser.call("Page.navigate", url=f"{base}/lab/tree/{rel}?reset")
        probe = STATE.replace("PATH", json.dumps(str(rel)))
        state = {}
        for _ in range(240):
            state = json.loads(browser.evaluate(probe) or '{"ready": false}')
            if state.get("ready") and state.get("status") == "idle":
                break
            time.sleep(1)
        else:
            (args.out / f"lab-{chapter.stem}-failed.png").write_bytes(__import__("base64").b64decode(
                browser.call("Page.captureScreenshot", format="png")["data"]))
            print(browser.evaluate("JSON.stringify({app: !!window.jupyterapp, title: document.title,"
                                   " url: location.href})"))
            raise SystemExit(f"the notebook did not open: {state}")
        print(f"opened {rel} as '{state['title']}' ({state['factory'] or 'notebook'}): "
              f"{len(state['cells'])} code cells, {state['markdown']} Markdown cells")
        stem = chapter.stem
        shot = lambda name: (args.out / f"lab-{stem}-{name}.png").write_bytes(  # noqa: E731
            __import__("base64").b64decode(browser.call("Page.captureScreenshot",
                                                        format="png")["data"]))
        shot("opened")
        browser.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        start = time.time()
        while time.time() - start < args.timeout:
            time.sleep(3)
            state = json.loads(browser.evaluate(probe))
            done = all(c["count"] for c in state["cells"])
            if state["status"] == "idle" and (done or any(
                    c["errors"] and "raises-exception" not in c["tags"] for c in state["cells"])):
                break
        ran = sum(1 for c in state["cells"] if c["count"])
        print(f"run all: {ran}/{len(state['cells'])} code cells ran in {time.time() - start:.0f} s,"
              f" kernel {state['status']}")
        bad = [c for c in state["cells"] if c["errors"] and "raises-exception" not in c["tags"]]
        allowed = [c for c in state["cells"] if c["errors"] and "raises-exception" in c["tags"]]
        for c in bad:
            print(f"  cell {c['index']} raised: {c['errors'][0]}")
        if allowed:
            print(f"  {len(allowed)} cells tagged raises-exception raised (expected in a student "
                  f"notebook): {allowed[0]['errors'][0]}")
        failed = int(bool(bad) or ran < len(state["cells"]))
        # Screenshots: the top, then the first theorem, figure and exercise scrolled into view.
        for name, js in (
                ("top", "document.querySelector('.jp-Notebook').scrollTop = 0"),
                ("theorem", "(() => {const e=[...document.querySelectorAll('.jp-MarkdownCell')].find(x => /^\\s*(Theorem|Proposition)/m.test(x.innerText)); if(e) e.scrollIntoView(); return !!e})()"),
                ("figure", "(() => {const e=document.querySelector('.jp-OutputArea-output img'); if(e) e.scrollIntoView(); return !!e})()"),
                ("exercise", "(() => {const e=[...document.querySelectorAll('.jp-MarkdownCell')].find(x => /Exercise/.test(x.innerText)); if(e) e.scrollIntoView(); return !!e})()")):
            found = browser.evaluate(js)
            time.sleep(1.5)
            if found is not False:
                shot(name)
        print(f"screenshots: {args.out}/lab-{stem}-*.png")
    finally:
        if browser:
            browser.close()
        lab.terminate()
        try:
            lab.wait(20)
        except subprocess.TimeoutExpired:
            lab.kill()
        log.close()
    return failed


if __name__ == "__main__":
    sys.exit(main())
