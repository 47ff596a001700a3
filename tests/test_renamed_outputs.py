"""Outputs renamed (imprint/outjournal.py, `Superseded`): a book whose title changes writes its
files under new names; once that build has written its whole set, the files its earlier
builds wrote under the old names go (O101), and only those: a file the user put in the folder,
another book's, one changed since imprint wrote it (O102), or an edition this build did not make
(O103: an `--edition pdf` build keeps the EPUB) stays. A failed build removes nothing.

Every test builds a tiny book with the real tools and reads the folder it left."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, run_cli, write_book

TEXT = """\
# One

Some text of the chapter.[^a]

[^a]: A note.
"""

META = """\
title: {title}
author: Test Author
lang: en
identifier: urn:uuid:00000000-0000-4000-8000-000000000001
date: 2020-01-01
"""


def retitle(book: Path, title: str) -> None:
    (book / "book.yaml").write_text(META.format(title=title), encoding="utf-8")


def build(book: Path, out: Path, *editions: str, code: int = 0):
    args = ["--book", book, "--out", out, "-v"]
    for edition in editions:
        args += ["--edition", edition]
    result = run_cli(*args)
    assert result.code == code, result.err
    return result


def listing(out: Path) -> list[str]:
    return sorted(os.listdir(out))


def codes(report: Path, code: str) -> list[str]:
    """The file each finding of `code` in a report names."""
    data = json.loads(report.read_text(encoding="utf-8"))
    return sorted(Path(f["file"]).name for f in data["findings"] if f["code"] == code)


def said(result, code: str) -> list[str]:
    """The file each finding of `code` the command line printed names."""
    return sorted(Path(line.split(": info: ")[0]).name for line in result.err.splitlines() if f": info: {code} " in line)


def test_a_new_title_removes_what_the_old_one_wrote_and_nothing_else(tmp_path):
    book = write_book(tmp_path / "book", TEXT, META.format(title="A Tiny Book"))
    out = tmp_path / "out"
    build(book, out, "pdf")
    assert listing(out) == ["a-tiny-book.pdf", "a-tiny-book.report.json"]
    # the user's own files: a note, a copy of the PDF under a name of their own, another book's PDF
    (out / "notes.txt").write_text("my notes\n", encoding="utf-8")
    (out / "keep-this.pdf").write_bytes((out / "a-tiny-book.pdf").read_bytes())
    (out / "other-book.pdf").write_bytes(b"%PDF-1.7 not imprint's\n")
    retitle(book, "The Book Renamed")
    result = build(book, out, "pdf")
    assert listing(out) == ["keep-this.pdf", "notes.txt", "other-book.pdf",
                            "the-book-renamed.pdf", "the-book-renamed.report.json"]
    gone = ["a-tiny-book.pdf", "a-tiny-book.report.json"]
    assert said(result, "O101") == gone                     # -v prints each file removed
    assert codes(out / "the-book-renamed.report.json", "O101") == gone      # and the report says so
    assert "a-tiny-book.pdf removed" in result.err and "wrote the-book-renamed.pdf in its place" in result.err
    assert (out / "notes.txt").read_text(encoding="utf-8") == "my notes\n"
    # a build with nothing renamed says nothing of the kind
    again = build(book, out, "pdf")
    assert said(again, "O101") == [] and codes(out / "the-book-renamed.report.json", "O101") == []


def test_an_edition_not_built_stays_until_a_build_makes_it(tmp_path):
    book = write_book(tmp_path / "book", TEXT, META.format(title="A Tiny Book"))
    out = tmp_path / "out"
    build(book, out, "pdf", "epub")
    epub = (out / "a-tiny-book.epub").read_bytes()
    build(book, out, "pdf")                     # the same title: the EPUB of the last full build stays, unsaid
    assert listing(out) == ["a-tiny-book.epub", "a-tiny-book.pdf", "a-tiny-book.report.json"]
    retitle(book, "The Book Renamed")
    result = build(book, out, "pdf")            # the PDF renamed; the EPUB not made: kept, and said
    assert listing(out) == ["a-tiny-book.epub", "the-book-renamed.pdf", "the-book-renamed.report.json"]
    assert (out / "a-tiny-book.epub").read_bytes() == epub
    assert said(result, "O101") == ["a-tiny-book.pdf", "a-tiny-book.report.json"]
    assert said(result, "O103") == ["a-tiny-book.epub"]
    assert "writes the-book-renamed.epub and removes a-tiny-book.epub" in result.err
    result = build(book, out, "epub")           # the EPUB made under the new name: the old one goes
    assert listing(out) == ["the-book-renamed.epub", "the-book-renamed.pdf", "the-book-renamed.report.json"]
    assert said(result, "O101") == ["a-tiny-book.epub"] and said(result, "O103") == []


def test_a_failed_build_removes_nothing(tmp_path):
    book = write_book(tmp_path / "book", TEXT, META.format(title="A Tiny Book"))
    out = tmp_path / "out"
    build(book, out, "pdf")
    before = {name: (out / name).read_bytes() for name in listing(out)}
    retitle(book, "The Book Renamed")
    (book / "text.md").write_text(TEXT + "\nA call with no note.[^zz]\n", encoding="utf-8")
    result = build(book, out, "pdf", code=1)
    assert "N101" in result.err and "nothing was written" in result.err
    assert {name: (out / name).read_bytes() for name in listing(out)} == before
    (book / "text.md").write_text(TEXT, encoding="utf-8")
    build(book, out, "pdf")
    assert listing(out) == ["the-book-renamed.pdf", "the-book-renamed.report.json"]


def test_a_file_changed_since_it_was_written_is_kept(tmp_path):
    book = write_book(tmp_path / "book", TEXT, META.format(title="A Tiny Book"))
    out = tmp_path / "out"
    build(book, out, "pdf")
    changed = (out / "a-tiny-book.pdf").read_bytes() + b"% the user's edit\n"
    (out / "a-tiny-book.pdf").write_bytes(changed)
    retitle(book, "The Book Renamed")
    result = build(book, out, "pdf")
    assert listing(out) == ["a-tiny-book.pdf", "the-book-renamed.pdf", "the-book-renamed.report.json"]
    assert (out / "a-tiny-book.pdf").read_bytes() == changed
    assert said(result, "O102") == ["a-tiny-book.pdf"] and said(result, "O101") == ["a-tiny-book.report.json"]
    retitle(book, "A Third Title")              # no longer imprint's: never removed, nor spoken of again
    result = build(book, out, "pdf")
    assert "a-tiny-book.pdf" in listing(out) and said(result, "O102") == []


def test_another_book_in_the_folder_is_left_alone(tmp_path):
    folder_book = write_book(tmp_path / "book", TEXT, META.format(title="A Tiny Book"))
    one_file = tmp_path / "essay.md"
    one_file.write_text("---\n" + META.format(title="An Essay") + "---\n\n" + TEXT, encoding="utf-8")
    out = tmp_path / "out"
    build(folder_book, out, "pdf")
    build(one_file, out, "pdf")
    assert listing(out) == ["a-tiny-book.pdf", "a-tiny-book.report.json", "an-essay.pdf", "an-essay.report.json"]
    retitle(folder_book, "The Book Renamed")
    build(folder_book, out, "pdf")
    assert listing(out) == ["an-essay.pdf", "an-essay.report.json",
                            "the-book-renamed.pdf", "the-book-renamed.report.json"]
    one_file.write_text("---\n" + META.format(title="The Essay Renamed") + "---\n\n" + TEXT, encoding="utf-8")
    build(one_file, out, "pdf")
    assert listing(out) == ["the-book-renamed.pdf", "the-book-renamed.report.json",
                            "the-essay-renamed.pdf", "the-essay-renamed.report.json"]


KILLED_AFTER_THE_MOVES = """\
import os, sys
sys.path.insert(0, sys.argv[1])
from imprint import outjournal
from imprint.cli import main
outjournal._at_step = lambda step, name: os._exit(99) if step == "cleanup" else None
main(sys.argv[2:])
"""


def test_a_build_killed_once_its_set_is_in_place_leaves_the_old_names_to_the_next(tmp_path):
    book = write_book(tmp_path / "book", TEXT, META.format(title="A Tiny Book"))
    out = tmp_path / "out"
    build(book, out, "pdf")
    retitle(book, "The Book Renamed")
    killed = subprocess.run([sys.executable, "-c", KILLED_AFTER_THE_MOVES, str(ROOT), "--book", str(book),
                             "--out", str(out), "--edition", "pdf"], capture_output=True, text=True, timeout=300)
    assert killed.returncode == 99, killed.stderr
    left = listing(out)
    assert {"a-tiny-book.pdf", "the-book-renamed.pdf", ".imprint-journal.json"} <= set(left)  # died before the cleanup
    # the next build has yet another title: the files of both earlier builds go, the killed one's too
    retitle(book, "A Third Title")
    result = build(book, out, "pdf")
    assert listing(out) == ["a-third-title.pdf", "a-third-title.report.json"]
    assert said(result, "O101") == ["a-tiny-book.pdf", "a-tiny-book.report.json",
                                    "the-book-renamed.pdf", "the-book-renamed.report.json"]


def test_a_replayed_build_says_only_what_it_removed(tmp_path):
    book = write_book(tmp_path / "book", TEXT, META.format(title="A Tiny Book"))
    out = tmp_path / "out"
    build(book, out, "pdf")
    retitle(book, "The Book Renamed")
    assert said(build(book, out, "pdf"), "O101") == ["a-tiny-book.pdf", "a-tiny-book.report.json"]
    replayed = build(book, out, "pdf")          # from the whole-build cache: nothing removed this time
    assert "from the cache" in replayed.err
    assert said(replayed, "O101") == [] and codes(out / "the-book-renamed.report.json", "O101") == []
    retitle(book, "A Tiny Book")                # the first build's result, replayed: the renamed files go
    replayed = build(book, out, "pdf")
    assert "from the cache" in replayed.err
    assert listing(out) == ["a-tiny-book.pdf", "a-tiny-book.report.json"]
    assert said(replayed, "O101") == ["the-book-renamed.pdf", "the-book-renamed.report.json"]


def test_a_report_preflight_rewrote_is_still_imprints(tmp_path):
    book = write_book(tmp_path / "book", TEXT, META.format(title="A Tiny Book"))
    out = tmp_path / "out"
    build(book, out, "print")
    report = (out / "a-tiny-book.report.json").read_bytes()
    # another printer's rules over the same files: a result of its own, written into the report
    assert run_cli("preflight", "--book", book, "--out", out, "--profile", "lulu").code in (0, 1)
    assert (out / "a-tiny-book.report.json").read_bytes() != report
    retitle(book, "The Book Renamed")
    result = build(book, out, "print")
    assert listing(out) == ["the-book-renamed-cover.pdf", "the-book-renamed-print.pdf",
                            "the-book-renamed.report.json"]
    assert said(result, "O101") == ["a-tiny-book-cover.pdf", "a-tiny-book-print.pdf", "a-tiny-book.report.json"]


def test_a_damaged_record_removes_nothing_and_is_made_again(tmp_path):
    from imprint.pipeline import output_record
    book = write_book(tmp_path / "book", TEXT, META.format(title="A Tiny Book"))
    out = tmp_path / "out"
    build(book, out, "pdf")
    record = output_record(out)
    assert record.is_file() and not str(record).startswith(str(out))     # kept in the cache, not in the folder
    record.write_text("{not json", encoding="utf-8")
    retitle(book, "The Book Renamed")
    build(book, out, "pdf")                     # nothing known: nothing removed
    assert listing(out) == ["a-tiny-book.pdf", "a-tiny-book.report.json",
                            "the-book-renamed.pdf", "the-book-renamed.report.json"]
    retitle(book, "A Third Title")              # the record made again names this book's last set
    build(book, out, "pdf")
    assert listing(out) == ["a-third-title.pdf", "a-third-title.report.json", "a-tiny-book.pdf",
                            "a-tiny-book.report.json"]


def test_the_record_is_the_users_alone_and_one_others_could_write_removes_nothing(tmp_path):
    """The record names files to remove: written 0600 in a 0700 folder, and never trusted when
    others could have written it (a shared cache folder): review rev15b planted one."""
    from imprint.pipeline import output_record
    book = write_book(tmp_path / "book", TEXT, META.format(title="A Tiny Book"))
    out = tmp_path / "out"
    build(book, out, "pdf")
    record = output_record(out)
    assert record.stat().st_mode & 0o077 == 0 and record.parent.stat().st_mode & 0o077 == 0
    record.chmod(0o666)                         # as if another user had (re)written it
    retitle(book, "The Book Renamed")
    build(book, out, "pdf")
    assert "a-tiny-book.pdf" in listing(out)    # not trusted: nothing removed


def test_a_removal_is_said_without_asking_for_detail(tmp_path):
    book = write_book(tmp_path / "book", TEXT, META.format(title="A Tiny Book"))
    out = tmp_path / "out"
    assert run_cli("--book", book, "--out", out, "--edition", "pdf").code == 0
    retitle(book, "The Book Renamed")
    result = run_cli("--book", book, "--out", out, "--edition", "pdf")          # no -v
    assert result.code == 0, result.err
    removed = [line for line in result.out.splitlines() if line.startswith("removed: ")]
    assert len(removed) == 2 and any(line.startswith(f"removed: {out / 'a-tiny-book.pdf'} (") for line in removed), \
        result.out
