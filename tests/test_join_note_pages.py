"""A chapter whose last note runs on past its last line, set in parts and joined (issue 16's
big book fell back to one piece for this: 2.3 GB in one process, over the memory limit).

A part ends with its chapter; WeasyPrint makes pages at a document's end for the notes still
pending, and those are `:blank` pages. The running heads and folios are one overlay document
whose pages are all pages of their section: the join used to find "not blank" against "blank"
and set the whole book again in one piece. Now a part whose text ends with a note still running
ends with run-out pages (running head, folio: imprint/typeset/runout.py), a part's own blank
pages need only their side, and the book joins.

The book: chapter 1 ends on a recto with a long note called on its last lines (set whole, the
note's rest goes on the blank verso before chapter 2; in parts, on the page the part ends
with: the same page), chapter 2 ends on a verso the same way (set whole, a run-out page closes
it, imprint/typeset/runout.py; in parts the part's own page holds the rest), chapter 3 is short.
"""

from __future__ import annotations

import io
import random

import pikepdf
import pytest

from conftest import write_book
from imprint.jobs import chapters
from imprint.jobs.job import run_job
from test_parts import BOOK_METADATA, WORDS, assert_pages_look_alike, content, page_texts, paged_job


def manuscript(seed: int = 16) -> str:
    rng = random.Random(seed)
    para = lambda n: " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."
    long_note = lambda n: "\n\n    ".join(para(110) for _ in range(n))
    return "\n".join([
        "# Chapter 1 {#ch1}\n", para(120) + "\n", para(90) + "[^a] " + para(12) + "\n",
        f"[^a]: {long_note(3)}\n",
        "# Chapter 2 {#ch2}\n", *(para(130) + ("[^b]" if k == 0 else "") + "\n" for k in range(3)),
        para(100) + "[^c] " + para(10) + "\n",
        f"[^b]: {para(20)}\n", f"[^c]: {long_note(6)}\n",
        "# Chapter 3 {#ch3}\n", para(80) + "[^d]\n", f"[^d]: {para(15)}\n",
    ])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    book = write_book(tmp_path_factory.mktemp("notepages") / "book", manuscript(), BOOK_METADATA)
    job = paged_job(book)
    whole = run_job(job)
    mp = pytest.MonkeyPatch()
    mp.setenv("IMPRINT_PARTS", "always")
    try:
        said: list[str] = []
        split = chapters.run(job, said.append)
    finally:
        mp.undo()
    return whole, split, said


def _note_pages(layout) -> list[int]:
    """0-based pages of the text that hold only notes (the rest of a note, past its chapter's end):
    a part's own pages after its text (of a blank page's type, drawn on) or the run-out pages a
    part's text ends with when a note still runs (imprint/typeset/runout.py)."""
    plan = layout.extracts["page_plan"]
    return [i for i, page in enumerate(plan) if (page["blank"] and page["drawn"]) or page["name"] == chapters.RUNOUT_PAGE]


def test_the_parts_join_up(built):
    _, split, said = built
    assert not any("one piece" in line or "do not fit" in line for line in said), said
    # The case under test: the parts' own blank pages hold notes (both chapters' notes run on).
    assert len(_note_pages(split)) >= 2, split.extracts["page_plan"]


def test_the_pages_are_the_book_set_whole(built):
    whole, split, _ = built
    anchors = split.extracts["anchors"]
    assert split.pages == whole.pages and anchors == whole.extracts["anchors"]
    assert [anchors[f"ch{k}"] % 2 for k in (1, 2, 3)] == [1, 1, 1]
    a, b = page_texts(whole.pdfs["pdf"]), page_texts(split.pdfs["pdf"])
    # A page that holds only the rest of a note: set whole, the blank verso before a chapter
    # (no running head, no folio) or a run-out page (with them); in parts, a run-out page. The
    # text is the same but for the running head and folio.
    notes = set(_note_pages(split))
    assert notes
    for i, (w, s) in enumerate(zip(a, b)):
        if i in notes:
            extra = [line for line in (w.splitlines() + s.splitlines())
                     if (line in w.splitlines()) != (line in s.splitlines())]
            assert len(extra) <= 2, (i, w, s)
            assert s.replace("\n", " ").strip().endswith(w.replace("\n", " ").strip()[-60:]), (i, w, s)
        else:
            assert s == w, (i, w, s)
    assert_pages_look_alike(whole.pdfs["pdf"], split.pdfs["pdf"], skip=notes)


def test_the_note_pages_are_not_stamped_and_the_text_pages_are(built):
    _, split, _ = built
    plan = split.extracts["page_plan"]
    first_text = split.extracts["anchors"]["ch1"] - 1
    pdf = pikepdf.open(io.BytesIO(split.pdfs["pdf"]))
    stamped = [i for i, page in enumerate(pdf.pages) if b"/Artifact <</Type /Pagination>> BDC" in content(page)]
    assert stamped == [i for i in range(first_text, len(plan)) if not plan[i]["blank"]]
    # the pages of a note's rest are run-out pages: a running head and a folio, as set whole
    assert _note_pages(split) and set(_note_pages(split)) <= set(stamped)


def test_the_overlay_check_names_what_does_not_fit():
    page = lambda side, blank=False, name="chapter", drawn=True: {
        "side": side, "blank": blank, "name": name, "area": (1, 2, 3, 4), "drawn": drawn}
    plan = [page("right"), page("left", blank=True, name=""), page("right")]
    overlay = [page("right"), page("left"), page("right")]
    assert chapters._overlay_mismatch(overlay, plan, {0, 2}, {1}) == ""
    assert "blank" in chapters._overlay_mismatch(overlay, plan, {0, 2})        # not known as a part's own
    assert "left-hand" in chapters._overlay_mismatch([page("right"), page("right"), page("left")], plan, {0, 2}, {1})
    assert "3 pages" in chapters._overlay_mismatch(overlay[:2] + overlay, plan, {0, 2}, {1})
    # The book's own blank pages draw a folio (`@page :blank`): a part's would not get it.
    plan2 = plan + [page("left", blank=True, name="", drawn=False), page("right")]
    overlay2 = overlay + [page("left", blank=True, drawn=True), page("right")]
    assert ":blank" in chapters._overlay_mismatch(overlay2, plan2, {0, 2, 4}, {1})
