"""The manuscript carries the author's text word for word: the seed's words, in order, equal
the manuscript's, apart from the recorded repairs, the note-call markers and Markdown syntax."""

import re

import pytest

from conftest import BOOK, SEED
from imprint.manuscript.load import load
from imprint.manuscript.pandoc import stringify

pytestmark = pytest.mark.skipif(not SEED.exists(), reason="the seed text is not beside the repository")

# Each repair of damaged source text, as (damaged, repaired); each must be recorded in the
# book's editorial notes.
REPAIRS = [("capitalists.&rdqu", "capitalists.”"), ("April 1938,", "April 1938.")]


def seed_parts():
    lines = SEED.read_text(encoding="utf-8").rstrip().splitlines()
    title, byline, source_line = lines[0], lines[2], lines[-1]
    body = "\n".join(lines[3:-1])
    for damaged, repaired in REPAIRS:
        assert body.count(damaged) == 1, damaged
        body = body.replace(damaged, repaired)
    body = re.sub(r"\((\d)\)", " ", body)                  # old-style note calls
    body = re.sub(r"^\s+\d\. ", "", body, flags=re.M)      # the numbered note list
    body = body.replace("•", " ")
    return title, byline, source_line, body.split()


def manuscript_words(book):
    text = book.markdown
    text = re.sub(r"\[\^\w+\]:?", " ", text)               # note calls and definitions
    text = re.sub(r"^#+ ", "", text, flags=re.M)            # headings
    text = re.sub(r"^- ", "", text, flags=re.M)             # list items
    text = text.replace("*", "")                            # emphasis
    return text.split()


def test_words_equal_the_seed_apart_from_recorded_repairs():
    book = load(BOOK)
    title, byline, source_line, seed_words = seed_parts()
    words = manuscript_words(book)
    assert words == seed_words
    assert book.metadata.title == title
    assert byline.lstrip("— ") == book.metadata.author_line
    assert "188" in book.metadata.original_publication and "2017" in source_line


def test_every_repair_is_recorded_in_the_editorial_notes():
    notes = " ".join(load(BOOK).metadata.editorial_notes)
    assert "&rdqu" in notes
    assert "April 1938" in notes and "breaks off" in notes


def test_structure_headings_list_and_notes():
    book = load(BOOK)
    assert len(book.headings) == 9
    assert all(h.level == 1 for h in book.headings)
    assert [d.label for d in book.notes.definitions] == ["1", "2", "3"]
    assert [c.label for c in book.notes.calls] == ["1", "2", "3"]
    bullets = [b for b in book.ast["blocks"] if b["t"] == "BulletList"]
    assert sum(len(b["c"]) for b in bullets) == 3
    assert book.markdown.rstrip().splitlines()[-1].startswith("[^3]:")
    last_para = [b for b in book.ast["blocks"] if b["t"] == "Para"][-1]
    assert stringify(last_para["c"]) == "Thanks to Robert Brenner for incisive comments."
