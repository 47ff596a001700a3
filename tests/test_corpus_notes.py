"""Opt-in: the note checks over the real books and footnote fixtures in ../shared/corpus.

Run with `python -m pytest -m corpus tests/test_corpus_notes.py` (or IMPRINT_CORPUS=1);
skipped when the corpus folder is absent. Every corpus book must build with no error, and
its note findings must be exactly the ones reviewed by hand below (each a real property of
the source, see ACCEPTED); a new finding is a false positive to fix or a fault to name.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from conftest import CORPUS, run_cli

from imprint.checks.notes import printed_notes
from imprint.pipeline import run_checks

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not CORPUS.is_dir(), reason="no ../shared/corpus here"),
]

BOOKS = sorted(p.name for p in CORPUS.iterdir() if (p / "book.md").is_file()) if CORPUS.is_dir() else []

# Reviewed findings (code, line) per book: warnings about the source as it is.
ACCEPTED = {
    # Chapter I's heading carries note 3 (“By ‘bourgeoisie’ is meant…”).
    "communist-manifesto": {("N111", 68)},
    "mutual-aid": set(),
    # Four headings carry a note (Cannan's editorial notes on chapter titles).
    "wealth-of-nations-vol1": {("N111", 551), ("N111", 1051), ("N111", 1497), ("N111", 1505)},
}


@pytest.fixture(autouse=True)
def _opt_in(request):
    if "corpus" not in (request.config.option.markexpr or "") and not os.environ.get("IMPRINT_CORPUS"):
        pytest.skip("opt-in: run with -m corpus or IMPRINT_CORPUS=1")


@pytest.mark.parametrize("name", BOOKS)
def test_corpus_book_checks(name):
    _, findings = run_checks(CORPUS / name / "book.md")
    notes = {(f.code, f.where.line) for f in findings if f.code.startswith("N")}
    assert notes == ACCEPTED[name]


@pytest.mark.parametrize("name", BOOKS)
def test_corpus_book_builds(name, tmp_path):
    result = run_cli("--book", CORPUS / name / "book.md", "--out", tmp_path)
    assert result.code == 0, result.err
    report = json.loads(next(tmp_path.glob("*.report.json")).read_text())
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert errors == []
    assert {(f["code"], f["line"]) for f in report["findings"] if f["code"].startswith("N")} == ACCEPTED[name]


def _fixtures():
    index = CORPUS / "fixtures" / "index.json"
    if not index.is_file():
        return []
    data = json.loads(index.read_text())
    items = [i for group in data.values() if isinstance(group, dict) for i in group.get("items", [])]
    return [i for i in items if "pandoc_notes_when_read_as_markdown" in i]


# Inline-note look-alikes the note index counts and pandoc does not (or the reverse):
# `^[sup]{.class}^`, an inline note with a blank line in it, an inline note in an image's
# alt text. The checks then read each note's source text; nothing is reported for them.
INDEX_DIFFERS = {"pandoc/command/11409.md", "pandoc/command/11589.md", "pandoc/command/5476.md",
                 "pandoc/command/8028.md"}
CALL_FINDINGS = {"pandoc/command/1279.md": {"N102"}, "pandoc/command/1718.md": {"N102"},
                 "mdit-py-plugins/cases/19.md": {"N101"}, "mdit-py-plugins/cases/20.md": {"N101"}}


@pytest.mark.parametrize("item", _fixtures(), ids=lambda i: i["file"])
def test_fixture_notes_are_read_as_pandoc_reads_them(item, tmp_path):
    book_dir = tmp_path / "book"
    book_dir.mkdir()
    (book_dir / "book.yaml").write_text("title: T\nauthor: A\nlang: en\n"
                                        "identifier: urn:uuid:00000000-0000-4000-8000-000000000009\n")
    shutil.copy(CORPUS / "fixtures" / item["file"], book_dir / "text.md")
    book, findings = run_checks(book_dir)
    codes = {f.code for f in findings}
    assert codes & {"N101", "N102", "N103", "N114"} == CALL_FINDINGS.get(item["file"], set())
    index = book.notes
    defined = {d.label for d in index.definitions}
    counted = len([c for c in index.calls if c.label in defined]) + len(index.inline_notes)
    if item["file"] not in INDEX_DIFFERS:
        assert counted == item["pandoc_notes_when_read_as_markdown"]
    order = {s.path: i for i, s in enumerate(book.sources)}
    notes = printed_notes(book, list(index.calls), list(index.inline_notes), {d.label: d for d in index.definitions},
                          lambda c: (order.get(c.file, 0), c.line, c.column))
    assert len(notes) == counted
