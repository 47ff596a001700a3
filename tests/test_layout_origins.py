"""A layout finding about a line names the manuscript file, line and column the line was set
from (imprint/checks/origins.py), in a folder book of several chapter files: not book.yaml."""

from __future__ import annotations

import json
import re

import pytest

from conftest import METADATA, run_cli

WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut "
         "labore et dolore magna aliqua enim minim veniam quis nostrud exercitation ullamco").split()
# Figures are not hyphenated: a number wider than the 5 x 8 in measure (not than the page),
# another wider than the measure in the smaller type of the notes.
LONG = "1234567890" * 5 + "12345678"
NOTE_LONG = "9876543210" * 7


def filler(seed: int, n: int, marked: bool = True) -> str:
    """n words (no random: the same each run), with emphasis, a link and digits among them."""
    out = [WORDS[(seed * 7 + i * 5) % len(WORDS)] for i in range(n)]
    if marked and n > 12:
        out[3], out[8], out[11] = f"*{out[3]}*", f"[{out[8]}](https://example.org/{seed})", f"{out[11]} 19{seed:02d}"
    return " ".join(out).capitalize() + "."


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("origins")
    book = root / "book"
    book.mkdir()
    (book / "book.yaml").write_text(METADATA + "trim: 5x8\nmanuscript:\n  - chapter-01.md\n  - chapter-03.md\n",
                                    encoding="utf-8")
    one = ["# One", ""] + [p for k in range(5) for p in (filler(k, 70 + 9 * k), "")]
    (book / "chapter-01.md").write_text("\n".join(one), encoding="utf-8")
    three = ["# Three", "", filler(11, 60), "", filler(12, 20) + f" Then {LONG} and more.[^w]", "",
             filler(13, 50), "", f"[^w]: {filler(14, 14, marked=False)} {NOTE_LONG} ends it.", ""]
    (book / "chapter-03.md").write_text("\n".join(three), encoding="utf-8")
    out = root / "out"
    result = run_cli(book, "--out", out, "--edition", "pdf", "--no-cache")
    assert result.code == 0, result.err
    report = json.loads(next(out.glob("*.report.json")).read_text(encoding="utf-8"))
    return book, [f for f in report["findings"] if f["page"] is not None and f["code"].startswith("L2")], result


def test_overfull_line_names_its_chapter_file_line_and_column(built):
    book, findings, result = built
    lines = (book / "chapter-03.md").read_text(encoding="utf-8").split("\n")
    overfull = [f for f in findings if f["code"] == "L206"]
    assert overfull, findings
    body = next(f for f in overfull if LONG[-12:] in f["message"])
    row = next(i for i, text in enumerate(lines, 1) if text.startswith(filler(12, 20)[:20]))
    assert (body["file"], body["line"]) == (str(book / "chapter-03.md"), row), body
    # The line the finding is about is the long word's (pushed onto a line of its own).
    assert lines[row - 1][body["column"] - 1:].startswith(LONG), body
    assert f"chapter-03.md:{row}:{body['column']} (page {body['page']}, pdf): warning: L206" in result.err


def test_note_line_names_the_note_definition(built):
    book, findings, _ = built
    note = next(f for f in findings if f["code"] == "L206" and NOTE_LONG[-12:] in f["message"])
    lines = (book / "chapter-03.md").read_text(encoding="utf-8").split("\n")
    row = next(i for i, text in enumerate(lines, 1) if text.startswith("[^w]:"))
    assert (note["file"], note["line"]) == (str(book / "chapter-03.md"), row), note
    assert lines[row - 1][note["column"] - 1:].startswith(NOTE_LONG), note


def test_every_line_finding_points_at_the_words_it_quotes(built):
    """Loose lines, overfull lines, widows...: each names a chapter file, and the words quoted
    from the laid-out line are the ones at its line and column (the first of them, perhaps
    the second half of a hyphenated word)."""
    book, findings, _ = built
    quoted = [f for f in findings if re.search(r"“([^”…]+)", f["message"]) and f["code"] != "L204"]
    assert len(quoted) >= 2, findings
    for f in quoted:
        assert f["file"] in (str(book / "chapter-01.md"), str(book / "chapter-03.md")), f
        words = re.findall(r"[^\W\d_]+", re.search(r"“([^”…]+)", f["message"]).group(1))
        text = (book / f["file"]).read_text(encoding="utf-8").split("\n")[f["line"] - 1][f["column"] - 1:]
        assert text.lower().startswith(words[0].lower()), (f, text[:60])
