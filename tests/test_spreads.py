"""Spreads and the baseline grid on generated books (no corpus text): no word hyphenated
across the foot of a recto (imprint/typeset/engine.py sets such a paragraph again); the
body's lines on a grid of the line height whatever stands between them (styles/book.css:
headings, block quotes, lists and section breaks take whole lines; a note call does not make
its line taller); the note area's last baseline on that grid; and the two pages of every
spread ending on one baseline, body or note, except where a chapter ends
(imprint/typeset/fence/spreads.py runs spreads short together; L226 names what is left)."""

from __future__ import annotations

import functools
import os
import random
import sys
from collections import Counter
from pathlib import Path

import pytest

from conftest import METADATA, ROOT, run_cli, write_book

sys.path.insert(0, str(ROOT / "scripts"))
import typeset_compare  # noqa: E402

LEADING = 14.4
LONG = ("administration understanding considerable international responsibility organisation particularly "
        "development consequently establishment manufacturing independence extraordinary proportionate "
        "circumstances representative agricultural communication significantly transportation "
        "commercial experimental contemporary neighbourhood photographic accommodation").split()
SHORT = "the of and a to in is was it for on as with by at from his her they we an be or this which".split()


def paragraph(rng: random.Random) -> str:
    words = [rng.choice(LONG) if rng.random() < 0.45 else rng.choice(SHORT) for _ in range(rng.randint(40, 90))]
    return (words[0].capitalize() + " " + " ".join(words[1:]) + ".")


def built_pages(root: Path, text: str) -> tuple[list[str], str]:
    """A generated book built (PDF, no cache) in `root`: its pages' text (pdftotext -layout)
    and what the build printed."""
    import subprocess
    book = write_book(root / "book", text, METADATA)
    result = run_cli("--book", book, "--out", root / "out", "--no-cache", "--edition", "pdf")
    assert result.code == 0, result.err
    pdf = next((root / "out").glob("*.pdf"))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f"), result.err


def manuscript(seed: int, furniture: bool) -> str:
    rng = random.Random(seed)
    parts = ["# Generated\n"]
    for n in range(1, 5 if furniture else 2):
        if furniture:
            parts.append(f"## Section {n}\n")
        for k in range(9 if furniture else 40):
            parts.append(paragraph(rng) + (f"[^{n}]" if furniture and k == 1 else ""))
            if furniture and k == 2:
                parts.append("> " + paragraph(rng) + "\n>\n> " + paragraph(rng))
            if furniture and k == 4:
                parts.append("\n".join("- " + " ".join(rng.choice(SHORT + LONG) for _ in range(rng.randint(4, 14)))
                                       for _ in range(3)))
            if furniture and k == 6:
                parts.append("* * *")
    if furniture:       # a note call in each section: its line is no taller than the others
        parts += [f"[^{n}]: " + paragraph(rng) for n in range(1, 5)]
    return "\n\n".join(parts) + "\n"


def headed(seed: int) -> str:
    """Short sections (a heading every two to four paragraphs, so headings fall near page feet
    and are kept with their text) and notes of one to four lines on some pages only (a spread
    with notes on one side). A note too tall for what is left of its call's page takes the
    call's line and the rest of the page with it (footnote-policy: line): a page many lines
    short, which no spread runs short to match (L226); not made here."""
    rng = random.Random(seed)
    parts, notes, n = ["# Generated\n"], [], 0
    for section in range(1, 19):
        parts.append(f"## Part {section}\n")
        for _ in range(rng.randint(2, 4)):
            text = paragraph(rng)
            if rng.random() < 0.2:
                n += 1
                text += f"[^{n}]"
                words = [rng.choice(SHORT + LONG) for _ in range(rng.randint(12, 40))]
                notes.append(f"[^{n}]: " + words[0].capitalize() + " " + " ".join(words[1:]) + ".")
            parts.append(text)
    return "\n\n".join(parts + notes) + "\n"


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    out = {}
    for name, text in (("plain", manuscript(7, False)), ("furnished", manuscript(7, True)), ("headed", headed(3))):
        root = tmp_path_factory.mktemp(name)
        book = write_book(root / "book", text, METADATA)
        result = run_cli("--book", book, "--out", root / "out", "--no-cache", "--edition", "pdf")
        assert result.code == 0, result.err
        out[name] = next((root / "out").glob("*.pdf"))
        out[name + " findings"] = result.err
    return out


@functools.lru_cache(maxsize=8)
def _read_lines(path: str, stamp) -> list:
    return typeset_compare._lines(path)


def pdf_lines(pdf) -> list:
    """typeset_compare._lines(pdf), read once for a file as it stands (the same file, unchanged
    since, is not parsed again); callers only read what it returns."""
    st = os.stat(pdf)
    return _read_lines(str(pdf), (st.st_ino, st.st_size, st.st_mtime_ns))


def body_lines(pdf):
    """page -> [(baseline, text)] of the 11 pt lines of the main text."""
    pages: dict = {}
    for n, kind, chars, y in pdf_lines(pdf):
        if kind == "body":
            pages.setdefault(n, []).append((max(c["bottom"] for c in chars), "".join(c["text"] for c in chars)))
    return pages


def test_no_word_is_hyphenated_across_the_foot_of_a_recto(books):
    pages = body_lines(books["plain"])
    rectos = [n for n in pages if n % 2 == 1 and len(pages[n]) > 20]
    assert len(rectos) >= 5
    hyphenated = sum(text[-1:] in typeset_compare.HYPHENS for lines in pages.values() for _, text in lines)
    total = sum(len(lines) for lines in pages.values())
    assert hyphenated / total > 0.1       # hyphens are common here: one at a recto's foot would be likely
    for n in rectos:
        foot = pages[n][-1][1]
        assert foot[-1:] not in typeset_compare.HYPHENS, (n, foot)


def test_body_lines_stand_on_the_grid_of_the_line_height(books):
    pages = body_lines(books["furnished"])
    firsts = Counter(round(lines[0][0], 1) for n, lines in pages.items() if len(lines) > 20)
    top = firsts.most_common(1)[0][0]       # the first baseline of a full page
    checked = 0
    for n, lines in pages.items():
        if len(lines) < 20:
            continue        # the opening page: its title sinks the text
        for baseline, text in lines:
            if text.startswith("Section"):
                continue    # a heading stands between grid lines; what follows it is back on the grid
            off = (baseline - top) % LEADING
            assert min(off, LEADING - off) < 0.6, (n, baseline, text[:40])
            checked += 1
    assert checked > 100


def test_the_furnished_book_has_what_the_grid_test_needs(books):
    import pdfplumber
    with pdfplumber.open(str(books["furnished"])) as pdf:
        sizes = Counter(round(c["size"]) for page in pdf.pages for c in page.chars)
    assert sizes[10] > 100          # block quotes (10 pt) were set between the body's lines
    assert sizes[9] > 100           # and notes (9 pt), their calls in the body's lines


def baselines(pdf, kind):
    """page -> baselines (from the text matrix) of the body's 11 pt lines or the notes' 9 pt lines."""
    pages: dict = {}
    for n, k, chars, y in pdf_lines(pdf):
        if k == kind:
            pages.setdefault(n, []).append(typeset_compare._baseline(chars))
    return pages


@pytest.mark.parametrize("name", ["plain", "furnished"])
def test_every_spread_ends_on_one_baseline(books, name):
    """Widows and orphans kept (plain); headings, block quotes, lists, section breaks and notes
    on one page of a spread (furnished): every spread ends on one baseline."""
    spreads = typeset_compare.feet(books[name])
    measured = [(v, r, apart) for v, r, apart, end in spreads if not end]
    assert len(measured) >= 4, spreads
    uneven = [(v, r, round(apart, 1)) for v, r, apart in measured if apart > 1.0]
    assert not uneven, uneven
    assert "L226" not in books[name + " findings"]


def test_a_spread_left_uneven_is_named_with_its_page(books):
    """Headings every few paragraphs, so one often falls near a page's foot and moves over with
    its text: a page four or more lines short, which no facing page runs short to match (at most
    MAX_SHORT_LINES), or a spread no shortening evens. Most spreads still end on one baseline,
    and every one that does not is a finding L226 on its verso."""
    import re

    measured = [(v, apart) for v, r, apart, end in typeset_compare.feet(books["headed"]) if not end]
    uneven = {v for v, apart in measured if apart > 1.0}
    named = {int(n) for n in re.findall(r"\(page (\d+), pdf\): warning: L226", books["headed findings"])}
    assert len(measured) >= 6
    assert uneven == named, (uneven, named)
    assert len(uneven) <= len(measured) // 4, measured
    # each says what went on to the next page from the page that runs short
    reasons = re.findall(r"L226 .*? runs short: (.*)", books["headed findings"])
    assert len(reasons) == len(named)
    for reason in reasons:
        assert re.match(r"(a heading kept with its text|a widow kept|the opening lines of a|note \d+ \(\d+ pt\) and its "
                        r"call's line|less than a line apart|a table)", reason), reason


def test_the_note_area_ends_on_the_last_baseline_of_a_full_page(books):
    checked = 0
    for name in ("furnished", "headed"):
        pages, notes = baselines(books[name], "body"), baselines(books[name], "note")
        full = max(b for lines in pages.values() for b in lines)
        for n, found in notes.items():
            if len(pages.get(n, ())) < 10:
                continue        # the copyright page and the contents, set in the notes' size
            off = (full - max(found)) % LEADING      # a page run short ends whole lines higher
            assert min(off, LEADING - off) < 0.5, (name, n, full, max(notes[n]))
            checked += 1
    assert checked >= 4


def test_block_quotes_are_broken_whole_like_the_running_text(books):
    """The furnished book's block quotes (10 pt, a narrower measure, full of long words) are
    planned with the running text: without it they were set line by line and ran three
    hyphenated lines in a row four times (L212)."""
    assert "L212" not in books["furnished findings"], books["furnished findings"]
    assert "L221" not in books["furnished findings"]
    lines = ["".join(c["text"] for c in chars) for n, kind, chars, y in pdf_lines(books["furnished"])
             if kind == "body"]     # the running text's lines, quotes among them (notes are another run)
    ends = [text[-1:] in typeset_compare.HYPHENS for text in lines]
    assert not any(all(ends[i:i + 3]) for i in range(len(ends) - 2))


def test_a_note_carried_over_with_its_line_leaves_the_page_its_foot():
    """A note call on a page's last line whose note does not fit there goes on with its line
    (footnote-policy: line). WeasyPrint then kept the emptied footnote area's padding off the
    page's foot; when that padding is taller than a line (as the book's is), the lines of the
    paragraph above no longer fit and the whole paragraph went to the next page, leaving the
    page nearly white (Mutual Aid p. 260, L225). Laid out here with the layout patches the
    engine uses (imprint/typeset/fence/spreads.py, notemoves.py), on a page of 15 lines."""
    from weasyprint import HTML

    from imprint.typeset.fence import spreads
    from imprint.typeset.fence.notemoves import notes_stay_with_calls

    greek = "alpha beta gamma delta epsilon zeta eta theta iota kappa".split()

    def words(n):
        return " ".join(greek[i % len(greek)] for i in range(n))

    css = """@page { size: 300px 300px; margin: 0; line-height: 20px;
               @footnote { padding-bottom: 25px; max-height: 100% } }
             html { font-size: 12px; line-height: 20px; font-family: serif }
             p { margin: 0; orphans: 2; widows: 2 }
             .fn { float: footnote; footnote-policy: line }"""

    def texts(box, out):
        if type(box).__name__ == "TextBox":
            out.append(box.text)
        for child in getattr(box, "children", ()):
            texts(child, out)
        return out

    short = {}
    with notes_stay_with_calls(), spreads.balanced():
        for n in range(64, 96):     # the call's line moves down the page, one word at a time
            body = f"<p>{words(30)}</p><p>{words(n)}<span class=fn>{words(40)}</span> {words(80)}</p>"
            doc = HTML(string=f"<html><style>{css}</style><body>{body}</body></html>").render()
            on_page1 = len(" ".join(texts(doc.pages[0]._page_box.children[0], [])).split())
            if on_page1 < 30 + n:   # the call's line went on to the next page (or its note did)
                short[n] = on_page1
    assert len(short) >= 3, short   # the case looked for happened
    # the first paragraph takes four lines of fifteen: the second one starts under it, always
    assert all(count >= 30 + 2 * 6 for count in short.values()), short
