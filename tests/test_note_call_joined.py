"""A note call never opens a line. After a full stop, a comma or a colon Pango may break before
the digits of a call (UAX #14: IS ÷ NU), so a line filled to "word." left its call to begin
the next line, and so did a word too long for the measure. The call's word joiner
(imprint/html/render.py) keeps it on its word."""

from __future__ import annotations

import io
from collections import Counter

import pdfplumber
import pytest

from conftest import METADATA, write_book
from imprint.checks import origins
from imprint.html import render
from imprint.jobs.job import Job, run_job
from imprint.manuscript.load import load
from imprint.specs.editions import DESIGN_MARGINS, EDITIONS, trim as trim_for

WORDS = "ab abc abcd abcde abcdef abcdefg abcdefgh".split()
LONG = "XQZTRWPLKMNBVCXZQWRTPLKJHGFDSZXCVBNMQWRT"     # capitals: not hyphenated; wider than 5 x 8's measure


def lay_out(folder):
    """The pipeline's typesetting job for the book, and its findings placed in the manuscript."""
    book = load(folder)
    body = render.body_html(book)
    trim = trim_for(book.metadata.trim)
    layout = run_job(Job(html=render.paged_html(book, body, EDITIONS["pdf"]),
                         page_css=render.page_css(book, trim, DESIGN_MARGINS[trim.name], mirrored=True),
                         base=book.root, book_root=book.root, book_file=book.metadata.source,
                         editions=(EDITIONS["pdf"],), identifier=book.metadata.identifier,
                         note_numbers=tuple(sorted(body.notes))))
    return layout.pdfs["pdf"], origins.place(layout.findings, book.sources)


def opened_by_calls(pdf: bytes) -> list[str]:
    """Lines of running text whose first character is a note call (small figures, then text of
    the body's size on the same line)."""
    out = []
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        for page in doc.pages:
            sizes = Counter(round(c["size"], 1) for c in page.chars)
            body = sizes.most_common(1)[0][0] if sizes else 0        # the running text's
            for line in page.extract_text_lines():
                chars = line["chars"]
                if (chars and chars[0]["text"].isdigit() and chars[0]["size"] < 0.8 * body
                        and any(abs(c["size"] - body) < 0.5 for c in chars)):
                    out.append(line["text"])
    return out


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """Sixty paragraphs set line by line, each with a call after a full stop, at sixty places
    along its line: some lines fill up to the stop."""
    paragraphs, notes = [], []
    for i in range(60):
        words = [WORDS[(i * 3 + k * 5) % len(WORDS)] for k in range(6 + i % 9)]
        paragraphs.append("Line " + " ".join(words) + f" end.[^n{i}] Then more words follow here to close it.")
        notes.append(f"[^n{i}]: A short note.")
    folder = write_book(tmp_path_factory.mktemp("filled") / "book", "# One\n\n" + "\n\n".join(paragraphs + notes) + "\n",
                        METADATA + "trim: 5x8\nline-breaking: greedy\n")
    return lay_out(folder)


def test_no_line_begins_with_a_note_call(filled):
    pdf, _ = filled
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        calls = sum(1 for page in doc.pages for c in page.chars if c["text"].isdigit() and c["size"] < 9)
    assert calls >= 60
    assert opened_by_calls(pdf) == []


def test_a_word_too_long_for_the_line_keeps_its_call_and_is_reported_at_its_place(tmp_path):
    text = "# One\n\nThe stop case: " + LONG + ".[^a] And the sentence goes on.\n\n[^a]: A note.\n"
    folder = write_book(tmp_path / "book", text, METADATA + "trim: 5x8\n")
    pdf, findings = lay_out(folder)
    assert opened_by_calls(pdf) == []
    long = [f for f in findings if f.code in ("L201", "L206") and LONG[:20] in f.message]
    assert long, findings
    assert all((f.where.file.name, f.where.line, f.where.column) == ("text.md", 3, 16) for f in long), long
