"""A note holding a table row taller than a whole page (issue 16, item 2: "tables taller than
a page … a note never runs off a page, whatever it holds"). No page can hold the row, so
the row is set stacked (imprint/typeset/longnotes.py `_stack`): it leaves its table, each
cell becomes a paragraph of the note under its column's head, and the note runs on across
pages like any long note; N210 names it. Before, the build failed (N205, L102, L201: the
row ran off the page and nothing was written).

Generated book (seeded words, no corpus text), 5 × 8 in: a pipe table with a header row
whose second cell holds 900 words, and a headerless multiline table with three long cells."""

from __future__ import annotations

import json
import random
import textwrap

import pdfplumber
import pytest

from conftest import run_cli, write_book
from test_long_note_blocks import WORDS

BODY = 9.5          # points: body text is larger, notes smaller


def _words(r, n) -> str:
    return " ".join(r.choice(WORDS) for _ in range(n))


def _paragraph(r, sentences) -> str:
    return " ".join(_words(r, r.randint(8, 15)).capitalize() + "." for _ in range(sentences))


def _indent(note: str) -> str:
    return "\n".join("    " + line if line else "" for line in note.split("\n")).lstrip()


def _multiline(r) -> str:
    """A headerless multiline table: three columns, one row with three long cells, one short."""
    widths = (22, 22, 22)
    cells = [textwrap.wrap(f"Cellstart{k} " + _words(r, 260) + f" Cellend{k}", w) for k, w in enumerate(widths, 1)]
    rule = " ".join("-" * w for w in widths)
    lines = [rule]
    for i in range(max(len(c) for c in cells)):
        lines.append(" ".join((c[i] if i < len(c) else "").ljust(w) for c, w in zip(cells, widths)).rstrip())
    lines += ["", " ".join(x.ljust(w) for x, w in zip(("Little", "row", "after"), widths)).rstrip(), rule]
    return "\n".join(lines)


def _manuscript() -> str:
    r = random.Random("tall-row")
    pipe = ("| Parish | Account |\n|---|---|\n| Tallrow | " + _words(r, 900) + " Rowend |\n"
            "| Shortrow | " + _words(r, 4) + " |")
    first = f"Rownote {_paragraph(r, 1)}\n\n{pipe}"
    second = f"Gridnote {_paragraph(r, 1)}\n\n{_multiline(r)}"
    return (f"# Pipe\n\n{_paragraph(r, 3)} rowword[^a] {_paragraph(r, 3)}\n\n"
            + "\n\n".join(_paragraph(r, 5) for _ in range(8)) + f"\n\n[^a]: {_indent(first)}\n\n"
            + f"# Multiline\n\n{_paragraph(r, 2)} gridword[^b] {_paragraph(r, 3)}\n\n"
            + "\n\n".join(_paragraph(r, 5) for _ in range(8)) + f"\n\n[^b]: {_indent(second)}\n\n"
            + "# After\n\n" + "\n\n".join(_paragraph(r, 5) for _ in range(3)) + "\n")


def _lines(page):
    rows: dict[int, list] = {}
    for c in page.chars:
        rows.setdefault(round(c["bottom"]), []).append(c)
    return [(min(c["top"] for c in rows[y]), max(c["bottom"] for c in rows[y]),
             "".join(c["text"] for c in sorted(rows[y], key=lambda c: c["x0"])), max(c["size"] for c in rows[y]),
             min(c["x0"] for c in rows[y])) for y in sorted(rows)]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("tall-row")
    book = write_book(root / "book", _manuscript())
    out = root / "out"
    result = run_cli("--book", book, "--out", out, "--edition", "pdf", "--trim", "5x8")
    assert result.code == 0, result.err[-3000:]
    report = json.loads(next(out.glob("*.report.json")).read_text())
    with pdfplumber.open(next(out.glob("*.pdf"))) as pdf:
        pages = [{"lines": _lines(p), "height": float(p.height),
                  "chars": [(c["top"], c["bottom"]) for c in p.chars]} for p in pdf.pages]
    return pages, report


def _find(pages, word):
    for i, page in enumerate(pages):
        for ln in page["lines"]:
            if word in "".join(ln[2].split()):
                return i, ln
    return None, None


def test_a_table_row_taller_than_a_page_is_set_stacked_and_named(built):
    pages, report = built
    codes = [f["code"] for f in report["findings"] if isinstance(f, dict)]
    assert not {"N202", "N204", "N205", "N206", "L102", "L201", "L202", "L203"} & set(codes)
    n210 = sorted(f["message"].split()[1] for f in report["findings"] if isinstance(f, dict) and f["code"] == "N210")
    assert n210 == ["1", "2"]
    # Every character of every page stands inside the page, above the foot margin.
    for i, page in enumerate(pages):
        assert all(top >= 0 and bottom <= page["height"] - 36 for top, bottom in page["chars"]), f"page {i + 1}"


def test_the_stacked_cells_stand_under_their_column_heads_and_run_on_across_pages(built):
    pages, _ = built
    start, label = _find(pages, "Account:")          # the column head, then the cell's text
    end, _ = _find(pages, "Rowend")
    assert start is not None and end is not None and label[3] <= BODY
    assert end >= start + 2, "a 900-word cell runs on over several pages"
    # The row's first cell too: "Parish: Tallrow", on a line of its own before the long cell.
    tall_page, tall = _find(pages, "Parish:Tallrow")
    assert tall_page == start and tall[0] < label[0]
    # The rows after the stacked one stay a table: the short row's two cells on one baseline.
    short_page, short = _find(pages, "Shortrow")
    assert short_page == end and len(short[2]) > len("Shortrow")


def test_a_headerless_tables_cells_stack_in_order_without_heads(built):
    pages, _ = built
    found = [_find(pages, f"Cellstart{k}") for k in (1, 2, 3)] + [_find(pages, f"Cellend{k}") for k in (1, 2, 3)]
    assert all(page is not None for page, _ in found)
    order = [(page, line[0]) for page, line in found]
    # Cell 1 ends before cell 2 starts: the cells are paragraphs one under another.
    assert order[0] < order[3] < order[1] < order[4] < order[2] < order[5]
    for page, line in found[:3]:
        assert line[2].startswith("Cellstart") and line[3] <= BODY
    little, row = _find(pages, "Little")
    assert little is not None and "row" in row[2] and "after" in row[2]


def test_two_tall_rows_of_one_table_stack_in_place_and_keep_the_notes_text_in_order():
    """`_stack` on markup alone: rows 2 and 3 of a table (header row 0) set stacked, the rows
    between and after stay table rows, and the note's characters keep their order."""
    from lxml import html as lhtml
    from imprint.typeset import longnotes
    cell = lambda text: f'<span class="fn-td">{text}</span>'
    row = lambda a, b: f'<span class="fn-tr">{cell(a)}{cell(b)}</span>'
    note = ('<span class="footnote" id="fn1"><span class="fn-p">Lead words.</span><span class="fn-table">'
            '<span class="fn-thead"><span class="fn-tr"><span class="fn-th">Head</span><span class="fn-th">Body</span></span></span>'
            f'<span class="fn-tbody">{row("One", "first")}{row("Two", "second long")}{row("Three", "third long")}'
            f'{row("Four", "fourth")}</span></span></span>')
    doc = lhtml.document_fromstring(f"<html><body><main><p>Text{note}</p></main></body></html>")
    before = "".join(longnotes._chars(doc.xpath('//*[@id="fn1"]')[0]))
    assert longnotes._stack(doc, 1, [2, 3]) == 2
    found = doc.xpath('//*[@id="fn1"]')[0]
    assert "".join(longnotes._chars(found)) == before
    parts = [el.get("class") for el in found if isinstance(el.tag, str)]
    assert parts == ["fn-p", "fn-table", "fn-div fn-stacked", "fn-div fn-stacked", "fn-table"]
    labels = [el.text for el in found.iter() if "fn-stacked-label" in (el.get("class") or "")]
    assert labels == ["Head:", "Body:", "Head:", "Body:"]
    last = found[-1]
    assert [el.text for el in last.iter() if el.get("class") == "fn-td"] == ["Four", "fourth"]
    assert all("fn-repeat" in (el.get("class") or "") for el in last.iter() if "fn-th" in (el.get("class") or ""))


def test_a_tall_header_row_is_stacked_without_labels_and_not_repeated():
    """`_stack` on markup: the header row itself taller than a page (row 0, in the thead). Before,
    it was left in its table and the build failed (N205, L201)."""
    from lxml import html as lhtml
    from imprint.typeset import longnotes
    cell = lambda text: f'<span class="fn-td">{text}</span>'
    note = ('<span class="footnote" id="fn1"><span class="fn-p">Lead.</span><span class="fn-table">'
            '<span class="fn-thead"><span class="fn-tr"><span class="fn-th">Long head</span><span class="fn-th">Other</span></span></span>'
            f'<span class="fn-tbody"><span class="fn-tr">{cell("One")}{cell("first")}</span></span></span></span>')
    doc = lhtml.document_fromstring(f"<html><body><main><p>Text{note}</p></main></body></html>")
    before = "".join(longnotes._chars(doc.xpath('//*[@id="fn1"]')[0]))
    assert longnotes._stack(doc, 1, [0]) == 1
    found = doc.xpath('//*[@id="fn1"]')[0]
    assert "".join(longnotes._chars(found)) == before
    assert [el.get("class") for el in found if isinstance(el.tag, str)] == ["fn-p", "fn-div fn-stacked", "fn-table"]
    assert not [el for el in found.iter() if "fn-repeat" in (el.get("class") or "") or "fn-thead" in (el.get("class") or "")]


def _one_note_book(tmp_path, r, note: str) -> str:
    """Build a short book whose one note is `note` (5 × 8, PDF): it builds, N210 names the
    stacked row, no note or layout error; the PDF's text, spaces left out."""
    book = write_book(tmp_path / "book", f"# One\n\n{_paragraph(r, 4)} call[^a] {_paragraph(r, 4)}\n\n"
                      + "\n\n".join(_paragraph(r, 5) for _ in range(4)) + f"\n\n[^a]: {_indent(note)}\n")
    out = tmp_path / "out"
    result = run_cli("--book", book, "--out", out, "--edition", "pdf", "--trim", "5x8")
    assert result.code == 0, result.err[-3000:]
    report = json.loads(next(out.glob("*.report.json")).read_text())
    codes = {f["code"] for f in report["findings"] if isinstance(f, dict)}
    assert "N210" in codes and not {"N202", "N205", "L102", "L201"} & codes
    with pdfplumber.open(next(out.glob("*.pdf"))) as pdf:
        return "".join("".join((p.extract_text() or "").split()) for p in pdf.pages)


def test_a_tall_header_row_builds(tmp_path):
    r = random.Random("tall-head")
    note = "Headnote.\n\n| Headstart " + _words(r, 700) + " Headend | Short |\n|---|---|\n| Cellone | Celltwo |"
    text = _one_note_book(tmp_path, r, note)
    assert all(w in text for w in ("Headstart", "Headend", "Cellone", "Celltwo"))


def test_stacked_cells_are_labelled_by_the_columns_they_stand_in():
    """A grid table's spanning cells (pandoc writes colspan and rowspan): a stacked cell is
    labelled by the head of every column it covers, and a cell after a cell spanning down from
    the row above by its own column's head, not by its index in the row. Before, the labels
    were taken by index: "x" (two columns) got "A:" only, "y" got "B:" (it stands under "C")."""
    from lxml import html as lhtml
    from imprint.typeset import longnotes
    td = lambda text, **a: '<span class="fn-td"' + "".join(f' {k}="{v}"' for k, v in a.items()) + f'>{text}</span>'
    tr = lambda *cells: '<span class="fn-tr">' + "".join(cells) + "</span>"
    head = tr(*(f'<span class="fn-th">{h}</span>' for h in ("A", "B", "C")))
    note = ('<span class="footnote" id="fn1"><span class="fn-p">Lead.</span><span class="fn-table">'
            f'<span class="fn-thead">{head}</span><span class="fn-tbody">'
            f'{tr(td("x long", colspan=2), td("y"))}{tr(td("r", rowspan=2), td("s"), td("t"))}{tr(td("u long"), td("v"))}'
            '</span></span></span>')

    def labels(index):
        doc = lhtml.document_fromstring(f"<html><body><main><p>Text{note}</p></main></body></html>")
        assert longnotes._stack(doc, 1, [index]) == 1
        found = doc.xpath('//*[@id="fn1"]')[0]
        return [[lab.text for lab in cell.iter() if "fn-stacked-label" in (lab.get("class") or "")]
                for cell in found.iter() if "fn-stacked-cell" in (cell.get("class") or "")]

    assert labels(1) == [["A / B:"], ["C:"]]
    assert labels(3) == [["B:"], ["C:"]]        # "r" spans down into this row from the one above
    # A head cell spanning two columns labels both with one name.
    spanning = note.replace('<span class="fn-th">B</span><span class="fn-th">C</span>',
                            '<span class="fn-th" colspan="2">Goods</span>')
    doc = lhtml.document_fromstring(f"<html><body><main><p>Text{spanning}</p></main></body></html>")
    assert longnotes._stack(doc, 1, [1]) == 1
    assert [el.text for el in doc.iter() if "fn-stacked-label" in (el.get("class") or "")] == ["A / Goods:", "Goods:"]


def test_a_grid_table_with_spanning_cells_and_a_tall_row_builds_with_its_columns_heads(tmp_path):
    r = random.Random("tall-grid")
    width = 30
    long = textwrap.wrap("Spanstart " + _words(r, 650) + " Spanend", width * 2 + 1)
    rule = "+" + "-" * (width + 2) + "+" + "-" * (width + 2) + "+" + "-" * (width + 2) + "+"
    cell = lambda t, w=width: "| " + t.ljust(w) + " "
    grid = [rule, cell("Year") + cell("Grain") + cell("Price") + "|", rule.replace("-", "=")]
    for i, line in enumerate(long):
        grid.append(cell(line, width * 2 + 3) + cell("Lastcell" if i == 0 else "") + "|")
    grid += [rule, cell("Small") + cell("row") + cell("end") + "|", rule]
    note = "Gridhead.\n\n" + "\n".join(grid)
    text = _one_note_book(tmp_path, r, note)
    assert "Year/Grain:Spanstart" in text and "Price:Lastcell" in text
    assert all(w in text for w in ("Spanend", "Small", "end"))
