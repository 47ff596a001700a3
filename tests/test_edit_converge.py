"""After an edit, a text set in parts is laid out again from the last clean page start before
the change only until the new pages meet the old ones: a verso that begins at the same place
in an unchanged block (mid-paragraph too), with the same notes to come and the same lines
(imprint/jobs/starts.py, imprint/jobs/resetting.py). The book is then the same as a book set
cold from the edited text: for an edit that keeps the paragraph's lines, one that adds a
line, one that adds a note."""

from __future__ import annotations

import re

import pytest

from conftest import write_book
from imprint import cache
from imprint.jobs import chapters
from test_parts import WORDS, assert_same_as_cold, paged_job
from test_parts_essay import ESSAY_METADATA

LAID_OUT = re.compile(r"chapter 1: pages (\d+) to (\d+) set again \((\d+) laid out\), (\d+) pages after them kept "
                      r"\(met ([^)]*)\)")


SECTIONS = 10


def long_essay(seed: int = 23) -> str:
    """Ten run-on sections of six long paragraphs (about thirty pages), a note in every fourth."""
    import random

    rng = random.Random(seed)
    para = lambda n: " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."
    out, note = [], 1
    for k in range(SECTIONS):
        out.append(f"# Section {k + 1}\n")
        for p in range(6):
            text = para(rng.randint(80, 160))
            if p % 4 == 1:
                text += f"[^n{note}]\n\n[^n{note}]: {para(rng.randint(10, 30))}"
                note += 1
            out.append(text + "\n")
    return "\n".join(out)


@pytest.fixture(scope="module")
def first_build(tmp_path_factory):
    """The essay in parts, set once into a cache each test copies."""
    root = tmp_path_factory.mktemp("converge")
    mp = pytest.MonkeyPatch()
    mp.setenv("IMPRINT_PARTS", "always")
    try:
        book = write_book(root / "book", long_essay(), ESSAY_METADATA)
        (root / "original.md").write_text((book / "text.md").read_text())
        store = cache.Cache(root / "cache")
        with cache.using(store):
            layout = chapters.run(paged_job(book))
    finally:
        mp.undo()
    return root, layout


def _edit_and_compare(first_build, monkeypatch, edit):
    root, before = first_build
    monkeypatch.setenv("IMPRINT_PARTS", "always")
    book, store = root / "book", cache.Cache(root / "cache")
    text = book / "text.md"
    original = (root / "original.md").read_text()
    text.write_text(original)
    with cache.using(store):
        chapters.run(paged_job(book))           # from the cache: the chapter's last pages are the first build's again
    paragraphs = original.split("\n\n")
    paragraphs = text.read_text().split("\n\n")
    # the first paragraph of the sixth section: the first verso after it begins inside a paragraph
    middle = paragraphs.index("# Section 6") + 1
    paragraphs[middle] = edit(paragraphs[middle])
    text.write_text("\n\n".join(paragraphs))
    job = paged_job(book)
    said: list[str] = []
    with cache.using(store):
        again = chapters.run(job, said.append)
    assert_same_as_cold(again, job)                 # the edited text, set cold in one piece
    return before, again, said


def _chunks(said):
    return [(*map(int, m.groups()[:4]), m.group(5)) for line in said if (m := LAID_OUT.search(line))]


def test_a_word_that_keeps_the_lines_lays_out_a_few_pages(first_build, monkeypatch):
    # one word for another of the same letters: the paragraph keeps its lines
    def swap(paragraph):
        words = paragraph.split(" ")
        k = len(words) // 2
        words[k] = words[k][::-1] if words[k].isalpha() else words[k]
        return " ".join(words)

    before, again, said = _edit_and_compare(first_build, monkeypatch, swap)
    chunks = _chunks(said)
    assert chunks, said
    first, last, laid, kept, how = chunks[-1]
    assert how == "inside a block", said          # on a page that begins inside a paragraph
    assert not any("did not settle" in line for line in said), said
    # set from the last clean page start before the change up to the verso where the new pages
    # met the old ones (which stand from there on), laid out up to two pages past its recto
    used = last - first + 1
    assert used <= 3 and laid <= used + 4 and kept >= 4, said


def test_a_line_more_is_the_same_as_a_cold_build(first_build, monkeypatch):
    words = " ".join(["solidarity"] * 14)
    _, again, said = _edit_and_compare(first_build, monkeypatch, lambda p: p + " " + words + ".")
    assert _chunks(said), said


def test_a_note_more_is_the_same_as_a_cold_build(first_build, monkeypatch):
    added = lambda p: p + "[^added]\n\n[^added]: An added note, of a few words, called from the middle."
    _, again, said = _edit_and_compare(first_build, monkeypatch, added)
    assert any("chapter 1" in line for line in said), said
