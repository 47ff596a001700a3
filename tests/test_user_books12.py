"""Books a new user (a small press, a poet, a baker) writes on day one, built for real: what they
met that the house books never had (a stylesheet with an @page rule, two stanzas in two line
blocks, a scene break at a page's foot, a picture with no caption, an index sub-entry with an
apostrophe)."""

from __future__ import annotations

import zipfile

import pdfplumber
import pytest

from conftest import run_cli, write_book

META = """\
title: Quiet Rooms
author: Sol Marren
lang: en
identifier: urn:uuid:00000000-0000-4000-8000-0000000012a1
date: 2026-03-14
"""


def _epub(out) -> dict[str, str]:
    with zipfile.ZipFile(next(out.glob("*.epub"))) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist() if n.endswith((".xhtml", ".css"))}


@pytest.mark.parametrize("rule", ["@page { margin: 2em; }", "@media print { h1 { color: #335; } }"])
def test_a_book_stylesheet_with_an_at_rule_is_read(tmp_path, rule):
    # Any at-rule in a book's stylesheet (an @page a user copies from a CSS book) used to stop
    # the build with an internal error (tinycss2's AtRule has no lower_name).
    book = write_book(tmp_path / "book", "# One\n\nA room.\n", META + "css: own.css\n")
    (book / "own.css").write_text(f"h1 {{ letter-spacing: 0.05em; }}\n{rule}\n", encoding="utf-8")
    result = run_cli("check", book)
    assert result.code == 0, result.err
    assert "internal error" not in result.err


def test_a_book_stylesheet_with_font_face_is_refused_at_its_line(tmp_path):
    book = write_book(tmp_path / "book", "# One\n\nA room.\n", META + "css: own.css\n")
    (book / "own.css").write_text("h1 { color: #335; }\n\n@font-face { font-family: X; }\n", encoding="utf-8")
    result = run_cli("check", book)
    assert result.code == 3, result.err
    assert "own.css:3:1" in result.err and "@font-face" in result.err


VERSE_META = """\
title: The Keeper's Daughter
author: Patrick O'Brian
lang: en
identifier: urn:uuid:00000000-0000-4000-8000-0000000012a2
date: 2026-03-14
toc-title: What's Inside
"""

WORDS = ("the tide went out past the jetty and the boats lay down on their sides in the mud "
         "while the gulls counted whatever the water had left behind on the shingle").split()


def _scenes() -> str:
    # paragraphs of 1 to 7 lines between scene breaks, so that some break falls near a page's foot
    out = []
    for i in range(36):
        n = 12 + (i * 37) % 80
        out.append(" ".join(WORDS[(i + k) % len(WORDS)] for k in range(n)).capitalize() + ".")
        out.append("* * *")
    return "\n\n".join(out[:-1]) + "\n"


VERSE = """\
# Low Water

| The harbour empties like a lung,
| the boats lie down on their sides.

| Someone has left the lamp on
| in the last house on the quay.

![](wide.png)

Under the picture, a paragraph.

# Scenes

""" + _scenes()


@pytest.fixture(scope="module")
def verse(tmp_path_factory):
    from PIL import Image

    root = tmp_path_factory.mktemp("verse")
    book = write_book(root / "book", VERSE, VERSE_META, name="01.md")
    Image.new("RGB", (1800, 500), (120, 90, 60)).save(book / "wide.png")
    out = root / "out"
    result = run_cli("--book", book, "--out", out, "--no-cache", "--edition", "pdf", "--edition", "epub")
    assert result.code == 0, result.err
    with pdfplumber.open(out / "the-keeper-s-daughter.pdf") as doc:
        pages = [(p.width, p.height, p.extract_words(), list(p.images)) for p in doc.pages]
    return result, out, pages


def _lines(words):
    """The page's lines, top to bottom: (top, x0, text)."""
    rows: dict[int, list] = {}
    for w in words:
        rows.setdefault(round(w["top"]), []).append(w)
    return [(top, min(w["x0"] for w in ws), " ".join(w["text"] for w in sorted(ws, key=lambda w: w["x0"])))
            for top, ws in sorted(rows.items())]


def test_metadata_texts_take_typographic_quotes(verse):
    # "The Keeper's Daughter" printed with a straight apostrophe on the title pages, the running
    # heads and the EPUB, while the text beside it had pandoc's ’; the file's name is unchanged
    result, out, pages = verse
    text = " ".join(w["text"] for _, _, words, _ in pages for w in words)
    assert "Keeper’s" in text and "O’Brian" in text and "What’s" in text
    assert "Keeper's" not in text and "O'Brian" not in text and "What's" not in text
    docs = _epub(out)
    assert "What’s Inside" in docs["EPUB/nav.xhtml"]
    with zipfile.ZipFile(out / "the-keeper-s-daughter.epub") as z:
        opf = z.read("EPUB/content.opf").decode("utf-8")
    assert "The Keeper’s Daughter</dc:title>" in opf and "O’Brian" in opf


def test_typographic_quotes_follow_the_language():
    from imprint.manuscript.languages import typographic_quotes as typo
    assert typo('Das "Haus" am See', "de") == "Das „Haus“ am See"
    assert typo("L'heure \"bleue\"", "fr") == "L’heure «\u202fbleue\u202f»"
    assert typo("'Quoted' and Keeper's", "en") == "‘Quoted’ and Keeper’s"


def test_two_line_blocks_are_two_stanzas(verse):
    # two `|` blocks in a row ran on as one stanza (no line-block style at all)
    _, _, pages = verse
    for _, _, words, _ in pages:
        lines = _lines(words)
        texts = [t for _, _, t in lines]
        if "the boats lie down on their sides." in texts:
            i = texts.index("the boats lie down on their sides.")
            lead = lines[i][0] - lines[i - 1][0]
            gap = lines[i + 1][0] - lines[i][0]
            assert texts[i + 1].startswith("Someone has left")
            assert gap > 1.8 * lead, (lead, gap)
            return
    pytest.fail("verse not found")


def test_a_picture_alone_in_its_paragraph_stays_inside_the_measure(verse):
    # `![](wide.png)` is a paragraph, not a figure: it took the paragraph indent and ran past the
    # right margin by it (L206 "overfull by 13.2 pt")
    result, _, pages = verse
    assert "L206" not in result.err
    # the measure: the widest justified line of the scenes
    measure = max(max(w["x1"] for w in ws if w["top"] > 60) - min(w["x0"] for w in ws if w["top"] > 60)
                  for _, _, ws, _ in pages if len(ws) > 60)
    for _, _, words, images in pages:
        if images:
            left = min(w["x0"] for w in words if w["top"] > 60)     # the text's left edge, under the head
            img = images[0]
            assert img["x0"] >= left - 0.5 and img["x1"] <= left + measure + 0.5, (img["x0"], img["x1"], left, measure)
            return
    pytest.fail("no picture")


def test_a_scene_break_never_ends_a_page_and_the_next_paragraph_is_flush(verse):
    _, _, pages = verse
    seen = 0
    for number, (_, height, words, _) in enumerate(pages, 1):
        body = [line for line in _lines(words) if 50 < line[0] < height - 40]   # below the head, above the foot
        if not body:
            continue
        assert body[-1][2] != "*", f"page {number} ends with a scene break"
        left = min(x for _, x, _ in body)
        for (_, _, t), nxt in zip(body, body[1:]):
            if t == "*":
                seen += 1
                assert abs(nxt[1] - left) < 0.5, f"page {number}: the paragraph after a scene break is indented"
    assert seen > 10


@pytest.mark.parametrize("yaml_text, where, words", [
    # an unclosed quote ran to the file's end and was reported there (line 4, after the last line)
    ('title: "Broken\nauthor: X\nlang: en\n', "book.yaml:1:8:", "never closed"),
    ("title: A\nauthor: [X, Y\nlang: en\n", "book.yaml:3:", "starts at line 2"),
])
def test_broken_yaml_is_named_where_the_author_broke_it(tmp_path, yaml_text, where, words):
    book = tmp_path / "book"
    book.mkdir()
    (book / "book.yaml").write_text(yaml_text, encoding="utf-8")
    (book / "01.md").write_text("# A\n\nText.\n", encoding="utf-8")
    result = run_cli("check", book)
    assert result.code == 3
    assert where in result.err and words in result.err, result.err
    assert "Traceback" not in result.err


SLIPS = """\
# One

A pandoc user's page break \\newpage and \\textbf{bold} in TeX, but $\\frac{1}{2}$ and `\\emph` are fine, and so is a C:\\\\Windows path.

A list right under its paragraph:
* flour
* water

A list set apart:

* salt

| Step | Time | Temp |
|---|
| Mix | 10 min | 26 °C |

| Good | Table |
|------|-------|
| a    | b     |
"""


def test_markdown_slips_that_print_as_written_are_named(tmp_path):
    # raw TeX, a list glued to its paragraph and a table whose separator drops columns all
    # printed (or lost) their text with exit 0 and no finding
    book = write_book(tmp_path / "book", SLIPS, META)
    result = run_cli("check", book)
    assert result.code == 0, result.err
    found = [line for line in result.err.splitlines() if " H10" in line]
    assert any("text.md:3:28: warning: H103" in f and "\\newpage" in f for f in found), found
    assert any("text.md:3:41: warning: H103" in f and "\\textbf" in f for f in found), found
    assert not any("frac" in f or "emph" in f or "Windows" in f for f in found), found
    assert [f for f in found if "H104" in f] == [f for f in found if "text.md:6:1: warning: H104" in f and "* flour" in f]
    assert len([f for f in found if "H104" in f]) == 1
    tables = [f for f in found if "H105" in f]
    assert len(tables) == 1 and "text.md:14:1:" in tables[0] and "1 column and its header 3" in tables[0], tables


def test_an_index_entry_written_with_a_straight_apostrophe_files_with_the_text(tmp_path):
    # entry="inventory!printers'" printed "printers'" with a straight quote (the text beside it has
    # pandoc's ’) and filed apart from a mark of the words "printers’ inventory" themselves
    text = ("# One\n\nThe [printers' inventories]{.index entry=\"inventory!printers'\"} survive, and "
            "[\"proofs\"]{.index entry='proofs!\"foul\"'} too; a [printers' inventory]{.index entry=\"inventory!printers’\"} "
            "more.\n")
    book = write_book(tmp_path / "book", text, META)
    out = tmp_path / "out"
    result = run_cli("--book", book, "--out", out, "--edition", "epub")
    assert result.code == 0, result.err
    index = next(v for k, v in _epub(out).items() if k.endswith(".xhtml") and "index-entry" in v)
    assert "printers'" not in index and index.count("printers’") == 1, index
    assert "“foul”" in index


def test_a_picture_taller_than_the_page_is_scaled_to_fit(tmp_path):
    # a 300 × 6000 px strip ran off the page at the measure's width: L201 "line 1: “” runs off the
    # page" and nothing written
    from PIL import Image

    book = write_book(tmp_path / "book", "# One\n\n![A very tall strip](tall.png)\n\nMore.\n", META)
    Image.new("RGB", (300, 6000), (20, 100, 50)).save(book / "tall.png")
    out = tmp_path / "out"
    result = run_cli("--book", book, "--out", out, "--edition", "pdf")
    assert result.code == 0, result.err
    with pdfplumber.open(next(out.glob("*.pdf"))) as doc:
        images = [(p, im) for p in doc.pages for im in p.images]
        assert len(images) == 1
        page, im = images[0]
        assert 0 < im["top"] and im["bottom"] < page.height - 36      # inside the page, above its foot margin
        assert abs((im["x1"] - im["x0"]) * 20 - (im["bottom"] - im["top"])) < 2   # its proportions kept
        assert "A very tall strip" in page.extract_text()               # its caption on the same page


def test_an_image_size_in_pixels_is_honoured_in_print(tmp_path):
    # `{width=24px}` reaches the HTML as width="24" (pandoc), which WeasyPrint does not read: the
    # 64 px icon was drawn at its own 48 pt, a black square in the line, without a word
    from PIL import Image

    book = write_book(tmp_path / "book", "# One\n\nAn icon ![i](icon.png){width=24px} in the line, "
                                         "and a tall one ![t](icon.png){height=48px} too.\n", META)
    Image.new("RGB", (64, 64), (0, 0, 0)).save(book / "icon.png")
    out = tmp_path / "out"
    result = run_cli("--book", book, "--out", out, "--edition", "pdf")
    assert result.code == 0, result.err
    with pdfplumber.open(next(out.glob("*.pdf"))) as doc:
        sizes = sorted((round(im["x1"] - im["x0"], 1), round(im["bottom"] - im["top"], 1))
                       for p in doc.pages for im in p.images)
    assert sizes == [(18.0, 18.0), (36.0, 36.0)], sizes        # 24 px and 48 px at 0.75 pt a px


@pytest.mark.parametrize("form", ["book", "essay"])
def test_deep_headings_are_set_at_the_text_size_on_the_grid(tmp_path, form):
    # `#####` and `######` (and an essay's `####`) had no style: the browser's 9 pt and 7.4 pt
    # type with margins off the 14.4 pt grid
    text = ("# One\n\n## Two\n\n### Three\n\n#### Four\n\nText under four.\n\n##### Five\n\nText under five.\n\n"
            "###### Six\n\nText under six.\n")
    book = write_book(tmp_path / "book", text, META + f"form: {form}\n")
    out = tmp_path / "out"
    result = run_cli("--book", book, "--out", out, "--edition", "pdf")
    assert result.code == 0, result.err
    with pdfplumber.open(next(out.glob("*.pdf"))) as doc:
        words = [w for p in doc.pages for w in p.extract_words(extra_attrs=["size"])]
    tops = {w["text"]: w for w in words if w["text"] in ("Four", "Five", "Six", "under")}
    for name in ("Five", "Six") + (("Four",) if form == "essay" else ()):
        assert round(tops[name]["size"], 1) == 11.0, (name, tops[name]["size"])
    unders = sorted(w["top"] for w in words if w["text"] == "under")
    steps = [round(b - a, 1) for a, b in zip(unders, unders[1:])]
    assert all(round(s / 14.4, 2) == round(s / 14.4) for s in steps), steps   # whole lines apart


def test_a_running_head_that_reads_as_a_roman_numeral_is_a_running_head(tmp_path):
    """An author named "X" (or a title "Vi") is the verso's running head, not a second folio:
    no L216 "text page without a running head" on every verso."""
    import random

    rng = random.Random(7)
    words = "the of and to in a is that for it as was with be by on not this are or from".split()
    text = "# One\n\n" + "\n\n".join(" ".join(rng.choice(words) for _ in range(120)) + "." for _ in range(12))
    book = write_book(tmp_path / "book", text, "title: Vi\nauthor: X\nlang: en\n"
                      "identifier: urn:uuid:00000000-0000-4000-8000-0000000000ab\n")
    run = run_cli("--book", book, "--out", tmp_path / "out", "--no-cache", "--edition", "pdf")
    assert run.code == 0 and "L216" not in run.err, run.err


def test_a_cut_note_table_that_fits_on_its_page_is_joined_whole(tmp_path):
    """A note holding a long table is cut ahead of the layout (longnotes.precut); when all its
    pieces fall on one page they are joined again, and joined again while the saved seams bring
    the next piece up too: one table, its header once, not two tables on one page."""
    rows = "\n".join(f"    | Tool {k} | {k} cm | {k * 0.4:.1f} in | kind {k} |" for k in range(1, 21))
    text = ("# Basics\n\nBefore you begin, gather your tools.[^tools]\n\n1. Weigh everything:\n"
            "   a. flour,\n   b. water,\n   c. salt.\n\n"
            "[^tools]: The full list of tools, with conversions:\n\n"
            "    | Name | Metric | Imperial | Notes |\n    |------|--------|----------|-------|\n" + rows + "\n\n"
            "# Breads\n\n" + "Some words on bread and more of them. " * 40 + "\n")
    book = write_book(tmp_path / "book", text, META)
    run = run_cli("--book", book, "--out", tmp_path / "out", "--no-cache", "--edition", "pdf")
    assert run.code == 0, run.err
    with pdfplumber.open(next((tmp_path / "out").glob("*.pdf"))) as doc:
        page = next(p for p in doc.pages if "full list of tools" in (p.extract_text() or ""))
        text = page.extract_text()
    assert "Tool 20" in text and text.count("Imperial") == 1, text
