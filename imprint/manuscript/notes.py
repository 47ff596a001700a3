"""Manuscript text -> the footnote calls and definitions it contains, each with its line and column.

Pandoc's AST carries no source positions for Pandoc Markdown, so the checks read the
text itself. Fenced and indented code, inline code spans and HTML comments are skipped, as
pandoc does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def fence_step(fence: str | None, raw: str) -> tuple[str | None, bool]:
    """The fence open after the line `raw` (None: none), and whether the line is a fence or
    inside one: a fence ends at a line of the same character at least as long."""
    m = FENCE.match(raw)
    if fence:
        closes = m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence)
        return (None if closes else fence), True
    return (m.group(1), True) if m else (None, False)


def unfenced(lines):
    """(index, line) for every line outside fenced code blocks (the fences left out too)."""
    fence = None
    for i, raw in enumerate(lines):
        fence, fenced = fence_step(fence, raw)
        if not fenced:
            yield i, raw
# A definition starts a line, inside block quotes too (`> [^1]: ...`); anywhere else,
# `[^1]:` is a call followed by a colon (as pandoc reads it).
DEFINITION = re.compile(r"^ {0,3}(?:> ?)*\[\^([^\]\s]+)\]:[ \t]?")
CALL = re.compile(r"\[\^([^\]\s\\[]+)\]")
INLINE_NOTE = re.compile(r"\^\[")
CODE_SPAN = re.compile(r"(`+)(?:.+?)\1", re.S)


@dataclass(frozen=True)
class NoteCall:
    label: str
    file: Path
    line: int
    column: int
    context: str          # the source line, for checks that look around the call


@dataclass(frozen=True)
class NoteDefinition:
    label: str
    file: Path
    line: int
    column: int
    text: str             # the definition's source text, continuation lines joined with \n
    end_line: int


@dataclass(frozen=True)
class NoteIndex:
    calls: tuple[NoteCall, ...]
    definitions: tuple[NoteDefinition, ...]
    inline_notes: tuple[NoteCall, ...]


def _blank_code_spans(line: str) -> str:
    return CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line)


COMMENT_OPEN = re.compile(r"<!--(?!-?>)")     # `<!-->` and `<!--->` open nothing


def _comments(text: str, start: int, line: str, inside_until: int) -> tuple[list[tuple[int, int]], int]:
    """The stretches of `line` (which starts at offset `start` of `text`) inside HTML comments,
    `<!-- … -->`, which pandoc passes through unread and the book never prints; and the offset
    in `text` where the last one ends (`inside_until`, when one runs on past this line). As in
    pandoc, a comment opens outside code spans and ends at the first `-->` after it, however far
    on (across blank lines, fences, code spans); an `<!--` never closed opens nothing: pandoc
    prints it as text, and what follows is the book's."""
    spans, col = [], 0
    while col < len(line):
        if inside_until > start + col:
            end = min(inside_until - start, len(line))
            spans.append((col, end))
            col = end
            continue
        m = COMMENT_OPEN.search(_blank_code_spans(line[col:]))
        if not m:
            break
        close = text.find("-->", start + col + m.end())
        if close < 0:
            break                       # unclosed: text, and so is every later `<!--`
        col += m.start()
        inside_until = close + 3
    return spans, inside_until


def _blank(line: str, spans) -> str:
    for a, b in spans:
        line = line[:a] + " " * (b - a) + line[b:]
    return line


def scan(text: str, file: Path, first_line: int = 1) -> NoteIndex:
    """Find every note call and definition in one manuscript file's Markdown body."""
    calls, defs, inline = [], [], []
    lines = text.split("\n")
    current = None          # (label, line, col, [text lines]) of the definition being read
    prev_blank = True
    fence = None
    start = 0               # offset of the line in `text`
    inside_until = 0        # offset where the HTML comment open here ends: a cut paragraph's calls and notes are not the book's

    def close(end):
        nonlocal current
        if current:
            label, ln, col, body = current
            while body and not body[-1].strip():
                body.pop()
            defs.append(NoteDefinition(label, file, ln, col, "\n".join(body).strip(), end))
            current = None

    for i, raw in enumerate(lines):
        lineno = first_line + i
        line_start, start = start, start + len(raw) + 1
        commented = inside_until > line_start     # the line opens inside a comment: no fence, no code block
        if not commented:
            fence, fenced = fence_step(fence, raw)
            if fenced:
                continue
        seen = raw
        code = raw.startswith(("    ", "\t")) and prev_blank and not current and not commented
        if not code:
            spans, inside_until = _comments(text, line_start, raw, inside_until)
            seen = _blank(raw, spans)
        blank = not raw.strip()
        if current:
            indented = raw.startswith(("    ", "\t"))
            if blank:
                current[3].append("")
            elif indented or not prev_blank:
                current[3].append(seen.strip())
            else:
                close(lineno - 1)
        if code:
            prev_blank = blank
            continue                    # indented code block
        line = _blank_code_spans(seen)
        d = DEFINITION.match(line)
        body_start = 0
        if d:
            close(lineno - 1)
            current = (d.group(1), lineno, d.start(1) - 1, [seen[d.end():].strip()])
            body_start = d.end()
        for c in CALL.finditer(line, body_start):
            calls.append(NoteCall(c.group(1), file, lineno, c.start() + 1, raw))
        for c in INLINE_NOTE.finditer(line):
            inline.append(NoteCall("^[", file, lineno, c.start() + 1, raw))
        prev_blank = blank
    close(first_line + len(lines) - 1)
    return NoteIndex(tuple(calls), tuple(defs), tuple(inline))


def merge(indexes) -> NoteIndex:
    indexes = list(indexes)
    return NoteIndex(
        tuple(c for ix in indexes for c in ix.calls),
        tuple(d for ix in indexes for d in ix.definitions),
        tuple(c for ix in indexes for c in ix.inline_notes),
    )
