"""The book's look, built for real: its own stylesheet, its own font files under a family no
system has, its text size; checked on the PDF, the print file and the EPUB; and every bad
input (a font that is not a font, a missing stylesheet, an unknown family...) refused in one line."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pdfplumber
import pikepdf
import pytest
from fontTools.ttLib import TTFont

from conftest import run_cli, write_book

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
FAMILY = "Proof Serif"          # DejaVu Serif renamed: only the book's fonts/ can supply it

TEXT = """\
# Chapter One

Some *italic words*, **bold words** and [a stamped phrase]{.stamp} in the first paragraph of the book, which
runs on long enough to be a paragraph of body text set in the book's own face and size.

Ж is a letter this text never uses again; the EPUB's fonts must not carry it... except here.
"""

META = """\
title: Look Book
author: A. Designer
lang: en
identifier: urn:uuid:00000000-0000-4000-8000-0000000000cc
date: 2021-01-01
mainfont: Proof Serif
css: house.css
fontsize: 12pt
"""

CSS = "h1 { color: #800000; }\n.stamp { color: #008000; }\n"


def renamed_font(source: Path, target: Path, family: str) -> None:
    """A real font file whose family is `family` (name IDs 1, 4, 6 and 16 rewritten)."""
    font = TTFont(str(source))
    names = font["name"]
    style = names.getDebugName(2) or "Regular"
    for record in list(names.names):
        if record.nameID in (1, 16):
            record.string = family
        elif record.nameID == 4:
            record.string = f"{family} {style}"
        elif record.nameID == 6:
            record.string = f"{family.replace(' ', '')}-{style.replace(' ', '')}"
    font.save(str(target))


_FONTS: dict[str, bytes] = {}       # the fonts/ folder as look_book first made it: relative path -> bytes


def look_book(folder: Path, meta: str = META, text: str = TEXT) -> Path:
    book = write_book(folder, text, meta)
    (book / "house.css").write_text(CSS, encoding="utf-8")
    fonts = book / "fonts"
    if _FONTS:          # the same files again (made with fontTools, two seconds a book, the WOFF2 most)
        for name, data in _FONTS.items():
            (fonts / name).parent.mkdir(parents=True, exist_ok=True)
            (fonts / name).write_bytes(data)
        return book
    fonts.mkdir()
    for name in ("DejaVuSerif.ttf", "DejaVuSerif-Italic.ttf"):
        renamed_font(DEJAVU / name, fonts / name.replace("DejaVuSerif", "ProofSerif"), FAMILY)
    bold = TTFont(str(DEJAVU / "DejaVuSerif-Bold.ttf"))      # the bold as WOFF2, in a folder of its own
    bold.flavor = "woff2"
    (fonts / "web").mkdir()
    bold.save(str(fonts / "web" / "bold.woff2"))
    renamed_font(fonts / "web" / "bold.woff2", fonts / "web" / "bold.woff2", FAMILY)
    (fonts / "LICENSE.txt").write_text("DejaVu fonts licence (not a font: left alone)\n")
    _FONTS.update({str(f.relative_to(fonts)): f.read_bytes() for f in sorted(fonts.rglob("*")) if f.is_file()})
    return book


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("look")
    book = look_book(base / "book")
    out = base / "out"
    result = run_cli("--book", book, "--out", out, "--no-cache")
    assert result.code == 0, result.err
    return book, out


def font_names(pdf_path: Path) -> set[str]:
    names = set()
    with pikepdf.open(pdf_path) as pdf:
        for page in pdf.pages:
            for font in page.Resources.get("/Font", {}).values():
                descriptor = (font.DescendantFonts[0] if "/DescendantFonts" in font else font).FontDescriptor
                names.add(str(descriptor.FontName))
    return names


def test_pdf_and_print_embed_the_books_own_face(built):
    _, out = built
    for name in ("look-book.pdf", "look-book-print.pdf"):
        names = font_names(out / name)
        assert any("Proof-Serif" in n for n in names), names
        assert any("Proof-Serif-Bold" in n for n in names), names         # from the WOFF2 file
        assert not any("Libertine" in n for n in names), names


def test_print_embeds_the_face_whole(built):
    _, out = built
    whole = (DEJAVU / "DejaVuSerif.ttf").stat().st_size
    with pikepdf.open(out / "look-book-print.pdf") as pdf:
        sizes = [len(f.DescendantFonts[0].FontDescriptor.FontFile2.read_bytes())
                 for p in pdf.pages for f in p.Resources.get("/Font", {}).values()
                 if "Proof-Serif" in str(f.get("/BaseFont")) and "Italic" not in str(f.get("/BaseFont"))]
    assert sizes and max(sizes) > whole * 0.9          # the whole font, not a subset


def chars(pdf_path: Path):
    with pdfplumber.open(pdf_path) as pdf:
        return [c for page in pdf.pages for c in page.chars]


def test_the_books_stylesheet_and_size_take_effect(built):
    _, out = built
    found = chars(out / "look-book.pdf")
    # Set whole (total-fit), the spaces within a line are no-break spaces: one character each, as before.
    text = "".join(c["text"] for c in found).replace("\u00a0", " ")
    heading = [c for c in found if 17.5 < c["size"] < 18.5]            # the chapter's h1 (18 pt)
    assert "".join(c["text"] for c in heading).strip() == "Chapter One"
    assert all(tuple(round(v, 2) for v in c["non_stroking_color"]) == (0.5, 0.0, 0.0) for c in heading
               if c["text"].strip())
    start = text.index("a stamped phrase")
    stamp = found[start:start + len("a stamped phrase")]
    assert all(tuple(round(v, 2) for v in c["non_stroking_color"]) == (0.0, 0.5, 0.0) for c in stamp)
    body = found[text.index("Some "):text.index("Some ") + 4]
    assert {round(c["size"], 1) for c in body} == {12.0}             # fontsize: 12pt (the house's is 11)
    assert all("Proof-Serif" in c["fontname"] for c in body)


def test_the_colophon_names_the_face(built):
    _, out = built
    with pdfplumber.open(out / "look-book.pdf") as pdf:
        text = " ".join(page.extract_text() or "" for page in pdf.pages)
    assert "Set in Proof Serif." in text and "Libertine" not in text
    with zipfile.ZipFile(out / "look-book.epub") as epub:
        copyright = epub.read("EPUB/text/copyright.xhtml").decode()
    assert "Set in Proof Serif." in copyright and "Libertine" not in copyright


def test_the_epub_embeds_the_used_styles_subset(built):
    book, out = built
    with zipfile.ZipFile(out / "look-book.epub") as epub:
        fonts = {n: epub.read(n) for n in epub.namelist() if n.startswith("EPUB/fonts/")}
        css = epub.read("EPUB/css/fonts.css").decode()
        page = epub.read("EPUB/text/chapter-001.xhtml").decode() if "EPUB/text/chapter-001.xhtml" in epub.namelist() \
            else next(epub.read(n).decode() for n in epub.namelist() if n.startswith("EPUB/text/") and "stamped" in epub.read(n).decode())
        own_css = epub.read("EPUB/css/book-1.css").decode()
    assert sorted(fonts) == ["EPUB/fonts/proofserif-400-italic.ttf", "EPUB/fonts/proofserif-400.ttf",
                             "EPUB/fonts/proofserif-700.ttf"]          # the WOFF2 bold, as TrueType
    assert not any("Libertine" in n or "libertine" in n for n in fonts)
    assert '"Proof Serif"' in css and "../fonts/proofserif-400.ttf" in css
    assert own_css == CSS and 'href="../css/book-1.css"' in page and 'href="../css/fonts.css"' in page
    original = TTFont(str(DEJAVU / "DejaVuSerif.ttf"))
    for name, data in fonts.items():
        sub = TTFont(io.BytesIO(data))
        assert sub["name"].getDebugName(1) == FAMILY
        assert len(sub.getGlyphOrder()) < len(original.getGlyphOrder()) / 5, name     # a subset
        cmap = sub.getBestCmap()
        assert ord("s") in cmap and ord("Ж") in cmap and ord("Щ") not in cmap       # the book's characters only


# --- bad input: one line, exit 3, nothing written ---------------------------------------------------------

def refused(book: Path, out: Path) -> str:
    result = run_cli("--book", book, "--out", out, "--no-cache", "--edition", "pdf")
    assert result.code == 3, (result.code, result.err)
    assert not out.exists() or not any(out.glob("*.pdf")), "a refused build wrote output"
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, result.err
    return lines[0]


def test_a_font_file_that_is_not_a_font(tmp_path):
    book = look_book(tmp_path / "book")
    (book / "fonts" / "Broken.otf").write_bytes(b"this is not a font at all\n" * 20)
    line = refused(book, tmp_path / "out")
    assert "Broken.otf" in line and "not a font" in line


def test_a_missing_stylesheet(tmp_path):
    book = look_book(tmp_path / "book", META.replace("css: house.css", "css: [house.css, gone.css]"))
    line = refused(book, tmp_path / "out")
    assert "book.yaml:7" in line and "gone.css" in line and "does not exist" in line


def test_an_unknown_family_lists_the_available_ones(tmp_path):
    book = look_book(tmp_path / "book", META.replace("mainfont: Proof Serif", "mainfont: Nonesuch Antiqua"))
    line = refused(book, tmp_path / "out")
    assert "book.yaml:6" in line and "Nonesuch Antiqua" in line
    for family in ("EB Garamond", "Linux Libertine", "Noto Serif", FAMILY):
        assert family in line


@pytest.mark.parametrize("meta, words", [
    ("fontsize: 40pt", ("fontsize", "8-16pt")),
    ("fontsize: large", ("fontsize", "not a size")),
    ("linestretch: 5", ("linestretch", "0.8-2.5")),
])
def test_size_and_leading_are_bounded(tmp_path, meta, words):
    book = look_book(tmp_path / "book", META.replace("fontsize: 12pt", meta))
    line = refused(book, tmp_path / "out")
    assert "book.yaml:8" in line and all(w in line for w in words)


def test_a_stylesheet_that_loads_a_file_is_refused(tmp_path):
    book = look_book(tmp_path / "book")
    (book / "house.css").write_text("h1 { color: red; }\nbody {\n  background: url(../../etc/passwd);\n}\n")
    line = refused(book, tmp_path / "out")
    assert "house.css:3:15" in line and "url()" in line


def test_bundled_faces_by_name(tmp_path):
    """`mainfont: eb garamond` sets the text in a bundled face, `sansfont: Noto Serif` the headings;
    the colophon names the main face."""
    meta = (META.replace("mainfont: Proof Serif", "mainfont: eb garamond\nsansfont: Noto Serif")
            .replace("css: house.css", "css: print.css\nepub-css: reader.css").replace("fontsize: 12pt", "linestretch: 1.5"))
    book = write_book(tmp_path / "book", "# Heading\n\nA *short* text. " + "Words run on and on. " * 40 + "\n", meta)
    (book / "print.css").write_text("p { color: #000080; }\n")
    (book / "reader.css").write_text("p { color: #008080; }\n")
    out = tmp_path / "out"
    result = run_cli("--book", book, "--out", out, "--no-cache", "--edition", "pdf", "--edition", "epub")
    assert result.code == 0, result.err
    assert any("EB-Garamond" in n for n in font_names(out / "look-book.pdf"))
    found = chars(out / "look-book.pdf")
    # Set whole (total-fit), the spaces within a line are no-break spaces: one character each, as before.
    text = "".join(c["text"] for c in found).replace("\u00a0", " ")
    heading = [c for c in found if 17.5 < c["size"] < 18.5]            # the chapter's h1
    assert "".join(c["text"] for c in heading).strip() == "Heading"
    assert all("Noto-Serif" in c["fontname"] for c in heading)
    at = text.index("short")
    assert all("EB-Garamond-Italic" in c["fontname"] for c in found[at:at + 5])
    with pdfplumber.open(out / "look-book.pdf") as pdf:
        assert "Set in EB Garamond." in " ".join(page.extract_text() or "" for page in pdf.pages)
    lines = sorted({round(c["top"], 1) for c in found if c["text"] == "W" and round(c["size"]) == 11})
    assert len(lines) > 3 and {round(b - a, 1) for a, b in zip(lines, lines[1:])} == {21.6}   # 1.5 x 14.4 pt
    assert {c["non_stroking_color"] for c in found if c["text"] == "W"} == {(0, 0, 0.501961)}    # css: print.css
    with zipfile.ZipFile(out / "look-book.epub") as epub:
        names = epub.namelist()
        assert epub.read("EPUB/css/book-1.css") == b"p { color: #008080; }\n"                  # epub-css alone
    assert "EPUB/css/book-2.css" not in names
