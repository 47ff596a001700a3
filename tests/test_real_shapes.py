"""Shapes long public-domain books bring, generated here: tables whose lines begin far to
the right, tables in notes, notes that link across chapters, books too long for a printer."""

from __future__ import annotations

import re
import zipfile

import pdfplumber
import pytest

from conftest import run_cli, write_book
from print_helpers import page_texts


def wide_tables() -> str:
    """A simple table whose first column is 150 columns wide (its rows begin with 150 spaces),
    a multiline table, a grid table, and code indented deep inside a list."""
    pad = " " * 150
    simple = "\n".join([
        pad + "Wheat    Barley",
        "-" * 148 + "  -------  ------",
        "Quarters of the harvest of the first year" + " " * 109 + "Wheat    Barley",
        pad + "12        31",
        pad + "14        29",
        "",
        "Table: Simplewide prices by the quarter.",
    ])
    multiline = "\n".join([
        "-" * 60,
        " Centered   Default           Right Left",
        "  Header    Aligned         Aligned Aligned",
        "----------- ------- --------------- -------------------------",
        "   First    row                12.0 Example of a row that",
        "                                    spans multiple lines.",
        "",
        "  Second    row                 5.0 Here's another one.",
        "-" * 60,
        "",
        "Table: Multilinegrain table.",
    ])
    grid = "\n".join([
        "+---------------+---------------+",
        "| Fruit         | Price         |",
        "+===============+===============+",
        "| Bananas       | Gridfruit 1.34|",
        "+---------------+---------------+",
        "| Oranges       | 2.10          |",
        "+---------------+---------------+",
    ])
    code = "\n".join([
        "- An item with code:",
        "",
        "  - a nested item",
        "",
        " " * 120 + "deepcode = 1",
        " " * 140 + "deepercode = 2",
        "",
        "- back at the margin",
    ])
    return f"# Tables\n\nSome text.\n\n{simple}\n\nMore text.\n\n{multiline}\n\n{grid}\n\n{code}\n"


def test_wide_and_indented_tables_build(tmp_path):
    book = write_book(tmp_path / "book", wide_tables())
    out = tmp_path / "out"
    result = run_cli("--book", book, "--out", out, "--edition", "pdf", "--edition", "epub")
    assert result.code == 0, result.err
    assert "nested" not in result.err
    pdf = " ".join(page_texts(next(out.glob("*.pdf"))))
    for word in ("Simplewide", "Multilinegrain", "Gridfruit", "Quarters of the harvest", "deepercode"):
        assert word in pdf, word
    with zipfile.ZipFile(next(out.glob("*.epub"))) as z:
        xhtml = " ".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xhtml"))
    assert xhtml.count("<table") >= 3
    assert re.search(r"<td[^>]*>\s*Quarters of the harvest", xhtml)
    assert "Gridfruit" in xhtml and "deepercode = 2" in xhtml
    # the report's peak memory is the whole process tree's (the build and its workers summed)
    import json
    memory = json.loads(next(out.glob("*.report.json")).read_text())["memory"]
    # (a short build may have no worker alive when a sample is taken: the sum is then the largest)
    assert memory["tree_peak_mb"] >= memory["largest_process_mb"] > 20, memory


def test_the_memory_sampler_sums_the_whole_process_tree():
    """A child holding 200 MB while the build process is sampled: the tree's peak counts both,
    the largest process only one of them."""
    import subprocess
    import sys
    from imprint.processes import MemorySampler
    hold = "import time; b = bytearray(200 * 2**20); b[::4096] = b'x' * len(b[::4096]); time.sleep(1.5)"
    with MemorySampler(every=0.1) as memory:
        subprocess.run([sys.executable, "-c", hold], check=True)
    peaks = memory.as_json()
    assert peaks["largest_process_mb"] >= 200, peaks
    assert peaks["tree_peak_mb"] >= peaks["largest_process_mb"] + 10, peaks      # this process counted too


@pytest.mark.parametrize("markdown,line,cause", [
    ("".join("> " + "  " * i + "- item\n" for i in range(200)), 64, "list items are open here"),
    ("".join("- a\nlazy line\n".replace("- a", "  " * i + "- a") for i in range(100)), 129, "list items are open here"),
    ("> " * 70 + "x\n", 1, "opens 70 block quotes"),
], ids=["quoted-list", "lazy-lines", "quotes"])
def test_nesting_guard_measures_real_nesting(tmp_path, markdown, line, cause):
    from imprint.errors import ManuscriptError
    from imprint.manuscript.guards import check_nesting
    with pytest.raises(ManuscriptError) as err:
        check_nesting(markdown, tmp_path / "text.md")
    assert err.value.where.line == line and cause in err.value.hint


def test_indentation_beyond_the_open_containers_is_not_depth(tmp_path):
    from imprint.manuscript.guards import check_nesting
    check_nesting(wide_tables(), tmp_path / "text.md")
    check_nesting("- item\n\n" + " " * 400 + "- not a marker: code\n", tmp_path / "text.md")
    check_nesting("```\n" + "- " * 100 + "\n```\n", tmp_path / "text.md")
    check_nesting("Text.\n\n" + "- " * 100 + "\n\n" + "* " * 80 + "\n", tmp_path / "text.md")   # rules


LINKED = {
    "one.md": "# One\n\nText with a note.[^a] And [a body link](#later-id).\n\n"
              "[^a]: See [the later section](#later-id), [chapter three](#three) and [a span](#spot).\n",
    "two.md": "# Two\n\nMore.[^b]\n\n## Later section {#later-id}\n\nHere.\n\n"
              "[^b]: Back to [one](#one), and a table:\n\n"
              "    | a | b |\n    |---|---|\n    | [x](#three) | 2 |\n\n    Table: Caption with [a link](#one).\n",
    "three.md": "# Three\n\nLast. A [spot]{#spot} here.[^c]\n\n[^c]: Forward to [Two](#two).\n",
}


def linked_book(folder, extra: str = ""):
    write_book(folder, "", "title: Linked Notes\nauthor: A\nlang: en\n"
               "identifier: urn:uuid:00000000-0000-4000-8000-000000000016\ndate: 2020-01-01\n"
               "manuscript: [one.md, two.md, three.md]\n", name="one.md")
    for name, text in LINKED.items():
        (folder / name).write_text(text + (extra if name == "three.md" else ""), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def linked_epub(tmp_path_factory):
    root = tmp_path_factory.mktemp("linked")
    result = run_cli("--book", linked_book(root / "book"), "--out", root / "out", "--edition", "epub")
    assert result.code == 0, result.err
    return next((root / "out").glob("*.epub"))


def test_links_in_notes_reach_other_chapters(linked_epub):
    from imprint.editions import validate
    from imprint.editions.epub import broken_links
    with zipfile.ZipFile(linked_epub) as z:
        one = z.read("EPUB/text/chapter-001.xhtml").decode()
        two = z.read("EPUB/text/chapter-002.xhtml").decode()
    aside = one[one.index("<aside"):]
    assert 'href="chapter-002.xhtml#later-id"' in aside and 'href="chapter-003.xhtml#spot"' in aside
    notes = two[two.index("<aside"):]
    assert 'href="chapter-003.xhtml#three"' in notes and "<table" in notes     # a table in a note, too
    assert broken_links(linked_epub.read_bytes()) == []
    messages = validate.run_epubcheck(linked_epub)
    assert [m for m in messages if m.severity in ("fatal", "error", "warning")] == []


def test_in_process_check_catches_a_broken_link(linked_epub, tmp_path):
    from imprint.editions.epub import broken_links
    broken = tmp_path / "broken.epub"
    with zipfile.ZipFile(linked_epub) as src, zipfile.ZipFile(broken, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "EPUB/text/chapter-002.xhtml":
                data = data.replace(b'href="chapter-003.xhtml#three"', b'href="chapter-003.xhtml#thr"', 1)
            if info.filename == "EPUB/nav.xhtml":
                data = data.replace(b'href="text/chapter-001.xhtml', b'href="text/chapter-009.xhtml', 1)
            dst.writestr(info, data)
    found = broken_links(broken.read_bytes())
    assert ("EPUB/text/chapter-002.xhtml",
            "<a href=\"chapter-003.xhtml#thr\">: EPUB/text/chapter-003.xhtml has no element with id 'thr'") in found
    assert any(doc == "EPUB/nav.xhtml" and "EPUB/text/chapter-009.xhtml, which is not in the package" in p
               for doc, p in found)
    assert len(found) == 2


def test_a_link_to_an_id_the_book_lacks_is_an_error_at_its_line(tmp_path):
    book = linked_book(tmp_path / "book", "\nA [dangling](#nosuch) link.\n")
    out = tmp_path / "out"
    result = run_cli("--book", book, "--out", out, "--edition", "epub")
    assert result.code == 1 and not out.exists()
    assert re.search(r"three\.md:7:13: error: E206 EPUB link does not resolve: .*'nosuch'", result.err), result.err


def long_book(chapters: int) -> str:
    """A book of many short chapters: each opens on a right-hand page, so pages come cheaply."""
    para = "A sentence of the long book, long enough to fill a line or two of the page. " * 6
    return "".join(f"# Chapter {i}\n\n{para}\n\n{para}\n\n" for i in range(1, chapters + 1))


def test_a_book_too_long_for_the_printer_says_what_to_do_and_the_other_editions_build(tmp_path, monkeypatch):
    import dataclasses

    from imprint.specs import profiles
    kdp = profiles.PROFILES["kdp"]
    limit = 30                               # KDP's 828 pages, made reachable by 22 short chapters
    monkeypatch.setitem(profiles.PROFILES, "kdp", dataclasses.replace(
        kdp, pages=dataclasses.replace(kdp.pages, max_pages=limit)))
    book = write_book(tmp_path / "book", long_book(22))
    out = tmp_path / "out"
    whole = run_cli("--book", book, "--out", out, "--no-cache", "-v")
    assert whole.code == 1 and not out.exists()
    line = next(ln for ln in whole.err.splitlines() if " P103 " in ln)
    pages = int(re.search(r"P103 (\d+) pages; Amazon KDP paperback prints 24 to 30", line).group(1))
    assert pages > limit
    parts, each = map(int, re.search(r"(\d+) volumes of about (\d+) pages each", line).groups())
    assert each <= limit and parts * (each - 6) >= pages and (parts - 1) * (each - 6) < pages
    assert "a larger trim is not possible (6x9 is the largest)" in line
    assert "IngramSpark paperback" in line and "`--edition pdf --edition epub`" in line
    # the download PDF and the EPUB have no page limit: they build
    result = run_cli("--book", book, "--out", out, "--edition", "pdf", "--edition", "epub", "--no-cache")
    assert result.code == 0, result.err
    assert sorted(p.suffix for p in out.iterdir() if not p.name.startswith(".")) == [".epub", ".json", ".pdf"]
    assert len(page_texts(next(out.glob("*.pdf")))) > limit


def test_the_too_long_hint_estimates_other_trims_and_volumes():
    from imprint.editions.preflight import too_long_hint
    from imprint.specs.editions import TRIMS
    from imprint.specs.profiles import KDP, LULU
    hint = too_long_hint(1220, KDP, TRIMS["6x9"])
    assert "828 pages" in hint and "2 volumes of about 616 pages each" in hint
    assert "printer that binds" not in hint                                  # IngramSpark: 1200 at most
    assert "a printer that binds it: IngramSpark paperback." in too_long_hint(1100, KDP, TRIMS["6x9"])
    small = too_long_hint(1000, LULU, TRIMS["5x8"])
    assert "a larger trim: 6x9 (about 741 pages)" in small                  # 1000 x 40 / 54 sq in
    assert "3 volumes" in too_long_hint(2000, KDP, TRIMS["6x9"])


def footer_table(tag: str) -> str:
    rows = [("Year", "Wheat", "Barley"), (f"17{tag}1", "12", "31"), (f"17{tag}2", "14", "29"),
            (f"Total{tag}", f"Sumwheat{tag}", f"Sumbarley{tag}")]
    line = "+" + "+".join("-" * 14 for _ in range(3)) + "+"
    heavy = line.replace("-", "=")
    row = lambda cells: "|" + "|".join(f" {c:<13}" for c in cells) + "|"
    table = [line, row(rows[0]), heavy, row(rows[1]), line, row(rows[2]), heavy, row(rows[3]), heavy]
    return "\n".join("    " + t for t in table)


def test_a_table_footer_in_a_note_keeps_its_columns(tmp_path):
    para = "A long note runs on over the pages of the book, sentence after sentence of commentary. " * 5
    body = "The text goes on beside the notes, page after page of it, long enough to carry them. " * 6
    text = ("# One\n\nA short note with a table.[^a] And a long one.[^b]\n\n" + f"{body}\n\n" * 12 +
            f"[^a]: The grain sold:\n\n{footer_table('A')}\n\n"
            f"[^b]: {para}\n\n" + "".join(f"    {para}\n\n" for _ in range(12)) + f"{footer_table('B')}\n")
    book = write_book(tmp_path / "book", text)
    out = tmp_path / "out"
    result = run_cli("--book", book, "--out", out, "--edition", "pdf")
    assert result.code == 0, result.err
    with pdfplumber.open(next(out.glob("*.pdf"))) as pdf:
        words = [dict(w, page=page.page_number) for page in pdf.pages for w in page.extract_words()]
    for tag in "AB":
        x = {w["text"]: w["x0"] for w in words if w["text"].endswith(tag) or w["text"].startswith(f"17{tag}")}
        body = next(w for w in words if w["text"] == f"17{tag}1")
        row = [w for w in words if abs(w["top"] - body["top"]) < 1 and w["page"] == body["page"]]
        columns = sorted(w["x0"] for w in row)              # 17A1, 12, 31: the body row's columns
        footer = [x[f"Total{tag}"], x[f"Sumwheat{tag}"], x[f"Sumbarley{tag}"]]
        assert len(columns) == 3 and all(abs(a - b) < 1 for a, b in zip(footer, columns)), (tag, footer, columns)
        assert footer[1] - footer[0] > 20 and footer[2] - footer[1] > 20
