"""Notes that cannot simply start under their calls (issue 16, items 2 and 5), on books
generated here (seeded word lists, no corpus text):

- A note too tall for the room left under a call near a page's foot used to take its call's
  line on to the next page (footnote-policy: line), leaving the page before with white under
  its text. The cutter (imprint/typeset/longnotes.py `_pushed`) now cuts such a note so it
  starts under its call; a note that cannot be cut there (an image) moves to the next page
  and the call's page points to it ("1 See note 1 on the next page.", N208).
- A table row taller than the footnote area is set on a page whose area may take the page.

Positions are read off the written PDF with pdfplumber: body text is set larger than notes."""

from __future__ import annotations

import json
import os
import random
import re

import pdfplumber
import pytest

from conftest import run_cli, write_book
from imprint.typeset import longnotes
from test_long_note_blocks import WORDS      # the same generated vocabulary

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not os.environ.get("IMPRINT_SLOW"),
                                 reason="builds four small books: set IMPRINT_SLOW=1")]

BODY = 9.5            # points: body text is set larger than this, notes smaller


def words(r, n) -> str:
    return " ".join(r.choice(WORDS) for _ in range(n))


def paragraph(r, sentences) -> str:
    return " ".join(words(r, r.randint(8, 15)).capitalize() + "." for _ in range(sentences))


# --- a short note called near a page's foot ----------------------------------------------

LEADS = range(150, 262, 8)       # words before the call on a chapter's opening page (5x8: ~260 fit)


def _pushed_manuscript() -> str:
    r = random.Random("pushed-notes")
    chapters = []
    for k, lead in enumerate(LEADS, start=1):
        note = f"Notestart{k} " + paragraph(r, 3) + "\n\n    " + paragraph(r, 3)
        chapters.append(f"# Chapter {k}\n\n{words(r, lead).capitalize()} callword{k}[^n{k}] "
                        f"{paragraph(r, 4)}\n\n" + "\n\n".join(paragraph(r, 5) for _ in range(5))
                        + f"\n\n[^n{k}]: {note}\n")
    return "\n\n".join(chapters)


def _build(root, manuscript, *extra, files=None):
    book = write_book(root / "book", manuscript)
    for name, data in (files or {}).items():
        (book / name).write_bytes(data)
    out = root / "out"
    result = run_cli("--book", book, "--out", out, "--edition", "pdf", "--trim", "5x8", *extra)
    assert result.code == 0, result.err[-3000:]
    report = json.loads(next(out.glob("*.report.json")).read_text())
    return next(out.glob("*.pdf")), report


def _lines(page) -> list[tuple[float, float, str, float]]:
    """(top, bottom, text, size) of each line of the page, top to bottom."""
    rows: dict[int, list] = {}
    for c in page.chars:
        rows.setdefault(round(c["bottom"]), []).append(c)
    out = []
    for y in sorted(rows):
        chars = sorted(rows[y], key=lambda c: c["x0"])
        out.append((min(c["top"] for c in chars), max(c["bottom"] for c in chars),
                    "".join(c["text"] for c in chars), max(c["size"] for c in chars)))
    return out


def _pushed_calls(pdf) -> list[str]:
    """Calls whose line opens a page while the page before (same chapter) ends with three or
    more lines of white above its foot: what a note taking its call's line along leaves."""
    out = []
    with pdfplumber.open(pdf) as doc:
        pages = [_lines(p) for p in doc.pages]
    body = [[ln for ln in lines if ln[3] > BODY] for lines in pages]
    line = 14.0
    foot = max(ln[1] for lines in body for ln in lines)                 # the text block's foot
    for k, lines in enumerate(body[1:], start=1):
        before = body[k - 1]
        calls = [ln for ln in lines[:4] if re.search(r"callword\d+", ln[2])]
        if not calls or not before or any(ln[2].startswith("Chapter") for ln in lines[:2]):
            continue
        notes = [ln for ln in pages[k - 1] if ln[3] <= BODY and ln[0] > before[-1][1]]
        floor = min((ln[0] for ln in notes), default=foot)
        if floor - before[-1][1] >= 3 * line:
            out.append(re.search(r"callword\d+", calls[0][2]).group(0))
    return out


@pytest.fixture(scope="module")
def pushed_books(tmp_path_factory):
    root = tmp_path_factory.mktemp("pushed")
    mended = _build(root / "mended", _pushed_manuscript())
    patch = pytest.MonkeyPatch()
    patch.setattr(longnotes, "_pushed", lambda document, pages: {})
    try:
        unmended = _build(root / "unmended", _pushed_manuscript(), "--no-cache")
    finally:
        patch.undo()
    return mended, unmended


def test_without_the_mend_a_note_takes_its_call_on_and_leaves_white(pushed_books):
    _, (pdf, _) = pushed_books
    assert _pushed_calls(pdf), "the book no longer shows the case: change LEADS"


def test_a_note_too_tall_for_the_room_left_starts_under_its_call_and_is_cut(pushed_books):
    (pdf, report), _ = pushed_books
    assert _pushed_calls(pdf) == []
    codes = [f["code"] for f in report["findings"] if isinstance(f, dict)]
    assert "L102" not in codes and "L225" not in codes and "N205" not in codes


# --- a note that cannot be cut: an image, a table row taller than the footnote area --------

IMAGE_LEADS = range(120, 300, 20)     # words before an image note's call, chapter by chapter


def _uncuttable_manuscript() -> str:
    r = random.Random("uncuttable-notes")
    chapters = []
    for k, lead in enumerate(IMAGE_LEADS, start=1):
        chapters.append(f"# Plate {k}\n\n{words(r, lead).capitalize()} plateword{k}[^p{k}] {paragraph(r, 3)}\n\n"
                        + "\n\n".join(paragraph(r, 5) for _ in range(6))
                        + f"\n\n[^p{k}]: Platenote{k}: ![A tall plate.](tall.png)\n")
    k = len(IMAGE_LEADS) + 1
    row = "| Parish | Account |\n|---|---|\n| Tallrow | " + words(r, 160) + " Rowend |\n| Short | " + words(r, 4) + " |"
    note = f"Rownote{k} {paragraph(r, 1)}\n\n" + row
    indented = "\n".join("    " + line if line else "" for line in note.split("\n")).lstrip()
    chapters.append(f"# Table\n\n{paragraph(r, 3)} rowword{k}[^t] {paragraph(r, 3)}\n\n"
                    + "\n\n".join(paragraph(r, 5) for _ in range(10)) + f"\n\n[^t]: {indented}\n")
    chapters.append("# Afterword\n\n" + "\n\n".join(paragraph(r, 5) for _ in range(3)))
    return "\n\n".join(chapters)


@pytest.fixture(scope="module")
def uncuttable(tmp_path_factory):
    from test_long_note_blocks import tall_png
    root = tmp_path_factory.mktemp("uncuttable")
    pdf, report = _build(root, _uncuttable_manuscript(), files={"tall.png": tall_png()})
    with pdfplumber.open(pdf) as doc:
        pages = [{"lines": _lines(p), "images": [(float(i["top"]), float(i["bottom"])) for i in p.images],
                  "height": float(p.height), "width": float(p.width),
                  "chars": [(c["x0"], c["top"], c["x1"], c["bottom"]) for c in p.chars]} for p in doc.pages]
    return pages, report


HYPHENS = ("\u2010", "-", "\u00ad")


def _page_of(pages, word, small=None) -> int | None:
    """The page of the line where `word` ends (a call follows its word there): a line ending
    in a hyphen is read joined to the next line of its kind (total-fit breaking hyphenates
    "plate-word7" across lines, and across pages)."""
    before = ""
    for i, page in enumerate(pages):
        for ln in page["lines"]:
            if small is not None and (ln[3] <= BODY) != small:
                continue
            text = ln[2]
            joined = before.split()[-1][:-1] + text if before.endswith(HYPHENS) and before.split() else ""
            if word in text or word in joined:
                return i
            before = text
    return None


def test_an_image_note_that_does_not_fit_moves_on_and_its_calls_page_points_to_it(uncuttable):
    pages, report = uncuttable
    pointed = []
    for k in range(1, len(IMAGE_LEADS) + 1):
        call = _page_of(pages, f"plateword{k}", small=False)
        note = _page_of(pages, f"Platenote{k}", small=True)
        assert call is not None and note is not None
        pointer = [ln for ln in pages[call]["lines"] if f"See note {k} on the next page" in ln[2]]
        if note == call:
            assert not pointer
            continue
        # The note moved: the call's page points to it, in its footnote area (small type,
        # below the text), and the note is on the very next page with its plate.
        assert note == call + 1, f"note {k} is on page {note + 1}, its call on page {call + 1}"
        assert pointer and pointer[0][3] <= BODY, f"page {call + 1} does not point to note {k}"
        body = [ln for ln in pages[call]["lines"] if ln[3] > BODY and ln[1] < pointer[0][0]]
        assert body and pointer[0][0] > body[-1][1]
        assert pages[note]["images"], f"note {k}'s plate is not on page {note + 1}"
        pointed.append(k)
    assert pointed, "no image note fell where it cannot fit: change IMAGE_LEADS"
    n208 = [f for f in report["findings"] if isinstance(f, dict) and f["code"] == "N208"]
    assert sorted(int(re.search(r"note (\d+)", f["message"]).group(1)) for f in n208) == pointed


def test_a_table_row_taller_than_the_footnote_area_stays_on_the_page(uncuttable):
    pages, report = uncuttable
    start, end = _page_of(pages, "Tallrow", small=True), _page_of(pages, "Rowend", small=True)
    assert start is not None and end is not None
    for i in {start, end}:
        assert all(0 <= y0 and y1 <= pages[i]["height"] - 36 for _, y0, _, y1 in pages[i]["chars"]), \
            f"page {i + 1} draws text in its foot margin"


def test_the_uncuttable_book_has_no_note_errors(uncuttable):
    _, report = uncuttable
    codes = [f["code"] for f in report["findings"] if isinstance(f, dict)]
    assert not {"L102", "N202", "N204", "N205", "N206", "L202", "L203"} & set(codes)


# --- a long note called near a document's end ---------------------------------------------

END_WORDS = "Quod erat demonstrandum"


def _ending_manuscript() -> str:
    r = random.Random("ending-note")
    note = "\n\n    ".join(paragraph(r, 6) for _ in range(10)) + f" {END_WORDS}."
    return ("# One\n\n" + "\n\n".join(paragraph(r, 5) for _ in range(6)) + "\n\n# Two\n\n"
            + "\n\n".join(paragraph(r, 5) for _ in range(6)) + " Called at the very end.[^long]\n\n"
            + f"[^long]: {note}\n")


def test_a_long_note_called_at_the_documents_end_is_drawn_to_its_last_word(tmp_path):
    pdf, report = _build(tmp_path, _ending_manuscript())
    with pdfplumber.open(pdf) as doc:
        pages = [_lines(p) for p in doc.pages]
        height = float(doc.pages[0].height)
    notes = [ln for lines in pages for ln in lines if ln[3] <= BODY]
    assert any("".join(END_WORDS.split()) in "".join(ln[2].split()) for ln in notes), \
        "the note's last words are not drawn"
    assert all(ln[1] <= height - 36 for ln in notes), "a note line lies in the foot margin"
    codes = [f["code"] for f in report["findings"] if isinstance(f, dict)]
    assert "N202" not in codes and "N205" not in codes


def test_without_the_patch_weasyprint_drops_the_notes_tail(tmp_path):
    import contextlib
    patch = pytest.MonkeyPatch()
    patch.setattr(longnotes, "pending_notes_kept", contextlib.nullcontext)
    try:
        book = write_book(tmp_path / "book", _ending_manuscript())
        result = run_cli("--book", book, "--out", tmp_path / "out", "--edition", "pdf", "--trim", "5x8", "--no-cache")
    finally:
        patch.undo()
    assert result.code != 0 and "N202" in result.err
