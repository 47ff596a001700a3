"""The note area's last baseline on the body's grid in another leading and another face
(imprint/manuscript/look.py note_foot_css: the note area's bottom padding follows the book's
face, size and leading; styles/book.css's 0.8 pt is the house face's at 11/14.4 pt)."""

from __future__ import annotations

import pytest

from conftest import METADATA, run_cli, write_book
from test_spreads import baselines, headed

from imprint.manuscript import look


@pytest.mark.parametrize("extra, leading", [("linestretch: 1.5\n", 21.6),
                                            ("mainfont: EB Garamond\n", 14.4)])
def test_the_note_area_ends_on_a_body_baseline_in_the_books_leading_and_face(tmp_path, extra, leading):
    book = write_book(tmp_path / "book", headed(3), METADATA + extra)
    result = run_cli("--book", book, "--out", tmp_path / "out", "--no-cache", "--edition", "pdf")
    assert result.code == 0, result.err
    pdf = next((tmp_path / "out").glob("*.pdf"))
    pages, notes = baselines(pdf, "body"), baselines(pdf, "note")
    full = max(b for lines in pages.values() for b in lines)
    checked = 0
    for n, found in notes.items():
        if len(pages.get(n, ())) < 6:
            continue            # the copyright page and the contents, set in the notes' size
        off = (full - max(found)) % leading       # a page run short ends whole lines higher; the house
        # padding leaves EB Garamond 0.23 pt off, linestretch 1.5 3.6 pt
        assert min(off, leading - off) < 0.15, (n, full, max(found), off)
        checked += 1
    assert checked >= 3


def test_the_padding_is_the_house_ones_for_the_house_look_and_follows_leading_and_face():
    import dataclasses

    house = look.default()
    assert look.note_foot_css(house) == ""          # styles/book.css's 0.8 pt
    stretched = look.note_foot_css(dataclasses.replace(house, linestretch=1.5))
    assert "padding-bottom: 4.4" in stretched, stretched
    garamond = dataclasses.replace(house, main=look.bundled()["ebgaramond"])
    ascent, descent = look.face_extents(str(look.nearest(garamond.main, False, False).path))
    expected = (14.4 - 11.5) / 2 - (ascent - descent)
    assert abs(expected - 0.8) > 0.05                # the test below needs a face unlike the house's
    assert f"padding-bottom: {expected:.2f}pt" in look.note_foot_css(garamond)
