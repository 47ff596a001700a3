"""Preflight: the essay's print files pass every rule of their profile, and each rule catches
a file that breaks it (the essay's own files, changed with pikepdf or checked against a
stricter printer)."""

from __future__ import annotations

import dataclasses
import io
import json
import shutil

import pikepdf
import pytest

from conftest import BOOK, run_cli
from print_helpers import IN

from imprint.editions import cover
from imprint.specs import editions
from imprint.editions import preflight
from imprint.codes import all_codes
from imprint.specs.profiles import KDP, INGRAM, GutterBand

SIX_BY_NINE = editions.trim("6x9")


@pytest.fixture(scope="module")
def essay_files(essay_build, essay_slug):
    return {name: (essay_build / f"{essay_slug}{suffix}").read_bytes()
            for name, suffix in (("pdf", ".pdf"), ("print", "-print.pdf"), ("cover", "-cover.pdf"))}


def codes(findings, severity=None) -> set[str]:
    return {f.code for f in findings if severity is None or f.severity == severity}


def interior(data, printer=KDP):
    return preflight.check_interior(data, printer, SIX_BY_NINE)[0]


def changed(data: bytes, change) -> bytes:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        change(pdf)
        out = io.BytesIO()
        pdf.save(out)
        return out.getvalue()


def test_the_essay_passes_kdp_preflight(essay_files):
    result = preflight.preflight(essay_files["print"], essay_files["cover"], KDP, SIX_BY_NINE, "white", None)
    assert result.findings == []
    assert result.pages % 2 == 0 and result.spine == pytest.approx(result.pages * 0.002252, abs=1e-4)


def test_every_code_is_registered_and_documented():
    assert set(preflight.CODES) <= set(all_codes())
    assert all(code.startswith("P1") for code in preflight.CODES)
    readme = (BOOK.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Print edition"):]
    assert all(f"| {code} |" in section for code in preflight.CODES)


@pytest.mark.parametrize("code, change", [
    ("P101", lambda pdf: pdf.pages[2].obj.__delitem__("/TrimBox")),
    ("P101", lambda pdf: pdf.pages[2].obj.__setitem__("/TrimBox", pikepdf.Array([0, 0, 5 * IN, 8 * IN]))),
    ("P102", lambda pdf: pdf.pages[1].obj.__setitem__("/MediaBox", pikepdf.Array([-9, -9, 6 * IN + 9, 9 * IN + 9]))),
    ("P103", lambda pdf: [pdf.pages.__delitem__(-1) for _ in range(len(pdf.pages) - 2)]),
    ("P104", lambda pdf: pdf.pages.__delitem__(-1)),
    ("P108", lambda pdf: [f.DescendantFonts[0].FontDescriptor.__delitem__("/FontFile3")
                          for f in pdf.pages[9].obj.Resources.Font.values()]),
    ("P112", lambda pdf: pdf.pages[8].obj.__setitem__("/Annots", pdf.make_indirect(pikepdf.Array([pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[100, 100, 200, 120])])))),
    ("P113", lambda pdf: pdf.Root.__setitem__("/Outlines", pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Outlines, First=pdf.make_indirect(pikepdf.Dictionary(Title="x")))))),
    ("P115", lambda pdf: pdf.pages[8].contents_add(pdf.make_stream(b"0 G 0.5 w -6 -6 m -1 -1 l S"))),
])
def test_each_rule_catches_a_broken_interior(essay_files, code, change):
    assert code in codes(interior(changed(essay_files["print"], change)))


def test_margins_gutter_and_last_page_against_stricter_printers(essay_files):
    # The KDP file against IngramSpark's 0.5 in minimum: running heads sit 0.44 in from the top.
    found = interior(essay_files["print"], INGRAM)
    assert "P106" in codes(found) and "P107" not in codes(found)
    # A printer whose table wants a one-inch gutter for this page count.
    wide = dataclasses.replace(KDP, gutter=(GutterBand(1, 999, 1.0 * IN),))
    assert "P107" in codes(interior(essay_files["print"], wide))
    # The download PDF ends on a page of text: not what IngramSpark wants last.
    assert {"P104", "P105"} <= codes(interior(essay_files["pdf"], INGRAM))


def test_the_download_pdf_is_no_print_file(essay_files):
    found = interior(essay_files["pdf"], INGRAM)
    # subset fonts, RGB colour, links, bookmarks, no PDF/X identification
    assert {"P109", "P111", "P112", "P113", "P114"} <= codes(found, "error")
    assert "P109" in codes(interior(essay_files["pdf"], KDP))


def test_an_inline_image_in_a_refused_colour_space_is_caught(essay_files):
    # The structure scan asks pikepdf for the colour operators only; an inline image (whose
    # colour space is in its own dictionary) makes it read that stream whole.
    no_cmyk = dataclasses.replace(KDP, colour_spaces=frozenset({"gray", "rgb"}))
    assert "P111" not in codes(interior(essay_files["print"], no_cmyk))

    def add_inline_image(pdf):
        pdf.pages[8].contents_add(pdf.make_stream(
            b"q 9 0 0 9 72 72 cm BI /W 1 /H 1 /CS /CMYK /BPC 8 ID \x00\x80\xff\x00 EI Q"))
    found = interior(changed(essay_files["print"], add_inline_image), no_cmyk)
    assert any(f.code == "P111" and "CMYK" in f.message and f.page == 9 for f in found)


def test_transparency_is_refused_in_pdf_x1a(essay_files):
    def add_transparency(pdf):
        page = pdf.pages[8]
        page.obj.Resources.ExtGState["/half"] = pikepdf.Dictionary(ca=0.5)
        page.contents_add(pdf.make_stream(b"/half gs"))
    found = interior(changed(essay_files["print"], add_transparency), INGRAM)
    assert "P116" in codes(found)


def test_low_resolution_images_are_reported(tiny_book, tmp_path):
    from PIL import Image
    book = tiny_book("Text.\n\n![A plate](plate.png){.bleed}\n")
    Image.new("L", (300, 450), 90).save(book / "plate.png")
    run = run_cli("--book", book, "--out", tmp_path / "out", "--edition", "print")
    assert run.code == 0 and "warning: P110 plate.png at 48 ppi (the printer wants 300)" in run.err


def test_each_rule_catches_a_broken_cover(essay_files):
    pages = len(pikepdf.open(io.BytesIO(essay_files["print"])).pages)
    g = cover.cover_geometry(KDP, SIX_BY_NINE, pages, "white")
    assert preflight.check_cover(essay_files["cover"], KDP, g, None) == []
    thicker = cover.cover_geometry(KDP, SIX_BY_NINE, pages + 100, "white")
    assert "P130" in codes(preflight.check_cover(essay_files["cover"], KDP, thicker, None))
    cream = cover.cover_geometry(KDP, SIX_BY_NINE, pages, "cream")
    assert "P130" in codes(preflight.check_cover(essay_files["cover"], KDP, cream, None))
    # A safe area wider than the design leaves: the front title is too near the edges.
    assert "P132" in codes(preflight.check_cover(essay_files["cover"], KDP, dataclasses.replace(g, safe=2 * IN), None))
    # An ISBN the cover does not carry: its zone has no barcode.
    assert "P133" in codes(preflight.check_cover(essay_files["cover"], KDP, g, "978-0-306-40615-7"))
    # The same cover for IngramSpark: RGB colour, no PDF/X.
    assert {"P111", "P114"} <= codes(preflight.check_cover(essay_files["cover"], INGRAM,
                                                           cover.cover_geometry(INGRAM, SIX_BY_NINE, pages, "white"),
                                                           None))


def test_spine_text_on_a_thin_book_and_a_barcode_without_isbn():
    from imprint.manuscript.load import load
    book = load(BOOK)
    meta = dataclasses.replace(book.metadata, isbn=dataclasses.replace(book.metadata.isbn, print="978-0-306-40615-7"))
    book = dataclasses.replace(book, metadata=meta)
    data, g, _ = cover.print_cover(book, KDP, SIX_BY_NINE, 200, editions.for_printer(editions.PRINT, KDP))
    assert "P131" in codes(preflight.check_cover(data, KDP, dataclasses.replace(g, spine_font=0.0), "978-0-306-40615-7"))
    narrow = dataclasses.replace(g, clearance=g.spine_width / 2 - 1)
    assert "P131" in codes(preflight.check_cover(data, KDP, narrow, "978-0-306-40615-7"))
    assert "P133" in codes(preflight.check_cover(data, KDP, g, None))      # a barcode but no ISBN


def test_preflight_command_checks_the_written_files(essay_build, essay_slug, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(essay_build, out)             # the command updates the report: work on a copy
    run = run_cli("preflight", "--book", BOOK, "--out", out)
    assert run.code == 0, run.err
    assert run.out.strip().endswith(": 0 errors, 0 warnings") and "preflight (kdp, " in run.out
    run = run_cli("preflight", "--book", BOOK, "--out", out, "--profile", "ingram")
    assert run.code == 1
    assert all(f"error: {code}" in run.err for code in ("P106", "P111", "P114"))
    report = json.loads((out / f"{essay_slug}.report.json").read_text())
    assert report["preflight"]["profile"] == "ingram" and report["preflight"]["summary"].startswith(
        f"{sum(1 for f in report['preflight']['findings'] if f['severity'] == 'error')} errors")
    run = run_cli("preflight", "--book", BOOK, "--out", tmp_path / "empty")
    assert run.code == 3 and "no print interior to check" in run.err


def test_a_long_interior_read_in_two_processes_finds_the_same(essay_files, monkeypatch):
    """Interiors of SPLIT_PAGES pages or more are read by this process and a forked one: the
    findings (codes, messages, pages named) are those of one process reading every page."""
    wide = dataclasses.replace(INGRAM, gutter=(GutterBand(1, 999, 1.0 * IN),))    # P106 and P107 on every page
    whole = interior(essay_files["print"], wide)
    monkeypatch.setattr(preflight, "SPLIT_PAGES", 3)
    read_here = []
    positions = preflight._positions
    monkeypatch.setattr(preflight, "_positions", lambda doc, numbers, *a: read_here.append(numbers) or
                        positions(doc, numbers, *a))
    halves = interior(essay_files["print"], wide)
    count = len(pikepdf.open(io.BytesIO(essay_files["print"])).pages)
    assert [list(numbers) for numbers in read_here] == [list(range(1, count // 3 + 1))]   # the rest: the forked copy
    assert {"P106", "P107"} <= codes(whole)
    assert [(f.code, f.message, f.page) for f in halves] == [(f.code, f.message, f.page) for f in whole]


def test_pages_read_in_an_earlier_build_are_not_read_again(essay_files, tmp_path, monkeypatch):
    from imprint import cache

    read: list[int] = []
    page_positions = preflight._page_positions
    monkeypatch.setattr(preflight, "_page_positions",
                        lambda page, number, *rest: (read.append(number), page_positions(page, number, *rest))[1])
    data = essay_files["print"]
    pages = len(pikepdf.open(io.BytesIO(data)).pages)
    with cache.using(cache.Cache(tmp_path / "cache")):
        first = interior(data)
        assert sorted(read) == list(range(1, pages + 1))
        read.clear()
        assert interior(data) == first and read == []          # the same file: nothing read again
        # One page drawn anew (a mark outside the trim): that page alone is read, and caught.
        changed_data = changed(data, lambda pdf: pdf.pages[8].contents_add(pdf.make_stream(b"0 G 0.5 w -6 -6 m -1 -1 l S")))
        found = interior(changed_data)
        assert read == [9] and any(f.code == "P115" and f.page == 9 for f in found)
    read.clear()
    interior(data)                                              # no cache: every page is read
    assert len(read) == pages


def test_content_streams_parsed_in_an_earlier_build_are_not_parsed_again(essay_files, tmp_path, monkeypatch):
    from imprint import cache

    parsed: list = []
    parse = pikepdf.parse_content_stream
    monkeypatch.setattr(pikepdf, "parse_content_stream", lambda *a: (parsed.append(a[0]), parse(*a))[1])
    data = essay_files["print"]
    with cache.using(cache.Cache(tmp_path / "cache")):
        first = interior(data)
        assert len(parsed) >= len(pikepdf.open(io.BytesIO(data)).pages)
        parsed.clear()
        assert interior(data) == first and parsed == []        # the same file: no stream parsed again
        # One page drawn anew in RGB, which IngramSpark's PDF/X-1a refuses: that page's
        # streams alone are parsed, and the colour caught.
        changed_data = changed(data, lambda pdf: pdf.pages[8].contents_add(pdf.make_stream(b"1 0 0 rg 0 0 1 1 re f")))
        found = interior(changed_data, INGRAM)
        assert 0 < len(parsed) <= 3
        assert any(f.code == "P111" and "RGB" in f.message for f in found)
    parsed.clear()
    interior(data)                                              # no cache: every stream is parsed
    assert len(parsed) >= len(pikepdf.open(io.BytesIO(data)).pages)
