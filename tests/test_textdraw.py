"""Text drawn once, written twice (imprint/typeset/fence/textdraw.py): when a typesetting job writes its
editions in turn, the second replays the first one's text drawing, and every file is byte for
byte the file drawn afresh."""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import write_book
from imprint.typeset.fence import pdfwrite, textdraw
from imprint.jobs.job import run_job
from imprint.typeset import engine
from test_parts import BOOK_METADATA, paged_job

ROOT = Path(__file__).resolve().parent.parent

# Underlined and struck text (drawn the usual way: decorations), a character no font has
# (a .notdef glyph), small capitals, italics, a note and a link, among plain paragraphs.
@pytest.fixture(autouse=True)
def glyphs_drawn_anyway(monkeypatch):
    """ODD_TEXT holds a character no font has on purpose (its .notdef box is drawn and replayed
    like any glyph): the manuscript check that refuses such a character (G101) stands aside."""
    from imprint import checks
    monkeypatch.setattr(checks, "CHECKS", [c for c in checks.CHECKS if c.__name__ != "check_glyphs"])


ODD_TEXT = """\
# One

A [plain]{.underline} word, ~~struck~~ words, an unassigned character \u0378 no font has,
[Small Capitals]{.smallcaps}, *italic* and **bold**, a note[^1] and [a link](#two).

[^1]: The note, with *italics* of its own.

# Two {#two}

""" + "\n\n".join("Words of a paragraph that runs on long enough to be set on several lines of "
                  "the page, and to be justified, hyphenated and broken like the text of a book. " * 3
                  for _ in range(12))


def _written_in_turn(job, recorded: bool, monkeypatch) -> dict[str, bytes]:
    """The job's PDFs when its editions are written one after the other (as a part of a book's
    are), with or without the replay."""
    if not recorded:
        monkeypatch.setattr(textdraw, "recorded", contextlib.nullcontext)
    try:
        return run_job(dataclasses.replace(job, part="chapter 1")).pdfs
    finally:
        monkeypatch.undo()


@pytest.mark.parametrize("book", ["essay", "odd text"])
def test_an_edition_written_second_is_the_file_drawn_afresh(book, tmp_path, monkeypatch):
    path = ROOT / "book" if book == "essay" else write_book(tmp_path / "book", ODD_TEXT, BOOK_METADATA)
    job = paged_job(path)
    assert len(job.editions) == 2
    afresh = _written_in_turn(job, False, monkeypatch)
    before, notdef = dict(textdraw.COUNTS), textdraw._NOTDEF[0]
    replayed = _written_in_turn(job, True, monkeypatch)
    if book == "odd text":
        assert textdraw._NOTDEF[0] > notdef         # the missing glyph was met (and drawn afresh)
    boxes = textdraw.COUNTS["replayed"] - before["replayed"]
    assert textdraw.COUNTS["recorded"] - before["recorded"] >= boxes > 100     # the replay did happen
    assert replayed.keys() == afresh.keys()
    for name in afresh:
        assert replayed[name] == afresh[name], f"the {name} edition differs when its text is replayed"


def test_nothing_is_recorded_outside_a_write_in_turn(tmp_path):
    path = write_book(tmp_path / "book", ODD_TEXT, BOOK_METADATA)
    job = paged_job(path)
    document, _, _ = engine.render(job.html, job.base, book_root=job.book_root, page_css=job.page_css)
    before = dict(textdraw.COUNTS)
    engine.write(document, variant=None, full_fonts=True, identifier="x")
    engine.write(document, variant=None, full_fonts=False, identifier="x")
    assert textdraw.COUNTS == before


def test_the_warm_up_lays_out_and_writes_the_typeface():
    # The build runs it in a thread and swallows its errors (the jobs would meet them anyway),
    # so a warm-up broken by a change of the styles would only go silently slow: check it here.
    import pydyf

    engine.warm_up()
    assert isinstance(pydyf.zlib, pdfwrite.DefaultLevelZlib)      # pydyf patched on the way


def test_a_long_books_warm_up_reads_the_hyphenation_patterns_of_its_language(tmp_path, monkeypatch):
    # Read once in the build process, so no forked typesetting process reads them again:
    # the one WeasyPrint looks up for the book's language is the one the warm-up read.
    import pyphen

    from imprint import pipeline

    monkeypatch.setattr(pyphen, "hdcache", {})
    book = tmp_path / "long.md"
    book.write_text("x" * pipeline.WARM_MIN_BYTES)
    warm = pipeline._warm_up(book)
    warm.learned.set_result(SimpleNamespace(read=1.0, metadata=SimpleNamespace(lang="de")))
    warm.join(60)
    assert not warm.is_alive()
    read = dict(pyphen.hdcache)
    assert len(read) == 1 and next(iter(read)).name.startswith("hyph_de")
    made = []
    monkeypatch.setattr(pyphen.HyphDict, "__init__", lambda self, path: made.append(path))
    html = ('<html lang="de"><body><p style="width: 5em; hyphens: auto">'
            "Donaudampfschifffahrtsgesellschaftskapitän Rechtsschutzversicherungsgesellschaften</p></body></html>")
    document, _, _ = engine.render(html, tmp_path, book_root=tmp_path)
    assert any("-" in line or "\u2010" in line for line in _lines(document)), "nothing was hyphenated"
    assert made == [] and pyphen.hdcache == read          # WeasyPrint took the patterns read


def test_after_an_edit_the_warm_up_only_imports(tmp_path, monkeypatch):
    # pandoc read one piece of the book anew (imprint/manuscript/sections.py): a chapter or two will be set
    # again, and a warm layout in this process would only hold up the first of them.
    from imprint import pipeline

    done = []
    monkeypatch.setattr(engine, "warm_up", lambda: done.append("layout"))
    monkeypatch.setattr(engine, "load_hyphenation", lambda lang: done.append(lang))
    book = tmp_path / "long.md"
    book.write_text("x" * pipeline.WARM_MIN_BYTES)
    for read, expected in ((0.05, []), (1.0, ["layout", "en"])):
        done.clear()
        warm = pipeline._warm_up(book)
        warm.learned.set_result(SimpleNamespace(read=read, metadata=SimpleNamespace(lang="en")))
        warm.join(60)
        assert done == expected


def _lines(document) -> list[str]:
    out = []

    def walk(box):
        if type(box).__name__ == "LineBox":
            out.append("".join(getattr(b, "text", "") for b in box.descendants()))
        for child in getattr(box, "children", ()):
            walk(child)

    for page in document.pages:
        walk(page._page_box)
    return out
