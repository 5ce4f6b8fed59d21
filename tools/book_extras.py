"""Sphinx extension for the book: notebook downloads without a launch service, launch buttons only
when the book has a repository.

1. A readable, executed ``.ipynb`` download on every notebook page.

sphinx-book-theme offers the executed notebook only when a launch service (Binder, Colab, ...) is
configured. This extension offers it always: for a page that myst-nb executed, the executed notebook
(``<outdir>/../jupyter_execute/<page>.ipynb``) is rendered with ``tools/notebooks.py`` (MyST markup as
plain Markdown, glued values filled in, nbgrader metadata on exercise cells), written to
``_sources/<page>.ipynb``, and the theme's download menu lists it next to the ``.md`` source.

2. Launch buttons (Binder, Colab) are configured in ``_config.yml`` but switched on only when
``repository.url`` is set there; with no repository (the default, and any offline build) they are
removed at ``config-inited``, so the pages carry no link to a launch service. Colab cannot open a
MyST ``.md`` file, so its button points at the rendered notebook published with the site on the
``gh-pages`` branch (``_sources/<page>.ipynb``, see ``.github/workflows/book.yml``).

3. Claims name their chapter: before a page is parsed (and so executed), its file name is put in
``HDREG_CLAIMS_SOURCE``, which the notebook's kernel inherits, so the claims report of a build
(``HDREG_CLAIMS_REPORT``) says which chapter each claim comes from, as the nbval run's does.
"""

from __future__ import annotations

import os
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


def _executed(app, pagename):
    executed = Path(app.outdir).parent / "jupyter_execute" / (pagename + ".ipynb")
    source = Path(app.env.doc2path(pagename))
    if executed.exists() and source.suffix == ".md":
        return executed, source
    return None


def offer_ipynb_download(app, pagename, templatename, context, doctree):
    """Before the theme builds the download menu (priority 501): list the notebook in it."""
    if doctree is not None and app.builder.format == "html" and _executed(app, pagename):
        context["ipynb_source"] = pagename + ".ipynb"


def write_ipynb_download(app, pagename, templatename, context, doctree):
    """After the theme (which, with launch buttons on, copies the raw executed notebook to the same
    place at priority 501): write the rendered notebook."""
    import nbformat
    import jupytext
    import notebooks as nbr

    found = _executed(app, pagename) if doctree is not None and app.builder.format == "html" else None
    if not found:
        return
    executed, source = found
    labels, cites = _context(app)
    nb = jupytext.read(source, fmt="md:myst")
    ex = nbformat.read(executed, as_version=4)
    out = nbr.render_notebook(nb, nbr.Context(labels=labels, cites=cites, glue={}), executed=ex,
                              executed_path=executed)
    target = Path(app.outdir) / "_sources" / (pagename + ".ipynb")
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(out, target)


LAUNCH_KEYS = ("binderhub_url", "jupyterhub_url", "colab_url", "deepnote_url", "jupyterlite_url")


def launch_only_with_repository(app, config):
    opts = config.html_theme_options
    if not opts.get("repository_url", "").strip():
        launch = dict(opts.get("launch_buttons", {}) or {})
        for key in LAUNCH_KEYS:
            launch[key] = ""
        launch["thebe"] = False
        opts["launch_buttons"] = launch


def colab_opens_the_notebook(app, pagename, templatename, context, doctree):
    opts = app.config.html_theme_options
    repo = opts.get("repository_url", "").rstrip("/")
    colab = (opts.get("launch_buttons", {}) or {}).get("colab_url", "").rstrip("/")
    if not (repo and colab and repo.startswith("https://github.com/")):
        return
    org_repo = repo[len("https://github.com/"):]
    url = f"{colab}/github/{org_repo}/blob/gh-pages/_sources/{pagename}.ipynb"

    def visit(buttons):
        for b in buttons:
            if b.get("type") == "group":
                visit(b.get("buttons", []))
            elif b.get("text") == "Colab":
                b["url"] = url

    visit(context.get("header_buttons", []))


def name_claims_source(app, docname, source):
    """Before myst-nb parses (and executes) a page: the kernel it starts inherits this variable."""
    os.environ["HDREG_CLAIMS_SOURCE"] = Path(app.env.doc2path(docname)).name


def setup(app):
    app.connect("source-read", name_claims_source)
    app.connect("config-inited", launch_only_with_repository, priority=900)
    app.connect("html-page-context", colab_opens_the_notebook, priority=600)
    # Around sphinx-book-theme's header buttons (priority 501): see the two functions.
    app.connect("html-page-context", offer_ipynb_download, priority=499)
    app.connect("html-page-context", write_ipynb_download, priority=650)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
