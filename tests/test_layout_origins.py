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


def placed_findings(book, tmp_path, *codes):
    """The PDF build of `book` (exit 0) and its report's findings of these codes that name a page."""
    out = tmp_path / "out"
    result = run_cli(book, "--out", out, "--edition", "pdf", "--no-cache")
    assert result.code == 0, result.err
    report = json.loads(next(out.glob("*.report.json")).read_text(encoding="utf-8"))
    return result, [f for f in report["findings"] if f["page"] is not None and f["code"] in codes]


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


def test_a_line_in_a_paragraph_with_cross_references_names_its_file(tmp_path):
    """A paragraph that holds cross-references (`@sec-x`, `[@sec-x]`) prints words its
    Markdown does not have ("Chapter 1", "Section 1.1"): its lines' findings still name the
    chapter file at the words they quote (they named book.yaml), a line that opens with a
    reference's word at the reference."""
    book = tmp_path / "book"
    book.mkdir()
    (book / "book.yaml").write_text(METADATA + "trim: 5x8\nmanuscript:\n  - one.md\n  - two.md\n", encoding="utf-8")
    (book / "one.md").write_text("# One {#sec-one}\n\nLorem ipsum dolor sit amet.\n\n## Sub {#sec-sub}\n\n"
                                 "Ut enim ad minim veniam quis nostrud.\n", encoding="utf-8")
    second, third = LONG.replace("1", "2"), LONG.replace("1", "3")
    lines = ["# Two {#sec-two}", "",
             "Some words first, then as @sec-one and @sec-sub show the matter is settled; we add more words "
             f"here so the paragraph runs long {LONG} and more words after the number to end it.", "",
             f"A second paragraph: {second} [@sec-sub] shows it: {third} and its last words.", "",
             "Plain closing paragraph with a few words in it.", ""]
    (book / "two.md").write_text("\n".join(lines), encoding="utf-8")
    result, found = placed_findings(book, tmp_path, "L206", "L215")
    where = {f["message"]: (f["file"], f["line"], f["column"]) for f in found}
    assert len(found) >= 4 and all(f["file"] == str(book / "two.md") for f in found), found

    def at(f):
        return lines[f["line"] - 1][f["column"] - 1:]

    for number, row in ((LONG, 3), (second, 5), (third, 5)):
        f = next(f for f in found if f["code"] == "L206" and number[-12:] in f["message"])
        assert f["line"] == row and at(f).startswith(number), (f, where)
    opening = next(f for f in found if f["code"] == "L215" and "“Section 1.1 shows it:" in f["message"])
    assert opening["line"] == 5 and at(opening).startswith("[@sec-sub] shows it:"), (opening, where)
    assert f"two.md:5:{opening['column']} (page {opening['page']}, pdf): warning: L215" in result.err


BIB = """@book{smith2001,
  author = {Smith, Jane}, title = {A History of Councils}, publisher = {Example Press}, address = {Leeds}, year = {2001}
}
@book{jones1999,
  author = {Jones, Tom}, title = {Dawn Meetings}, publisher = {Example Press}, address = {York}, year = {1999}
}
"""


@pytest.mark.parametrize("style", ["", "csl: apa\n"])
def test_a_line_in_a_paragraph_with_citations_names_its_file(tmp_path, style):
    """A citation prints words its Markdown does not have ("(Smith, 2001, p. 4)", "Jones (1999)")
    or a note's call (the default style, Chicago's notes): its paragraph's lines' findings name
    the chapter file at the words they quote (they named book.yaml)."""
    book = tmp_path / "book"
    book.mkdir()
    (book / "book.yaml").write_text(METADATA + "trim: 5x8\nmanuscript:\n  - one.md\nbibliography: refs.bib\n" + style,
                                    encoding="utf-8")
    (book / "refs.bib").write_text(BIB, encoding="utf-8")
    lines = ["# One", "",
             "Some words first, then as [@smith2001, 4] and @jones1999 show the matter is settled; we add more "
             f"words here so the paragraph runs long {LONG} and more words after the number to end it.", "",
             "Plain closing paragraph with a few words in it.", ""]
    (book / "one.md").write_text("\n".join(lines), encoding="utf-8")
    result, found = placed_findings(book, tmp_path, "L206", "L215")
    assert found and all(f["file"] == str(book / "one.md") and f["line"] == 3 for f in found), found
    overfull = next(f for f in found if f["code"] == "L206")
    assert lines[2][overfull["column"] - 1:].startswith(LONG), overfull


def test_a_line_is_found_where_its_words_are_not_where_a_citation_could_stand_for_them(tmp_path):
    """A citation or cross-reference lets up to a few printed words go unmatched; that match is
    tried only where the exact one is found nowhere, and needs a word after the passed-over
    ones. A paragraph's last line that repeats its opening words ("As shown in [@smith2001]" ...
    "as shown in the law 1234...") names its own line, not the paragraph's first (it named the
    first: the line's remaining words were all "printed by the citation"); a paragraph that
    opens with another's first 18 words, which a citation follows, names its own line."""
    book = tmp_path / "book"
    book.mkdir()
    (book / "book.yaml").write_text(METADATA + "trim: 5x8\nmanuscript:\n  - one.md\nbibliography: refs.bib\n",
                                    encoding="utf-8")
    (book / "refs.bib").write_text(BIB, encoding="utf-8")
    cited, referred = "1234567890" * 3 + "123456", "7" * 36
    twin = "Whereas the parties hereto have agreed to the terms set out"
    lines = ["# One {#sec-one}", "",
             "As shown in [@smith2001], the council met at dawn and the",
             "matter was settled by a vote of the whole assembly, which",
             "sat for many hours, and the clerk wrote down every word of it,",
             "&nbsp;".join("as shown in the law".split() + [cited]) + ".", "",
             "As we saw in @sec-one, we now turn to the matter of the",
             "council and its many members, who sat for hours and days,",
             "and the clerk wrote down every word of it all for the record,",
             "&nbsp;".join("as we saw in the law".split() + [referred]) + ".", "",
             f"{twin} below and wish to record them in [@smith2001] full, as follows here.", "",
             "&nbsp;".join(twin.split()) + " below and wish to record them in writing now, signed by both of them "
             "today and witnessed.", "",
             "A closing paragraph with a few plain words in it.", ""]
    (book / "one.md").write_text("\n".join(lines), encoding="utf-8")
    result, found = placed_findings(book, tmp_path, "L206", "L215")
    where = [(f["code"], f["line"], f["column"], f["message"]) for f in found]
    for number, row in ((cited, 6), (referred, 11)):
        f = next(f for f in found if f["code"] == "L206" and number[-12:] in f["message"])
        assert (f["file"], f["line"], f["column"]) == (str(book / "one.md"), row, 1), where
    # The twin paragraph's lines (its first words joined by no-break spaces: stretched lines).
    twins = [f for f in found if f["code"] == "L215" and f["line"] in (13, 15)]
    assert twins and all(f["line"] == 15 for f in twins), where
    for f in twins:
        quoted = re.findall(r"[^\W\d_]+", re.search(r"“([^”…]+)", f["message"]).group(1))
        text = lines[14][f["column"] - 1:].replace("&nbsp;", " ")
        assert text.lower().startswith(quoted[0].lower()), (f, text[:40])


def test_a_line_that_ends_inside_a_citation_names_its_own_line(tmp_path):
    """In an author-date style a line may end inside a citation ("...as shown in (Smith, 2001,
    p."): its last printed words are not in the Markdown and no word follows them on the line.
    Where nothing else is found, that line is placed by its words before the citation (not at
    its paragraph's first line)."""
    book = tmp_path / "book"
    book.mkdir()
    (book / "book.yaml").write_text(METADATA + "trim: 5x8\nmanuscript:\n  - one.md\nbibliography: refs.bib\ncsl: apa\n",
                                    encoding="utf-8")
    (book / "refs.bib").write_text(BIB, encoding="utf-8")
    lines = ["# One", "",
             "As shown in [@jones1999], the council met at dawn and the",
             "matter was settled by a vote of the whole assembly, which",
             "sat for many hours, and the clerk wrote down every word of it,",
             "as&nbsp;shown&nbsp;in&nbsp;[@smith2001, 4]&nbsp;" + LONG[:36] + "&nbsp;and&nbsp;the rest of it is written here.",
             "", "A closing paragraph with a few plain words in it.", ""]
    (book / "one.md").write_text("\n".join(lines), encoding="utf-8")
    result, found = placed_findings(book, tmp_path, "L215")
    # The line "down every word of it, as shown in (Smith, 2001, p." (a justified line: stretched).
    inside = [f for f in found if re.search(r"“down every word of it, as shown in \(Smi", f["message"])]
    assert len(inside) == 1, found
    assert (inside[0]["line"], lines[4][inside[0]["column"] - 1:][:10]) == (5, "down every"), inside
