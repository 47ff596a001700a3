"""A chapter whose running text ends partway down a verso, then tables to the chapter's end, on a
generated book (no corpus text): the first table's header row calls two notes, which with the
header and a row do not fit in the room left, so the table starts overleaf and the verso ends
eleven lines short, more than a facing page runs short to match (imprint/typeset/fence/
spreads.py). As at a chapter's end, L226 does not count that spread (imprint/checks/pages.py
`_display_matter_follows`: WoN p. 364, the tables closing Book I chapter xi); the same table
followed by more of the chapter's text is still named."""

from __future__ import annotations

import random

import pytest

from test_spreads import LONG, SHORT, built_pages, paragraph   # the same generated prose

WIDTH = 14


def _row(cells) -> str:
    return "| " + " | ".join(c.ljust(WIDTH) for c in cells) + " |"


def _table(rng: random.Random, n: int, rows: int) -> str:
    rule = "+" + "+".join("-" * (WIDTH + 2) for _ in range(4)) + "+"
    head = "+" + "+".join("=" * (WIDTH + 2) for _ in range(4)) + "+"
    out = [rule, _row(["Year", f"Price[^{n}a]", f"Average[^{n}b]", "Present"]), head]
    for i in range(rows):
        out += [_row([str(1200 + i)] + [str(rng.randint(1, 20)) for _ in range(3)]), rule]
    out[-1] = head                                  # the last row a table foot
    return "\n".join(out + [_row(["Total", "28", "9", "4"]), rule])


def manuscript() -> str:
    """Chapter 1: 52 one-line paragraphs (the opening page holds 27), a table of 90 rows, the
    chapter's end. Chapter 2: the same, then six paragraphs of text."""
    rng = random.Random(3)
    parts, notes = [], []
    for n, text_after in ((1, False), (2, True)):
        parts.append(f"# Chapter {n}\n")
        parts += [f"Line {n}.{i} of the chapter, a short paragraph." for i in range(52)]
        parts.append(_table(rng, n, 90))
        if text_after:
            parts += [paragraph(rng) for _ in range(6)]
        for k in "ab":
            words = [rng.choice(SHORT + LONG) for _ in range(70)]
            notes.append(f"[^{n}{k}]: " + words[0].capitalize() + " " + " ".join(words[1:]) + ".")
    return "\n\n".join(parts + notes) + "\n"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return built_pages(tmp_path_factory.mktemp("spreads-table"), manuscript())


def test_a_short_page_before_the_tables_that_close_a_chapter_is_not_counted(built):
    pages, err = built
    findings = [line for line in err.splitlines() if "L226" in line]
    short = {}
    for n in (1, 2):
        last = max(i for i, page in enumerate(pages) if f"Line {n}." in page)
        table = next(i for i, page in enumerate(pages) if i >= last and "1200" in page)
        # the text ends on a verso, the table starts on the recto: the verso runs short on its own
        assert (last + 1) % 2 == 0 and table == last + 1, (n, last + 1, table + 1)
        short[n] = last + 1
    assert not any(f"page {short[1]}," in line for line in findings), findings     # the chapter's text ends there
    assert any(f"page {short[2]}," in line and "table" in line for line in findings), findings   # text follows
