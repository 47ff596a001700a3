"""The footnote area measured without laying its notes out again (imprint/typeset/fence/notearea.py):
the files are byte for byte those of WeasyPrint's own way, and the notes really are laid
out fewer times."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from conftest import write_book
from imprint.typeset.fence import notearea
from imprint.jobs.job import run_job
from imprint.typeset import engine
from test_parts import BOOK_METADATA, paged_job

ROOT = Path(__file__).resolve().parent.parent

SENTENCE = ("Words of a paragraph that runs on long enough to be set on several lines of the page, "
            "and to be justified, hyphenated and broken like the text of a book. ")

# Pages crowded with notes: several calls per paragraph, notes that open or close with a
# block quotation or a list (their margins collapse with the next note's), a table, and a
# note long enough to be cut and run on over the next page.
NOTES = [
    "A short note.",
    "A note with *italics* and a second sentence that takes it onto a second line of the area.",
    "> A quotation opens this note, its margins collapsing with its neighbours'.\n\n    And text after it.",
    "A note ending in a list:\n\n    - one item\n    - another item",
    "A table:\n\n    | a | b |\n    |---|---|\n    | 1 | 2 |",
    ("A long note. " + SENTENCE * 14 + "\n\n    " + SENTENCE * 10),
]


def crowded_book() -> str:
    paragraphs, definitions, n = [], [], 0
    for k in range(18):
        calls = ""
        for _ in range(1 + k % 3):
            n += 1
            calls += f"[^{n}] " + SENTENCE
            definitions.append(f"[^{n}]: {NOTES[n % len(NOTES)]}")
        paragraphs.append(SENTENCE + calls)
    return "# One\n\n" + "\n\n".join(paragraphs) + "\n\n" + "\n\n".join(definitions) + "\n"


def _pdfs(job, memo: bool, monkeypatch) -> dict[str, bytes]:
    if not memo:
        monkeypatch.setattr(notearea, "measured_once", contextlib.nullcontext)
    try:
        return run_job(job).pdfs
    finally:
        monkeypatch.undo()


@pytest.mark.parametrize("book", ["essay", "crowded notes"])
def test_notes_laid_out_once_give_the_same_files(book, tmp_path, monkeypatch):
    path = ROOT / "book" if book == "essay" else write_book(tmp_path / "book", crowded_book(), BOOK_METADATA)
    job = paged_job(path)
    fresh = _pdfs(job, False, monkeypatch)
    before = dict(notearea.COUNTS)
    kept = _pdfs(job, True, monkeypatch)
    reused = notearea.COUNTS["reused"] - before["reused"]
    laid_out = notearea.COUNTS["laid out"] - before["laid out"]
    if book == "crowded notes":
        assert reused > 2 * laid_out > 0           # most layouts of a note were copies
    else:
        assert reused > 0
    assert kept.keys() == fresh.keys()
    for name in fresh:
        assert kept[name] == fresh[name], f"the {name} edition differs when notes are laid out once"
