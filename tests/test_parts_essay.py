"""An essay (its sections run on from its opening title, no chapter opens a page) is set in
parts too: its front matter, and its whole text as one part. The pages are those of the essay
set in one piece (text, running heads with each page's section, folios, notes on their
call's page, links), and after a one-paragraph edit only the text's pages from the last
clean page start before the change are set again (imprint/jobs/resetting.py). A book of the
Communist Manifesto's length is set in parts by default (chapters.SPLIT_MIN_CHARS)."""

from __future__ import annotations

import random
import shutil

import pytest

from conftest import write_book
from imprint import cache
from imprint.jobs import chapters
from imprint.jobs.job import run_job
from test_parts import (BOOK_METADATA, WORDS, assert_pages_look_alike, assert_same_as_cold, page_texts, paged_job,
                        book_findings, structure)

SECTIONS = ("Councils", "Theses", "October", "Democracy", "Isolation", "Hope")


def essay_manuscript(seed: int = 11) -> str:
    """Six run-on sections of four to nine paragraphs, a note in every third, one link back."""
    rng = random.Random(seed)
    para = lambda n: " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."
    out, note = [para(70) + "\n", para(90) + "\n"], 1
    for k, name in enumerate(SECTIONS):
        out.append(f"# {name} {{#{name.lower()}}}\n")
        for p in range(4 + k):
            text = para(rng.randint(40, 130))
            if p % 3 == 1:
                out.append(text + f"[^n{note}]\n")
                out.append(f"[^n{note}]: {para(rng.randint(8, 30))}\n")
                note += 1
            else:
                out.append(text + (" See [the councils](#councils)." if k == 4 and p == 2 else "") + "\n")
    return "\n".join(out)


ESSAY_METADATA = BOOK_METADATA + "form: essay\n"


@pytest.fixture(scope="module")
def essay_root(tmp_path_factory):
    """The essay's folder (root/book) and the cache its first build in parts was set into (root/cache)."""
    return tmp_path_factory.mktemp("essay")


@pytest.fixture(scope="module")
def essay(essay_root):
    root = essay_root
    book = write_book(root / "book", essay_manuscript(), ESSAY_METADATA)
    job = paged_job(book)
    whole = run_job(job)
    mp = pytest.MonkeyPatch()
    mp.setenv("IMPRINT_PARTS", "always")
    try:
        parts = chapters.split(job)
        said: list[str] = []
        with cache.using(cache.Cache(root / "cache")):         # a cache of this build alone, for the edit below
            split = chapters.run(job, said.append)
    finally:
        mp.undo()
    return job, whole, parts, split, said


def test_an_essay_is_set_as_its_front_matter_and_its_text(essay):
    _, _, parts, _, said = essay
    assert parts is not None and len(parts.texts) == 1
    assert parts.texts[0].html.count('class="opening-title"') == 1        # the whole text, from its title
    assert all(f'id="{name.lower()}"' in parts.texts[0].html for name in SECTIONS)
    assert "typesetting 1 chapters in parallel parts" in said
    assert not any("one piece" in line for line in said), said           # joined, not set again whole


def test_the_essay_in_parts_has_the_pages_of_the_essay_set_whole(essay):
    _, whole, _, split, _ = essay
    assert split.pages == whole.pages and whole.pages >= 8
    for edition in whole.pdfs:
        assert page_texts(split.pdfs[edition]) == page_texts(whole.pdfs[edition])
    assert_pages_look_alike(whole.pdfs["pdf"], split.pdfs["pdf"])
    assert split.extracts["anchors"] == whole.extracts["anchors"]
    assert split.extracts["pagemap"] == whole.extracts["pagemap"]
    assert book_findings(split) == book_findings(whole)
    assert structure(split.pdfs["pdf"])[:3] == structure(whole.pdfs["pdf"])[:3]     # outline, names, links


def test_the_running_heads_name_each_pages_section(essay):
    """The overlay's pages sit in the essay's main element: each right-hand page's head is
    the section open on it, not the essay's title throughout."""
    _, _, _, split, _ = essay
    texts = page_texts(split.pdfs["pdf"])
    heads = {t.splitlines()[0] for t in texts if t.strip()}
    assert sum(any(line.startswith(name) for line in heads) for name in SECTIONS) >= 3, heads


def test_an_edit_sets_the_essay_again_from_a_page_inside_it(essay, essay_root, tmp_path, monkeypatch):
    monkeypatch.setenv("IMPRINT_PARTS", "always")
    # the essay in parts as the fixture set it, into a cache of that build alone: edited in its
    # own folder (the cache's keys hold its path) and set again over a copy of that cache
    book = essay_root / "book"
    store = cache.Cache(shutil.copytree(essay_root / "cache", tmp_path / "cache"))
    text = book / "text.md"
    assert text.read_text() == write_book(tmp_path / "unedited", essay_manuscript(), ESSAY_METADATA).joinpath(
        "text.md").read_text()                      # the text the fixture set, not yet edited
    # A word in the last paragraph: after the last page that begins with a paragraph of its own
    # before it (a page that begins inside a paragraph is no place to start from).
    text.write_text(text.read_text().rstrip() + " Edited.\n")
    job = paged_job(book)
    said: list[str] = []
    with cache.using(store):
        again = chapters.run(job, said.append)
    chunks = [line for line in said if line.startswith("typesetting chapter 1, from page")]
    assert chunks and "from page 1 " not in chunks[0], said
    assert not any(line.startswith("typesetting chapter 1,") and "from page" not in line
                   for line in said), said           # never the whole text again
    assert_same_as_cold(again, job)                 # the edited text, set cold in one piece


def test_a_book_of_the_manifestos_length_is_set_in_parts_by_default(tiny_book, monkeypatch):
    monkeypatch.delenv("IMPRINT_PARTS", raising=False)
    rng = random.Random(3)
    para = lambda: " ".join(rng.choice(WORDS) for _ in range(150)).capitalize() + "."
    chapter = lambda k, n: f"# Chapter {k}\n\n" + "\n\n".join(para() for _ in range(n)) + "\n\n"
    long_book = tiny_book("".join(chapter(k, 18) for k in range(1, 7)), metadata=BOOK_METADATA)
    job = paged_job(long_book)
    assert 75_000 <= len(job.html) < 150_000            # between the essay's and Mutual Aid's
    assert chapters.split(job) is not None
    short = tiny_book("".join(chapter(k, 3) for k in range(1, 7)), metadata=BOOK_METADATA)
    assert chapters.split(paged_job(short)) is None      # a few pages: one piece is quicker


def test_a_book_of_one_part_is_split_by_default_only_when_long(tiny_book, monkeypatch):
    """One part gains no second core: below chapters.ONE_PART_MIN_CHARS it is set in one piece."""
    monkeypatch.delenv("IMPRINT_PARTS", raising=False)
    rng = random.Random(5)
    para = lambda: " ".join(rng.choice(WORDS) for _ in range(150)).capitalize() + "."
    essay = tiny_book("# Only\n\n" + "\n\n".join(para() for _ in range(110)) + "\n", metadata=ESSAY_METADATA)
    job = paged_job(essay)
    assert chapters.SPLIT_MIN_CHARS <= len(job.html) < chapters.ONE_PART_MIN_CHARS
    assert chapters.split(job) is None
    monkeypatch.setattr(chapters, "ONE_PART_MIN_CHARS", len(job.html))
    assert len(chapters.split(job).texts) == 1




class _Probe:
    """A stand-in typesetting job (forked, as every job is): says whether it was alone when
    it looked. `together`: a barrier it waits at, with another probe, before and after it
    looks (both at work then); `after`: an event set when another probe has started, after
    which it looks until that one's process has ended."""

    book_file = None
    html = ""
    part = "chapter 1"

    def __init__(self, together=None, started=None, after=None):
        self.together, self.started, self.after = together, started, after

    def run(self):
        import time
        from types import SimpleNamespace

        from imprint.jobs.job import alone
        if self.started is not None:
            self.started.set()
        if self.together is not None:
            self.together.wait(60)
        seen = alone()
        if self.together is not None:
            self.together.wait(60)
        if self.after is not None:
            assert self.after.wait(60)
            for _ in range(600):        # a wait for the other process to end, not a timing
                seen = alone()
                if seen:
                    break
                time.sleep(0.1)
        return SimpleNamespace(pages=0, alone=seen)


def test_a_job_is_told_when_no_other_job_is_at_work_beside_it():
    import multiprocessing

    from imprint import settings
    from imprint.jobs import pool

    ctx = multiprocessing.get_context("fork")
    with settings.using(settings.Settings.from_environment(workers=2)):
        assert [r.alone for r in pool.run_jobs([_Probe()])] == [True]      # an edit's one changed chapter
        both = ctx.Barrier(2)
        side_by_side = pool.run_jobs([_Probe(together=both), _Probe(together=both)], longest_first=False)
        assert [r.alone for r in side_by_side] == [False, False]
        started = ctx.Event()
        last = pool.run_jobs([_Probe(after=started), _Probe(started=started)], longest_first=False)
        assert [r.alone for r in last] == [True, False]    # the first, once the second is done
    with settings.using(settings.Settings.from_environment(workers=1)):
        assert [r.alone for r in pool.run_jobs([_Probe()])] == [False]      # no core to spare


def test_a_part_set_alone_writes_its_editions_side_by_side_and_the_same(essay):
    """A part written while other parts are at work writes its editions in turn; alone (an
    edit, the last part), in forked writers as a book in one piece does: the same bytes."""
    import dataclasses
    from types import SimpleNamespace

    from imprint import processes
    from imprint.jobs.job import counting

    job = dataclasses.replace(essay[0], part="chapter 1")
    before = len(processes.DECISIONS)
    with counting(SimpleNamespace(value=2)):
        in_turn = run_job(job)
    assert ("writers", True) not in processes.DECISIONS[before:]
    with counting(SimpleNamespace(value=1)):
        beside = run_job(job)
    assert ("writers", True) in processes.DECISIONS[before:]
    assert beside.pdfs == in_turn.pdfs
