"""Chapters as plain Jupyter notebooks: MyST markup rendered as readable Markdown.

JupyterLab and classic Notebook do not know MyST directives (theorems, exercises, solutions,
figures) nor roles (``{eq}``, ``{cite:t}``, ``{glue:text}``, ...). :func:`render_notebook` turns a
notebook read from a chapter (by jupytext or by myst-nb) into one that reads well anywhere:

* each ``{exercise}`` (and each ``{solution}``) gets a Markdown cell of its own, so that an exercise is
  followed by its scaffold and check cells; theorems, proofs and admonitions become bold-titled
  paragraphs or block quotes; labelled equations get ``\\tag{k}``;
* references become text ("Theorem 1.2", "Figure 1.3", "eq. (1.4)", the title of a section), citations
  become "Author et al. (year)", glued values are filled in from the executed outputs when there are
  any;
* figure captions of code cells follow the cell as "*Figure k: caption*";
* scaffold and check cells get nbgrader metadata (``grade_id`` from the exercise's label, points
  from the cell's ``points`` option, default 1), so that ``tools/grade.sh`` can grade a submission.

Used by ``tools/make_notebooks.py`` and by the book's download buttons (``tools/notebook_downloads.py``).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path

import coursework as cw

PRF_NAMES = {
    "theorem": "Theorem", "lemma": "Lemma", "proposition": "Proposition", "corollary": "Corollary",
    "definition": "Definition", "remark": "Remark", "example": "Example", "conjecture": "Conjecture",
    "assumption": "Assumption", "axiom": "Axiom", "criterion": "Criterion", "observation": "Observation",
    "property": "Property", "algorithm": "Algorithm", "notation": "Notation",
}
ADMONITIONS = {"note", "tip", "hint", "important", "warning", "caution", "attention", "danger",
               "error", "seealso", "admonition", "dropdown", "margin", "sidebar", "topic", "card"}
DROP = {"index", "bibliography", "toctree", "tableofcontents", "raw", "only", "glue:figure",
        "glue:any", "glue:math"}
ROLE = re.compile(r"\{(?P<role>[a-zA-Z:_-]+)\}`(?P<body>[^`]*)`")
EQ_LABEL = re.compile(r"^(\s*)\$\$\s*\((?P<label>[^)\s]+)\)\s*$")
TARGET = re.compile(r"^\((?P<label>[^)\s]+)\)=\s*$")
HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


@dataclass
class Labels:
    """What a reference to a label should read as, for every page of the book."""

    text: dict = field(default_factory=dict)

    def get(self, label: str) -> str:
        return self.text.get(label, label)


def chapter_number(path: Path) -> str | None:
    m = re.match(r"^(\d+)_", path.stem)
    return str(int(m.group(1))) if m else None


def collect_labels(paths: list[Path], labels: Labels | None = None) -> Labels:
    """Scan MyST pages for labels: sections, chapters, equations, figures, theorems, exercises."""
    labels = labels or Labels()
    for path in paths:
        text = path.read_text(encoding="utf-8")
        lines = text.split("\n")
        prefix = chapter_number(path)
        pre = f"{prefix}." if prefix else ""
        counters: dict[str, int] = {}

        def nxt(kind: str) -> str:
            counters[kind] = counters.get(kind, 0) + 1
            return f"{pre}{counters[kind]}"

        pending: str | None = None
        for i, line in enumerate(lines):
            m = TARGET.match(line)
            if m:
                pending = m.group("label")
                continue
            h = HEADING.match(line)
            if h and pending:
                title = h.group(2).strip()
                if len(h.group(1)) == 1 and prefix:
                    title = f"Chapter {prefix}, {title}"
                labels.text[pending] = title
            if line.strip():
                pending = None if not h else None
            e = EQ_LABEL.match(line)
            if e:
                labels.text[e.group("label")] = f"({nxt('eq')})"
        for blk in cw.walk(cw.parse_blocks(lines)):
            name = blk.name or ""
            label = blk.options.get("label") if isinstance(blk.options, dict) else None
            if name.startswith("prf:") and label:
                kind = PRF_NAMES.get(name[4:], name[4:].title())
                labels.text[str(label)] = f"{kind} {nxt(kind)}"
            elif name == "exercise" and label:
                labels.text[str(label)] = f"Exercise {nxt('exercise')}"
            elif name == "code-cell":
                fig = (blk.options.get("mystnb") or {}).get("figure") if isinstance(
                    blk.options.get("mystnb"), dict) else None
                if fig and fig.get("name"):
                    labels.text[fig["name"]] = f"Figure {nxt('figure')}"
            elif name in ("figure", "glue:figure") and blk.options.get("name"):
                labels.text[str(blk.options["name"])] = f"Figure {nxt('figure')}"
    return labels


# --------------------------------------------------------------------------------------------------
# Citations


def load_citations(bibfiles: list[Path]) -> dict[str, tuple[str, str]]:
    """key -> (authors as cited in text, year)."""
    try:
        from pybtex.database import parse_file
    except ImportError:  # pragma: no cover
        return {}
    out = {}
    for f in bibfiles:
        if not f.exists():
            continue
        db = parse_file(str(f), bib_format="bibtex")
        for key, entry in db.entries.items():
            people = entry.persons.get("author") or entry.persons.get("editor") or []
            last = [" ".join(p.last_names).replace("{", "").replace("}", "") for p in people]
            if not last:
                who = entry.fields.get("title", key)[:30]
            elif len(last) == 1:
                who = last[0]
            elif len(last) == 2:
                who = f"{last[0]} and {last[1]}"
            else:
                who = f"{last[0]} et al."
            out[key] = (who, entry.fields.get("year", "n.d."))
    return out


# --------------------------------------------------------------------------------------------------
# Glued values


def glue_values(nb) -> dict[str, object]:
    """name -> output data (mime bundle) of every ``glue(...)`` in an executed notebook."""
    out = {}
    for cell in nb.cells:
        for o in cell.get("outputs", []) if cell.cell_type == "code" else []:
            meta = o.get("metadata", {}) or {}
            key = (meta.get("scrapbook") or {}).get("name")
            if key:
                out[key] = o.get("data", {})
    return out


def glue_sidecar(executed_path: Path) -> dict[str, object]:
    """name -> mime bundle from myst-nb's ``<page>.glue.json`` (it removes hidden glue outputs from
    the executed notebook it writes, and keeps them in that file)."""
    import json

    side = Path(executed_path).with_suffix(".glue.json")
    if not side.exists():
        return {}
    return {k: v.get("data", {}) for k, v in json.loads(side.read_text()).items()}


def restore_glue(nb, executed_path: Path) -> int:
    """Put the hidden glue outputs back into an executed notebook (first code cell), so that
    myst-nb finds them when it reads the notebook without executing it (tools/build_pdf.sh)."""
    import json

    side = Path(executed_path).with_suffix(".glue.json")
    if not side.exists():
        return 0
    present = set(glue_values(nb))
    cell = next((c for c in nb.cells if c.cell_type == "code"), None)
    if cell is None:
        return 0
    import nbformat

    prefix = "application/papermill.record/"
    n = 0
    for key, out in json.loads(side.read_text()).items():
        if key in present:
            continue
        data = {prefix + k: v for k, v in out.get("data", {}).items()}
        meta = {"scrapbook": {"name": key, "mime_prefix": prefix}}
        cell.outputs.append(nbformat.from_dict(
            {"output_type": "display_data", "metadata": meta, "data": data}))
        n += 1
    return n


def format_glue(data, spec: str | None) -> str:
    text = (data or {}).get("text/plain", "")
    if spec:
        try:
            return format(float(text), spec)
        except ValueError:
            try:
                return format(int(text), spec)
            except ValueError:
                pass
    return text.strip("'\"")


# --------------------------------------------------------------------------------------------------
# Markdown rendering


@dataclass
class Context:
    labels: Labels
    cites: dict
    glue: dict
    exercise_of: dict = field(default_factory=dict)  # solution label -> exercise label


def render_roles(text: str, ctx: Context) -> str:
    def one(m: re.Match) -> str:
        role, body = m.group("role"), m.group("body")
        explicit = re.match(r"^(.*?)\s*<([^>]+)>$", body, re.S)
        if role == "math":
            return f"${body}$"
        if role in ("cite:t", "cite:p", "cite", "cite:ts", "cite:ps", "cite:year"):
            keys = [k.strip() for k in body.split(",")]
            found = [ctx.cites.get(k, (k, "")) for k in keys]
            if role.startswith("cite:t"):
                return "; ".join(f"{who} ({year})" for who, year in found)
            return "(" + "; ".join(f"{who}, {year}" for who, year in found) + ")"
        if role.startswith("glue"):
            name, _, spec = body.partition(":")
            if name in ctx.glue:
                return format_glue(ctx.glue[name], spec or None)
            return f"`{name}` (computed in the notebook)"
        if role in ("ref", "numref", "prf:ref", "doc", "eq", "term", "index", "any", "abbr"):
            if explicit:
                txt, target = explicit.group(1), explicit.group(2)
                if role == "numref" and "%s" in txt:
                    return txt.replace("%s", ctx.labels.get(target).split()[-1])
                return txt
            if role == "doc":
                return Path(body).name.replace("_", " ")
            if role in ("term", "index", "abbr"):
                return body
            return ctx.labels.get(body)
        return body

    return ROLE.sub(one, text)


def render_markdown(text: str, ctx: Context) -> list[str]:
    """One Markdown cell's text -> the texts of one or more Markdown cells."""
    lines = text.split("\n")
    blocks = cw.parse_blocks(lines)
    cells: list[list[str]] = [[]]
    i = 0
    for blk in blocks + [None]:
        stop = blk.start if blk else len(lines)
        cells[-1] += _plain(lines[i:stop], ctx)
        if blk is None:
            break
        rendered, own_cell = _render_block(blk, lines, ctx)
        if own_cell:
            cells.append(rendered)
            cells.append([])
        else:
            cells[-1] += rendered
        i = blk.end + 1
    texts = ["\n".join(c).strip("\n") for c in cells]
    return [t for t in texts if t.strip()]


def _plain(lines: list[str], ctx: Context) -> list[str]:
    out = []
    for line in lines:
        if TARGET.match(line) or re.match(r"^%", line):
            continue
        m = EQ_LABEL.match(line)
        if m:
            tag = ctx.labels.get(m.group("label")).strip("()")
            out.append(f"{m.group(1)}\\tag{{{tag}}}")
            out.append(f"{m.group(1)}$$")
            continue
        out.append(render_roles(line, ctx))
    return out


def _render_body(blk: cw.Block, lines: list[str], ctx: Context) -> list[str]:
    body_text = "\n".join(blk.body(lines))
    return "\n\n".join(render_markdown(body_text, ctx)).split("\n")


def _render_block(blk: cw.Block, lines: list[str], ctx: Context) -> tuple[list[str], bool]:
    name = blk.name or ""
    title = render_roles(blk.argument, ctx)
    label = str(blk.options.get("label", "")) if blk.options else ""
    if name == "" or name in ("code", "code-block", "sourcecode"):
        head = lines[blk.start]
        if name:
            head = lines[blk.start].replace("{" + name + "}", "")
        return [head] + blk.body(lines) + [lines[blk.end]], False
    if name in DROP:
        return [], False
    if name == "exercise":
        num = ctx.labels.get(label) if label else "Exercise"
        head = f"#### {num}" + (f": {title}" if title else "")
        return [head, ""] + _render_body(blk, lines, ctx), True
    if name == "solution":
        target = blk.argument.strip()
        num = ctx.labels.get(target) if target else "the exercise"
        return [f"**Solution to {num}.**", ""] + _render_body(blk, lines, ctx), True
    if name.startswith("prf:"):
        kind = name[4:]
        if kind == "proof":
            body = _render_body(blk, lines, ctx)
            return ["*Proof.* " + (body[0] if body else "")] + body[1:] + ["", "$\\blacksquare$"], \
                False
        head = ctx.labels.get(label) if label else PRF_NAMES.get(kind, kind.title())
        head = f"**{head}" + (f" ({title})" if title else "") + ".**"
        return _quote([head, ""] + _render_body(blk, lines, ctx)), False
    if name in ("math",):
        tag = ctx.labels.get(label).strip("()") if label else None
        return ["$$"] + blk.body(lines) + ([f"\\tag{{{tag}}}"] if tag else []) + ["$$"], False
    if name == "figure":
        alt = blk.options.get("alt", "")
        cap = _render_body(blk, lines, ctx)
        num = ctx.labels.get(str(blk.options.get("name"))) if blk.options.get("name") else "Figure"
        return [f"![{alt}]({blk.argument})", "", f"*{num}: " + " ".join(cap).strip() + "*"], False
    if name == "glossary":
        return blk.body(lines), False
    # Admonitions (note, tip, dropdown, ...) and any other directive: a titled block quote.
    if True:
        head = title or name.replace("-", " ").capitalize()
        return _quote([f"**{head}**", ""] + _render_body(blk, lines, ctx)), False


def _quote(lines: list[str]) -> list[str]:
    return [("> " + ln).rstrip() for ln in lines]


# --------------------------------------------------------------------------------------------------
# A whole notebook


def render_notebook(nb, ctx: Context, *, executed=None, executed_path: Path | None = None):
    """A readable copy of ``nb`` (read from a chapter), outputs taken from ``executed`` if given
    (read from ``executed_path``, whose glue sidecar supplies the hidden glued values)."""
    import nbformat

    nb = copy.deepcopy(nb)
    if executed_path is not None:
        ctx.glue = {**glue_sidecar(executed_path), **ctx.glue}
    if executed is not None:
        ctx.glue = {**glue_values(executed), **ctx.glue}
        pool = [c for c in executed.cells if c.cell_type == "code"]
        k = 0
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            for j in range(k, len(pool)):
                if pool[j].source.strip() == cell.source.strip():
                    cell.outputs = pool[j].get("outputs", [])
                    cell.execution_count = pool[j].get("execution_count")
                    k = j + 1
                    break
    cells = []
    current_exercise = None
    per_exercise: dict[str, int] = {}
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for m in re.finditer(r"\{exercise\}[^\n]*\n(?::[\w-]+:[^\n]*\n)*?:label:\s*(\S+)",
                                 cell.source):
                current_exercise = m.group(1)
            for text in render_markdown(cell.source, ctx):
                cells.append(nbformat.v4.new_markdown_cell(text))
            continue
        if cell.cell_type != "code":
            cells.append(cell)
            continue
        tags = list(cell.metadata.get("tags", []))
        md = cell.metadata
        fig = (md.get("mystnb") or {}).get("figure") if isinstance(md.get("mystnb"), dict) else None
        if cw.SCAFFOLD_TAG in tags or cw.CHECK_TAG in tags:
            base = current_exercise or "exercise"
            kind = "answer" if cw.SCAFFOLD_TAG in tags else "check"
            per_exercise[(base, kind)] = per_exercise.get((base, kind), 0) + 1
            n = per_exercise[(base, kind)]
            grade_id = f"{base}-{kind}" + (f"-{n}" if n > 1 else "")
            if kind == "answer":
                md["nbgrader"] = {"grade": False, "solution": True, "locked": False,
                                  "grade_id": grade_id, "schema_version": 3}
            else:
                md["nbgrader"] = {"grade": True, "solution": False, "locked": True,
                                  "points": float(md.get("points", 1)), "grade_id": grade_id,
                                  "schema_version": 3}
        cells.append(cell)
        if fig and fig.get("caption"):
            num = ctx.labels.get(fig.get("name", "")) if fig.get("name") else "Figure"
            cap = render_roles(" ".join(str(fig["caption"]).split()), ctx)
            cells.append(nbformat.v4.new_markdown_cell(f"*{num}: {cap}*"))
    nb.cells = cells
    nb.nbformat, nb.nbformat_minor = 4, 5
    for i, c in enumerate(nb.cells):
        c["id"] = f"cell-{i:03d}"
    nb.metadata.pop("jupytext", None)
    nb.metadata.setdefault("kernelspec", {"display_name": "Python 3", "language": "python",
                                          "name": "python3"})
    nb.metadata.setdefault("language_info", {"name": "python"})
    return nb
