"""A journal planted in the output folder (not one a build wrote) never moves, removes or
overwrites a file that is not an output of ours, nor stops the build with a traceback
(imprint/outjournal.py `_read_journal`). No book is built: the folder is laid by hand."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from imprint import outjournal


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def plant(out: Path, files: list[dict], token="0badc0de") -> None:
    (out / outjournal.JOURNAL).write_text(json.dumps({"imprint-journal": 1, "token": token, "files": files}))


@pytest.fixture
def folder(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "book.pdf").write_bytes(b"the pdf")
    (out / "thesis.docx").write_bytes(b"precious")
    (out / "book.md").write_bytes(b"# my manuscript")
    (out / "images").mkdir()
    return out


def test_a_backup_naming_another_file_is_not_removed(folder):
    # roll forward (book.pdf holds the "new" bytes), then the backups go: thesis.docx was one
    plant(folder, [{"name": "book.pdf", "staged": "x", "sha256": sha(b"the pdf"), "backup": "thesis.docx"}])
    outjournal.recover(folder)
    assert (folder / "thesis.docx").read_bytes() == b"precious"
    assert not (folder / outjournal.JOURNAL).exists()


def test_a_new_file_of_another_kind_is_not_removed_by_a_roll_back(folder):
    plant(folder, [{"name": "book.md", "staged": ".imprint.0badc0de.book.md.new", "sha256": sha(b"# my manuscript")},
                   {"name": "gone.pdf", "staged": ".imprint.0badc0de.gone.pdf.new", "sha256": "0" * 64}])
    outjournal.recover(folder)
    assert (folder / "book.md").read_bytes() == b"# my manuscript"


def test_a_backup_moved_over_another_file_is_refused(folder):
    (folder / "evil").write_bytes(b"evil")
    plant(folder, [{"name": "thesis.docx", "staged": "s", "sha256": "0" * 64, "backup": "evil"},
                   {"name": "none.pdf", "staged": "t", "sha256": "1" * 64}])
    outjournal.recover(folder)
    assert (folder / "thesis.docx").read_bytes() == b"precious"


@pytest.mark.parametrize("name", ["..", ".", "images.pdf"])
def test_an_unreadable_journal_with_a_backup_named_for_a_folder(folder, name):
    (folder / "images.pdf").mkdir()
    (folder / outjournal.JOURNAL).write_text("not json")
    (folder / f".imprint.0badc0de.{name}.old").write_bytes(b"x")
    outjournal.recover(folder)          # no OSError (rename over '..', over a folder)
    assert (folder / "images").is_dir() and (folder / "images.pdf").is_dir()
    assert not [p for p in folder.iterdir() if p.name.startswith(".imprint")]


def test_a_staged_link_is_not_moved_over_a_whole_output(folder, tmp_path):
    (tmp_path / "secret").write_bytes(b"not ours")
    (folder / ".imprint.0badc0de.book.pdf.new").symlink_to(tmp_path / "secret")
    plant(folder, [{"name": "book.pdf", "staged": ".imprint.0badc0de.book.pdf.new", "sha256": sha(b"the pdf")}])
    outjournal.recover(folder)
    assert not (folder / "book.pdf").is_symlink() and (folder / "book.pdf").read_bytes() == b"the pdf"
    assert (tmp_path / "secret").read_bytes() == b"not ours"


def test_a_journal_that_is_a_link_to_an_endless_file_or_a_folder(folder):
    (folder / outjournal.JOURNAL).symlink_to("/dev/zero")      # was read to the end: all memory
    outjournal.recover(folder)
    assert not (folder / outjournal.JOURNAL).is_symlink() and (folder / "thesis.docx").exists()
    (folder / outjournal.JOURNAL).mkdir()                      # was an IsADirectoryError out of recover
    assert outjournal.recover(folder) is None


def test_a_huge_journal_is_not_read(folder, monkeypatch):
    monkeypatch.setattr(outjournal, "_JOURNAL_MAX", 100)
    plant(folder, [{"name": "book.pdf", "staged": ".imprint.0badc0de.book.pdf.new", "sha256": sha(b"the pdf")}] * 5)
    assert outjournal._read_journal(folder / outjournal.JOURNAL) is None


def test_a_journal_a_build_writes_is_still_read(folder):
    writing = outjournal.Writing(folder, {"book.pdf": b"new pdf", "book.report.json": b"{}"})
    outjournal._write_journal(folder, writing.token, writing.entries)
    assert [e.name for e in outjournal._read_journal(folder / outjournal.JOURNAL)] == ["book.pdf", "book.report.json"]
