"""The manuscript's formulas (`$...$`, `$$...$$`): each one must be readable TeX that every
edition can set (imprint/manuscript/math.py), else the build stops at the formula's
file:line:col rather than print its raw TeX. Q1xx codes."""

from __future__ import annotations

from imprint.codes import meanings, severity
from imprint.errors import Finding, Location
from imprint.manuscript import math, pandoc
from imprint.manuscript.load import Book, source_location

CODES = meanings("Q")        # severities and meanings: imprint/codes.py


def formulas(ast: dict) -> list[tuple[str, bool]]:
    """(TeX, display) of every Math node, text and notes, in the order pandoc wrote them."""
    return [(node["c"][1], node["c"][0].get("t") == "DisplayMath") for node in pandoc.nodes(ast, "Math")]


def locate(book: Book, tex: str, display: bool) -> Location:
    """Where a formula with this TeX is first written: its opening `$` (pandoc keeps no positions)."""
    text = book.markdown
    opener = "$$" if display else "$"
    at, first = 0, -1
    while tex and first < 0:
        i = text.find(tex, at)
        if i < 0:
            break
        before = text[max(0, i - 200):i]
        kept = before.rstrip() if display else before
        after = text[i + len(tex):i + len(tex) + 200]
        after = after.lstrip() if display else after
        if kept.endswith(opener) and after.startswith(opener):
            first = i - (len(before) - len(kept)) - len(opener)
        at = i + 1
    if first < 0:
        return Location(book.sources[0].path)
    line = text.count("\n", 0, first) + 1
    column = first - (text.rfind("\n", 0, first) + 1) + 1
    return source_location(book.sources, line, column)


def check_math(book: Book) -> list[Finding]:
    out: list[Finding] = []
    if not any("$" in s.text for s in book.sources):     # no formula (walking a long book's AST: 2 s)
        return out
    seen: set = set()
    for tex, display in formulas(book.ast):
        if (tex, display) in seen:  # the same formula again: it fares the same
            continue
        seen.add((tex, display))
        shown = " ".join(tex.split())
        shown = shown if len(shown) <= 40 else shown[:39] + "…"
        shown = f"$${shown}$$" if display else f"${shown}$"
        bad = math.problem(tex, display)
        if bad is not None:
            out.append(Finding(bad.code, severity(bad.code), f"formula {shown}: {bad.message}",
                               locate(book, tex, display), hint=bad.hint))
            continue
        dropped = math.dropped(tex, display)
        if dropped:
            out.append(Finding("Q103", "warning", f"formula {shown}: {', '.join(dict.fromkeys(dropped))} "
                               "dropped (a formula carries no links, classes, ids or styles)",
                               locate(book, tex, display), hint="take the command out; its content is kept"))
    return out
