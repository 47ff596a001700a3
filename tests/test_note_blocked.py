"""A note called on a page whose footnote area an earlier note fills and runs on past
(issue 16: the 1,000-page book's note 118, L102). WeasyPrint lays the notes out in order: the
earlier note's pieces still to come go first, so the later note cannot start under its call,
cut or pointed to. The cutter (imprint/typeset/longnotes.py `_blocked`) lets that page's
footnote area take the page (`_grow`), the earlier note ends there and the later one starts
under its call.

A book generated here (seeded words, no corpus text): chapters each opening with a paragraph
that calls a note of about two footnote areas, and calling a short note a few lines further,
at a varying place, so that in some chapters the second call falls on the page the first
note runs over. Read back from the written PDF with pdfplumber: on the page whose text holds
a note's call (a superscript in the body), the footnote area holds that note's number."""

from __future__ import annotations

import json
import random
import re

import pdfplumber
import pytest

from conftest import run_cli, write_book

WORDS = ("harbour lantern quarrel meadow tribunal granary orchard vessel ledger charter parish "
         "weaver tenant furrow millstone bargain covenant garrison pilgrim tavern thresher cobbler "
         "almanac shipwright toll frontier assize warden beacon steward fallow").split()
SMALL = "the of and to in a that was for on with as by at from".split()
AFTER = range(120, 300, 30)           # words between the long note's call and the short one's
METADATA = """\
title: Blocked Notes
author: Test Author
lang: en
identifier: urn:uuid:00000000-0000-4000-8000-000000000116
date: 2020-01-01
margins: {inner: 1.3in, outer: 0.625in, top: 0.75in, bottom: 0.9in}
"""


def words(r, n) -> str:
    return " ".join(r.choice(WORDS) if r.random() < 0.55 else r.choice(SMALL) for _ in range(n))


def paragraph(r, sentences) -> str:
    return " ".join(words(r, r.randint(9, 22)).capitalize() + "." for _ in range(sentences))


def manuscript() -> str:
    r = random.Random("blocked-notes")
    chapters = []
    for k, after in enumerate(AFTER, start=1):
        long = "\n\n    ".join(paragraph(r, 7) for _ in range(11))
        text = words(r, 260).capitalize() + "."
        tail = words(r, after).split(" ")
        chapters.append(
            f"# Chapter {k}\n\n{words(r, 30).capitalize()} long{k}[^a{k}] {' '.join(tail)} "
            f"short{k}[^b{k}] {paragraph(r, 3)}\n\n" + "\n\n".join(paragraph(r, 5) for _ in range(4))
            + f"\n\n{text}\n\n[^a{k}]: {long}\n\n[^b{k}]: {paragraph(r, 2)}\n")
    return "\n\n".join(chapters)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("blocked")
    book = write_book(root / "book", manuscript(), METADATA)
    out = root / "out"
    result = run_cli("--book", book, "--out", out, "--edition", "pdf")
    return result, out


def test_every_note_starts_on_its_calls_page_after_a_long_one_runs_over(built):
    result, out = built
    assert result.code == 0, result.err[-3000:]
    report = json.loads(next(out.glob("*.report.json")).read_text())
    assert not [f for f in report["findings"] if f["code"] == "L102"]
    with pdfplumber.open(next(out.glob("*.pdf"))) as pdf:
        calls, starts = {}, {}
        for page in pdf.pages:
            for word in page.extract_words(extra_attrs=["size"]):
                if re.fullmatch(r"(long|short)\d+", word["text"]) and word["size"] > 9.5:
                    calls.setdefault(word["text"], page.page_number)       # the body's words
            # a note opens with its number: "N Words..." (the verso's running head is "N Test Author")
            for line in (page.extract_text() or "").splitlines():
                m = re.match(r"^(\d+) [A-Z]", line)
                if m and "Test Author" not in line:
                    starts.setdefault(int(m.group(1)), page.page_number)
    # the notes are numbered in call order: long1 = 1, short1 = 2, long2 = 3 ...
    for k in range(1, len(AFTER) + 1):
        for which, n in ((f"long{k}", 2 * k - 1), (f"short{k}", 2 * k)):
            assert which in calls, (which, sorted(calls))
            assert starts.get(n) == calls[which], (which, n, calls[which], starts.get(n))
