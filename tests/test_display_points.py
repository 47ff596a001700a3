"""Issue 19.4 and 19.5 on the built essay: the small-caps lead-in and old-style figures drawn
with the face's own glyphs, no line starting with a dash, a short footnote rule, titles in
balanced lines; the EPUB's stylesheet leaving the page to the reader and its fonts cut to the
glyphs and features used. The pure rules (imprint/html/display.py) on made-up text."""

from __future__ import annotations

import io
import re
import subprocess
import zipfile

import pdfplumber
import pytest
import tinycss2
from fontTools.ttLib import TTFont
from lxml import etree

from imprint.house import STYLES
from imprint.html import display
from imprint.manuscript import look as looks

XHTML = "{http://www.w3.org/1999/xhtml}"


@pytest.fixture(scope="module")
def outputs(essay_build, essay_slug):
    return {"pdf": essay_build / f"{essay_slug}.pdf", "print": essay_build / f"{essay_slug}-print.pdf",
            "cover": essay_build / f"{essay_slug}-cover.pdf", "epub": essay_build / f"{essay_slug}.epub"}


def drawn_glyphs(path, page_index):
    """(text, glyph name, x0) of every character drawn on a page, the glyph named from the
    embedded font program (WeasyPrint writes glyph ids as character codes)."""
    from pdfminer.converter import PDFLayoutAnalyzer
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdftypes import resolve1

    seen = []

    class Recorder(PDFLayoutAnalyzer):
        def render_char(self, matrix, font, fontsize, scaling, rise, cid, ncs, graphicstate):
            seen.append((font, cid, matrix[4]))
            return font.char_width(cid) * fontsize * scaling

    rsrc = PDFResourceManager()
    interp = PDFPageInterpreter(rsrc, Recorder(rsrc))
    with open(path, "rb") as f:
        for i, page in enumerate(PDFPage.get_pages(f)):
            if i == page_index:
                interp.process_page(page)
                break
        orders, out = {}, []
        for font, cid, x in seen:
            if id(font) not in orders:
                program = font.descriptor.get("FontFile3") or font.descriptor.get("FontFile2")
                orders[id(font)] = TTFont(io.BytesIO(resolve1(program).get_data())).getGlyphOrder()
            out.append((font.to_unichr(cid), orders[id(font)][cid], x))
    return out


def span(glyphs, text: str, start: int, end: int) -> list:
    """The glyphs drawn for text[start:end] (a ligature's glyph carries two or more characters)."""
    out, at = [], 0
    for g in glyphs:
        if start <= at < end:
            out.append(g)
        at += len(g[0])
    return out


def opening_page(path) -> int:
    with pdfplumber.open(path) as pdf:
        return next(i for i, p in enumerate(pdf.pages) if "revolution of february" in (p.extract_text() or "").lower())


# --- print and PDF ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("edition", ["pdf", "print"])
def test_no_line_starts_with_a_dash(outputs, edition):
    with pdfplumber.open(outputs[edition]) as pdf:
        lines = [line for p in pdf.pages for line in (p.extract_text() or "").splitlines()]
    assert sum("—" in line for line in lines) > 10           # the essay's spaced dashes are drawn
    assert [line for line in lines if line.lstrip().startswith(("—", "–"))] == []


def test_the_lead_in_is_drawn_in_small_capitals(outputs):
    page = opening_page(outputs["pdf"])
    glyphs = drawn_glyphs(outputs["pdf"], page)
    text = "".join(t for t, _, _ in glyphs).replace("\u00a0", " ")
    start = text.lower().index("the russian revolution of february")
    lead = span(glyphs, text, start, start + len("the russian revolution"))
    letters = [(t, g) for t, g, _ in lead if t.strip("\u00a0 ")]
    assert letters and all(g.endswith(".sc") for _, g in letters), letters
    after = [g for t, g, _ in span(glyphs, text, start + len("the russian revolution "), start + len(text))[:8]
             if t.isalpha()]
    assert after and not any(g.endswith(".sc") for g in after)   # "of February": the text's own letters
    with pdfplumber.open(outputs["pdf"]) as pdf:
        first_line = next(line for line in pdf.pages[page].extract_text().splitlines()
                          if line.lower().startswith("the russian revolution of"))
    assert first_line.startswith("the russian revolution of February")   # small capitals of the author's capitals


def test_running_text_has_old_style_figures_and_note_calls_lining(outputs):
    page = opening_page(outputs["pdf"])
    glyphs = drawn_glyphs(outputs["pdf"], page)
    text = "".join(t for t, _, _ in glyphs).replace("\u00a0", " ")
    at = text.index("October 1917")
    digits = [g for _, g, _ in span(glyphs, text, at + len("October "), at + len("October 1917"))]
    assert len(digits) == 4
    assert all("oldstyle" in g for g in digits), digits
    with pdfplumber.open(outputs["pdf"]) as pdf:        # a note call (7.5 pt): lining figures
        for index, p in enumerate(pdf.pages):
            calls = [c for c in p.chars if c["text"].isdigit() and round(c["size"], 1) == 7.5]
            if calls:
                break
    names = {g for t, g, _ in drawn_glyphs(outputs["pdf"], index) if t.isdigit() and "oldstyle" not in g}
    assert calls and names, "no lining digit drawn on the page of the first note call"


def test_the_footnote_rule_is_short(outputs, tmp_path):
    with pdfplumber.open(outputs["pdf"]) as pdf:
        for index, page in enumerate(pdf.pages):
            notes = [c for c in page.chars if round(c["size"], 1) == 9.0 and c["top"] > page.height / 2]
            body = [c for c in page.chars if round(c["size"], 1) == 11.0]
            if notes and body:
                break
        else:
            pytest.fail("no page with a note")
        note_top = min(c["top"] for c in notes)
        left, right = min(c["x0"] for c in body), max(c["x1"] for c in body)
        width_pt = page.width
    dpi = 144
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", str(index + 1), "-l", str(index + 1),
                    str(outputs["pdf"]), str(tmp_path / "page")], check=True)
    from PIL import Image
    image = Image.open(next(tmp_path.glob("page*.png"))).convert("L")
    scale = image.width / width_pt
    # the rule: a solid dark row (not the descenders of the text above) within 20 pt over the first note
    rows = []
    for y in range(int((note_top - 20) * scale), int(note_top * scale)):
        dark = [x for x in range(image.width) if image.getpixel((x, y)) < 128]
        if dark and max(dark) - min(dark) > 10 * scale and len(dark) > 0.95 * (max(dark) - min(dark) + 1):
            rows.append((min(dark) / scale, (max(dark) + 1) / scale))
    assert rows, "no rule above the notes"
    x0, x1 = rows[0]
    measure = right - left
    assert abs(x0 - left) < 2
    assert 0.2 * measure < x1 - x0 < 0.4 * measure, (x1 - x0, measure)


def test_titles_break_by_sense_in_balanced_lines(outputs):
    with pdfplumber.open(outputs["pdf"]) as pdf:
        title_page = next(p for p in pdf.pages[:6] if any(c["size"] > 20 for c in p.chars))
        big = title_page.filter(lambda o: o.get("size", 0) > 20)
        texts = big.extract_text().splitlines()
        widths = [w["x1"] - w["x0"] for w in big.extract_text_lines()]
    assert texts == ["The Russian Revolution", "and Workers Democracy"]
    assert min(widths) / max(widths) > 0.8
    with pdfplumber.open(outputs["cover"]) as pdf:      # the narrow cover: more lines, same sense
        cover = [line.strip() for line in pdf.pages[0].extract_text().splitlines()]
    title = [line for line in cover if line and line in "The Russian Revolution and Workers Democracy"]
    assert " ".join(title) == "The Russian Revolution and Workers Democracy"
    assert not any(line.lower() in display._WEAK for line in title)          # no small word alone
    assert any(line.startswith("and ") for line in title) or len(title) == 1


# --- the EPUB ---------------------------------------------------------------------------------------------

def _declarations(css: str):
    for rule in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True):
        if rule.type != "qualified-rule":
            continue
        selector = tinycss2.serialize(rule.prelude).strip()
        for decl in tinycss2.parse_declaration_list(rule.content, skip_comments=True, skip_whitespace=True):
            if decl.type == "declaration":
                yield selector, decl.lower_name, tinycss2.serialize(decl.value).strip(), decl.important


def test_the_epub_stylesheet_leaves_the_page_to_the_reader(outputs):
    with zipfile.ZipFile(outputs["epub"]) as epub:
        css = epub.read("EPUB/css/epub.css").decode()
        text = epub.read("EPUB/text/text.xhtml").decode()
    decls = list(_declarations(css))
    assert decls and not [d for d in decls if d[3]]                               # no !important
    for selector, name, value, _ in decls:
        for one in selector.split(","):
            one = one.strip()
            if one in ("html", "body", ":root"):       # the page: the reading system's
                assert not name.startswith(("margin", "padding", "line-height", "text-align", "font-size",
                                            "width", "max-width", "columns")), (selector, name, value)
            if one in ("p", "li", "div", "section", "blockquote", "aside.footnote"):
                assert name not in ("line-height", "text-align", "text-align-last"), (selector, name, value)
        if name in ("margin", "padding", "font-size", "width"):
            assert not re.search(r"\d(px|pt|cm|mm|in)\b", value), (selector, name, value)   # relative units
    # headings aligned as in print: the essay's sections at the left, its title centred
    aligned = {s: v for s, n, v, _ in decls if n == "text-align"}
    assert aligned.get("h1, h2, h3, h4") == "left" and aligned.get("h1") == "center"
    assert 'class="essay"' in text and "<h2" in text
    # note calls large enough to tap: padded, not smaller than three quarters of the text
    call = {n: v for s, n, v, _ in decls if s == "a.noteref"}
    assert call.get("padding", "0").split()[-1] not in ("0", "")
    assert float(call["font-size"].rstrip("em")) >= 0.75
    # the display points are in the EPUB's text too
    assert '<span class="lead-in">THE RUSSIAN REVOLUTION</span>' in text
    assert " — " not in text and "\u00a0— " in text


def test_the_epub_fonts_hold_only_the_glyphs_and_features_used(outputs):
    with zipfile.ZipFile(outputs["epub"]) as epub:
        fonts = {n: epub.read(n) for n in epub.namelist() if n.startswith("EPUB/fonts/")}
        css = [epub.read(n) for n in epub.namelist() if n.endswith(".css")]
        text = "".join(etree.fromstring(epub.read(n)).xpath("string()")
                       for n in epub.namelist() if n.endswith(".xhtml"))
    assert fonts and all("libertine-400" in n for n in fonts)            # only the weight the text uses
    allowed = set(looks.css_features(css))
    chars = set(text) | set(looks.SAFE_CHARACTERS)
    for name, data in fonts.items():
        sub = TTFont(io.BytesIO(data))
        source = next(f for f in looks.default().main.files
                      if f.italic == name.endswith("italic.otf") and f.weight == 400)
        whole = TTFont(str(source.path))
        assert set(chr(c) for c in sub.getBestCmap()) <= chars, name
        assert len(sub.getGlyphOrder()) < len(whole.getGlyphOrder()) / 8, name
        features = {r.FeatureTag for r in sub["GSUB"].table.FeatureList.FeatureRecord}
        assert {"smcp", "c2sc", "onum", "liga"} <= features <= allowed, (name, features - allowed)
        glyphs = set(sub.getGlyphOrder())
        assert "r.sc" in glyphs and "one.taboldstyle" in glyphs and "a.ss01" not in glyphs
        # every feature kept would have made it larger (the subset before issue 19.5)
        every, _ = looks.subset(source, "".join(chars - set(looks.SAFE_CHARACTERS)), None)
        assert len(data) < len(every) * 0.9, (name, len(data), len(every))
        assert "Open Font" in sub["name"].getDebugName(0) or sub["name"].getDebugName(13)     # the licence kept


# --- the rules, on made-up text ---------------------------------------------------------------------------

def test_spaced_dashes_get_a_no_break_space_outside_code():
    root = etree.fromstring("<div><p>one — two <em>three</em> – four<code>a — b</code> five — six</p>"
                            "<pre>x — y</pre><p>well—said</p></div>")
    display.spaced_dashes(root)
    p = root[0]
    assert p.text == "one\u00a0— two " and p[0].tail == "\u00a0– four"
    assert p[1].text == "a — b" and p[1].tail == " five\u00a0— six"
    assert root[1].text == "x — y" and root[2].text == "well—said"


@pytest.mark.parametrize("opening, lead", [
    ("IT WAS THE BEST of times", "IT WAS THE BEST"),
    ("“WHEN I was young", "WHEN I"),
    ("NATO, said the paper", "NATO"),
    ("I went out", None),
    ("A dog barked", None),
    ("The capital CITY", None),
])
def test_a_lead_in_only_where_the_text_opens_in_capitals(opening, lead):
    for form, markup in (("essay", f"<div><p>{opening}.</p><p>MORE CAPS here.</p></div>"),
                         ("book", f"<div><section class='level1'><h1>T</h1><p>{opening}.</p></section></div>")):
        root = etree.fromstring(markup)
        spans = display.lead_ins(root, form, str(looks.default().main.files[0].path))
        assert [s.text for s in spans] == ([lead] if lead else [])
        assert all(s.get("class") == "lead-in" for s in spans)
        assert "".join(root.xpath("string(.//p[1])")) == opening + "."           # the text unchanged


def test_a_face_without_small_capitals_keeps_the_capitals(tmp_path):
    plain = tmp_path / "plain.ttf"            # a face with no smcp feature (made here with fontTools)
    from fontTools.fontBuilder import FontBuilder
    fb = FontBuilder(1000, isTTF=True)
    fb.setupGlyphOrder([".notdef", "A"])
    fb.setupCharacterMap({ord("A"): "A"})
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    pen = TTGlyphPen(None)
    pen.moveTo((0, 0)), pen.lineTo((500, 700)), pen.lineTo((500, 0)), pen.closePath()
    fb.setupGlyf({".notdef": pen.glyph(), "A": pen.glyph()})
    fb.setupHorizontalMetrics({".notdef": (500, 0), "A": (500, 0)})
    fb.setupHorizontalHeader()
    fb.setupNameTable({"familyName": "Plain", "styleName": "Regular"})
    fb.setupOS2(), fb.setupPost()
    fb.save(str(plain))
    root = etree.fromstring("<div><p>IT WAS the best.</p></div>")
    (span,) = display.lead_ins(root, "essay", str(plain))
    assert span.get("class") == "lead-in faux" and span.text == "IT WAS"
    assert ".lead-in.faux { text-transform: none" in (STYLES / "book.css").read_text()   # never small letters


@pytest.mark.parametrize("title, lines", [
    ("The Russian Revolution and Workers Democracy", ["The Russian Revolution", "and Workers Democracy"]),
    ("April Theses: “All Power to the Soviets”", ["April Theses:", "“All Power to the Soviets”"]),
    ("A Tale — of Two Cities in the Long Night", ["A Tale —", "of Two Cities in the Long Night"]),
    ("On Liberty", ["On Liberty"]),
])
def test_titles_break_by_sense(title, lines):
    font = str(looks.default().main.files[0].path)
    assert display.title_lines(title, font) == lines
    markup = display.balanced_markup(title, font)
    assert etree.fromstring(f"<p>{markup}</p>").xpath("string()") == title


# --- a book made here: chapters, a list ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_book(tmp_path_factory):
    from conftest import run_cli, write_book
    folder = tmp_path_factory.mktemp("display")
    words = "river stone window morning paper letter garden silver number figure".split()
    prose = " ".join(words[i % len(words)] for i in range(70))
    write_book(folder / "book", f"""\
        # The First Chapter of a Rather Long Book About Things

        IT WAS THE BEST of times, {prose}.

        1. first item
        2. second item

        - one bullet

        {prose}.

        # Second

        Once upon a time, {prose}.
        """, metadata="""\
        title: A Tiny Book
        author: Test Author
        lang: en
        form: book
        identifier: urn:uuid:00000000-0000-4000-8000-000000000003
        date: 2020-01-01
        """)
    out = folder / "out"
    result = run_cli("--book", folder / "book", "--out", out, "--edition", "pdf")
    assert result.code == 0, result.err
    return next(out.glob("*.pdf"))


def test_a_books_chapters_get_lead_ins_balanced_titles_and_spaced_markers(small_book):
    with pdfplumber.open(small_book) as pdf:
        index = next(i for i, p in enumerate(pdf.pages) if "best of times" in (p.extract_text() or ""))
        page = pdf.pages[index]
        title = page.filter(lambda o: o.get("size", 0) > 15).extract_text().splitlines()
        words = page.extract_words()
        second = next(p for p in pdf.pages if "Once upon" in (p.extract_text() or ""))
    assert title == ["The First Chapter", "of a Rather Long Book About Things"]
    assert page.extract_text().count("it was the best of times") == 1       # the lead-in
    glyphs = drawn_glyphs(small_book, index)
    assert sum(g.endswith(".sc") for _, g, _ in glyphs) == len("ITWASTHEBEST")
    assert "Once upon a time" in second.extract_text()                       # no capitals, no lead-in
    for marker, text in (("1.", "first"), ("•", "one")):
        m = next(w for w in words if w["text"] == marker)
        t = next(w for w in words if w["text"] == text and abs(w["top"] - m["top"]) < 2)
        assert 4.5 < t["x0"] - m["x1"] < 7, (marker, t["x0"] - m["x1"])     # an en space (11 pt: 5.5 pt)
