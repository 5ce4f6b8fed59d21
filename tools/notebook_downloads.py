"""Sphinx extension: a readable, executed ``.ipynb`` download on every notebook page.

sphinx-book-theme offers the executed notebook only when a launch service (Binder, Colab, ...) is
configured. This extension offers it always: for a page that myst-nb executed, the executed notebook
(``<outdir>/../jupyter_execute/<page>.ipynb``) is rendered with ``tools/notebooks.py`` (MyST markup as
plain Markdown, glued values filled in, nbgrader metadata on exercise cells), written to
``_sources/<page>.ipynb``, and the theme's download menu lists it next to the ``.md`` source.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _context(app):
    import coursework as cw
    import notebooks as nbr

    if not hasattr(app, "_hdreg_nb_ctx"):
        root = Path(app.srcdir)
        labels = nbr.collect_labels(cw.book_sources(root))
        bibs = [root / b for b in app.config.bibtex_bibfiles]
        app._hdreg_nb_ctx = (labels, nbr.load_citations(bibs))
    return app._hdreg_nb_ctx


def add_ipynb_download(app, pagename, templatename, context, doctree):
    import nbformat
    import jupytext
    import notebooks as nbr

    if doctree is None or app.builder.format != "html":
        return
    executed = Path(app.outdir).parent / "jupyter_execute" / (pagename + ".ipynb")
    source = Path(app.env.doc2path(pagename))
    if not executed.exists() or source.suffix != ".md":
        return
    labels, cites = _context(app)
    nb = jupytext.read(source, fmt="md:myst")
    ex = nbformat.read(executed, as_version=4)
    out = nbr.render_notebook(nb, nbr.Context(labels=labels, cites=cites, glue={}), executed=ex)
    target = Path(app.outdir) / "_sources" / (pagename + ".ipynb")
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(out, target)
    context["ipynb_source"] = pagename + ".ipynb"


def setup(app):
    # Before sphinx-book-theme's add_header_buttons (priority 501) builds the download menu.
    app.connect("html-page-context", add_ipynb_download, priority=499)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
