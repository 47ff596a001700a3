"""A laid-out line -> the manuscript file, line and column it was set from.

pandoc's Markdown reader keeps no source positions, so a layout finding (an overfull or loose
line, a widow, a heading left at the foot of a page) would name only the book. The words of the
line are found again in the Markdown files instead: in the order they were set, with anything
between two words that prints nothing or something else (punctuation and digits, emphasis
marks, note labels `[^x]` and inline notes, link targets, attributes `{...}`, HTML tags and
entities, a hyphen the typesetter added) allowed between them. The block's first words are
found first, so a line that is common words ("and so on.") is looked for inside its own
paragraph. A line whose words cannot be found keeps the book as its place.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from pathlib import Path

from imprint.errors import Finding, Location

WORD = re.compile(r"[^\W\d_]+")
# What may stand between two printed words in the Markdown: atomic, so a failed match never
# backtracks through it.
GAP = (r"(?>(?:\[\^[^\]\s]+\]|\^\[[^\]]*\]|\]\([^)\n]*\)|\{[^}\n]*\}"
       r"|</?[A-Za-z][\w-]*(?:\s[^>\n]*)?/?>|&#?\w+;|[\W\d_])*)")
BLOCK_WORDS = 24        # a block's first words: enough to tell one paragraph from another
LINE_WORDS = 16
SKIPPED = 3             # leading words tried away (text the stylesheet adds: "Chapter", a label)


def words(text: str) -> list[str]:
    return WORD.findall(text)


def anchor(findings: list[Finding], marks, pages) -> list[Finding]:
    """Inside the typesetting job: `findings` (the marks' own) with the words of the line each
    is about and of that line's block, to be found in the manuscript after the job
    (`place`). The Marks say which line: their rect is the line's."""
    rects = {id(m.finding): m.rect for m in marks if m.rect is not None}
    if not rects:
        return findings
    lines, blocks = {}, {}
    for page in pages:
        for ln in page.lines:
            lines[id(ln.rect)] = ln
            blocks.setdefault(ln.block, []).append(ln)
    out = []
    for f in findings:
        ln = lines.get(id(rects.get(id(f))))
        if ln is None or ln.front or ln.region not in ("text", "footnote"):
            out.append(f)
            continue
        block = words(" ".join(b.text for b in blocks[ln.block] if "::" not in b.tag))
        line = tuple(words(ln.text)[:LINE_WORDS]) or tuple(re.findall(r"\d+", ln.text)[:1])   # a line of figures
        out.append(dataclasses.replace(f, anchor=(tuple(block[:BLOCK_WORDS + SKIPPED]), line)))
    return out


@dataclasses.dataclass
class _File:
    path: Path
    text: str
    first_line: int
    newlines: list[int]

    def location(self, offset: int) -> Location:
        line = bisect.bisect_right(self.newlines, offset - 1)
        start = self.newlines[line - 1] + 1 if line else 0
        return Location(self.path, self.first_line + line, offset - start + 1)


def _pattern(found: tuple[str, ...]) -> re.Pattern:
    return re.compile(GAP.join(re.escape(w) for w in found), re.IGNORECASE)


def _find(files: list[_File], found: tuple[str, ...], start: tuple[int, int] = (0, 0)) -> tuple[int, int] | None:
    """(file index, offset) of the first place at or after `start` where the words are written."""
    if not found:
        return None
    pattern = _pattern(found)
    for i in range(start[0], len(files)):
        m = pattern.search(files[i].text, start[1] if i == start[0] else 0)
        if m:
            return i, m.start()
    return None


def place(findings: list[Finding], sources) -> list[Finding]:
    """After the job: each anchored finding without a file of its own placed at the manuscript
    file, line and column of its line (of its block, when the line's words are not found
    inside it). `sources`: the book's SourceFiles, read afresh for every build, so a cached
    layout's findings point at the lines as they are now."""
    if not any(f.anchor and not f.where.file for f in findings):
        return findings
    files = [_File(s.path, s.text, s.first_line, [m.start() for m in re.finditer("\n", s.text)]) for s in sources]
    blocks: dict[tuple, tuple[int, int] | None] = {}
    out = []
    for f in findings:
        if not f.anchor or f.where.file:
            out.append(f)
            continue
        block, line = f.anchor
        if block not in blocks:
            at = None
            for skip in range(min(SKIPPED, max(len(block) - 1, 0)) + 1):
                at = _find(files, block[skip:skip + BLOCK_WORDS])
                if at:
                    break
            blocks[block] = at
        at = blocks[block]
        if at is None:
            out.append(f)
            continue
        # The line's words from its block's start on (a line ending in the typesetter's hyphen
        # has its word's first half last: the gap lets the two halves meet again).
        inside = _find(files, line, at) if line else None
        if inside is not None and inside[0] == at[0]:
            at = inside
        out.append(dataclasses.replace(f, where=files[at[0]].location(at[1])))
    return out
