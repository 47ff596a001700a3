"""Session 14 (small14): findings that say what the line holds and what to do."""

from __future__ import annotations

import json
import subprocess

import pytest

from conftest import METADATA, run_cli

TITLE_WORD = "Antidisestablishmentarianismantidisesta"     # wider than a 5 x 8 in measure at 18 pt, narrower than the page


def _build(tmp_path, title: str):
    book = tmp_path / "book"
    book.mkdir(parents=True)
    (book / "book.yaml").write_text(METADATA + "trim: 5x8\nmanuscript:\n  - one.md\n", encoding="utf-8")
    (book / "one.md").write_text(f"# {title}\n\nSome words of text under the heading, and more of them.\n",
                                 encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli(book, "--out", out, "--edition", "pdf", "--no-cache")
    assert result.code == 0, result.err
    report = json.loads(next(out.glob("*.report.json")).read_text(encoding="utf-8"))
    return book, out, [f for f in report["findings"] if f["code"] == "L206"], result


def test_overfull_heading_names_its_word_and_the_cure(tmp_path):
    """A chapter title's word wider than the measure (a display title's lines are inline
    blocks: the line held no text of its own) was "a picture or other box with no text", at
    book.yaml. It is the heading's word, at the heading's line, with what to do; and doing it
    (a soft hyphen, `&shy;`) clears the finding."""
    book, _, found, result = _build(tmp_path / "long", f"The {TITLE_WORD} Question")
    assert len(found) == 1, found
    f = found[0]
    assert f"the heading's word “{TITLE_WORD}” is wider than the measure" in f["message"], f
    assert "picture" not in f["message"], f
    assert "soft hyphen" in f["hint"] and "&shy;" in f["hint"] and "shorten the title" in f["hint"], f
    assert (f["file"], f["line"]) == (str(book / "one.md"), 1), f
    assert "one.md:1:" in result.err

    cut = TITLE_WORD[:20] + "&shy;" + TITLE_WORD[20:]
    _, out, found, _ = _build(tmp_path / "cured", f"The {cut} Question")
    assert found == [], found
    text = subprocess.run(["pdftotext", str(next(out.glob("*.pdf"))), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert TITLE_WORD[:20] + "\u2010\n" + TITLE_WORD[20:] in text, text[-400:]


def test_a_heading_word_wider_than_the_page_says_so_too(tmp_path):
    """Wider than the page (L201, an error): the heading's word, with the same cure."""
    word = "Antidisestablishmentarianismantidisestablish"
    book = tmp_path / "book"
    book.mkdir()
    (book / "book.yaml").write_text(METADATA + "trim: 5x8\nmanuscript:\n  - one.md\n", encoding="utf-8")
    (book / "one.md").write_text(f"# The {word} Question\n\nSome words of text under the heading.\n", encoding="utf-8")
    result = run_cli(book, "--out", tmp_path / "out", "--edition", "pdf", "--no-cache")
    assert result.code == 1
    line = next(ln for ln in result.err.splitlines() if " L201 " in ln)
    assert f"the heading's word “{word[:39]}…” runs off the page" in line and "picture" not in line, line
    assert line.startswith(f"{book / 'one.md'}:1:"), line


def _tall_png(width=300, height=520) -> bytes:
    """A grey PNG, taller than wide (as tests/test_long_note_blocks.py draws it)."""
    import struct
    import zlib
    raw = b"".join(b"\x00" + bytes([120 + (y // 40) * 8 % 100]) * width for y in range(height))
    chunk = lambda kind, data: (struct.pack(">I", len(data)) + kind + data
                                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_an_image_in_a_note_is_no_taller_than_half_the_text_block(tmp_path):
    """The page CSS's `.footnote img` limit (half the text block, so a note's picture always
    fits the footnote area with a line) is a user stylesheet to WeasyPrint: book.css's
    `img { max-height: 80vh }` (author) won over it, the picture came out 369 pt tall at
    5 x 8 in, the note's piece filled the page and was drawn over its one line of text
    (N206, L202, L203: tests/test_long_note_blocks.py's image notes)."""
    import pdfplumber

    book = tmp_path / "book"
    book.mkdir()
    (book / "book.yaml").write_text(METADATA + "trim: 5x8\nmanuscript:\n  - one.md\n", encoding="utf-8")
    (book / "tall.png").write_bytes(_tall_png())
    words = "Over river harbour quarry chandler into orchard census from under harbour. " * 3
    (book / "one.md").write_text(
        f"# Image\n\nThe note on image is called here.[^a] {words}\n\n" + "\n\n".join([words * 3] * 8)
        + f"\n\n[^a]: {words}\n\n    ![A tall plate.](tall.png)\n\n    {words * 2}\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli(book, "--out", out, "--edition", "pdf", "--no-cache")
    assert result.code == 0, result.err
    report = json.loads(next(out.glob("*.report.json")).read_text(encoding="utf-8"))
    assert not [f for f in report["findings"] if f["code"] in ("N206", "L202", "L203")], report["findings"]
    text_block = 576 - 50.4 - 57.6          # 5 x 8 in, the kdp margins (render.page_css)
    with pdfplumber.open(next(out.glob("*.pdf"))) as pdf:
        images = [i for page in pdf.pages for i in page.images]
    assert len(images) == 1
    assert images[0]["bottom"] - images[0]["top"] <= text_block / 2 + 0.5, images[0]


def test_a_books_own_stylesheet_sets_its_note_images_limit(tmp_path):
    """The half-text-block limit on a note's picture is the house's default (styles/book.css's
    `.footnote img`, with the page geometry's variable): a book's own `.footnote img` rule wins
    over it. The page CSS's `!important` limit beat it (the picture 234 pt tall, not 72)."""
    import pdfplumber

    book = tmp_path / "book"
    book.mkdir()
    (book / "book.yaml").write_text(METADATA + "trim: 5x8\ncss: own.css\nmanuscript:\n  - one.md\n", encoding="utf-8")
    (book / "own.css").write_text(".footnote img { max-height: 1in; }\n", encoding="utf-8")
    (book / "tall.png").write_bytes(_tall_png())
    words = "Over river harbour quarry chandler into orchard census from under harbour. " * 3
    (book / "one.md").write_text(
        f"# Image\n\nThe note on image is called here.[^a] {words}\n\n" + "\n\n".join([words * 3] * 4)
        + f"\n\n![A tall figure in the text.](tall.png)\n\n[^a]: {words}\n\n    ![A tall plate.](tall.png)\n\n    {words}\n",
        encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli(book, "--out", out, "--edition", "pdf", "--no-cache")
    assert result.code == 0, result.err
    with pdfplumber.open(next(out.glob("*.pdf"))) as pdf:
        heights = sorted(round(i["bottom"] - i["top"], 1) for page in pdf.pages for i in page.images)
    # The note's picture at the book's inch; the one in the text keeps book.css's 80vh (taller
    # than half the text block: the note limit is not everyone's).
    assert len(heights) == 2 and abs(heights[0] - 72) <= 0.5 and heights[1] > (576 - 50.4 - 57.6) / 2, heights


PLANNED = """# One

Some opening words of a paragraph to come before the others, so that the next ones are indented as running text is.

The function `parse_manuscript()` reads the whole book, and `build --out dist` writes it; the reader of this paragraph sees the `code` set in its own face between words of running text that go on for several lines so that justification has work to do on every one of them.

The river ran by the granary and the ledger lay open on the merchant's table,\\
the carriage waited at the door of the foundry while the weaver counted cloth,\\
and the tenant of the meadow paid his tariff at the parish office before noon, as the census of the harbour had required of every household in the county for many years.

A closing paragraph with nothing special in it at all, only words that run on to fill a line or two of the page.
"""


def _lines(pdf_path, page_text: str, code_face: str):
    """The body lines (11 pt) of the page holding `page_text`: [(text, x0, x1, [gaps between words
    whose space is the book face's, pt], {words set in the code's face})], top to bottom."""
    import pdfplumber
    with pdfplumber.open(pdf_path) as pdf:
        page = next(p for p in pdf.pages if page_text in (p.extract_text() or ""))
        words = page.extract_words(extra_attrs=["fontname", "size"])
    rows: list = []                         # words whose feet are within 4 pt: one line (code is 9 pt)
    for w in sorted((w for w in words if w["size"] > 8.5), key=lambda w: w["bottom"]):     # not the running head
        if rows and w["bottom"] - rows[-1][0]["bottom"] < 4:
            rows[-1].append(w)
        else:
            rows.append([w])
    out = []
    for row in rows:
        row.sort(key=lambda w: w["x0"])
        gaps = [b["x0"] - a["x1"] for a, b in zip(row, row[1:])
                if code_face not in a["fontname"] or code_face not in b["fontname"]]     # a space inside code: its face's
        out.append((" ".join(w["text"] for w in row), row[0]["x0"], row[-1]["x1"], [g for g in gaps if g > 0.5],
                    {w["text"] for w in row if code_face in w["fontname"]}))
    return out


@pytest.mark.parametrize("monofont, code_face", [(None, "Mono"), ("EB Garamond", "Garamond")])
def test_paragraphs_with_code_or_line_breaks_are_planned_whole(tmp_path, monofont, code_face):
    """Inline code (measured in its monospace face at 9 pt) and a line break (a forced break, the
    line before it not justified) no longer leave their paragraphs to WeasyPrint (L227, with
    loose lines 2.9x and 2.5x here): both are planned and laid out as planned (no L221), their
    justified lines flush at both edges with spaces between 2/3 and 2x the face's own, the
    lines a break ends set with the face's own spaces, short of the measure. The code's face is
    the book's `monofont` when it names one (html/render.py data-measure-mono)."""
    from imprint.typeset.linebreak import width

    book = tmp_path / "book"
    book.mkdir()
    (book / "book.yaml").write_text(METADATA + "trim: 5x8\nmanuscript:\n  - one.md\n"
                                    + (f"monofont: {monofont}\n" if monofont else ""), encoding="utf-8")
    (book / "one.md").write_text(PLANNED, encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli(book, "--out", out, "--edition", "pdf", "--no-cache", "-v")
    assert result.code == 0, result.err
    codes = [f["code"] for f in json.loads(next(out.glob("*.report.json")).read_text(encoding="utf-8"))["findings"]]
    assert "L227" not in codes and "L221" not in codes and "L215" not in codes, result.err

    lines = _lines(next(out.glob("*.pdf")), "parse_manuscript()", code_face)
    body = [ln for ln in lines if ln[0] != "One"]
    right = max(ln[2] for ln in body)
    space = width(" ", 11.0)
    code = [ln for ln in body if "parse_manuscript()" in ln[0] or "dist" in ln[0]]
    assert len(code) == 2 and {"parse_manuscript()", "build", "dist"} <= code[0][4] | code[1][4], code
    broken = [ln for ln in body if ln[0].endswith(("table,", "cloth,"))]
    assert len(broken) == 2, [ln[0] for ln in body]
    # the paragraphs' other lines but their last: justified
    start = next(i for i, ln in enumerate(body) if ln[0].startswith("The function"))
    ends = [i for i, ln in enumerate(body) if ln[0].endswith(("them.", "years."))]
    justified = [ln for i, ln in enumerate(body) if start <= i < ends[-1] and i not in ends and ln not in broken]
    assert len(justified) >= 6, [ln[0] for ln in body]
    for text, _, x1, gaps, _ in justified:
        assert abs(x1 - right) < 0.6, (text, x1, right)
        assert gaps and all(2 / 3 * space - 0.2 < g < 2 * space for g in gaps), (text, [round(g / space, 2) for g in gaps])
    for text, _, x1, gaps, _ in broken:
        assert x1 < right - 5, (text, x1, right)
        assert all(abs(g - space) < 0.3 for g in gaps), (text, [round(g / space, 2) for g in gaps])
