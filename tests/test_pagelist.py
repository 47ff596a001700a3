"""The EPUB's print page numbers, proven against the print edition: the page list names exactly
the pages of the PDF that carry text, and the words after each page-break marker are the words
that open that printed page (read from the PDF with pdfplumber)."""

from __future__ import annotations

import pdfplumber
import pikepdf
import pytest

from conftest import BOOK
from epub_books import EPUB_TYPE, NS, chapters_build, epub_files, xml
from imprint.editions import DESIGN_MARGINS, trim as trim_for
from imprint.load import load

WINDOW = 60          # letters compared at the start of every page


@pytest.fixture(scope="module", params=["essay", "chapters"])
def book(request, essay_build, essay_slug, tmp_path_factory):
    """(book folder's metadata, PDF path, EPUB files) for the essay and the tiny multi-chapter book."""
    if request.param == "essay":
        out, slug, meta = essay_build, essay_slug, load(BOOK).metadata
    else:
        out = chapters_build(tmp_path_factory.getbasetemp())
        slug = "councils-and-committees"
        meta = load(out.parent / "book").metadata
    return meta, out / f"{slug}.pdf", epub_files(out / f"{slug}.epub")


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
    """Letters of the text that follows the marker `href` points at, up to the chapter's notes."""
    name, ident = href.split("#")
    doc = xml(files, "EPUB/" + name)
    marker = doc.xpath(f"//*[@id='{ident}']")[0]
    assert marker.get(EPUB_TYPE) == "pagebreak" and marker.get("role") == "doc-pagebreak"
    out, started = [], False
    for node in doc.iter():
        if node is marker:
            started = True
            out.append(node.tail or "")
            continue
        if not started or not isinstance(node.tag, str):
            continue
        if node.xpath("ancestor-or-self::x:aside", namespaces=NS):
            continue
        if marker in node.iterancestors():
            continue
        out.append((node.text or "") + (node.tail or ""))
        if len(letters("".join(out))) > WINDOW:
            break
    return letters("".join(out))


def test_page_list_names_every_printed_page_of_the_text(book):
    meta, pdf_path, files = book
    expected = [str(n) for n in printed_pages(meta, pdf_path)]
    assert [label for label, _ in page_list(files)] == expected


def test_each_marker_is_followed_by_the_words_that_open_its_page(book):
    meta, pdf_path, files = book
    printed = printed_pages(meta, pdf_path)
    entries = page_list(files)
    assert entries
    split_words = 0
    for label, href in entries:
        after = text_after(files, href)
        opening = letters(printed[int(label)])[:WINDOW]
        if not after.startswith(opening[:20]):
            # The page begins inside a word hyphenated at the foot of the page before: the
            # marker stands before the whole word, whose first part ends a line there.
            k = after.find(opening[:20])
            assert 0 < k < 30, f"page {label}: EPUB {after[:40]!r} != print {opening[:40]!r}"
            lines = printed[int(label) - 1].splitlines()
            assert any(line.rstrip()[-1:] in "-\u2010" and letters(line).endswith(after[:k]) for line in lines)
            after = after[k:]
            split_words += 1
        # The text runs on in the EPUB where the page ends in print: compare what both have.
        n = min(len(opening), len(after), WINDOW)
        assert n >= min(20, len(opening)), f"page {label}: too little text after the marker"
        assert after[:n] == opening[:n], f"page {label}: EPUB {after[:n]!r} != print {opening[:n]!r}"
    assert split_words < len(entries)


def test_markers_are_labelled_and_only_where_the_page_list_points(book):
    _, _, files = book
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
    from imprint import package, render
    from imprint.pagemap import PageStart

    book = load(BOOK)
    body = render.body_html(book)
    first = body.root.xpath(f"//*[@{render.BLOCK_KEY}]")[0]
    starts = (PageStart("7", (render.BLOCK_KEY, first.get(render.BLOCK_KEY)), 0, "opening words"),
              PageStart("8", (render.BLOCK_KEY, "no-such-block"), 0, "lost words"))
    made = package.package_edition(book, body, None, starts)
    assert made.pages == 1
    lost = [f for f in made.findings if f.code == "E201"]
    assert len(lost) == 1 and lost[0].page == 8 and lost[0].severity == "warning" and "lost words" in lost[0].message
