"""After an edit inside a long chapter, only its pages from the last clean page start before the
edit are set again, the old pages taken back where the new ones fall as they did; the book
still has the pages of a fresh, unsplit layout. An edit whose pages do not settle sets the
chapter whole."""

from __future__ import annotations

import random
import shutil

import pypdfium2
import pytest
from PIL import ImageChops

from conftest import write_book
from imprint import cache
from imprint.jobs import chapters
from imprint.jobs.job import run_job
from imprint.typeset import engine
from test_parts import BOOK_METADATA, WORDS, page_texts, paged_job, book_findings, structure


def long_chapter_manuscript(seed: int = 7, in_parts: bool = False) -> str:
    """Three chapters, the second long; `in_parts`: the second and third are the chapters of
    a part of the book (level-2 sections of a `{.part}` level-1 section)."""
    rng = random.Random(seed)
    para = lambda n: " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."
    out, note = [], 1
    for ch in range(1, 4):
        head = "##" if in_parts and ch > 1 else "#"
        if in_parts and ch == 2:
            out.append("# Book Two {#book2 .part}\n")
        out.append(f"{head} Chapter {ch} {{#ch{ch}}}\n")
        for sec in range(1, 2 if ch != 2 else 17):
            out.append(f"{head}# Section {ch}.{sec}\n")
            if ch == 2 and sec == 5:
                # subsections within subsections: hidden in front of a chunk begun after them,
                # they leave boxes of no height holding boxes of no height
                out.append(f"{head}## Points {ch}.{sec}\n\n{head}### Point {ch}.{sec}.i\n\n{para(40)}\n\n"
                           f"{head}### Point {ch}.{sec}.ii\n\n{para(40)}\n")
            for p in range(6):
                text = para(rng.randint(20, 120))
                if p % 4 == 1:
                    out.append(text + f"[^n{note}]\n")
                    out.append(f"[^n{note}]: {para(rng.randint(5, 25))}\n")
                    note += 1
                else:
                    out.append(text + "\n")
    return "\n".join(out)


EDITS = {
    # a word in the middle of chapter 2: its pages settle again at the next clean page start
    "a word": lambda text: text.replace("## Section 2.3\n\n", "## Section 2.3\n\nEdited ", 1),
    # a word in a later section: the chunk begins after sections it leaves empty (hidden)
    "a word, late": lambda text: text.replace("## Section 2.12\n\n", "## Section 2.12\n\nEdited ", 1),
    # the same, in a chapter that is itself a level-1 section, after nested subsections
    "a word, late, after subsections": lambda text: text.replace("## Section 2.12\n\n", "## Section 2.12\n\nEdited ", 1),
    # many sentences: the rest of the chapter moves, and is set again from the same page
    "a sentence": lambda text: text.replace("## Section 2.3\n\n", "## Section 2.3\n\n" + "Many more words. " * 40, 1),
}


@pytest.fixture(scope="module")
def first_build(tmp_path_factory):
    """The book before the edit (chapters as level-1 sections, or in a part), set once into a
    cache: each test edits the same book folder (its path is part of the cache's keys) and sets
    it again over a copy of that cache, as if it were the only build made before."""
    built = {}

    def first(in_parts: bool):
        if in_parts not in built:
            root = tmp_path_factory.mktemp("chunks")
            mp = pytest.MonkeyPatch()
            mp.setenv("IMPRINT_PARTS", "always")
            try:
                book = write_book(root / "book", long_chapter_manuscript(in_parts=in_parts),
                                  BOOK_METADATA + "line-breaking: greedy\n")
                with cache.using(cache.Cache(root / "cache")):
                    chapters.run(paged_job(book))          # the first build: the chapters' history
            finally:
                mp.undo()
            built[in_parts] = (book, (book / "text.md").read_text(), root / "cache")
        return built[in_parts]
    return first


@pytest.mark.parametrize("edit, in_parts", [("a word", False), ("a sentence", False), ("a word, late", True),
                                             ("a sentence", True), ("a word, late, after subsections", False)])
def test_an_edited_chapter_has_the_pages_of_a_fresh_layout(first_build, tmp_path, monkeypatch, edit, in_parts):
    monkeypatch.setenv("IMPRINT_PARTS", "always")
    # KNOWN GAP: with total-fit line breaking (the default) this book is set again whole after
    # the edit, not from a clean page start (correct pages, no saving); not yet understood.
    # The resetting is tested here on lines broken one at a time.
    book, original, history = first_build(in_parts)
    name = "chapter 3" if in_parts else "chapter 2"        # a part's title is a part of its own
    store = cache.Cache(shutil.copytree(history, tmp_path / "cache"))     # the first build's cache only
    text = book / "text.md"
    text.write_text(EDITS[edit](original))                 # the first build's text, edited
    cache.forget_file_digests()
    job = paged_job(book)
    said: list[str] = []
    with cache.using(store):
        again = chapters.run(job, said.append)
    assert any(f"{name}, from page" in line for line in said), said
    assert not any(line.startswith("typesetting") and "chapter 1" in line for line in said)
    unsettled = [line for line in said if line.endswith("the changed pages did not settle")]
    assert bool(unsettled) == (edit == "a sentence"), said
    if edit.startswith("a word, late"):     # set from a page well inside the chapter
        assert any(f"{name}, from page" in line and "from page 1 " not in line for line in said), said
    # Not settled: the rest of the chapter is set, from the same page (its first pages stand).
    assert all(f"{name}, from page" in line for line in unsettled), said

    fresh = run_job(job)            # no parts, no cache
    assert again.pages == fresh.pages and again.padding == fresh.padding
    for edition in fresh.pdfs:
        assert page_texts(again.pdfs[edition]) == page_texts(fresh.pdfs[edition])
        a, b = pypdfium2.PdfDocument(fresh.pdfs[edition]), pypdfium2.PdfDocument(again.pdfs[edition])
        for i in range(len(a)):
            left, right = (d[i].render(scale=0.75).to_pil().convert("L") for d in (a, b))
            assert ImageChops.difference(left, right).getbbox() is None, f"{edition} page {i + 1} differs"
    assert again.extracts["anchors"] == fresh.extracts["anchors"]
    assert again.extracts["pagemap"] == fresh.extracts["pagemap"]
    assert book_findings(again) == book_findings(fresh)
    assert structure(again.pdfs["pdf"])[:3] == structure(fresh.pdfs["pdf"])[:3]     # outline, names, links
