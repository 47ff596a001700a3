"""Page styles computed once for each set of matching @page rules (imprint/typeset/fence/pagestyle.py):
the files are byte for byte those of WeasyPrint's own way, and the styles really are shared."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from conftest import write_book
from imprint.typeset.fence import pagestyle
from imprint.jobs import chapters, pool
from imprint.jobs.job import run_job
from imprint.typeset import engine
from test_parts import BOOK_METADATA, chapters_manuscript, paged_job

ROOT = Path(__file__).resolve().parent.parent


def _layout(job, memo: bool, monkeypatch, split: bool):
    if not memo:
        monkeypatch.setattr(pagestyle, "computed_once", contextlib.nullcontext)
    if split:       # chapters set apart, then their running heads and folios in two overlays
        monkeypatch.setenv("IMPRINT_PARTS", "always")
        monkeypatch.setattr(chapters, "OVERLAY_SPLIT_PAGES", 1)
        monkeypatch.setattr(pool, "_limited_runner", lambda limits=None: run_job)   # in this process:
        monkeypatch.setenv("IMPRINT_WORKERS", "1")                                            # counted here
    try:
        return chapters.run(job) if split else run_job(job)
    finally:
        monkeypatch.undo()


@pytest.mark.parametrize("book", ["essay", "chapters and overlays"])
def test_pages_sharing_their_styles_give_the_same_files(book, tmp_path, monkeypatch):
    split = book != "essay"
    path = ROOT / "book" if not split else write_book(tmp_path / "book", chapters_manuscript(in_parts=True),
                                                       BOOK_METADATA)
    job = paged_job(path)
    fresh = _layout(job, False, monkeypatch, split)
    before = dict(pagestyle.COUNTS)
    kept = _layout(job, True, monkeypatch, split)
    shared = pagestyle.COUNTS["shared"] - before["shared"]
    computed = pagestyle.COUNTS["computed"] - before["computed"]
    assert shared >= 10 and computed > 0        # pages took the styles of earlier ones
    assert kept.pages == fresh.pages
    assert kept.pdfs.keys() == fresh.pdfs.keys()
    for name in fresh.pdfs:
        assert kept.pdfs[name] == fresh.pdfs[name], f"the {name} edition differs when pages share styles"
