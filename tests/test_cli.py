"""The command line, called in-process: exit codes, one-line errors, untouched outputs."""

import hashlib

import pytest

from conftest import BOOK, run_cli

GOOD = """\
# One

Text with a note.[^a]

[^a]: The note.
"""


def digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture
def previous_outputs(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a-tiny-book.pdf").write_bytes(b"%PDF- last good")
    (out / "a-tiny-book.epub").write_bytes(b"PK last good")
    return out


def test_help_explains_every_option():
    result = run_cli("--help")
    assert result.code == 0
    for option in ("--book", "--out", "--edition", "--strict", "--quiet", "--verbose", "--debug", "check"):
        assert option in result.out
    assert "exit codes" in result.out


def test_unknown_option_is_a_usage_error():
    assert run_cli("--frobnicate").code == 2


def test_check_on_the_essay_is_clean():
    result = run_cli("check", "--book", BOOK, "--strict")
    assert result.code == 0, result.err
    assert "0 errors, 0 warnings" in result.out


@pytest.mark.parametrize("case, files, message, code", [
    ("missing book", None, "no book here", 3),
    ("invalid yaml", {"book.yaml": "title: [unclosed\nauthor: A\n", "text.md": GOOD},
     "book.yaml:2:7: invalid YAML", 3),
    ("missing title", {"book.yaml": "author: A\nlang: en\n", "text.md": GOOD},
     "book.yaml:1: metadata key 'title' is required", 3),
    ("bad isbn", {"book.yaml": "title: T\nauthor: A\nlang: en\nisbn:\n  print: 978-0-00-000000-1\n", "text.md": GOOD},
     "book.yaml:4: metadata key 'isbn': print ISBN '978-0-00-000000-1' is not valid", 3),
    ("pandoc cannot read", {"book.yaml": "title: T\nauthor: A\nlang: en\n",
                            "text.md": "Intro\n\n---\ntitle: [broken\n---\n\nMore\n"},
     "text.md:3:1: pandoc cannot read the manuscript", 3),
    ("invalid utf-8", {"book.yaml": "title: T\nauthor: A\nlang: en\n", "text.md": b"Line one\n\nCaf\xe9\n"},
     "text.md:3:4: not valid UTF-8", 3),
])
def test_bad_input_gives_one_clear_line_and_leaves_outputs(tmp_path, previous_outputs, case, files, message, code):
    book = tmp_path / "book"
    if files:
        book.mkdir()
        for name, content in files.items():
            (book / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    before = digest(previous_outputs)
    result = run_cli("--book", book, "--out", previous_outputs)
    assert result.code == code, result.err
    assert message in result.err
    assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1
    assert digest(previous_outputs) == before


def test_missing_image_fails_the_build_and_leaves_outputs(tiny_book, previous_outputs):
    book = tiny_book("# One\n\n![A figure](figures/missing.png)\n\nText.\n")
    before = digest(previous_outputs)
    result = run_cli("--book", book, "--out", previous_outputs, "--edition", "pdf")
    assert result.code == 1
    assert "missing.png" in result.err and "Traceback" not in result.err
    assert digest(previous_outputs) == before


def test_mistyped_metadata_key_is_a_warning_that_suggests_the_key(tiny_book):
    book = tiny_book(GOOD, metadata="title: T\nauthor: A\nlang: en\nidentifier: urn:uuid:1\npublsher: P\nsource: kept\n")
    result = run_cli("check", "--book", book)
    assert result.code == 0
    assert "warning: M001 unknown metadata key 'publsher' is ignored" in result.err
    assert "unknown metadata key 'source' is ignored" in result.err      # every unknown key is named
    assert run_cli("check", "--book", book, "--strict").code == 1


def test_single_file_book_with_front_matter(tmp_path):
    source = tmp_path / "essay.md"
    source.write_text("---\ntitle: A Single File\nauthor: Someone\nlang: en\nidentifier: urn:uuid:2\n---\n\n" + GOOD)
    out = tmp_path / "out"
    result = run_cli("--book", source, "--out", out, "--edition", "epub", "-q")
    assert result.code == 0, result.err
    assert (out / "a-single-file.epub").exists() and (out / "a-single-file.report.json").exists()
    assert not (out / "a-single-file.pdf").exists()


def test_a_folder_holding_one_manuscript_with_front_matter_is_that_book(tmp_path):
    folder = tmp_path / "book"
    folder.mkdir()
    (folder / "book.md").write_text("---\ntitle: In A Folder\nauthor: Someone\nlang: en\nidentifier: urn:uuid:3\n---\n\n"
                                    + GOOD)
    result = run_cli("--book", folder, "--out", tmp_path / "out", "--edition", "epub", "-q")
    assert result.code == 0, result.err
    assert (tmp_path / "out" / "in-a-folder.epub").exists()
    # Two manuscripts and no book.yaml: which is the book is not ours to guess.
    (folder / "other.md").write_text("# Other\n\nText.\n")
    result = run_cli("--book", folder, "--out", tmp_path / "out2", "--edition", "epub", "-q")
    assert result.code == 3 and "no metadata file" in result.err and not (tmp_path / "out2").exists()


def test_a_folders_hidden_and_outside_manuscripts(tmp_path):
    # macOS leaves ._book.md (binary) beside book.md on other disks and in zips: it was a second
    # manuscript (no book.yaml: refused) or a manuscript file with a NUL byte (with book.yaml)
    folder = tmp_path / "book"
    folder.mkdir()
    (folder / "book.md").write_text("---\ntitle: Hidden Beside\nauthor: Someone\nlang: en\nidentifier: urn:uuid:4\n---\n\n"
                                    + GOOD)
    (folder / "._book.md").write_bytes(b"\x00\x05\x16\x07 Mac OS X resource")
    result = run_cli("--book", folder, "--out", tmp_path / "out", "--edition", "epub", "-q")
    assert result.code == 0, result.err
    (folder / "book.yaml").write_text("title: Hidden Beside\nauthor: Someone\nlang: en\nidentifier: urn:uuid:4\n")
    result = run_cli("--book", folder, "--out", tmp_path / "out2", "--edition", "epub", "-q")
    assert result.code == 0, result.err
    # A folder's only manuscript, a link to a file elsewhere: not read without saying so.
    elsewhere = tmp_path / "elsewhere.md"
    (folder / "book.md").rename(elsewhere)
    (folder / "book.yaml").unlink()
    (folder / "book.md").symlink_to(elsewhere)
    result = run_cli("--book", folder, "--out", tmp_path / "out3", "--edition", "epub", "-q")
    assert result.code == 3 and "leads outside the book folder" in result.err, result.err


def test_report_json_lists_editions_pages_notes_and_findings(essay_build, essay_slug):
    import json
    report = json.loads((essay_build / f"{essay_slug}.report.json").read_text())
    assert report["editions"]["pdf"]["pages"] >= 20
    assert report["editions"]["pdf"]["notes"] == 3 and report["editions"]["epub"]["notes"] == 3
    assert report["editions"]["epub"]["file"] == f"{essay_slug}.epub"
    for finding in report["findings"]:
        assert {"code", "severity", "file", "line", "edition", "page", "message"} <= set(finding)


def test_two_builds_are_byte_identical(essay_build, essay_slug, tmp_path):
    result = run_cli("--book", BOOK, "--out", tmp_path, "-q")
    assert result.code == 0
    for suffix in (".pdf", ".epub"):
        assert (tmp_path / f"{essay_slug}{suffix}").read_bytes() == (essay_build / f"{essay_slug}{suffix}").read_bytes()


@pytest.mark.parametrize("value", ["inf", "nan", "1e400"])
def test_a_time_limit_that_is_not_a_number_is_refused_at_the_command_line(tmp_path, value):
    # float() reads them: 'inf' ended in "internal error" (exit 70), 'nan' bounded nothing
    book = tmp_path / "book.md"
    book.write_text("---\ntitle: Limits\nauthor: Someone\nlang: en\n---\n\n" + GOOD)
    result = run_cli(book, "--out", tmp_path / "out", "--edition", "epub", "--time-limit", value)
    assert result.code == 2 and "--time-limit: not a number" in result.err, (result.code, result.err)


@pytest.mark.parametrize("option,value", [("--time-limit", "99999999999999"), ("--memory-limit", "99999999999999")])
def test_a_limit_too_large_to_hold_is_refused_at_the_command_line(tmp_path, option, value):
    # the time ended in "internal error" (select's timeout overflowed); the memory reached pandoc as
    # -M99999999999999m, refused by its runtime and said as "pandoc cannot read the manuscript"
    book = tmp_path / "book.md"
    book.write_text("---\ntitle: Limits\nauthor: Someone\nlang: en\n---\n\n" + GOOD)
    result = run_cli(book, "--out", tmp_path / "out", "--edition", "epub", option, value)
    assert result.code == 2 and f"{option}: at most" in result.err, (result.code, result.err)
