"""The full-wrap print cover: width from page count and paper, spine text rule, barcode zone."""

from __future__ import annotations

import dataclasses

import pdfplumber
import pytest

from conftest import BOOK
from print_helpers import IN, boxes

from imprint.editions import cover
from imprint.specs import editions
from imprint.editions import preflight
from imprint.specs import profiles
from imprint.manuscript.load import load

SIX_BY_NINE = editions.trim("6x9")


@pytest.mark.parametrize("pages", [24, 200, 600])
@pytest.mark.parametrize("paper, per_page", [("white", 0.002252), ("cream", 0.0025)])
def test_cover_width_is_bleed_back_spine_front_bleed(pages, paper, per_page):
    g = cover.cover_geometry(profiles.KDP, SIX_BY_NINE, pages, paper)
    assert g.spine_width / IN == pytest.approx(pages * per_page)
    assert g.width / IN == pytest.approx(0.125 + 6 + pages * per_page + 6 + 0.125, abs=1e-3)
    assert g.height / IN == pytest.approx(9.25)
    assert (g.back.x, g.spine.x, g.front.x) == pytest.approx((0, 6 * IN, 6 * IN + g.spine_width))
    assert bool(g.spine_font) == (pages > 79)
    assert g.barcode.right == pytest.approx(6 * IN - 0.25 * IN) and g.barcode.bottom == pytest.approx(8.75 * IN)


def test_the_essay_cover_matches_its_interior(essay_build, essay_slug):
    printed = essay_build / f"{essay_slug}-print.pdf"
    cover_pdf = essay_build / f"{essay_slug}-cover.pdf"
    pages = len(boxes(printed))
    g = cover.cover_geometry(profiles.KDP, SIX_BY_NINE, pages, "white")
    media, trim = boxes(cover_pdf, "/MediaBox"), boxes(cover_pdf)
    assert len(media) == 1
    assert media[0][2] - media[0][0] == pytest.approx(g.width, abs=0.01)
    assert media[0][3] - media[0][1] == pytest.approx(9.25 * IN, abs=0.01)
    assert trim[0] == pytest.approx([0, 0, 12 * IN + g.spine_width, 9 * IN], abs=0.01)
    with pdfplumber.open(cover_pdf) as p:
        page = p.pages[0]
        front = text_between(page, g.front.x, g.front.right)
        back = text_between(page, g.back.x, g.back.right)
        assert "RussianRevolution" in front.replace(" ", "") and "SuziWeissman" in front.replace(" ", "")
        assert "Weissmantraces" in back.replace(" ", "")               # the description
        assert text_between(page, g.spine.x, g.spine.right) == ""     # 26 pages: no spine text
        zone = lambda o: g.barcode.x <= o["x0"] and o["x1"] <= g.barcode.right and lower_half(page, o)
        assert not [c for c in page.chars if zone(c)] and not [r for r in page.rects if zone(r)]


# pdfplumber reads x in the PDF's own units (the trim starts at x = 0), but shifts `top` on
# pages whose MediaBox starts below zero (bleed); so the tests place things by x, and by
# halves of the page vertically.
def text_between(page, x0, x1) -> str:
    return " ".join("".join(c["text"] for c in page.chars if x0 <= c["x0"] and c["x1"] <= x1).split())


def lower_half(page, obj) -> bool:
    return obj["top"] > page.bbox[1] + page.height / 2


def test_a_thick_book_with_an_isbn_gets_spine_text_and_a_barcode(tmp_path):
    book = load(BOOK)
    meta = dataclasses.replace(book.metadata, isbn=dataclasses.replace(book.metadata.isbn, print="978-0-306-40615-7"))
    book = dataclasses.replace(book, metadata=meta)
    edition = editions.for_printer(editions.PRINT, profiles.KDP)
    data, g, found = cover.print_cover(book, profiles.KDP, SIX_BY_NINE, 200, edition)
    assert found == []
    assert preflight.check_cover(data, profiles.KDP, g, "978-0-306-40615-7") == []
    (tmp_path / "cover.pdf").write_bytes(data)
    with pdfplumber.open(tmp_path / "cover.pdf") as p:
        page = p.pages[0]
        zone = lambda o: g.barcode.x <= o["x0"] and o["x1"] <= g.barcode.right and lower_half(page, o)
        digits = "".join(c["text"] for c in page.chars if zone(c)).replace(" ", "")
        assert digits == "ISBN978-0-306-40615-7" + "9780306406157"
        bars = [r for r in page.rects if zone(r) and r["width"] < 5 and r["height"] > 20]
        assert len(bars) == 30                                         # the EAN-13's bars
        spine = [c for c in page.chars if g.spine.x < c["x0"] and c["x1"] < g.spine.right]
        assert "".join(c["text"] for c in spine).replace(" ", "").endswith("WorkersDemocracy")
        assert min(c["x0"] for c in spine) >= g.spine.x + g.clearance
        assert max(c["x1"] for c in spine) <= g.spine.right - g.clearance
