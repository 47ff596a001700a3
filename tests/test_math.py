"""Formulas (`$...$`, `$$...$$`): a real book with inline and display math built into every
edition; the PDFs draw the formulas as vector paths on the text's baseline and never print
their TeX, the EPUB carries MathML with alttext (manifest property `mathml`, EPUBCheck
clean), and a formula that cannot be set stops the build at its file:line:col."""

from __future__ import annotations

import re
import zipfile

import pdfplumber
import pikepdf
import pytest
from lxml import etree

from conftest import run_cli, write_book

MATHML = "http://www.w3.org/1998/Math/MathML"

TEXT = r"""# The Rule of $\alpha$

The fraction $\frac{a+b}{2}$ sits on the line, and so does the variable $n$ alone, the root
$\sqrt{x^2+y^2}$ and the Greek letters $\alpha, \beta, \Omega$ in a sentence long enough to
wrap over more than one line of the page.[^1]

$$
\sum_{i=1}^{n} i = \frac{n(n+1)}{2}
$$

A matrix on its own line:

$$
A = \begin{pmatrix} a & b \\ c & d \end{pmatrix}
$$

Text after the display.

[^1]: A note with math: $e^{i\pi} + 1 = 0$.
"""


@pytest.fixture(scope="module")
def math_book(tmp_path_factory):
    root = tmp_path_factory.mktemp("math")
    book = write_book(root / "book", TEXT)
    before = (book / "text.md").read_bytes()
    out = root / "out"
    result = run_cli("build", "--book", book, "--out", out)
    assert result.code == 0, result.err
    assert (book / "text.md").read_bytes() == before          # the manuscript is never rewritten
    return out


def _pdfs(out):
    return [out / "a-tiny-book.pdf", out / "a-tiny-book-print.pdf"]


def _text_page(pdf):
    return next(p for p in pdf.pages if "fraction" in (p.extract_text() or ""))


def test_no_raw_tex_in_the_pdfs(math_book):
    for path in _pdfs(math_book):
        with pdfplumber.open(path) as pdf:
            text = "\n".join(p.extract_text() or "" for p in pdf.pages)
        assert "fraction" in text
        for raw in ("\\frac", "\\sum", "\\alpha", "$", "\\(", "\\[", "begin{pmatrix"):
            assert raw not in text, (path.name, raw)


def test_formulas_are_vector_paths_not_images(math_book):
    for path in _pdfs(math_book):
        with pikepdf.open(path) as pdf:
            images = [image for page in pdf.pages for image in page.get_images()]
        assert images == [], path.name
        with pdfplumber.open(path) as pdf:
            page = _text_page(pdf)
            assert len(page.curves) > 40      # the glyphs of the formulas, drawn as filled paths
            assert page.images == []


def _baseline(page, word: str) -> tuple[float, float, float]:
    """(x0, x1, baseline from the top) of a word on the page."""
    chars = page.chars
    for i in range(len(chars) - len(word) + 1):
        if "".join(c["text"] for c in chars[i:i + len(word)]) == word:
            first, last = chars[i], chars[i + len(word) - 1]
            return first["x0"], last["x1"], page.height - first["matrix"][5]
    raise AssertionError(f"{word!r} is not on the page")


def _paths_between(page, left: float, right: float, top: float, bottom: float):
    return [c for c in page.curves if c["x0"] >= left - 0.5 and c["x1"] <= right + 0.5
            and c["bottom"] > top and c["top"] < bottom]


def test_inline_math_sits_on_the_baseline(math_book):
    with pdfplumber.open(_pdfs(math_book)[0]) as pdf:
        page = _text_page(pdf)
        _, variable_end, line = _baseline(page, "variable")
        alone, _, same_line = _baseline(page, "alone")
        assert abs(line - same_line) < 0.1
        n = _paths_between(page, variable_end, alone, line - 12, line + 5)
        assert n, "the formula $n$ is not drawn between its words"
        assert abs(max(c["bottom"] for c in n) - line) < 0.6       # n stands on the baseline
        assert 3.5 < max(c["bottom"] for c in n) - min(c["top"] for c in n) < 6.5   # x-height of 11 pt type

        _, fraction_end, line = _baseline(page, "fraction")
        sits, _, _ = _baseline(page, "sits")
        frac = _paths_between(page, fraction_end, sits, line - 14, line + 8)
        assert frac
        assert min(c["top"] for c in frac) < line - 6            # the numerator above the baseline
        assert max(c["bottom"] for c in frac) > line + 1.5       # the denominator below it


def test_display_math_is_centred_on_its_own_line(math_book):
    with pdfplumber.open(_pdfs(math_book)[0]) as pdf:
        page = _text_page(pdf)
        _, _, before = _baseline(page, "page.")
        matrix, _, after = _baseline(page, "matrix")
        display = [c for c in page.curves if before + 4 < c["top"] and c["bottom"] < after - 8]
        assert display, "the display sum is not drawn between its paragraphs"
        left, right = min(c["x0"] for c in display), max(c["x1"] for c in display)
        words = page.extract_words()
        text_left = min(w["x0"] for w in words if before - 40 < w["top"] < before)
        text_right = max(w["x1"] for w in words if before - 40 < w["top"] < before)
        assert abs((left + right) / 2 - (text_left + text_right) / 2) < 3


def test_heading_labels_carry_the_formula_not_its_tex(math_book):
    with pikepdf.open(_pdfs(math_book)[0]) as pdf:
        with pdf.open_outline() as outline:
            titles = [item.title for item in outline.root]
    assert "The Rule of α" in titles


def test_epub_carries_mathml_with_alttext(math_book):
    with zipfile.ZipFile(math_book / "a-tiny-book.epub") as z:
        opf_name = next(n for n in z.namelist() if n.endswith(".opf"))
        opf = etree.fromstring(z.read(opf_name))
        docs = {n: z.read(n) for n in z.namelist() if n.endswith(".xhtml")}
    with_math = {n for n, data in docs.items() if b"<math" in data}
    assert with_math
    formulas = [m for n in with_math for m in etree.fromstring(docs[n]).iter(f"{{{MATHML}}}math")]
    alttexts = {m.get("alttext") for m in formulas}
    assert {r"\frac{a+b}{2}", r"\sqrt{x^2+y^2}", r"e^{i\pi} + 1 = 0",
            r"\sum_{i=1}^{n} i = \frac{n(n+1)}{2}"} <= alttexts
    assert {m.get("display") for m in formulas} == {"inline", "block"}
    assert any(m.find(f".//{{{MATHML}}}mtable") is not None for m in formulas)       # the matrix
    for n in with_math:
        assert b"\\frac" not in re.sub(rb'alttext="[^"]*"', b"", docs[n])           # TeX only as alttext
    ns = {"opf": "http://www.idpf.org/2007/opf"}
    features = [m.text for m in opf.iterfind(".//opf:metadata/opf:meta[@property='schema:accessibilityFeature']", ns)]
    assert "MathML" in features
    folder = opf_name.rsplit("/", 1)[0] + "/" if "/" in opf_name else ""
    for item in opf.iterfind(".//opf:manifest/opf:item", ns):
        name = folder + item.get("href")
        if name in docs:
            assert ("mathml" in (item.get("properties") or "").split()) == (name in with_math), name


def test_epubcheck_finds_nothing(math_book):
    from imprint.editions import validate
    reason = validate.epubcheck_unavailable_reason()
    if reason:
        pytest.fail(f"EPUBCheck is required for the tests: {reason}")
    messages = validate.run_epubcheck(math_book / "a-tiny-book.epub")
    assert [m for m in messages if m.severity in ("error", "warning")] == []


@pytest.mark.parametrize("formula, code, column", [
    (r"$\frac{1}{$", "Q101", 12),
    (r"$\undefinedmacro x$", "Q102", 12),
])
def test_a_formula_that_cannot_be_set_stops_the_build(tmp_path, formula, code, column):
    book = write_book(tmp_path / "book", f"Fine text.\n\nA formula: {formula} here.\n")
    before = (book / "text.md").read_bytes()
    out = tmp_path / "out"
    result = run_cli("build", "-v", "--book", book, "--out", out)
    assert result.code == 1
    lines = [line for line in result.err.splitlines() if f" {code} " in line]
    assert len(lines) == 1
    assert lines[0].startswith(f"{book / 'text.md'}:3:{column}: error: {code} formula {formula}")
    assert "(hint: " in lines[0]
    assert "Traceback" not in result.err
    assert not out.exists() or not any(out.iterdir())          # nothing written
    assert (book / "text.md").read_bytes() == before


def test_mathml_allowlist():
    from imprint.manuscript import math
    from imprint.manuscript.sanitize import MATHML_ATTRIBUTES, MATHML_TAGS

    element = math.mathml(r"\href{javascript:alert(1)}{x} + \style{color:red}{y} + \class{c}{z}", False)
    assert math.dropped(r"\href{javascript:alert(1)}{x} + \style{color:red}{y} + \class{c}{z}", False)
    for el in element.iter():
        assert etree.QName(el).localname in MATHML_TAGS
        assert set(el.attrib) <= MATHML_ATTRIBUTES | {"xmlns"}
    del element.attrib["alttext"]           # the TeX, as text: the only place the URL may stay
    assert b"javascript" not in etree.tostring(element) and b"href" not in etree.tostring(element)
