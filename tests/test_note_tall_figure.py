"""A cut note whose piece carried onto the next page meets a tall figure opening that page.

The book: a note holding a picture of about half the text block (and, in one case, a table),
called from the paragraph just before a figure of about a whole text block. The figure does not
fit under the calling paragraph, so it opens the next page; the note's piece carried there
(its last lines and its picture) went first into that page's footnote area, and WeasyPrint then
set the figure whole over it (N206, three L202, L203: the build failed). longnotes.py
(`_squeezed`, `_squeeze`, `_limit`) cuts the carried piece where the room under the figure ends
and holds that page's footnote area to the room: the note's picture goes on to the page after.

Read back from the written PDF with pdfplumber: no picture or line of the note is drawn over
the figure or the text; the note starts on its call's page and runs on over the pages right
after it (design.md, long notes); the report holds none of N204, N206, L202, L203.
"""

from __future__ import annotations

import json

import pdfplumber
import pytest
from PIL import Image

from conftest import METADATA as TINY, run_cli, write_book

METADATA = TINY + "trim: 5x8\n"
BODY = "Over river harbour quarry chandler into orchard census from under harbour."
NOTE = "Beacon tavern warden almanac steward fallow ledger charter parish weaver tenant."
TEXT_IMAGE, NOTE_IMAGE = (300, 520), (310, 520)      # told apart in the PDF by their pixel size
TABLE = """
    | Place | Count | Note |
    |-------|------:|------|
    | River | 12 | tavern warden |
    | Orchard | 7 | almanac steward |
    | Quarry | 3 | fallow ledger |
"""


def manuscript(figure_first: bool, table: bool) -> str:
    body = " ".join([BODY] * 9)
    call = f"The note on image is called here.[^a] {BODY} {BODY} {BODY}"
    figure = "![A tall figure in the text.](text.png)"
    opening = [call, figure] if figure_first else [body, figure, call]
    note = (f"[^a]: {NOTE} {NOTE} {NOTE}\n\n    ![A tall plate.](note.png)\n"
            + (TABLE if table else "") + f"\n    {NOTE} {NOTE} {NOTE}\n")
    return "# Image\n\n" + "\n\n".join(opening + [body] * 4) + "\n\n" + note


CASES = {
    "figure after the call": (True, False),       # the report's book (fix14_n206/book_figfirst)
    "figure after the call, a table in the note": (True, True),
    "figure before the call": (False, False),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def built(request, tmp_path_factory):
    root = tmp_path_factory.mktemp("tallfig")
    book = write_book(root / "book", manuscript(*CASES[request.param]), METADATA, "one.md")
    Image.new("L", TEXT_IMAGE, 120).save(book / "text.png")
    Image.new("L", NOTE_IMAGE, 180).save(book / "note.png")
    out = root / "out"
    return request.param, run_cli("--book", book, "--out", out, "--edition", "pdf", "--no-cache"), out


def overlap(a, b) -> float:
    """The height two boxes (x0, top, x1, bottom) share, when they share some width too."""
    if min(a[2], b[2]) <= max(a[0], b[0]):
        return 0.0
    return max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def test_the_figure_and_the_notes_picture_are_not_drawn_over_each_other(built):
    case, result, out = built
    assert result.code == 0, (case, result.err[-3000:])
    report = json.loads(next(out.glob("*.report.json")).read_text())
    assert not [f for f in report["findings"] if f["code"] in ("N204", "N206", "L202", "L203", "L102")], case
    text_pages, note_pages, call_page = [], [], None
    with pdfplumber.open(next(out.glob("*.pdf"))) as pdf:
        for page in pdf.pages:
            images = {tuple(int(v) for v in im["srcsize"]): (im["x0"], im["top"], im["x1"], im["bottom"])
                      for im in page.images}
            words = page.extract_words(extra_attrs=["size"])
            body = [w for w in words if w["size"] > 10 and w["text"] in BODY.split() + ["called"]]
            notes = [w for w in words if w["size"] < 10 and w["text"].strip(".") in NOTE.split()]
            figure, picture = images.get(TEXT_IMAGE), images.get(NOTE_IMAGE)
            if any(w["text"] == "called" for w in body):
                call_page = page.page_number
            if figure:
                text_pages.append(page.page_number)
            if picture or notes:
                note_pages.append(page.page_number)
            # the note's lines and picture lie below the page's text and figure, never over them
            note_boxes = [(w["x0"], w["top"], w["x1"], w["bottom"]) for w in notes] + ([picture] if picture else [])
            text_boxes = [(w["x0"], w["top"], w["x1"], w["bottom"]) for w in body] + ([figure] if figure else [])
            for n in note_boxes:
                for t in text_boxes:
                    assert overlap(n, t) < 0.5, (case, page.page_number, n, t)
            if note_boxes and text_boxes:
                assert min(n[1] for n in note_boxes) > max(t[3] for t in text_boxes), (case, page.page_number)
    assert len(text_pages) == 1, (case, text_pages)
    # the note starts on its call's page and runs on over the pages right after it
    assert call_page is not None and note_pages, case
    assert note_pages == list(range(call_page, call_page + len(note_pages))), (case, call_page, note_pages)


def test_a_carried_piece_opening_with_a_picture_takes_the_last_lines_of_the_page_before():
    """`_squeeze` on the units measured for the note above (4 lines, the picture's block: an
    empty line, the picture, the caption; 4 lines): the piece carried onto the figure's page is
    cut where its lines fill the room, or, when it opens with the picture, the page before gives
    up its last two lines (a paragraph's last line never alone) and the picture goes on."""
    from imprint.typeset.longnotes import Unit, _squeeze

    lines = [Unit(2.5, 0, "", "number", False)] + [Unit(11.5, e, "", "p1", True) for e in (57, 116, 176, 193)]
    picture = [Unit(11.5, 193, "", "fig", False), Unit(236.8, 193, "", "fig", False), Unit(11.5, 204, "", "fig", False)]
    units = lines + picture + [Unit(11.5, e, "", "p2", True) for e in (263, 324, 383, 396)]
    # the report's first layout: piece 1 (two lines and the picture) carried onto a 58.8 pt room
    assert _squeeze(units, [(0, 3), (3, 8), (8, 10), (10, 12)], 1, 58.8) == (
        [(0, 3), (3, 5), (5, 8), (8, 10), (10, 12)], 0.0)
    # the picture first on the page: the page before (pieces 0 and 1) gives up piece 1's two lines
    assert _squeeze(units, [(0, 3), (3, 5), (5, 8), (8, 10), (10, 12)], 2, 58.8, before=0) == (
        [(0, 3), (3, 5), (5, 8), (8, 10), (10, 12)], 23.0)
    assert _squeeze(units, [(0, 5), (5, 8), (8, 10), (10, 12)], 1, 58.8) == (
        [(0, 3), (3, 5), (5, 8), (8, 10), (10, 12)], 23.0)
    # nothing to give: the page before holds the note's piece 1 only (its two lines stay), or no room
    assert _squeeze(units, [(0, 3), (3, 5), (5, 8), (8, 10), (10, 12)], 2, 58.8) is None
    assert _squeeze(units, [(0, 5), (5, 8), (8, 10), (10, 12)], 1, 10.0) is None


# --- several such pages, and a figure whose caption the first layout sent on -----------------

def several(count: int, tail: int = 3) -> str:
    """`count` notes each called just before a tall figure, in one chapter: every squeeze sends a
    piece on and adds a page, so the pages after it move (each page's limit is set on a layout
    that shows it: one a round, the later ones found again; their limits had landed a page early:
    N206, L202, L203, exit 1). The first note's last paragraph has `tail` sentences."""
    body = " ".join([BODY] * 9)
    blocks = ["# Image"]
    for k in range(count):
        blocks += [f"The note on image is called here.[^{k}] {BODY} {BODY} {BODY}",
                   "![A tall figure in the text.](text.png)"] + [body] * 4
    notes = [f"[^{k}]: {NOTE} {NOTE} {NOTE}\n\n    ![A tall plate.](note.png)\n\n    "
             + " ".join([NOTE] * (tail if k == 0 else 3)) + "\n" for k in range(count)]
    return "\n\n".join(blocks) + "\n\n" + "\n".join(notes)


def table_note(rows: int, before: int) -> str:
    """A note with a table of `rows` rows called after `before` paragraphs' worth of sentences,
    just before a tall figure: on the first layout the figure's picture ends its page and its
    caption goes on to the next (the room had been measured under the picture alone, and the
    caption was left there, away from its picture, silently)."""
    body = " ".join([BODY] * 9)
    table = "\n    | Place | Count | Note |\n    |-------|------:|------|\n" + "".join(
        f"    | River{k} | {k} | tavern warden almanac |\n" for k in range(rows))
    note = f"[^a]: {NOTE} {NOTE}\n\n" + table + f"\n    {NOTE} {NOTE} {NOTE}\n"
    blocks = ["# Image", " ".join([BODY] * before), f"The note on image is called here.[^a] {BODY} {BODY} {BODY}",
              "![A tall figure in the text.](text.png)"] + [body] * 4
    return "\n\n".join(blocks) + "\n\n" + note


MORE = {
    "two notes and figures": several(2, tail=5),
    "three notes and figures": several(3),
    "a table note, the caption sent on (36 rows)": table_note(36, 6),
    "a table note, the caption sent on (24 rows)": table_note(24, 7),
}


@pytest.fixture(scope="module", params=sorted(MORE))
def built_more(request, tmp_path_factory):
    root = tmp_path_factory.mktemp("tallfigs")
    book = write_book(root / "book", MORE[request.param], METADATA, "one.md")
    Image.new("L", TEXT_IMAGE, 120).save(book / "text.png")
    Image.new("L", NOTE_IMAGE, 180).save(book / "note.png")
    out = root / "out"
    return request.param, run_cli("--book", book, "--out", out, "--edition", "pdf", "--no-cache"), out


def test_every_figure_keeps_its_caption_and_no_note_is_drawn_over_the_text(built_more):
    case, result, out = built_more
    assert result.code == 0, (case, result.err[-3000:])
    report = json.loads(next(out.glob("*.report.json")).read_text())
    assert not [f for f in report["findings"] if f["code"] in ("N204", "N206", "L202", "L203", "L102")], case
    figures, captions = [], []
    with pdfplumber.open(next(out.glob("*.pdf"))) as pdf:
        for page in pdf.pages:
            images = [(tuple(int(v) for v in im["srcsize"]), (im["x0"], im["top"], im["x1"], im["bottom"]))
                      for im in page.images]
            words = page.extract_words(extra_attrs=["size"])
            body = [w for w in words if w["size"] > 10 and w["text"] in BODY.split() + ["called"]]
            notes = [w for w in words if w["size"] < 10 and w["text"].strip(".") in NOTE.split()]
            figure = [box for size, box in images if size == TEXT_IMAGE]
            pictures = [box for size, box in images if size == NOTE_IMAGE]
            figures += [page.page_number] * len(figure)
            captions += [page.page_number] * (page.extract_text() or "").count("A tall figure in the text.")
            note_boxes = [(w["x0"], w["top"], w["x1"], w["bottom"]) for w in notes] + pictures
            text_boxes = [(w["x0"], w["top"], w["x1"], w["bottom"]) for w in body] + figure
            for n in note_boxes:
                for t in text_boxes:
                    assert overlap(n, t) < 0.5, (case, page.page_number, n, t)
    count = MORE[case].count("![A tall figure")
    assert len(figures) == count and captions == figures, (case, figures, captions)


def test_no_limit_is_left_on_a_page_the_layout_moved_away_from(tmp_path, monkeypatch):
    """A chapter before ends in a long note's last piece (run out, imprint/typeset/runout.py, on
    a later layout than the squeeze): the figure's chapter moves two pages on after its pages
    were given their limits. Those limits (`@page :nth()` rules) held the footnote areas of
    pages the figure no longer stands on (left in the HTML of the passing build before); now the
    settled HTML holds limits for the figure's page and the page before it only."""
    import re

    from imprint.typeset import longnotes

    body = " ".join([BODY] * 9)
    long = "[^z]: " + " ".join([NOTE] * 6) + "\n\n    " + " ".join([NOTE] * 6) + "\n\n    " + " ".join([NOTE] * 10) + "\n"
    one = "# One\n\n" + "\n\n".join([body, body, body + "[^z]"]) + "\n\n" + long
    two = ("# Image\n\n" + "\n\n".join([f"The note on image is called here.[^a] {BODY} {BODY} {BODY}",
                                        "![A tall figure in the text.](text.png)"] + [body] * 4)
           + f"\n\n[^a]: {NOTE} {NOTE} {NOTE}\n\n    ![A tall plate.](note.png)\n\n    {NOTE} {NOTE} {NOTE}\n")
    book = tmp_path / "book"
    book.mkdir()
    (book / "one.md").write_text(one)
    (book / "two.md").write_text(two)
    (book / "book.yaml").write_text(METADATA + "manuscript:\n  - one.md\n  - two.md\n")
    Image.new("L", TEXT_IMAGE, 120).save(book / "text.png")
    Image.new("L", NOTE_IMAGE, 180).save(book / "note.png")
    settled, settle = tmp_path / "settled.html", longnotes.settle

    def keep(html, lay_out):              # the job may run in a forked child: its HTML goes to a file
        result = settle(html, lay_out)
        with settled.open("a") as f:
            f.write(result.html)
        return result

    monkeypatch.setattr(longnotes, "settle", keep)
    out = tmp_path / "out"
    result = run_cli("--book", book, "--out", out, "--edition", "pdf", "--no-cache")
    assert result.code == 0, result.err[-3000:]
    report = json.loads(next(out.glob("*.report.json")).read_text())
    assert not [f for f in report["findings"] if f["code"] in ("N204", "N206", "L202", "L203", "L102")]
    with pdfplumber.open(next(out.glob("*.pdf"))) as pdf:
        figures = [page.page_number for page in pdf.pages for im in page.images
                   if tuple(int(v) for v in im["srcsize"]) == TEXT_IMAGE]
        captions = [page.page_number for page in pdf.pages
                    if "A tall figure in the text." in (page.extract_text() or "")]
    assert len(figures) == 1 and captions == figures, (figures, captions)
    limits = {int(n) for n in re.findall(r"@page :nth\((\d+)\) \{ @footnote \{ max-height: [\d.]+pt", settled.read_text())}
    assert limits and limits <= {figures[0] - 1, figures[0]}, (limits, figures)
