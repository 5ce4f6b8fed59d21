#!/usr/bin/env python3
"""Check that no solution text leaked into the student edition.

    python tools/check_student.py                       # _build/student/html against the sources
    python tools/check_student.py --html DIR --source DIR

What counts as solution text: the body of every ``{solution}`` block and every scaffold answer
(between ``### BEGIN SOLUTION`` and ``### END SOLUTION``) of the book's pages (``_toc.yml``).
Fingerprints are runs of 8 consecutive words (identifiers and numbers, lower-cased); a run that also
occurs in the student edition's own sources (e.g. an exercise quoting a formula that its solution
repeats) is not evidence and is dropped. Every text file of the built site is then searched (pages as
rendered text, ``_sources`` copies, downloadable ``.ipynb``/``.md``, ``searchindex.js``, anything
else that is text); the search index, which stores stemmed words rather than text, is checked for
words that occur only in solutions. The check also requires that the student edition is not empty of
exercises: each scaffold's stub is present.

Exit status 0: no leak; 1: leaks (each reported with file and fragment); 2: nothing to check.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import coursework as cw  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TEXT_SUFFIXES = {".html", ".txt", ".md", ".ipynb", ".js", ".json", ".py", ".tex", ".svg", ".xml"}
TAG = re.compile(r"<[^>]+>")


def page_text(path: Path) -> str:
    raw = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".html":
        raw = raw + "\n" + html.unescape(TAG.sub(" ", raw))
    elif path.suffix == ".ipynb":
        try:
            nb = json.loads(raw)
            parts = []
            for c in nb.get("cells", []):
                parts.append("".join(c.get("source", "")))
                for o in c.get("outputs", []):
                    parts.append(json.dumps(o.get("data", {})) + "".join(o.get("text", "")))
            raw = "\n".join(parts)
        except json.JSONDecodeError:
            pass
    return raw


def search_terms(index: Path) -> dict[str, list[str]]:
    """stemmed term -> the documents (docnames) that the search index lists for it."""
    text = index.read_text(encoding="utf-8")
    m = re.search(r"Search\.setIndex\((.*)\)\s*;?\s*$", text, re.S)
    if not m:
        return {}
    data = json.loads(m.group(1))
    names = data.get("docnames", [])
    out: dict[str, list[str]] = {}
    for table in ("terms", "titleterms"):
        for term, docs in data.get(table, {}).items():
            docs = docs if isinstance(docs, list) else [docs]
            out.setdefault(term, []).extend(names[i] for i in docs if i < len(names))
    return out


def stem(word: str) -> str:
    try:
        from sphinx.search.en import SearchEnglish

        global _stemmer
        if "_stemmer" not in globals():
            _stemmer = SearchEnglish({})
        return _stemmer.stem(word)
    except Exception:  # pragma: no cover - sphinx missing
        return word


def check(html_dir: Path, source: Path) -> int:
    pages = cw.book_sources(source)
    if not pages:
        print(f"no pages in {source}/_toc.yml", file=sys.stderr)
        return 2
    secret: set[tuple[str, ...]] = set()
    secret_words: set[str] = set()
    student_shingles: set[tuple[str, ...]] = set()
    student_words: set[str] = set()
    n_blocks = n_code = 0
    for page in pages:
        text = page.read_text(encoding="utf-8")
        student, removed = cw.student_text(text)
        student_shingles |= cw.shingles(student)
        student_words |= set(cw.words(student))
        n_code += len(removed.code)
        for chunk in removed.prose + removed.code:
            n_blocks += 1
            secret |= cw.shingles(chunk)
            secret_words |= {w for w in cw.words(chunk) if len(w) > 3 and not w.isdigit()}
    # The bibliography page is built from the .bib files: their words are not evidence either.
    for bib in list(source.glob("*.bib")) + list(source.glob("refs/*.bib")):
        student_words |= set(cw.words(bib.read_text(encoding="utf-8", errors="replace")))
    secret -= student_shingles
    secret_words -= student_words
    print(f"{len(pages)} pages, {n_blocks} solutions and scaffold answers, "
          f"{len(secret)} fingerprints")
    if not html_dir.is_dir():
        print(f"no student edition at {html_dir} (tools/build_book.sh --student)", file=sys.stderr)
        return 2

    leaks: list[str] = []
    n_files = 0
    stub_seen = False
    for f in sorted(html_dir.rglob("*")):
        if not f.is_file() or f.suffix not in TEXT_SUFFIXES or "_mathjax" in f.parts:
            continue
        n_files += 1
        text = page_text(f)
        stub_seen |= cw.STUB in text or html.escape(cw.STUB) in text
        found = cw.shingles(text) & secret
        if found:
            sample = " ".join(sorted(found)[0])
            leaks.append(f"{f.relative_to(html_dir)}: {len(found)} fragments, e.g. '{sample}'")
    index = html_dir / "searchindex.js"
    if index.exists():
        # A word that occurs only in solutions, listed by the index for a page whose rendered text
        # does not contain it: the index was built from text that is not on the page.
        terms = search_terms(index)
        student_stems = {stem(w) for w in student_words}
        only = {stem(w) for w in secret_words} - student_stems
        page_stems: dict[str, set[str]] = {}
        hit = []
        for term in sorted(only & set(terms)):
            for doc in terms[term]:
                if doc not in page_stems:
                    page = html_dir / f"{doc}.html"
                    words = cw.words(page_text(page)) if page.exists() else []
                    page_stems[doc] = {stem(w) for w in words}
                if term not in page_stems[doc]:
                    hit.append(f"{term} ({doc})")
        if hit:
            leaks.append(f"searchindex.js: words found only in solutions: {', '.join(hit[:20])}")
    print(f"{n_files} text files searched in {html_dir}")
    if n_code and not stub_seen:
        leaks.append("no scaffold stub found: is this the student edition?")
    if leaks:
        print("SOLUTION TEXT IN THE STUDENT EDITION:")
        for line in leaks:
            print("  " + line)
        return 1
    print("ok: no solution text in the student edition")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--html", type=Path, default=ROOT / "_build" / "student" / "html")
    ap.add_argument("--source", type=Path, default=ROOT,
                    help="the book's source folder (with _toc.yml), not the student copy")
    args = ap.parse_args(argv)
    return check(args.html, args.source)


if __name__ == "__main__":
    sys.exit(main())
