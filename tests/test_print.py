"""The print interior: trim and boxes, mirrored margins, the same pages as the PDF, the
gutter band, padding, PDF/X-1a for IngramSpark, bleed for plates."""

from __future__ import annotations

import dataclasses
import json

import pdfplumber
import pikepdf
import pytest

from conftest import ROOT, run_cli
from print_helpers import IN, book_text, boxes, colour_operators, page_texts

from imprint import pipeline
from imprint.specs import profiles
from imprint.specs.profiles import GutterBand, PageRules


def files(out, slug):
    return out / f"{slug}.pdf", out / f"{slug}-print.pdf", out / f"{slug}-cover.pdf"


def test_print_interior_is_trim_size_with_even_count_and_no_links(essay_build, essay_slug):
    pdf, printed, _ = files(essay_build, essay_slug)
    trims = boxes(printed)
    assert all(t == [0, 0, 6 * IN, 9 * IN] for t in trims)
    assert boxes(printed, "/MediaBox") == trims          # no art reaches the edge: no bleed
    assert len(trims) % 2 == 0
    with pikepdf.open(printed) as p:
        assert not any("/Annots" in page.obj for page in p.pages)
        assert "/Outlines" not in p.Root
        fonts = {str(f.BaseFont): f for page in p.pages for f in page.obj.Resources.Font.values()}
        vendored = {"/Libertine": "LinLibertine_R.otf", "/Libertine-Italic": "LinLibertine_RI.otf"}
        assert set(fonts) <= set(vendored) and fonts, fonts.keys()     # no subset tags
        for name, font in fonts.items():
            embedded = font.DescendantFonts[0].FontDescriptor.FontFile3.read_bytes()
            assert embedded == (ROOT / "styles/fonts/libertine" / vendored[name]).read_bytes()
    with pikepdf.open(pdf) as p:                   # the download keeps its links and bookmarks
        assert any("/Annots" in page.obj for page in p.pages) and "/Outlines" in p.Root


def test_page_n_shows_the_same_text_in_both_pdfs(essay_build, essay_slug):
    pdf, printed, _ = files(essay_build, essay_slug)
    screen, paper = page_texts(pdf), page_texts(printed)
    assert len(paper) >= len(screen) and len(paper) - len(screen) <= 2
    for number, (a, b) in enumerate(zip(screen, paper), start=1):
        assert a == b, f"page {number} differs"
    assert all(text == "" for text in paper[len(screen):])      # padding pages are blank
    assert sum(1 for t in screen if len(t) > 1000) >= 15        # and the text really is there


def test_margins_are_mirrored_with_the_gutter_inside(essay_build, essay_slug):
    _, printed, _ = files(essay_build, essay_slug)
    with pdfplumber.open(printed) as p:            # cross-check with a second PDF reader
        for number in (10, 11):                    # a verso, then a recto: full text pages
            chars = [c for c in p.pages[number - 1].chars if c["text"].strip() and c["size"] > 10]
            left, right = min(c["x0"] for c in chars), max(c["x1"] for c in chars)
            inside, outside = (left, 6 * IN - right) if number % 2 else (6 * IN - right, left)
            assert inside == pytest.approx(0.8 * IN, abs=1.0)
            assert outside == pytest.approx(0.625 * IN, abs=1.0)


def test_report_records_print_pages_and_preflight(essay_build, essay_slug):
    report = json.loads((essay_build / f"{essay_slug}.report.json").read_text())
    assert report["editions"]["print"]["pages"] == len(boxes(essay_build / f"{essay_slug}-print.pdf"))
    assert report["editions"]["print"]["pages"] - report["editions"]["pdf"]["pages"] in (0, 1, 2)
    assert report["preflight"]["profile"] == "kdp"
    assert report["preflight"]["summary"] == "0 errors, 0 warnings"


def test_a_book_that_moves_to_a_wider_gutter_band_is_laid_out_again(tiny_book, tmp_path, monkeypatch):
    book = tiny_book(book_text(12))
    # A made-up printer whose gutter jumps by one inch after 6 pages, and a first guess of
    # the page count that is too low: the real count must send the book to the wider band.
    printer = dataclasses.replace(profiles.KDP, name="test", gutter=(GutterBand(1, 6, 0.375 * IN),
                                  GutterBand(7, 999, 1.375 * IN)), pages=PageRules(1, 999))
    monkeypatch.setattr(pipeline, "estimate_pages", lambda book, trim: 1)
    said = []
    result = pipeline.build(book, tmp_path / "out", ["pdf", "print"], profile=printer, progress=said.append)
    assert any(m.startswith("print:") and m.endswith("(2 layouts)") for m in said), said
    by_name = {r.edition: r for r in result.editions}
    assert by_name["print"].pages >= 7
    for name in ("pdf", "print"):
        with pdfplumber.open(tmp_path / "out" / by_name[name].file) as p:
            recto = p.pages[6]                     # page 7: text, a recto
            left = min(c["x0"] for c in recto.chars if c["text"].strip())
            assert left == pytest.approx((0.8 + 1.0) * IN, abs=1.0), name


def test_a_book_below_the_kdp_minimum_is_padded_with_a_warning(tiny_book, tmp_path):
    book = tiny_book(book_text(2))
    out = tmp_path / "out"
    strict = run_cli("--book", book, "--out", out, "--edition", "print", "--strict")
    assert strict.code == 1 and "P120" in strict.err and not out.exists()
    run = run_cli("--book", book, "--out", out, "--edition", "print", "--trim", "a5")
    assert run.code == 0, run.err
    printed = out / "a-tiny-book-print.pdf"
    texts = page_texts(printed)
    assert "council" in texts[4] and "council" not in texts[3]      # the text starts on a recto
    pages = max(i for i, t in enumerate(texts, start=1) if t)
    assert f"warning: P120 the book has {pages} pages; Amazon KDP paperback prints at least 24: " \
           f"{24 - pages} blank pages were added at the end" in run.err
    assert len(texts) == 24 and all(t == "" for t in texts[pages:])
    assert boxes(printed)[0] == pytest.approx([0, 0, 148 / 25.4 * IN, 210 / 25.4 * IN], abs=0.01)


def test_ingram_gets_pdf_x1a_in_cmyk_with_a_blank_last_page(tiny_book, tmp_path):
    book = tiny_book(book_text(3))
    out = tmp_path / "out"
    run = run_cli("--book", book, "--out", out, "--edition", "pdf", "--edition", "print", "--profile", "ingram")
    assert run.code == 0, run.err
    printed = out / "a-tiny-book-print.pdf"
    with pikepdf.open(printed) as p:
        assert str(p.docinfo["/GTS_PDFXVersion"]) == "PDF/X-1a:2003" and p.pdf_version == "1.4"
        intent = p.Root.OutputIntents[0]
        assert intent.S == "/GTS_PDFX" and str(intent.OutputConditionIdentifier) == "CGATS TR 001"
        assert not any("/lab-d50" in page.obj.Resources.ColorSpace for page in p.pages)
    assert not {"rg", "RG"} & colour_operators(printed)      # the cause of RGB is gone...
    assert "rg" in colour_operators(out / "a-tiny-book.pdf")  # ...only in the print file
    texts = page_texts(printed)
    assert len(texts) % 2 == 0 and texts[-1] == ""


def test_a_plate_bleeds_in_kdp_geometry_and_is_cut_at_the_trim_for_the_screen(tiny_book, tmp_path):
    from PIL import Image
    book = tiny_book("Some text before the plate.\n\n![A plate](plate.png){.bleed}\n\nText after it.\n")
    Image.new("L", (600, 900), 90).save(book / "plate.png")
    out = tmp_path / "out"
    run = run_cli("--book", book, "--out", out, "--edition", "pdf", "--edition", "print")
    assert run.code == 0, run.err
    assert "warning: P110 plate.png at 96 ppi" in run.err                # 600 px over 6.25 in
    media, trim, bleed = (boxes(out / "a-tiny-book-print.pdf", k) for k in ("/MediaBox", "/TrimBox", "/BleedBox"))
    b = 0.125 * IN
    for number, (m, t) in enumerate(zip(media, trim), start=1):
        assert t == [0, 0, 6 * IN, 9 * IN]
        # KDP: bleed on top, bottom and outside; none on the binding edge.
        assert m == ([0, -b, 6 * IN + b, 9 * IN + b] if number % 2 else [-b, -b, 6 * IN, 9 * IN + b])
    assert bleed == media
    assert boxes(out / "a-tiny-book.pdf", "/MediaBox") == trim[:len(boxes(out / "a-tiny-book.pdf"))]


def test_writing_the_print_file_leaves_the_download_pdf_as_it_was(essay_build, essay_slug, tmp_path):
    # The print file is written from the same layout with CMYK painting, whole fonts and
    # padding; none of it may leak into the download PDF written from that layout.
    run = run_cli("--book", ROOT / "book", "--out", tmp_path, "--edition", "pdf")
    assert run.code == 0, run.err
    assert (tmp_path / f"{essay_slug}.pdf").read_bytes() == (essay_build / f"{essay_slug}.pdf").read_bytes()
