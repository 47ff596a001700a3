"""The EPUB's print page numbers, proven against the print edition: the page list names exactly
the pages of the PDF that carry text, and the words after each page-break marker are the words
that open that printed page (read from the PDF with pdfplumber)."""

from __future__ import annotations

import json

import pdfplumber
import pikepdf
import pytest

from conftest import BOOK, run_cli, write_book
from epub_books import EPUB_TYPE, NS, chapters_build, epub_files, xml
from imprint.specs.editions import DESIGN_MARGINS, trim as trim_for
from imprint.manuscript.load import load

WINDOW = 60          # letters compared at the start of every page


TABLES_METADATA = """\
title: Tables and Lists
author: Test Author
lang: en
form: book
trim: 5x8
identifier: urn:uuid:00000000-0000-4000-8000-000000000066
date: 2020-01-01
"""


def tables_manuscript() -> str:
    """Blocks that cross pages in their own ways: a table whose header row is set again on
    each page, a code block, a definition list."""
    rows = "\n".join(f"| row {i} of the long table | value {i} in several words | {i * 7} |" for i in range(1, 50))
    code = "\n".join(f"    line {i} of a long code block that runs on" for i in range(1, 45))
    terms = "\n\n".join(f"Term {i}\n:   Definition {i} is a sentence long enough to wrap at the end of the line."
                        for i in range(1, 16))
    return (f"# Tables\n\nA paragraph before the table.\n\n| Item | Description | Amount |\n|---|---|--:|\n{rows}\n\n"
            f"After the table.\n\n# Code\n\nText before the code.\n\n{code}\n\nAfter the code.[^1]\n\n"
            f"# Definitions\n\n{terms}\n\nA last paragraph.\n\n[^1]: The note.\n")


@pytest.fixture(scope="module", params=["essay", "chapters", "tables"])
def book(request, essay_build, essay_slug, tmp_path_factory):
    """(the PDF's text pages, EPUB files, report) for the essay, the tiny multi-chapter book
    and a book of tables, code and lists."""
    if request.param == "essay":
        out, slug, meta = essay_build, essay_slug, load(BOOK).metadata
    elif request.param == "chapters":
        out = chapters_build(tmp_path_factory.getbasetemp())
        slug = "councils-and-committees"
        meta = load(out.parent / "book").metadata
    else:
        folder = write_book(tmp_path_factory.mktemp("tables") / "book", tables_manuscript(), TABLES_METADATA)
        out, slug, meta = folder.parent / "out", "tables-and-lists", load(folder).metadata
        result = run_cli("--book", folder, "--out", out)
        assert result.code == 0, result.err
    report = json.loads((out / f"{slug}.report.json").read_text(encoding="utf-8"))
    pdf_path = out / f"{slug}.pdf"
    return printed_pages(meta, pdf_path), epub_files(out / f"{slug}.epub"), report


def letters(text: str) -> str:
    """Letters only, case folded: note numbers, punctuation and line-end hyphens drop out."""
    return "".join(c for c in text.casefold() if c.isalpha())


def first_text_page(pdf_path) -> int:
    """The page of the first heading of the text: the PDF's first bookmark after the contents."""
    with pikepdf.open(pdf_path) as pdf:
        with pdf.open_outline() as outline:
            pages = {p.objgen: i for i, p in enumerate(pdf.pages, start=1)}
            for item in outline.root:
                if item.title.strip().casefold() != "contents":
                    return pages[item.destination[0].objgen]
    raise AssertionError("no bookmark for the text")


def printed_pages(meta, pdf_path) -> dict[int, str]:
    """Page number -> text of the text block (running heads and folios left out), for every
    page from the start of the text that carries any."""
    margins = DESIGN_MARGINS[trim_for(meta.trim).name]
    start = first_text_page(pdf_path)
    out = {}
    with pdfplumber.open(pdf_path) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            if number < start:
                continue
            text = page.crop((0, margins.top - 1, page.width, page.height)).extract_text() or ""
            if letters(text):
                out[number] = text
    return out


def page_list(files) -> list[tuple[str, str]]:
    nav = xml(files, "EPUB/nav.xhtml")
    return [(a.text, a.get("href")) for a in nav.xpath("//x:nav[@epub:type='page-list']//x:a", namespaces=NS)]


def text_after(files, href: str) -> str:
    """Letters of the text that follows the marker `href` points at, notes left out."""
    name, ident = href.split("#")
    doc = xml(files, "EPUB/" + name)
    marker = doc.xpath(f"//*[@id='{ident}']")[0]
    assert marker.get(EPUB_TYPE) == "pagebreak" and marker.get("role") == "doc-pagebreak"
    texts = marker.xpath("following::text()[not(ancestor::x:aside)]", namespaces=NS)
    return letters("".join(texts[:200]))


def test_page_list_names_every_printed_page_of_the_text(book):
    printed, files, report = book
    expected = [str(n) for n in printed]
    assert [label for label, _ in page_list(files)] == expected
    assert not [f for f in report["editions"]["epub"]["findings"] if f["code"] == "E201"]


def test_each_marker_is_followed_by_the_words_that_open_its_page(book):
    printed, files, _ = book
    entries = page_list(files)
    assert entries
    split_words = 0
    for label, href in entries:
        after = text_after(files, href)
        lines = printed[int(label)].splitlines()
        if int(label) - 1 in printed and lines[0] in printed[int(label) - 1].splitlines():
            lines = lines[1:]            # a table's header row, set again at the top of the page
        opening = letters("\n".join(lines))[:WINDOW]
        if not after.startswith(opening[:20]):
            # The page begins inside a word hyphenated at the foot of the page before: the
            # marker stands before the whole word, whose first part ends a line there.
            k = after.find(opening[:20])
            assert 0 < k < 30, f"page {label}: EPUB {after[:40]!r} != print {opening[:40]!r}"
            before = printed[int(label) - 1].splitlines()
            assert any(line.rstrip()[-1:] in "-\u2010" and letters(line).endswith(after[:k]) for line in before)
            after = after[k:]
            split_words += 1
        # The text runs on in the EPUB where the page ends in print: compare what both have.
        n = min(len(opening), len(after), WINDOW)
        assert n >= min(20, len(opening)), f"page {label}: too little text after the marker"
        assert after[:n] == opening[:n], f"page {label}: EPUB {after[:n]!r} != print {opening[:n]!r}"
    assert split_words < len(entries)


def test_markers_are_labelled_and_only_where_the_page_list_points(book):
    _, files, _ = book
    targets = {href for _, href in page_list(files)}
    found = set()
    for name, data in files.items():
        if name.startswith("EPUB/text/"):
            doc = xml(files, name)
            for span in doc.xpath("//*[@epub:type='pagebreak']", namespaces=NS):
                assert span.get("role") == "doc-pagebreak"
                assert span.get("aria-label") == span.get("id").removeprefix("page-")
                assert len(span) == 0 and not (span.text or "").strip()     # an empty marker: no visible text
                found.add(f"{name.removeprefix('EPUB/')}#{span.get('id')}")
    assert found == targets


def test_a_page_that_cannot_be_placed_is_reported_not_dropped_silently():
    from imprint.editions import epub
    from imprint.html import render
    from imprint.typeset.pagemap import PageStart

    book = load(BOOK)
    body = render.body_html(book)
    first = body.root.xpath(f"//*[@{render.BLOCK_KEY}]")[0]
    starts = (PageStart("7", (render.BLOCK_KEY, first.get(render.BLOCK_KEY)), 0, "opening words"),
              PageStart("8", (render.BLOCK_KEY, "no-such-block"), 0, "lost words"))
    made = epub.package_edition(book, body, None, starts)
    assert made.pages == 1
    lost = [f for f in made.findings if f.code == "E201"]
    assert len(lost) == 1 and lost[0].page == 8 and lost[0].severity == "warning" and "lost words" in lost[0].message
