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
