"""What a typesetting process learns is not learnt twice (issue 19: an edit's build under a
quarter of a cold one). A paragraph's breaks are remembered by everything they depend on
(linebreak.PLANS), a large stream's compressed bytes by their digest (fence/pdfwrite.STREAMS),
a spread's search by what its first layout held (fence/spreads.MEMORY). A --watch session's
process keeps what its typesetting children learnt (processes.keep_learnt): they hand it back
with their result, and the next edit's children are forked with it."""

from __future__ import annotations

import re

import pytest

from conftest import write_book
from imprint import processes
from imprint.jobs.job import run_job
from imprint.typeset import linebreak
from imprint.typeset.fence import pdfwrite, spreads
from test_parts_essay import ESSAY_METADATA, essay_manuscript
from test_parts import paged_job


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    return paged_job(write_book(tmp_path_factory.mktemp("learnt") / "book", essay_manuscript(5), ESSAY_METADATA))


def counting(monkeypatch, module, name):
    calls = []
    original = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)
    monkeypatch.setattr(module, name, counted)
    return calls


def test_a_paragraph_planned_again_is_written_as_it_was_broken(job, monkeypatch):
    linebreak.PLANS.clear()
    first, planned = linebreak.plan(job.html, job.page_css)
    assert len(planned) > 20
    broken = counting(monkeypatch, linebreak, "_breaks")
    assert linebreak.plan(job.html, job.page_css) == (first, planned)      # the same HTML, from memory
    assert broken == []
    # one paragraph edited: only it is broken again, the HTML as if planned cold
    words = re.compile(r"<p data-b=\"\d+\">(\w+ \w+ \w+)").search(job.html, job.html.index('id="theses"')).group(1)
    edited = job.html.replace(words, words + " edited", 1)
    again = linebreak.plan(edited, job.page_css)
    assert len(broken) == 1
    linebreak.PLANS.clear()
    assert linebreak.plan(edited, job.page_css) == again
    # the costs changed (a sweep, a test): every paragraph is broken again
    broken.clear()
    monkeypatch.setattr(linebreak, "LOOSE_STEP", linebreak.LOOSE_STEP + 1)
    linebreak.plan(job.html, job.page_css)
    assert len(broken) >= len(planned)


def test_a_face_changed_on_disk_is_measured_again(tmp_path, monkeypatch):
    import shutil
    faces = tuple(shutil.copy(f, tmp_path) for f in linebreak.HOUSE_FACES)
    from lxml import html as lhtml
    par = lambda: lhtml.fragment_fromstring("<p>" + "Words set in lines across the measure and again. " * 6 + "</p>")
    hyphenator = linebreak._hyphenator("en")
    linebreak.PLANS.clear()
    plan = lambda: linebreak.plan_paragraph(par(), 11.0, 300.0, 13.0, hyphenator, False, faces=faces)
    broken = counting(monkeypatch, linebreak, "_breaks")
    plan(), plan()
    assert len(broken) == 1
    import os
    os.utime(faces[0], ns=(0, 1))           # the regular face replaced
    plan()
    assert len(broken) == 2


def fresh_after(job):
    """Lay the job out in a forked child as a build does; what it learnt, by memo."""
    def call():
        layout = run_job(job)
        return layout, {name: len(memo.fresh) for name, memo in processes.MEMOS.items()}
    return processes.start_limited(job, call=call).result()


@pytest.fixture
def forgetful():
    processes.keep_learnt(False)
    for memo in processes.MEMOS.values():
        memo.clear()
    yield
    processes.keep_learnt(False)
    for memo in processes.MEMOS.values():
        memo.clear()


def test_a_watch_sessions_children_hand_back_what_they_learnt(job, forgetful):
    processes.keep_learnt(True)
    first, learnt = fresh_after(job)
    assert learnt["plans"] > 20 and learnt["streams"] >= 1, learnt
    assert len(linebreak.PLANS) == learnt["plans"]               # handed back to this process
    assert len(pdfwrite.STREAMS) >= learnt["streams"]
    assert len(spreads.MEMORY) == learnt["spreads"]
    again, learnt_again = fresh_after(job)
    assert learnt_again["plans"] == 0 and learnt_again["streams"] == 0 and learnt_again["spreads"] == 0, learnt_again
    assert again.pdfs == first.pdfs                                # the same bytes from memory


def test_a_build_that_does_not_live_on_keeps_nothing_of_its_children(job, forgetful):
    _, learnt = fresh_after(job)
    assert learnt["plans"] > 20
    assert len(linebreak.PLANS) == 0 and len(pdfwrite.STREAMS) == 0
    _, learnt_again = fresh_after(job)
    assert learnt_again["plans"] == learnt["plans"]


def test_a_large_stream_is_compressed_once_and_written_the_same():
    import zlib
    data = bytes(range(256)) * 1024          # 256 KB
    pdfwrite.STREAMS.clear()
    squeeze = lambda: (lambda c: c.compress(data) + c.flush())(pdfwrite.DefaultLevelZlib().compressobj())
    first = squeeze()
    assert zlib.decompress(first) == data
    key = next(iter(pdfwrite.STREAMS))
    pdfwrite.STREAMS[key] = b"remembered"
    assert squeeze() == b"remembered"        # from memory
    small = (lambda c: c.compress(b"abc" * 10) + c.flush())(pdfwrite.DefaultLevelZlib().compressobj())
    assert zlib.decompress(small) == b"abc" * 10
    pdfwrite.STREAMS.clear()


def test_a_block_added_before_a_paragraph_leaves_its_breaks_known(job, monkeypatch):
    """A paragraph's place in the book (its block index, its anchors) is not in its key: a
    paragraph inserted near the start of the text does not make every later one's key new."""
    linebreak.PLANS.clear()
    linebreak.plan(job.html, job.page_css)
    broken = counting(monkeypatch, linebreak, "_breaks")
    at = job.html.rindex("<", 0, job.html.index('id="theses"'))        # before the section's tag
    inserted = job.html[:at] + '<p data-b="9999">A paragraph added here, with words of its own.</p>\n' + job.html[at:]
    inserted = re.sub(r'data-b="(\d+)"', lambda m: f'data-b="{int(m.group(1)) + 1}"', inserted)
    linebreak.plan(inserted, job.page_css)
    assert len(broken) == 1                 # the new paragraph alone


def test_a_full_memo_lets_its_oldest_entries_go_not_all():
    memo = processes.Memo("test-full", 20)
    try:
        for k in range(20):
            memo[k] = k
        memo[20] = 20
        assert len(memo) == 19 and 0 not in memo and 1 not in memo and 19 in memo and 20 in memo
        memo.learn({19: 19, 20: 20})            # known already: nothing goes
        assert len(memo) == 19
        memo.learn({100: 1, 101: 2})
        assert 100 in memo and 101 in memo and 2 not in memo and len(memo) <= 20
    finally:
        del processes.MEMOS["test-full"]


def test_a_watch_session_keeps_what_its_children_learn_only_while_it_runs(tmp_path, monkeypatch):
    from conftest import run_cli
    from imprint import watch
    during = []
    monkeypatch.setattr(watch, "watch", lambda *a, **k: during.append(processes.KEEP_LEARNT[0]) or 0)
    book = write_book(tmp_path / "book", "# One\n\nWords.\n")
    assert run_cli(book, "--watch", "--out", tmp_path / "out").code == 0
    assert during == [True] and processes.KEEP_LEARNT[0] is False
