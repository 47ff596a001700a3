"""A long note called near the end of a chapter (imprint/typeset/runout.py): its rest never
lands on the next chapter's opening page, a note breaking at the foot of a page says
"(continued)", and the layout checks L224 (a note continued onto a chapter opening) and
L225 (a page mostly white in the middle of a chapter) find what they are about.

The book is generated here: a first chapter of two pages (it opens on a recto, so it ends on
a verso and the next chapter opens on the very next page) whose last page calls a note of
several paragraphs, too long to end on that page."""

from __future__ import annotations

import json
import random

import pdfplumber
import pytest

from conftest import run_cli, write_book
from imprint.checks import pages as checks
from imprint.typeset import runout
from imprint.typeset.positions import Line, PageView, Rect

WORDS = ("paper ink margin press folio quire gathering signature leaf recto verso gutter measure "
         "leading kerning ligature serif italic roman capital minuscule colophon imprint edition "
         "printer binder compositor galley forme chase furniture quoin platen tympan frisket").split()
NOTE_END = "Quod erat demonstrandum"          # the note's last words, found on the pages


def _paragraph(rng, sentences):
    return " ".join(" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16))).capitalize() + "."
                    for _ in range(sentences))


def _manuscript(note_paragraphs: int = 5) -> str:
    rng = random.Random(1)
    first = [_paragraph(rng, 5) for _ in range(9)]
    first[8] += "[^long]"
    second = [_paragraph(rng, 5) for _ in range(8)]
    note = "\n\n    ".join(_paragraph(rng, 6) for _ in range(note_paragraphs)) + f" {NOTE_END}."
    return ("# First Chapter\n\n" + "\n\n".join(first) + "\n\n# Second Chapter\n\n" + "\n\n".join(second)
            + "\n\n[^long]: " + note + "\n")


METADATA = """\
title: Notes Run On
author: Test Author
lang: en
form: book
identifier: urn:uuid:00000000-0000-4000-8000-000000000016
date: 2020-01-01
"""


def _build(tmp, name, *extra, note_paragraphs=5):
    folder = write_book(tmp / name, _manuscript(note_paragraphs), METADATA)
    out = tmp / f"{name}-out"
    result = run_cli("--book", folder, "--out", out, "--edition", "pdf", *extra)
    assert result.code == 0, result.err
    report = json.loads(next(out.glob("*.report.json")).read_text())
    return next(p for p in out.glob("*.pdf")), report


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("runout"), "book")


@pytest.fixture(scope="module")
def unmended(tmp_path_factory):
    """The same book laid out as before run-out pages: the note's rest on the next chapter's opening."""
    patch = pytest.MonkeyPatch()
    patch.setattr(runout, "run_out", lambda document, html: None)
    try:
        return _build(tmp_path_factory.mktemp("unmended"), "book", "--no-cache")
    finally:
        patch.undo()


def _pages(pdf_path):
    """Per page: (text of the body size or larger, text set smaller: notes and marks, words)."""
    out = []
    with pdfplumber.open(pdf_path) as pdf:
        for page in pdf.pages:
            body = "".join(c["text"] for c in page.chars if c["size"] >= 10.5).replace("\xa0", " ")
            small = "".join(c["text"] for c in page.chars if c["size"] < 10.5).replace("\xa0", " ")
            out.append((body, small, page.extract_words()))
    return out


def _opening(pages) -> int:
    """Index of the page where the second chapter opens (its title first, running heads are smaller)."""
    return next(i for i, (body, _, _) in enumerate(pages) if body.startswith("Second Chapter"))


def test_the_case_is_real_without_the_run_out_page(unmended):
    pages = _pages(unmended[0])
    opening = _opening(pages)
    assert pages[opening][1], "the note's rest should sit under the second chapter's title before the mend"
    assert [f for f in unmended[1]["findings"] if f["code"] == "L224" and f["page"] == opening + 1]


def _rest_before_opening(pdf_path):
    """The pages, the second chapter's opening and the page where the note ends, checked: no
    note text on the opening page, the note's end before it."""
    pages = _pages(pdf_path)
    opening = _opening(pages)
    assert not pages[opening][1].strip("0123456789"), "no note text on the chapter's opening page"
    end = next(i for i, (_, small, _) in enumerate(pages) if NOTE_END in small)
    assert end < opening
    return pages, opening, end


def test_the_rest_of_the_note_stays_in_its_chapter(built):
    pdf_path, report = built
    pages, opening, end = _rest_before_opening(pdf_path)
    # the run-out page carries the note and no text of the chapter; a blank verso follows
    assert pages[end][1] and not pages[end][0]
    assert not pages[opening - 1][0] and not pages[opening - 1][1]
    assert not [f for f in report["findings"] if f["code"] in ("L224", "L225") or f["code"].startswith("N2")]


@pytest.fixture(scope="module")
def in_parts(tmp_path_factory):
    """The same book set in parts (imprint/jobs/chapters.py): the first chapter's part ends
    with the note still running, on pages WeasyPrint makes after the part's text."""
    patch = pytest.MonkeyPatch()
    patch.setenv("IMPRINT_PARTS", "always")
    try:
        folder = write_book(tmp_path_factory.mktemp("runout-parts") / "book", _manuscript(), METADATA)
        out = folder.parent / "out"
        result = run_cli("--book", folder, "--out", out, "--edition", "pdf", "-v")
    finally:
        patch.undo()
    assert result.code == 0, result.err
    report = json.loads(next(out.glob("*.report.json")).read_text())
    return next(out.glob("*.pdf")), report, result.out + result.err


def test_a_chapter_set_as_a_part_ends_with_its_notes_rest_and_joins(in_parts):
    """The part is joined as it is (the book was set again in one piece, every round of its
    notes over the whole book, when the overlay of running heads did not match these pages),
    and the rest of the note has a run-out page of its chapter: running head and folio."""
    pdf_path, report, said = in_parts
    assert "joining the parts" in said and "did not join up" not in said, said[-2000:]
    pages, opening, end = _rest_before_opening(pdf_path)
    first = next(i for i, (body, _, _) in enumerate(pages) if body.startswith("First Chapter"))
    rest = [i for i in range(first, opening) if pages[i][1].strip("0123456789") and not pages[i][0]]
    assert rest, "the note's rest on pages of its own"
    for i in rest:
        words = pages[i][2]
        heads = [w for w in words if w["top"] < 60]                  # the head margin: running head, folio
        assert str(i + 1) in [w["text"] for w in heads] and len(heads) > 1, (i + 1, [w["text"] for w in words[:8]])
    assert not [f for f in report["findings"] if f["code"] in ("L224",) or f["code"].startswith("N2")]


@pytest.fixture(scope="module")
def longer(tmp_path_factory):
    """A note too long for one run-out page and the blank verso after it."""
    return _build(tmp_path_factory.mktemp("runout-longer"), "book", note_paragraphs=16)


def test_a_note_longer_than_a_run_out_leaf_gets_more_run_out_pages(longer):
    pdf_path, report = longer
    pages, opening, _ = _rest_before_opening(pdf_path)
    notes_only = [i for i, (body, small, _) in enumerate(pages[:opening]) if small.strip("0123456789") and not body]
    assert len(notes_only) >= 2, notes_only           # more than one page of the note's rest alone
    assert not [f for f in report["findings"] if f["code"] in ("L224",) or f["code"].startswith("N2")]


@pytest.fixture(scope="module")
def unchaptered(tmp_path_factory):
    """A text without chapters (its main ends with paragraphs, no section) whose last line
    calls a note that runs on over the pages after it."""
    rng = random.Random(3)
    text = [_paragraph(rng, 5) for _ in range(10)]
    text[-1] += "[^last]"
    note = "\n\n    ".join(_paragraph(rng, 6) for _ in range(10)) + f" {NOTE_END}."
    folder = write_book(tmp_path_factory.mktemp("runout-end") / "book",
                        "\n\n".join(text) + "\n\n[^last]: " + note + "\n", METADATA)
    out = folder.parent / "out"
    result = run_cli("--book", folder, "--out", out, "--edition", "pdf", "--trim", "5x8")
    assert result.code == 0, result.err
    return next(out.glob("*.pdf")), json.loads(next(out.glob("*.report.json")).read_text())


def test_the_pages_of_a_notes_rest_past_the_texts_last_line_have_head_and_folio(unchaptered):
    """The pages after the text's last line that hold the note's rest are run-out pages of
    the text (imprint/typeset/runout.py), with folio and running head, not pages of a blank
    page's type (WeasyPrint's own, for notes still pending at a document's end)."""
    pdf_path, report = unchaptered
    pages = _pages(pdf_path)
    last = max(i for i, (body, _, _) in enumerate(pages) if body.strip())
    rest = [i for i in range(last + 1, len(pages)) if pages[i][1].strip("0123456789")]
    assert rest and NOTE_END in pages[rest[-1]][1], "the note's rest runs past the text's last page"
    assert rest == list(range(last + 1, len(pages)))
    for i in rest:
        heads = [w["text"] for w in pages[i][2] if w["top"] < 60]       # the head margin
        assert str(i + 1) in heads, (i + 1, heads)
        if (i + 1) % 2 == 0:                                            # a verso: the author's name too
            assert "Author" in heads, (i + 1, heads)
    assert not [f for f in report["findings"] if f["code"].startswith("N2")]


def test_a_note_breaking_at_the_foot_says_continued(built):
    pdf_path, _ = built
    with pdfplumber.open(pdf_path) as pdf:
        marked = [(i, w) for i, page in enumerate(pdf.pages) for w in page.extract_words()
                  if w["text"] == "(continued)"]
        assert len(marked) == 1, marked
        i, mark = marked[0]
        page = pdf.pages[i]
        notes = [c for c in page.chars if 8 < c["size"] < 10]
        assert notes, "the mark is on the page where the note breaks"
        # flush right with the note's lines, just below the last of them, in the foot margin
        assert abs(mark["x1"] - max(c["x1"] for c in notes)) < 1.0
        assert 0 < mark["top"] - max(c["bottom"] for c in notes) < 6
        # the note goes on overleaf: the next page starts with it
        assert [c for c in pdf.pages[i + 1].chars if 8 < c["size"] < 10]


def test_every_language_has_the_mark():
    from imprint.specs.labels import LABELS
    assert all(row.get("note-continued") for row in LABELS.values())


# --- the checks on page data ------------------------------------------------------------

AREA = Rect(54, 72, 378, 576)


def _line(page, y, text="Words of the text", region="text", heading=0):
    rect = Rect(AREA.x0, y, AREA.x1, y + 12)
    return Line(page, region, rect, rect, AREA, text, block=hash((page, heading, region)), tag="p",
                heading=heading)


def _page(number, lines, notes=None, calls=(), pieces=(), name=""):
    area = Rect(AREA.x0, AREA.y1 - notes, AREA.x1, AREA.y1) if notes else None
    return PageView(number, 432, 648, (0, 0, 0, 0), AREA, "right" if number % 2 else "left", False, name,
                    tuple(lines), (), (), area, tuple(calls), tuple(pieces))


def _full(number, **kw):
    return _page(number, [_line(number, AREA.y0 + 14 * k) for k in range(30)], **kw)


def test_white_page_check():
    short = _page(2, [_line(2, AREA.y0), _line(2, AREA.y0 + 14)])
    found = checks.white_pages([_full(1), short, _full(3)])
    assert [(m.finding.code, m.finding.page) for m in found] == [("L225", 2)]
    assert "2 line(s) of text" in found[0].finding.message
    # the same page holding a tall note, or before a chapter's opening, or at the end: not white
    noted = _page(2, [_line(2, AREA.y0), _line(2, AREA.y0 + 14)], notes=300)
    opening = _page(3, [_line(3, AREA.y0 + 90, "Second Chapter", heading=1)] + list(_full(3).lines)[8:])
    assert not checks.white_pages([_full(1), noted, _full(3)])
    assert not checks.white_pages([_full(1), short, opening])
    assert not checks.white_pages([_full(1), short])


def test_continued_on_opening_check():
    opening = _page(3, [_line(3, AREA.y0 + 90, "Second Chapter", heading=1)], notes=100, pieces=[(1, 2)])
    found = checks.continued_on_opening([_full(1, calls=[1], pieces=[(1, 0)], notes=200),
                                         _full(2, pieces=[(1, 1)], notes=300), opening])
    assert [(m.finding.code, m.finding.page) for m in found] == [("L224", 3)]
    assert "note 1, called on page 1, continues" in found[0].finding.message
    # a note called on the opening page itself is where it belongs
    own = _page(3, [_line(3, AREA.y0 + 90, "Second Chapter", heading=1)], notes=100, calls=[2], pieces=[(2, 0)])
    assert not checks.continued_on_opening([_full(1, calls=[1], pieces=[(1, 0)], notes=200), own])


def test_the_essay_has_no_white_pages(essay_build, essay_slug):
    # the essay as conftest builds it once for the session (every edition; its PDF is the one a
    # build of the PDF alone writes, tests/test_print.py): the PDF's findings, and the book's
    report = json.loads((essay_build / f"{essay_slug}.report.json").read_text())
    assert not [f for f in report["findings"] if f["code"] in ("L224", "L225") and f.get("edition") in (None, "pdf")]
