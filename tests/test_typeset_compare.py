"""scripts/typeset_compare.py: Typst is set in the book's own face, size and leading, and a note
call (smaller, raised) is measured as part of its line, not as a wide word space."""

from __future__ import annotations

import sys

import pytest

from conftest import METADATA, ROOT, write_book

sys.path.insert(0, str(ROOT / "scripts"))
import typeset_compare  # noqa: E402


def test_the_books_face_size_and_leading_reach_typst(tmp_path):
    book = write_book(tmp_path / "book", "Some text.\n",
                      METADATA + "mainfont: EB Garamond\nfontsize: 12\nlinestretch: 1.25\n")
    setting = typeset_compare.book_setting(book / "text.md")
    assert setting.font.name == "EBGaramond12-Regular.otf"
    assert setting.size == 12.0
    assert setting.leading == pytest.approx(14.4 * 12 / 11 * 1.25, abs=0.01)
    source = typeset_compare.typst_source(book / "text.md", (50, 64.8, 57, 45, (432, 648)), setting)
    assert f'font: "{setting.family}", size: 12pt' in source and "EB Garamond" in setting.family
    assert f"leading: {round(setting.leading - 12, 3):g}pt" in source


def test_a_book_that_names_no_face_is_compared_in_the_house_setting(tmp_path):
    manuscript = tmp_path / "one.md"
    manuscript.write_text("---\n" + METADATA + "---\n\nSome text.\n", encoding="utf-8")
    setting = typeset_compare.book_setting(manuscript)
    assert (setting.font.name, setting.size, setting.leading) == ("LinLibertine_R.otf", 11.0, 14.4)
    assert setting.family == "Linux Libertine O"


def test_a_note_call_is_part_of_its_line_not_a_word_space(tmp_path):
    typst = pytest.importorskip("typst")
    words = "the quick brown fox jumps over a lazy dog and runs far away from home " * 6
    call = '#text(size: 7.5pt, baseline: -3pt)[12]'
    source = tmp_path / "calls.typ"
    source.write_text(
        '#set page(width: 300pt, height: 400pt, margin: 40pt)\n'
        '#set text(font: "Linux Libertine O", size: 11pt, hyphenate: false)\n'
        '#set par(justify: true)\n'
        + " ".join(w + (call if i % 9 == 4 else "") for i, w in enumerate(words.split())) + "\n",
        encoding="utf-8")
    pdf = tmp_path / "calls.pdf"
    typst.compile(str(source), output=str(pdf), font_paths=[str(typeset_compare.FONT_DIR)])
    natural = typeset_compare.natural_space()
    with_calls = 0
    for _, kind, chars, _ in typeset_compare._lines(pdf):
        if kind != "body" or not any(round(c["size"], 1) == 7.5 for c in chars):
            continue
        with_calls += 1
        spaces = sorted(b["x0"] - a["x1"] for a, b in zip(chars, chars[1:]) if b["x0"] - a["x1"] > 0.5 * natural)
        # a justified line's word spaces are all alike: none spans a call (a space and the call's width)
        assert spaces[-1] - spaces[0] < 1.0, spaces
    assert with_calls >= 5
