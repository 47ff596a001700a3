"""Spreads and the baseline grid on a generated book (no corpus text): no word hyphenated
across the foot of a recto (imprint/typeset/engine.py sets such a paragraph again), and the
body's lines on a grid of the line height whatever stands between them (styles/book.css:
headings, block quotes, lists and section breaks take whole lines; a note call does not make
its line taller)."""

from __future__ import annotations

import random
import sys
from collections import Counter

import pytest

from conftest import METADATA, ROOT, run_cli, write_book

sys.path.insert(0, str(ROOT / "scripts"))
import typeset_compare  # noqa: E402

LEADING = 14.4
LONG = ("administration understanding considerable international responsibility organisation particularly "
        "development consequently establishment manufacturing independence extraordinary proportionate "
        "circumstances representative agricultural communication significantly transportation "
        "commercial experimental contemporary neighbourhood photographic accommodation").split()
SHORT = "the of and a to in is was it for on as with by at from his her they we an be or this which".split()


def paragraph(rng: random.Random) -> str:
    words = [rng.choice(LONG) if rng.random() < 0.45 else rng.choice(SHORT) for _ in range(rng.randint(40, 90))]
    return (words[0].capitalize() + " " + " ".join(words[1:]) + ".")


def manuscript(seed: int, furniture: bool) -> str:
    rng = random.Random(seed)
    parts = ["# Generated\n"]
    for n in range(1, 5 if furniture else 2):
        if furniture:
            parts.append(f"## Section {n}\n")
        for k in range(9 if furniture else 40):
            parts.append(paragraph(rng) + (f"[^{n}]" if furniture and k == 1 else ""))
            if furniture and k == 2:
                parts.append("> " + paragraph(rng) + "\n>\n> " + paragraph(rng))
            if furniture and k == 4:
                parts.append("\n".join("- " + " ".join(rng.choice(SHORT + LONG) for _ in range(rng.randint(4, 14)))
                                       for _ in range(3)))
            if furniture and k == 6:
                parts.append("* * *")
    if furniture:       # a note call in each section: its line is no taller than the others
        parts += [f"[^{n}]: " + paragraph(rng) for n in range(1, 5)]
    return "\n\n".join(parts) + "\n"


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    out = {}
    for name, furniture in (("plain", False), ("furnished", True)):
        root = tmp_path_factory.mktemp(name)
        book = write_book(root / "book", manuscript(7, furniture), METADATA)
        result = run_cli("--book", book, "--out", root / "out", "--no-cache", "--edition", "pdf")
        assert result.code == 0, result.err
        out[name] = next((root / "out").glob("*.pdf"))
    return out


def body_lines(pdf):
    """page -> [(baseline, text)] of the 11 pt lines of the main text."""
    pages: dict = {}
    for n, kind, chars, y in typeset_compare._lines(pdf):
        if kind == "body":
            pages.setdefault(n, []).append((max(c["bottom"] for c in chars), "".join(c["text"] for c in chars)))
    return pages


def test_no_word_is_hyphenated_across_the_foot_of_a_recto(books):
    pages = body_lines(books["plain"])
    rectos = [n for n in pages if n % 2 == 1 and len(pages[n]) > 20]
    assert len(rectos) >= 5
    hyphenated = sum(text[-1:] in typeset_compare.HYPHENS for lines in pages.values() for _, text in lines)
    total = sum(len(lines) for lines in pages.values())
    assert hyphenated / total > 0.1       # hyphens are common here: one at a recto's foot would be likely
    for n in rectos:
        foot = pages[n][-1][1]
        assert foot[-1:] not in typeset_compare.HYPHENS, (n, foot)


def test_body_lines_stand_on_the_grid_of_the_line_height(books):
    pages = body_lines(books["furnished"])
    firsts = Counter(round(lines[0][0], 1) for n, lines in pages.items() if len(lines) > 20)
    top = firsts.most_common(1)[0][0]       # the first baseline of a full page
    checked = 0
    for n, lines in pages.items():
        if len(lines) < 20:
            continue        # the opening page: its title sinks the text
        for baseline, text in lines:
            if text.startswith("Section"):
                continue    # a heading stands between grid lines; what follows it is back on the grid
            off = (baseline - top) % LEADING
            assert min(off, LEADING - off) < 0.6, (n, baseline, text[:40])
            checked += 1
    assert checked > 100


def test_the_furnished_book_has_what_the_grid_test_needs(books):
    import pdfplumber
    with pdfplumber.open(str(books["furnished"])) as pdf:
        sizes = Counter(round(c["size"]) for page in pdf.pages for c in page.chars)
    assert sizes[10] > 100          # block quotes (10 pt) were set between the body's lines
    assert sizes[9] > 100           # and notes (9 pt), their calls in the body's lines
