"""Book -> findings: Markdown that pandoc reads without a word but that prints wrong.

- H101 (error): a heading with no text (`#` alone, or `# {.unnumbered}`): it makes a chapter
  with no title, an empty entry in the contents and an EPUB that EPUBCheck refuses (an empty
  `<title>`, a navigation link without text).
- H102 (warning): an emphasis mark that opens and never closes (`*word … ` with no closing
  `*`): pandoc prints the asterisks or underscores as they are.
"""

from __future__ import annotations

import re

from imprint.codes import meanings
from imprint.errors import Finding, Location
from imprint.manuscript.notes import unfenced

CODES = meanings("H1")        # severities and meanings: imprint/codes.py

# An ATX heading line with nothing but attributes and closing hashes after its marker.
EMPTY_HEADING = re.compile(r"^ {0,3}#{1,6}(?:[ \t]+(?:\{[^}\n]*\})?)?[ \t#]*$")
# Emphasis marks left in the text pandoc made: before a letter, at a word's start.
OPENER = re.compile(r"(?:^|(?<=[\s(\[“‘\"']))(\*{1,3}|_{1,3})(?=[^\W\d_])")
CODE = re.compile(r"`+[^`]*`+")


def _headings(book) -> list[Finding]:
    if not any(not h.label.strip() for h in book.headings):
        return []
    out = []
    for source in book.sources:
        for i, line in unfenced(source.text.split("\n")):
            if EMPTY_HEADING.match(line) and line.strip():
                out.append(Finding("H101", "error", "a heading with no text: it would print a chapter without a title "
                                                    "and an empty contents entry",
                                   Location(source.path, source.first_line + i, line.index("#") + 1),
                                   hint="write the heading's title after the '#' marks, or delete the line"))
    return out


def _strs(node, out: list[str]) -> None:
    if isinstance(node, dict):
        t = node.get("t")
        if t == "Str":
            out.append(node["c"])
        elif t not in ("Code", "CodeBlock", "RawInline", "RawBlock", "Math"):
            _strs(node.get("c"), out)
    elif isinstance(node, list):
        for item in node:
            _strs(item, out)


def _key(text: str, m: re.Match) -> str:
    return m.group(1) + re.match(r"\w*", text[m.end():]).group(0)


def _emphasis(book) -> list[Finding]:
    left: list[str] = []
    _strs(book.ast.get("blocks", []), left)
    keys = {_key(text, m) for text in left for m in OPENER.finditer(text)}
    if not keys:
        return []
    out, seen = [], set()
    for source in book.sources:
        for i, line in unfenced(source.text.split("\n")):
            text = CODE.sub(lambda m: " " * len(m.group(0)), line)
            for m in OPENER.finditer(text):
                key = _key(text, m)
                if (m.start() > 0 and text[m.start() - 1] == "\\") or key not in keys or key in seen:
                    continue
                seen.add(key)
                mark = m.group(1)
                out.append(Finding("H102", "warning", f"“{mark}” opens emphasis that never closes: it is printed "
                                                      f"as written, “{text[m.start():m.start() + 30].strip()}…”",
                                   Location(source.path, source.first_line + i, m.start() + 1),
                                   hint=f"close it with “{mark}” after the last word it should emphasise, or write "
                                        f"“\\{mark[0]}” for a literal mark"))
    return out


def check_markup(book) -> list[Finding]:
    return _headings(book) + _emphasis(book)
