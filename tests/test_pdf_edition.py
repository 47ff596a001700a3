"""The download PDF of the essay, opened and read back: page size, fonts, notes on their
call's page, links both ways, bookmarks, metadata and tagging."""

import re

import pdfplumber
import pikepdf
import pytest

from conftest import BOOK
from imprint.manuscript.load import load


@pytest.fixture(scope="module")
def pdf_path(essay_build, essay_slug):
    return essay_build / f"{essay_slug}.pdf"


@pytest.fixture(scope="module")
def pdf(pdf_path):
    with pikepdf.open(pdf_path) as doc:
        yield doc


@pytest.fixture(scope="module")
def page_texts(pdf_path):
    with pdfplumber.open(pdf_path) as doc:
        return [page.extract_text() or "" for page in doc.pages]


def test_pages_are_6_by_9_inches_with_trimbox(pdf):
    for page in pdf.pages:
        assert [float(v) for v in page.MediaBox] == [0, 0, 432, 648]
        assert [float(v) for v in page.TrimBox] == [0, 0, 432, 648]


def test_every_font_is_embedded_and_the_text_face_is_libertine(pdf):
    names = set()
    for page in pdf.pages:
        for font in page.Resources.Font.values():
            descriptor = font.get("/FontDescriptor") or font.DescendantFonts[0].FontDescriptor
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), font.BaseFont
            names.add(str(font.BaseFont).split("+")[-1])
    assert {"Libertine", "Libertine-Italic"} <= names
    assert not any("DejaVu" in n for n in names)


def destinations(pdf):
    """Named destination -> 0-based page index."""
    index = {page.objgen: i for i, page in enumerate(pdf.pages)}
    out = {}
    tree = pikepdf.NameTree(pdf.Root.Names.Dests)
    for name, dest in tree.items():
        out[name] = index[dest[0].objgen]
    return out


def links(pdf):
    """(page index, destination name) for every internal link annotation."""
    out = []
    for i, page in enumerate(pdf.pages):
        for annot in page.get("/Annots", []):
            if annot.get("/Subtype") == "/Link" and "/Dest" in annot:
                out.append((i, str(annot.Dest)))
            elif annot.get("/Subtype") == "/Link" and "/A" in annot and "/D" in annot.A:
                out.append((i, str(annot.A.D)))
    return out


def test_each_note_starts_on_the_page_of_its_call_and_links_both_ways(pdf, page_texts):
    book = load(BOOK)
    dests = destinations(pdf)
    calls = {name: page for page, name in links(pdf)}
    assert len(book.notes.definitions) == 3
    for n, definition in enumerate(book.notes.definitions, start=1):
        call_page = dests[f"fnref{n}"]
        note_page = dests[f"fn{n}"]
        assert call_page == note_page, f"note {n}"
        assert calls[f"fn{n}"] == call_page             # the call links to the note
        assert calls[f"fnref{n}"] == note_page          # the note's number links back
        opening = " ".join(re.sub(r"[*]", "", definition.text).split()[:6])
        flat = " ".join(page_texts[note_page].replace("-\n", "").split())
        assert f"{n} {opening}" in flat, f"note {n} text not on page {note_page + 1}"


def test_note_text_has_no_forced_line_breaks(pdf, pdf_path):
    # Pandoc wraps HTML lines; none of that may reach a note: every line of a note except
    # its last is justified out to the full measure.
    note_pages = sorted({destinations(pdf)[f"fn{n}"] for n in (1, 2, 3)})
    with pdfplumber.open(pdf_path) as doc:
        for index in note_pages:
            page = doc.pages[index]
            small = [w for w in page.extract_words(extra_attrs=["size"]) if 8.5 < w["size"] < 9.5 and w["top"] > 60]
            lines = {}
            for w in small:
                lines.setdefault(round(w["top"]), []).append(w)
            # a page may hold more than one note: each note's last line is left out
            notes: list[list[float]] = []
            for _, ws in sorted(lines.items()):
                ws.sort(key=lambda w: w["x0"])
                if not notes or ws[0]["text"] in ("1", "2", "3"):
                    notes.append([])
                notes[-1].append(max(w["x1"] for w in ws) - min(w["x0"] for w in ws))
            widths = [w for note in notes for w in note[:-1]]
            assert len(widths) >= 2
            assert min(widths) > 0.97 * max(widths), f"page {index + 1}: {notes}"


def test_bookmarks_name_the_headings_without_note_numbers(pdf):
    book = load(BOOK)
    with pdf.open_outline() as outline:
        titles = [item.title for item in outline.root]
        children = [c.title for item in outline.root for c in item.children]
    assert book.metadata.title in titles
    assert children == [h.label for h in book.headings]


def test_document_metadata_language_and_tagging(pdf):
    info = pdf.docinfo
    assert str(info.Title) == "The Russian Revolution and Workers Democracy"
    assert str(info.Author) == "Suzi Weissman"
    assert str(pdf.Root.Lang) == "en"
    assert pdf.Root.MarkInfo.Marked
    assert "/StructTreeRoot" in pdf.Root
    with pdf.open_metadata() as xmp:
        assert xmp.get("pdfuaid:part") == "1"


def test_running_heads_and_folios_not_on_title_pages(pdf_path):
    with pdfplumber.open(pdf_path) as doc:
        tops = [[w["text"] for w in page.extract_words() if w["top"] < 50] for page in doc.pages]
    assert all(not t for t in tops[:7])                       # front matter and the opening page
    verso = next(i for i in range(7, len(tops)) if i % 2 == 1)  # page index 7 is page 8, a verso
    assert tops[verso][0] == str(verso + 1) and " ".join(tops[verso][1:]) == "Suzi Weissman"
    recto = verso + 1
    assert tops[recto][-1] == str(recto + 1)


def test_contents_lists_every_section_with_its_page(pdf, page_texts):
    book = load(BOOK)
    dests = destinations(pdf)
    contents = next(t for t in page_texts if t.startswith("Contents"))
    for heading in book.headings:
        page = dests[heading.id] + 1
        assert re.search(re.escape(heading.label) + r"\s+" + str(page), contents), heading.label
