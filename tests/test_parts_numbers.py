"""A book with parts numbers its chapters through the book: a reference to a part's second
chapter reads "Chapter 2", not "Section 1.2" (the part counted as chapter 1, its chapters as
its sections); a chapter's section "Section 3.1"; a part "Part 2". With `number-sections`,
the headings print the same numbers (a part none: its title says it). References inside
notes too. Before: "Section 1.2", "Section 2.1", "Section 2.1.1", in every edition."""

from __future__ import annotations

import re
import zipfile

import pdfplumber
import pytest

from conftest import run_cli, write_book

FILLER = " ".join(["Words of an ordinary sentence that fills the chapter with plain text."] * 12)

METADATA = """\
title: Parts Numbered
author: A Tester
lang: en
form: book
number-sections: true
identifier: urn:uuid:00000000-0000-4000-8000-00000000aa01
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("parts-numbers")
    book = write_book(root / "book", (
        f"# Opening {{#sec-open}}\n\n{FILLER} See @sec-second and @sec-deep.\n\n"
        f"# Part One: Land {{.part #sec-land}}\n\n## First Chapter {{#sec-first}}\n\n{FILLER}\n\n"
        f"## Second Chapter {{#sec-second}}\n\n{FILLER} Back to @sec-open; onward to @sec-water.[^a]\n\n"
        f"[^a]: A note that refers to @sec-third and @sec-deep.\n\n"
        f"# Part Two: Water {{.part #sec-water}}\n\n## Third Chapter {{#sec-third}}\n\n{FILLER}\n\n"
        f"### A Division {{#sec-deep}}\n\n{FILLER}\n"), METADATA, "01.md")
    out = root / "out"
    result = run_cli("--book", book, "--out", out, "--edition", "pdf", "--edition", "epub")
    assert result.code == 0, result.err[-3000:]
    with pdfplumber.open(next(out.glob("*.pdf"))) as pdf:
        text = "\n".join(p.extract_text() or "" for p in pdf.pages)
    with zipfile.ZipFile(next(out.glob("*.epub"))) as z:
        epub = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xhtml"))
    return " ".join(text.split()), epub


def test_references_count_chapters_through_the_book(built):
    text, _ = built
    assert "See Chapter 3 and Section 4.1." in text
    assert "Back to Chapter 1; onward to Part 2." in text
    assert "refers to Chapter 4 and Section 4.1." in text
    assert "Section 1.2" not in text and "Section 2.1" not in text


def test_headings_print_the_same_numbers(built):
    text, _ = built
    for heading in ("1 Opening", "2 First Chapter", "3 Second Chapter", "4 Third Chapter", "4.1 A Division"):
        assert heading in text, heading
    assert "7 Part One: Land 9 2 First Chapter" in text and "2 Part One" not in text   # contents: a part has no number


def test_the_epub_says_the_same(built):
    _, epub = built
    links = re.findall(r'class="crossref"[^>]*>([^<]*)<', epub)
    assert sorted(links) == sorted(["Chapter\u00a03", "Section\u00a04.1", "Chapter\u00a01", "Part\u00a02",
                                    "Chapter\u00a04", "Section\u00a04.1"])
