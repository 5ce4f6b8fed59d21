"""Write the front page's chapter list (``intro.md``, between the CHAPTER LIST markers) from
``_toc.yml``: parts in order, chapters numbered as the book numbers them, titles from each chapter's
first ``# `` heading. ``tests/test_book_toc.py`` checks the result (and the README's list).

    python tools/chapter_list.py          # rewrite intro.md
    python tools/chapter_list.py --check  # exit 1 if intro.md is out of date
"""
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
START = "<!-- CHAPTER LIST: keep in sync with _toc.yml (tests/test_book_toc.py checks) -->\n"
END = "<!-- END CHAPTER LIST -->"


def block() -> str:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    lines, i = [], 0
    for part in toc["parts"]:
        chapters = [c for c in part["chapters"] if c["file"].startswith("chapters/")]
        if not chapters:
            continue
        lines.append(f"*{part['caption']}*\n")
        for ch in chapters:
            i += 1
            path = ch["file"] + ".md"
            text = (ROOT / path).read_text(encoding="utf-8").splitlines()
            title = next(line[2:].strip() for line in text if line.startswith("# "))
            lines.append(f"{i}. [{title}]({path})")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    intro = ROOT / "intro.md"
    text = intro.read_text(encoding="utf-8")
    head, rest = text.split("<!-- CHAPTER LIST", 1)
    tail = rest.split(END, 1)[1]
    new = head + START + block() + END + tail
    if "--check" in sys.argv:
        return 0 if new == text else 1
    intro.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
