"""A book set in parts joins its print edition in the build's process while a forked child
joins the download PDF, and the printer's preflight runs on the print edition then, beside that
join (chapters.JOINED, pipeline's on_joined): an edit's build no longer waits for both joins
before its preflight begins. Its findings are those of the preflight run after the joins."""

from __future__ import annotations

import inspect

from conftest import write_book
from imprint import pipeline
from imprint.editions import preflight
from imprint.settings import Settings

TEXT = "".join(f"# Chapter {c}\n\n" + "\n\n".join(
    f"Paragraph {p} of chapter {c} has words to set in lines across the page, and a few more words. " * 4
    for p in range(12)) + "\n\n" for c in range(1, 4))


def preflights(tmp_path, monkeypatch, fork: str):
    calls = []
    real = preflight.preflight

    def spy(*args, **kwargs):
        calls.append(any(frame.function == "_join_all" for frame in inspect.stack()))
        return real(*args, **kwargs)
    monkeypatch.setattr(preflight, "preflight", spy)
    book = write_book(tmp_path / fork / "book", TEXT)
    result = pipeline.build(book, tmp_path / fork / "out", ["pdf", "print"],
                            settings=Settings(parts="always", fork=fork, cache=False))
    return calls, sorted((f.code, f.message, f.page) for f in result.preflight.findings), result


def test_the_print_preflight_runs_beside_the_download_pdfs_join(tmp_path, monkeypatch):
    beside, found, result = preflights(tmp_path, monkeypatch, "auto")
    assert beside == [True]                         # once, while the other edition was being joined
    assert {r.edition for r in result.editions} >= {"pdf", "print", "cover"}
    after, found_after, _ = preflights(tmp_path, monkeypatch, "never")     # no children: after the joins
    assert after == [False]
    assert found == found_after


def test_a_cover_that_fails_is_its_own_error_and_an_epub_only_build_joins_nothing(tmp_path, monkeypatch):
    """The cover child's failure reaches the user as its own error, read once (review rev15c:
    `OSError: handle is closed` from reading its closed pipe twice); an EPUB-only build in parts
    has no PDF to join (the fresh clone's suite: IndexError)."""
    import pytest

    from imprint.errors import ImprintError, ToolError

    def refuse(*args, **kwargs):
        raise ToolError("the cover failed on purpose")
    monkeypatch.setattr(pipeline, "build_cover", refuse)
    book = write_book(tmp_path / "book", TEXT)
    with pytest.raises(ImprintError, match="the cover failed on purpose"):
        pipeline.build(book, tmp_path / "out", ["pdf", "print"], settings=Settings(parts="always", cache=False))
    result = pipeline.build(book, tmp_path / "epub", ["epub"], settings=Settings(parts="always", cache=False))
    assert [r.edition for r in result.editions] == ["epub"]
