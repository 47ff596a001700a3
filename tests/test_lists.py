"""Ordered lists numbered as the author wrote them (imprint/html/render.py ordered_lists,
styles/filters/list-delimiters.lua): a list starting at 9, lettered and roman lists, and
the parenthesised delimiters "(1)" and "A)". WeasyPrint 70 reads neither `start` nor `type`,
and pandoc's HTML drops the delimiter, so without them every list printed "1. 2." — the
PDF is read back here, the EPUB's markup checked."""

from __future__ import annotations

import json
import re
import zipfile

import pdfplumber
import pytest

from conftest import run_cli

MANUSCRIPT = """\
---
title: Numbered Lists
author: A. Writer
lang: en
identifier: urn:uuid:00000000-0000-4000-8000-00000000115e
date: 2020-01-01
---

# One

Before the lists.

9. ninth item
10. tenth item
11. eleventh item

Between.

a. alpha item
b. beta item

Between.

iv. fourth item
v. fifth item
vi. sixth item

Between.

(1) first parenthesised
(2) second parenthesised

Between.

A) upper first
B) upper second

<ol type="a" start="3" reversed><li>raw cee</li><li>raw bee</li></ol>

<ol><li value="7">valued seven</li><li>valued eight</li></ol>

After the lists, a note holding lists.[^lists]

[^lists]: The note's lists:

    b) note bee
    c) note cee

    and

    (iii) note three
    (iv) note four
"""

def roman(n: int) -> str:
    out = ""
    for value, letters in ((40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= value:
            out, n = out + letters, n - value
    return out


# Forty items numbered (i) to (xl): "(xxxviii)" is wider than the widest hanging indent a class gave
MANUSCRIPT += "\nForty.\n\n" + "".join(f"({roman(n)}) long roman {n}\n" for n in range(1, 41))

EXPECTED = [("9.", "ninth"), ("10.", "tenth"), ("11.", "eleventh"), ("a.", "alpha"), ("b.", "beta"),
            ("iv.", "fourth"), ("v.", "fifth"), ("vi.", "sixth"), ("(1)", "first parenthesised"), ("(2)", "second parenthesised"),
            ("A)", "upper first"), ("B)", "upper second"),
            # raw HTML: <ol reversed> counts down, <li value> sets the number (WeasyPrint 70 reads neither)
            ("c.", "raw cee"), ("b.", "raw bee"), ("7.", "valued seven"), ("8.", "valued eight"),
            ("(xxxviii)", "long roman 38"), ("(xl)", "long roman 40")]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lists")
    (folder / "lists.md").write_text(MANUSCRIPT, encoding="utf-8")
    out = folder / "out"
    result = run_cli(folder / "lists.md", "--out", out, "--edition", "pdf", "--edition", "epub", "--no-cache")
    assert result.code == 0, result.err
    return out


def test_the_pdf_prints_each_number_as_written_and_inside_the_text_area(built):
    with pdfplumber.open(built / "numbered-lists.pdf") as pdf:
        page = next(p for p in pdf.pages if "ninth item" in (p.extract_text() or ""))
        lines = [l.strip() for p in pdf.pages for l in (p.extract_text() or "").splitlines()]
        words = page.extract_words()
    for marker, text in EXPECTED:
        assert any(re.fullmatch(re.escape(marker) + r"\s*" + re.escape(text) + r"( item)?", l) for l in lines), \
            (marker, text, lines)
    # The numbers hang right-aligned before the text, every item's text starting at one x in its list.
    x = {}
    for w in words:                 # each word's first place: "first" and "second" parenthesised
        x.setdefault(w["text"], w["x0"])
    assert abs(x["ninth"] - x["tenth"]) < 0.5 and abs(x["first"] - x["second"]) < 0.5 \
        and abs(x["alpha"] - x["beta"]) < 0.5
    report = json.loads((built / "numbered-lists.report.json").read_text())
    assert not [f for f in report["findings"] if f["code"] in ("L205", "L206")], report["findings"]


NOTE_EXPECTED = [("b)", "note bee"), ("c)", "note cee"), ("(iii)", "note three"), ("(iv)", "note four")]


def test_a_notes_lists_are_numbered_as_written_too(built):
    # a note's list is a span.fn-ol (render._inline_note): it printed "2. 3." and "3. 4." before
    with pdfplumber.open(built / "numbered-lists.pdf") as pdf:
        page = next(p for p in pdf.pages if "note bee" in (p.extract_text() or ""))
        lines = [l.strip() for l in (page.extract_text() or "").splitlines()]
    for marker, text in NOTE_EXPECTED:
        assert any(re.fullmatch(re.escape(marker) + r"\s*" + re.escape(text), l) for l in lines), (marker, text, lines)


def test_the_epub_keeps_start_and_type_for_the_reading_system(built):
    with zipfile.ZipFile(built / "numbered-lists.epub") as z:
        text = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xhtml"))
    lists = re.findall(r"<ol[^>]*>", text)
    assert any('start="9"' in o for o in lists) and any('type="a"' in o for o in lists)
    assert any('type="i"' in o and 'start="4"' in o for o in lists)
    assert sum("list-twoparens" in o for o in lists) == 3 and sum("list-oneparen" in o for o in lists) == 2   # the note's and the forty too
    assert "imprint-list-" not in text            # the filter's wrapper is gone
    # the parenthesis is print-only, and the build says so
    report = json.loads((built / "numbered-lists.report.json").read_text())
    said = [f for f in report["findings"] if f["code"] == "E207"]
    assert len(said) == 1 and said[0]["message"].startswith("5 numbered list(s)")   # 3 in the text (one of 40 items), 2 in a note, said


def test_a_div_of_the_filters_class_keeps_its_id(tmp_path):
    # the wrapper the Lua filter adds is unwrapped; an author's div of that class with an id lost
    # the id, and a page reference to it failed the build (X204: on no laid-out page)
    from imprint.html.render import body_html
    from imprint.manuscript.load import load
    book = tmp_path / "book.md"
    book.write_text("---\ntitle: Div\nauthor: A\nlang: en\n---\n\n# One\n\n"
                    "::: {#steps .imprint-list-oneparen}\n5. five\n6. six\n:::\n\nSee page [](#steps){.page}.\n")
    root = body_html(load(book)).root
    assert [ol.get("class") for ol in root.xpath(".//ol[@id='steps']")] == ["list-delim list-oneparen list-decimal"]
