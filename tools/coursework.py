"""Shared machinery of the coursework tools: one source, two editions.

The chapters (MyST Markdown notebooks) hold the reference solutions; the student edition is derived
from them by a purely textual transform, so that nothing but the markup below needs to be followed by
chapter authors (see HELPERS.md / the instructors page):

* a ``{solution}`` directive (any fence length, backticks or colons), or a
  ``{solution-start}`` ... ``{solution-end}`` pair, is a worked solution: removed in the student
  edition;
* a code cell tagged ``exercise-scaffold`` holds the reference answer between a ``### BEGIN SOLUTION``
  and a ``### END SOLUTION`` line: the student edition replaces the two markers and everything between
  them with ``raise NotImplementedError("your answer here")`` at the markers' indentation, and tags the
  cell ``raises-exception`` (the build may then run it);
* a code cell tagged ``exercise-check`` calls a check function; the student edition tags it
  ``raises-exception`` too (unanswered checks fail, and print "not answered yet").

Used by ``tools/student_edition.py`` (build), ``tools/check_student.py`` (leak check),
``tools/make_notebooks.py`` (notebooks) and ``tools/grade.sh``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = 'raise NotImplementedError("your answer here")'
SCAFFOLD_TAG = "exercise-scaffold"
CHECK_TAG = "exercise-check"
ALLOW_ERROR_TAG = "raises-exception"

# An opening or closing fence: indentation, fence (``` or :::, any length), optional {directive}, rest.
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|:{3,})(?:\{(?P<name>[^}\s]+)\})?(?P<rest>.*)$")


@dataclass
class Block:
    """A fenced block of a MyST file: lines [start, end] (inclusive), its directive name, argument."""

    start: int
    end: int
    name: str | None
    argument: str
    fence: str
    children: list["Block"] = field(default_factory=list)
    options: dict = field(default_factory=dict)
    body_start: int = 0  # first line of the body (after options)

    def body(self, lines: list[str]) -> list[str]:
        return lines[self.body_start:self.end]


def parse_blocks(lines: list[str]) -> list[Block]:
    """Top-level fenced blocks of a MyST document (nested ones in ``children``).

    Fences close on a line of the same character at least as long as the opening one. The content of a
    plain code fence (no ``{directive}``, or a ``{code-cell}``) is not parsed for nested fences.
    """
    top: list[Block] = []
    stack: list[Block] = []
    for i, line in enumerate(lines):
        m = FENCE.match(line)
        if not m:
            continue
        fence, name, rest = m.group("fence"), m.group("name"), m.group("rest")
        if stack:
            cur = stack[-1]
            closes = (fence[0] == cur.fence[0] and len(fence) >= len(cur.fence)
                      and not name and not rest.strip())
            if closes:
                cur.end = i
                _parse_options(cur, lines)
                stack.pop()
                continue
            if cur.name is None or cur.name == "code-cell":
                continue  # literal content
        blk = Block(start=i, end=len(lines) - 1, name=name, argument=rest.strip(), fence=fence)
        (stack[-1].children if stack else top).append(blk)
        stack.append(blk)
    for blk in stack:  # unclosed: runs to the end of the file
        _parse_options(blk, lines)
    return top


def _parse_options(blk: Block, lines: list[str]) -> None:
    """``:key: value`` lines or a ``---`` YAML block right after the opening line."""
    i = blk.start + 1
    opts: dict = {}
    if i < blk.end and lines[i].strip() == "---":
        j = i + 1
        while j < blk.end and lines[j].strip() != "---":
            j += 1
        import yaml

        try:
            opts = yaml.safe_load("\n".join(lines[i + 1:j])) or {}
        except yaml.YAMLError:
            opts = {}
        i = j + 1
    else:
        while i < blk.end and re.match(r"^\s*:[\w-]+:", lines[i]):
            key, _, value = lines[i].strip()[1:].partition(":")
            opts[key] = value.strip()
            i += 1
    blk.options = opts
    blk.body_start = i


def walk(blocks: list[Block]):
    for b in blocks:
        yield b
        yield from walk(b.children)


def cell_tags(blk: Block) -> list[str]:
    tags = blk.options.get("tags", [])
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.strip("[]").split(",") if t.strip()]
    return list(tags)


# --------------------------------------------------------------------------------------------------
# The student edition of one MyST file


@dataclass
class Solutions:
    """What the student edition removes from one file: solution blocks and scaffold answers."""

    prose: list[str] = field(default_factory=list)  # text of each removed solution block
    code: list[str] = field(default_factory=list)  # each removed scaffold answer
    labels: list[str] = field(default_factory=list)  # labels of removed solution directives


def student_text(text: str) -> tuple[str, Solutions]:
    """The student edition of a MyST document, and what was removed from it."""
    lines = text.split("\n")
    blocks = parse_blocks(lines)
    removed = Solutions()
    drop: set[int] = set()
    replace: dict[int, list[str]] = {}

    # Gated solutions: {solution-start} ... {solution-end} (both are directives on their own).
    flat = list(walk(blocks))
    starts = [b for b in flat if b.name == "solution-start"]
    ends = [b for b in flat if b.name == "solution-end"]
    for s in starts:
        e = next((e for e in ends if e.start > s.end), None)
        if e is None:
            raise ValueError(f"line {s.start + 1}: {{solution-start}} without {{solution-end}}")
        removed.prose.append("\n".join(lines[s.start:e.end + 1]))
        drop.update(range(s.start, e.end + 1))

    answers: set[str] = set()  # names that scaffold cells define (the student's answers)
    for b in flat:
        if b.name == "solution":
            removed.prose.append("\n".join(b.body(lines)))
            if "label" in b.options:
                removed.labels.append(str(b.options["label"]))
            drop.update(range(b.start, b.end + 1))
        elif b.name == "code-cell":
            tags = cell_tags(b)
            if SCAFFOLD_TAG in tags:
                answers |= defined_names("\n".join(b.body(lines)))
                new_body, answer = _stub_scaffold(b.body(lines), b.start + 1)
                if answer:
                    removed.code.append(answer)
                replace[b.start] = _with_tag(lines, b, ALLOW_ERROR_TAG) + new_body
            elif CHECK_TAG in tags or (answers & used_names("\n".join(b.body(lines)))):
                # A check, or any later cell that uses a student's answer (e.g. a plot of it), can
                # only run once the answer is written: it may fail in the student edition, and so
                # may any cell that uses what such a cell defines.
                if CHECK_TAG not in tags:
                    answers |= defined_names("\n".join(b.body(lines)))
                replace[b.start] = _with_tag(lines, b, ALLOW_ERROR_TAG) + b.body(lines)

    out: list[str] = []
    i = 0
    while i < len(lines):
        if i in replace:
            b = next(b for b in flat if b.start == i)
            out += replace[i]
            i = b.end  # the closing fence is kept
            continue
        if i in drop:
            i += 1
            continue
        out.append(lines[i])
        i += 1
    # Collapse the blank lines left where blocks were removed.
    result = re.sub(r"\n{3,}", "\n\n", "\n".join(out))
    return result, removed


def _parse(code: str):
    import ast

    # IPython magics and shell escapes are not Python: blank them out before parsing.
    code = "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in code.split("\n"))
    try:
        return ast.parse(code)
    except SyntaxError:
        return None


def defined_names(code: str) -> set[str]:
    """Top-level names a cell defines (functions, classes, assignments)."""
    import ast

    tree = _parse(code)
    out: set[str] = set()
    for node in tree.body if tree else []:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                out |= {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}
    return out


def used_names(code: str) -> set[str]:
    import ast

    tree = _parse(code)
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} if tree else set()


def _stub_scaffold(body: list[str], lineno: int) -> tuple[list[str], str]:
    """Replace BEGIN..END SOLUTION (markers included) by the stub; return new body and the answer."""
    out: list[str] = []
    answer: list[str] = []
    inside = False
    found = False
    for line in body:
        s = line.strip()
        if s == BEGIN:
            if inside:
                raise ValueError(f"scaffold cell at line {lineno}: nested {BEGIN}")
            inside, found = True, True
            out.append(line[: len(line) - len(line.lstrip())] + STUB)
        elif s == END:
            if not inside:
                raise ValueError(f"scaffold cell at line {lineno}: {END} without {BEGIN}")
            inside = False
        elif inside:
            answer.append(line)
        else:
            out.append(line)
    if not found and not inside and any(line.strip() == STUB for line in body):
        return out, ""  # already a student edition
    if inside or not found:
        raise ValueError(f"scaffold cell at line {lineno}: needs one {BEGIN} ... {END} pair")
    return out, "\n".join(answer)


def _with_tag(lines: list[str], blk: Block, tag: str) -> list[str]:
    """The opening line and options of a code cell, with ``tag`` added to its tags."""
    head = lines[blk.start:blk.body_start]
    tags = cell_tags(blk)
    if tag in tags:
        return head
    new = tags + [tag]
    text = "[" + ", ".join(new) + "]"
    for k, line in enumerate(head):
        m = re.match(r"^(\s*:?)tags:(\s*).*$", line)
        if m:
            head[k] = f"{m.group(1)}tags:{m.group(2) or ' '}{text}"
            return head
    if len(head) > 1 and head[1].strip() == "---":  # YAML block without tags
        return [head[0], head[1], f"tags: {text}"] + head[2:]
    return [head[0], f":tags: {text}"] + head[1:]


# --------------------------------------------------------------------------------------------------
# Text fingerprints, for the leak check


WORD = re.compile(r"[A-Za-z0-9_]+")


def words(text: str) -> list[str]:
    return [w.lower() for w in WORD.findall(text)]


def shingles(text: str, k: int = 8) -> set[tuple[str, ...]]:
    w = words(text)
    return {tuple(w[i:i + k]) for i in range(len(w) - k + 1)}


def book_sources(root: Path) -> list[Path]:
    """The Markdown pages listed in ``_toc.yml`` (root first), as paths."""
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def visit(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for v in node.values():
                visit(v)
        elif isinstance(node, list):
            for v in node:
                visit(v)

    visit(toc.get("parts", toc.get("chapters", [])))
    out = []
    for f in files:
        p = root / f
        if p.suffix == "":
            p = p.with_suffix(".md")
        if p.exists():
            out.append(p)
    return out
