"""Session 14 (small14): findings that say what the line holds and what to do."""

from __future__ import annotations

import json
import subprocess

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

