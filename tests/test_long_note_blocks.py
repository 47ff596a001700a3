"""Every block a footnote can hold, in a long note (one to three pages), called near the top,
the middle and the foot of a page, at two trims: the note starts on its call's page, runs on
over the next pages, is drawn whole and never past the page's foot (issue 16).

The books are generated here from a seeded word list (no corpus text): one chapter per block
kind and call position, so each call falls at a known height of its chapter's first page.
Each trim's book is built once (module fixture); the assertions are parametrized by note."""

from __future__ import annotations

import json
import re
import random
import struct
import textwrap
import zlib
from pathlib import Path

import pdfplumber
import pytest

from conftest import run_cli, write_book

from imprint.checks.note_outputs import letters

import os

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not os.environ.get("IMPRINT_SLOW"),
                                 reason="two books of about 200 pages: set IMPRINT_SLOW=1")]

WORDS = ("river harvest granary ledger merchant carriage tenant weaver harbour foundry meadow parish "
         "census tariff freight quarry orchard miller shepherd vintner cooper chandler tannery forge "
         "the of and in a to for with by on at from into over under between against among").split()
LONG = ("internationalization counterrevolutionaries indistinguishability incomprehensibility "
        "uncharacteristically disproportionately interdenominational electroencephalograph "
        "telecommunications institutionalization compartmentalization misunderstanding").split()

KINDS = ("paragraphs", "nested-list", "grid-table", "pipe-table", "simple-table", "multiline-table",
         "tall-table", "hyphen-table", "block-quote", "verse", "code", "display-math", "image")
WHERE = ("top", "middle", "foot")
TRIMS = ("5x8", "6x9")
# Lines of body text before the call: the chapter's opening page of each trim holds about
# 26 (5x8) or 33 (6x9) lines under the chapter heading.
BEFORE = {"top": 0, "middle": 0.45, "foot": 0.85}
PAGE_WORDS = {"5x8": 26 * 10, "6x9": 33 * 12}


def words(r, n, cap=True) -> str:
    out = " ".join(r.choice(WORDS) for _ in range(n))
    return out.capitalize() if cap else out


def sentence(r, n=None) -> str:
    return words(r, n or r.randint(8, 15)) + "."


def paragraph(r, sentences) -> str:
    return " ".join(sentence(r) for _ in range(sentences))


def cell(r, n) -> str:
    return words(r, n)


def grid_table(r, rows, footer: bool) -> list[str]:
    width = (18, 22, 14)
    line = "+" + "+".join("-" * w for w in width) + "+"
    heavy = line.replace("-", "=")
    row = lambda cells: "|" + "|".join(f" {c:<{w - 1}}" for c, w in zip(cells, width)) + "|"
    out = [line, row(("Parish", "Freight carried", "Tariff")), heavy]
    for i in range(rows):
        out += [row((cell(r, 2)[:16], cell(r, 3)[:20], str(100 + i))), line]
    if footer:
        out[-1] = heavy
        out += [row(("Totalrow", "Sumfreight", "Sumtariff")), heavy]
    return out


def pipe_table(r, rows, long_cells: bool) -> list[str]:
    out = ["| Parish | Freight carried over the year | Tariff |", "|:--|:--------------|--:|"]
    for i in range(rows):
        middle = sentence(r, r.randint(6, 18)) if long_cells else cell(r, 2)
        out.append(f"| {cell(r, 2)} | {middle} | {200 + i} |")
    return out


def hyphen_table(r, rows) -> list[str]:
    out = ["| Word | Other | Third | Fourth |", "|---|---|---|---|"]
    for _ in range(rows):
        out.append("| " + " | ".join(" ".join(r.choice(LONG) for _ in range(2)) for _ in range(4)) + " |")
    return out


def simple_table(r, rows) -> list[str]:
    out = ["  Parish        Freight          Tariff", "  ------------  --------------  -------"]
    for i in range(rows):
        out.append(f"  {cell(r, 1):<12}  {cell(r, 1):<14}  {300 + i:>7}")
    return out


def multiline_table(r, rows) -> list[str]:
    rule = "-" * 60
    out = [rule, " Parish of    Freight carried          Tariff",
           " the county   over the year            paid",
           "------------ ------------------------ --------"]
    for i in range(rows):
        a = textwrap.wrap(cell(r, 3), 12)[0]
        b = textwrap.wrap(cell(r, 7), 24)[:2] + [""]
        out += [f" {a:<12} {b[0]:<24} {400 + i:>8}", f" {'':<12} {b[1]:<24} {'':>8}", ""]
    out[-1] = rule
    return out


def note_blocks(kind: str, r, scale: float) -> list[str]:
    """The note's blocks in Markdown (not yet indented under the note)."""
    n = lambda k: max(1, round(k * scale))
    intro = paragraph(r, 3)
    if kind == "paragraphs":
        return [paragraph(r, 6) for _ in range(n(6))]
    if kind == "nested-list":
        items = []
        for _ in range(n(6)):
            items.append("- " + paragraph(r, 2))
            for _ in range(2):
                items.append("    - " + paragraph(r, 1))
                items.append("        1. " + paragraph(r, 1))
                items.append("        2. " + sentence(r))
        return [intro, "\n".join(items)]
    if kind == "grid-table":
        return [intro, "\n".join(grid_table(r, n(40), footer=False))]
    if kind == "pipe-table":
        return [intro, "\n".join(pipe_table(r, n(30), long_cells=True)), paragraph(r, 2)]
    if kind == "simple-table":
        return [intro, "\n".join(simple_table(r, n(70)))]
    if kind == "multiline-table":
        return [intro, "\n".join(multiline_table(r, n(26))), "\n".join(grid_table(r, n(14), footer=True))]
    if kind == "tall-table":
        return [intro, "\n".join(pipe_table(r, n(110), long_cells=False))]
    if kind == "hyphen-table":
        return [intro, "\n".join(hyphen_table(r, n(22)))]
    if kind == "block-quote":
        return [intro] + ["> " + paragraph(r, 5) for _ in range(n(5))] + [paragraph(r, 2)]
    if kind == "verse":
        return [intro, "\n".join("| " + words(r, r.randint(4, 8)) for _ in range(n(90)))]
    if kind == "code":
        return [intro, "```\n" + "\n".join(f"{words(r, 3, False).replace(' ', '_')} = {i}" for i in range(n(90))) + "\n```"]
    if kind == "display-math":
        out = [intro]
        for i in range(n(9)):
            out += [paragraph(r, 3), f"$$\\sum_{{k=1}}^{{{i + 3}}} x_k^2 = \\frac{{a_{i}}}{{b_{i} + {i}}}$$"]
        return out + [paragraph(r, 1)]
    if kind == "image":
        return [paragraph(r, 4), "![A tall plate.](tall.png)", paragraph(r, 6), paragraph(r, 6)]
    raise ValueError(kind)


def manuscript(trim: str) -> tuple[str, dict[str, str]]:
    """The book's Markdown and, by note label, the note's Markdown."""
    r = random.Random(f"long-note-blocks-{trim}")
    scale = 0.8 if trim == "5x8" else 1.0
    chapters, notes = [], {}
    for kind in KINDS:
        for where in WHERE:
            label = f"{kind}-{where}"
            before = round(PAGE_WORDS[trim] * BEFORE[where])
            lead = " ".join(words(r, 1) for _ in range(before)) + " " if before else ""
            blocks = note_blocks(kind, r, scale)
            body = "\n\n".join(blocks)
            # Text enough after the call to carry the whole note on its pages (a note still
            # running when the next chapter's call comes would hold that call's note back).
            after = max(2, round(len(body) / 6 / 50))
            text = (f"# {kind.replace('-', ' ').title()} at the {where}\n\n"
                    f"{lead}The note on {kind} is called here.[^{label}] {paragraph(r, 2)}\n\n"
                    + "\n\n".join(paragraph(r, 4) for _ in range(after)))
            chapters.append(text)
            notes[label] = body
            indented = "\n".join("    " + line if line else "" for line in body.split("\n")).lstrip()
            chapters[-1] += f"\n\n[^{label}]: {indented}\n"
    # The last chapter ends with text of its own: notes still running at the end of a
    # document are a matter of their own (see the report of issue 16).
    chapters.append("# Afterword\n\n" + "\n\n".join(paragraph(r, 6) for _ in range(4)))
    return "\n\n".join(chapters), notes


def tall_png(width=300, height=520) -> bytes:
    """A grey PNG, taller than wide (written by hand: no image library needed)."""
    raw = b"".join(b"\x00" + bytes([120 + (y // 40) * 8 % 100]) * width for y in range(height))
    chunk = lambda kind, data: (struct.pack(">I", len(data)) + kind + data
                                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@pytest.fixture(scope="module", params=TRIMS)
def built(request, tmp_path_factory):
    trim = request.param
    root = tmp_path_factory.mktemp(f"blocks-{trim}")
    text, notes = manuscript(trim)
    book = write_book(root / "book", text)
    (book / "tall.png").write_bytes(tall_png())
    out = root / "out"
    result = run_cli("--book", book, "--out", out, "--edition", "pdf", "--trim", trim)
    report = json.loads(next(out.glob("*.report.json")).read_text()) if list(out.glob("*.report.json")) else {}
    pdf = next((p for p in out.glob("*.pdf")), None)
    pages = read_pages(pdf) if pdf else []
    return {"trim": trim, "result": result, "report": report, "pages": pages, "notes": notes,
            "order": list(notes)}


def read_pages(pdf: Path) -> list[dict]:
    out = []
    with pdfplumber.open(pdf) as doc:
        for page in doc.pages:
            chars = page.chars
            out.append({
                "width": float(page.width), "height": float(page.height),
                "chars": chars,
                "words": page.extract_words(extra_attrs=["size"]),
            })
    return out


def findings(built) -> list[dict]:
    report = built["report"]
    return [f for f in report.get("findings", []) if isinstance(f, dict)]


def test_the_book_builds(built):
    assert built["result"].code == 0, built["result"].err[:3000]      # errors are printed first


def test_no_text_off_the_page(built):
    off = []
    for number, page in enumerate(built["pages"], 1):
        for c in page["chars"]:
            if c["x0"] < -0.5 or c["x1"] > page["width"] + 0.5 or c["top"] < -0.5 or c["bottom"] > page["height"] + 0.5:
                off.append((number, c["text"], round(c["top"])))
    assert not off, off[:10]


def _text_block(built) -> tuple[float, float]:
    """The top and the foot of the text block, in points from the page's top: the page less
    the margins of the trim and the default printer (imprint/specs; the bottom margin does not
    depend on the page count). The running head and folio (9 pt) stand above the top; the
    footnote area ends at the foot (the body's last line may end up to a line above it: its
    lines keep their grid)."""
    from imprint.specs.editions import TRIMS, margins_for
    from imprint.specs.profiles import DEFAULT_PROFILE, PROFILES

    pages = built["pages"]
    margins = margins_for(TRIMS[built["trim"]], PROFILES[DEFAULT_PROFILE], len(pages), False)
    return margins.top, pages[0]["height"] - margins.bottom


def test_notes_stay_above_the_foot_of_the_text_block(built):
    top, foot = _text_block(built)
    body = max((w["bottom"] for p in built["pages"] for w in p["words"] if abs(w["size"] - 11) < 0.3), default=0.0)
    assert top < body < foot                        # the text block read off the pages is the specs' one
    low = [(i, w["text"], round(w["bottom"], 1)) for i, p in enumerate(built["pages"], 1)
           for w in p["words"] if abs(w["size"] - 9) < 0.3 and w["bottom"] > foot + 0.5]
    assert not low, (round(foot, 1), low[:8])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("where", WHERE)
def test_the_note_starts_on_its_calls_page_and_is_drawn_whole(built, kind, where):
    label = f"{kind}-{where}"
    number = built["order"].index(label) + 1
    wrong = [f for f in findings(built) if f.get("code") in ("L101", "L102", "N201", "N202", "N203", "N204",
                                                               "N205", "N206", "L201")
             and (f"note {number} " in f.get("message", "") or f"note {number}," in f.get("message", "")
                  or f.get("code") in ("N205", "N206", "L201") and _note_on_page(built, number, f.get("page")))]
    assert not wrong, [(f["code"], f["message"]) for f in wrong]
    pages = built["pages"]
    call_page = next((i for i, p in enumerate(pages)
                      if any(abs(w["size"] - 7.5) < 0.3 and w["text"] == str(number) for w in p["words"])
                      and any(w["text"].startswith("here") for w in p["words"] if abs(w["size"] - 11) < 0.3)),
                     None)
    assert call_page is not None, f"call {number} not found"
    top, _ = _text_block(built)
    note_page = next((i for i, p in enumerate(pages)
                      if _starts_note(p, number, top)), None)
    assert note_page == call_page, (label, call_page + 1, note_page and note_page + 1)


def _starts_note(page, number, top: float) -> bool:
    """The page has a 9 pt word `number` at the left edge of the note lines (a note's number);
    the running head and folio, also 9 pt, stand above the text block's `top` (a verso's folio
    at the left edge is no note number)."""
    notes = [w for w in page["words"] if abs(w["size"] - 9) < 0.3 and w["top"] >= top - 0.5]
    if not notes:
        return False
    left = min(w["x0"] for w in notes)
    return any(w["text"] == str(number) and w["x0"] - left < 1 for w in notes)


def _note_on_page(built, number, page) -> bool:
    return _starts_note(built["pages"][page - 1], number, _text_block(built)[0]) if page else False


TABLES = ("grid-table", "pipe-table", "simple-table", "multiline-table", "tall-table", "hyphen-table")


def _interleaved(wanted: str, drawn: str, room: int) -> bool:
    """`wanted` is drawn in order within `room` letters of `drawn`, other letters between: a
    table's row read off the page line by line interleaves the lines of its cells (a cell
    that wraps, a word hyphenated in it), while each cell's letters keep their order."""
    start = drawn.find(wanted[:2])
    while start >= 0:
        k = 0
        for ch in drawn[start:start + room]:
            if ch == wanted[k]:
                k += 1
                if k == len(wanted):
                    return True
        start = drawn.find(wanted[:2], start + 1)
    return False


@pytest.mark.parametrize("kind", KINDS)
def test_the_notes_text_is_all_there(built, kind):
    top, _ = _text_block(built)
    drawn = letters("".join(w["text"] for p in built["pages"] for w in p["words"]
                            if abs(w["size"] - 9) < 0.3 and w["top"] >= top - 0.5))      # not the running heads
    for where in WHERE:
        note = built["notes"][f"{kind}-{where}"]
        expected = letters(re.sub(r"\$\$.*?\$\$", "", note))
        assert expected[:40] in drawn, (kind, where)
        if kind in TABLES:          # the note ends with a table's last row (its cells side by side)
            assert _interleaved(expected[-40:], drawn, 10 * 40), (kind, where, expected[-40:])
        else:
            assert expected[-40:] in drawn, (kind, where)


@pytest.mark.parametrize("where", WHERE)
def test_a_cut_tables_footer_row_keeps_its_columns(built, where):
    """Issue 16.3: the grid table with a footer row (in the multiline-table note) keeps its
    columns: the footer's first and last cells stand where the body rows' cells do."""
    number = str(built["order"].index(f"multiline-table-{where}") + 1)
    pages = built["pages"]
    for page in pages:
        notes = [w for w in page["words"] if abs(w["size"] - 9) < 0.3]
        total = [w for w in notes if w["text"] == "Totalrow"]
        if not total:
            continue
        # the body rows of the footer's table: lines above it ending in a tariff (1xx)
        rows = {}
        for w in notes:
            if w["top"] < total[0]["top"] - 1:
                rows.setdefault(round(w["top"]), []).append(w)
        tariffs = [sorted(r, key=lambda w: w["x0"]) for r in rows.values()
                   if sorted(r, key=lambda w: w["x0"])[-1]["text"].isdigit()
                   and 100 <= int(sorted(r, key=lambda w: w["x0"])[-1]["text"]) < 200]
        if not tariffs:
            continue
        last = tariffs[-1]
        sums = next(w for w in notes if w["text"] == "Sumtariff")
        found = [abs(total[0]["x0"] - last[0]["x0"]) < 1, abs(sums["x0"] - last[-1]["x0"]) < 1]
        if all(found):
            break
    else:
        pytest.fail(f"note {number}: no footer row standing in its table's columns")
