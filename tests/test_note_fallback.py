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

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not os.environ.get("IMPRINT_SLOW"),
                                 reason="builds four small books: set IMPRINT_SLOW=1")]

WORDS = ("river harvest granary ledger merchant carriage tenant weaver harbour foundry meadow parish "
         "census tariff freight quarry orchard miller shepherd vintner cooper chandler tannery forge "
         "the of and in a to for with by on at from into over under between against among").split()
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
