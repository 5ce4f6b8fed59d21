"""Serve MathJax 3 from the book's own build output (no CDN, no network).

Loaded by Jupyter Book through ``_config.yml``::

    sphinx:
      local_extensions:
        mathjax_local: tools        # JB appends <book>/tools to sys.path

MathJax comes from the ``django-static-mathjax`` wheel (pinned in
requirements.txt), whose importable package ``mathjax`` ships the MathJax 3
distribution under ``mathjax/static/mathjax/es5``.

What this extension does:

1. On ``config-inited`` it points ``mathjax_path`` at the local copy.
   ``sphinx.ext.mathjax`` hands ``mathjax_path`` to ``builder.add_js_file``,
   which prefixes every non-URL path with ``_static/`` and then makes it
   relative to each page (``pathto(..., resource=True)``).  We therefore use
   ``../_mathjax/es5/tex-mml-chtml.js``: ``index.html`` gets
   ``src="_static/../_mathjax/es5/tex-mml-chtml.js"`` and
   ``chapters/ridge.html`` gets
   ``src="../_static/../_mathjax/es5/tex-mml-chtml.js"``; both resolve to
   ``<outdir>/_mathjax/es5/tex-mml-chtml.js``.
2. On ``build-finished`` it copies the ``es5`` tree to ``<outdir>/_mathjax/es5``
   (MathJax lazy-loads fonts, input/output jax, a11y/ui/sre components from
   the directory its main script came from, so the whole tree goes along).

MathJax is deliberately *not* put under ``_static``: Jupyter Book 1 adds a
``<script>`` tag for every ``*.js`` it finds in a source ``_static`` folder.

The MathJax *configuration* (``mathjax3_config``, set by myst-parser for
``dollarmath``/``amsmath``) is untouched: Sphinx still emits
``window.MathJax = {...}`` before the (deferred) MathJax script.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: Output sub-folder (relative to the HTML output root) holding MathJax.
OUT_SUBDIR = "_mathjax"
#: Entry-point script (TeX + MathML input, CommonHTML output, menu, a11y).
ENTRY = "tex-mml-chtml.js"
#: Files in es5/ that are never needed in a browser book.  ``latest.js`` would
#: re-load MathJax from a CDN; ``node-main.js`` is the Node.js entry point.
SKIP = {"latest.js", "node-main.js"}


def mathjax_es5_dir() -> Path:
    """Return the ``es5`` folder of the MathJax copy shipped by django-static-mathjax."""
    try:
        import mathjax  # provided by the django-static-mathjax wheel
    except ImportError as exc:  # pragma: no cover - environment problem
        raise ExtensionError(
            "mathjax_local: the 'mathjax' package is missing; "
            "pip install django-static-mathjax==3.2.2.1"
        ) from exc
    es5 = Path(os.path.dirname(mathjax.__file__), "static", "mathjax", "es5")
    if not (es5 / ENTRY).is_file():
        raise ExtensionError(f"mathjax_local: {es5 / ENTRY} not found")
    return es5


def _set_path(app: Sphinx, config) -> None:
    # "_static/" + "../_mathjax/..." -> "<root>/_mathjax/..." (see module docstring)
    config.mathjax_path = f"../{OUT_SUBDIR}/es5/{ENTRY}"


def _copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    src = mathjax_es5_dir()
    dest = Path(app.outdir, OUT_SUBDIR, "es5")
    shutil.copytree(
        src,
        dest,
        dirs_exist_ok=True,
        ignore=lambda d, names: [n for n in names if n in SKIP],
    )
    logger.info("mathjax_local: copied MathJax to %s", dest)


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx.ext.mathjax")
    # priority > 500 so this runs after any other config-inited handler
    app.connect("config-inited", _set_path, priority=900)
    app.connect("build-finished", _copy_mathjax)
    mathjax_es5_dir()  # fail early if MathJax is not installed
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
