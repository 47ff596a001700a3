"""Total-fit line breaking with what a paragraph holds besides words (issue 19): an inline
formula is a box of its own width, superscripts and subscripts are measured at their size,
struck and inserted words as words, a cross-reference's words kept together, inline code in
its monospace face, a line break a forced break; a paragraph left to WeasyPrint's line-by-line
setting because of what it holds (highlighted code) is named (L227), never silently."""

from __future__ import annotations

import lxml.html
import pytest

from conftest import run_cli, write_book
from imprint.typeset import linebreak

METADATA = """\
title: Inline Things
author: Test Author
lang: en
identifier: urn:uuid:00000000-0000-4000-8000-000000000227
date: 2020-01-01
"""

WORDS = ("the formula sits inside a long paragraph of many words that the planner breaks into "
         "several lines of text ") * 3

TEXT = f"""\
# One {{#one}}

Newton found that $F = ma$ and {WORDS} while in the seventeenth (XVII^e^) century water was
H~2~O and ~~struck words~~ stood beside [inserted ones]{{.underline}} until the end, {WORDS}

Some `code words` stand in this paragraph, {WORDS}

A line with a hard break\\
and then {WORDS}

Highlighted `x = len(words)`{{.python}} code stands in this one, {WORDS}
"""


def test_formulas_and_scripts_are_planned_and_what_is_not_is_named(tmp_path):
    book = write_book(tmp_path / "book", TEXT, METADATA)
    out = tmp_path / "out"
    result = run_cli("--book", book, "--out", out, "--edition", "pdf", "-v")
    assert result.code == 0, result.err
    l227 = [line for line in result.err.splitlines() if " L227 " in line]
    assert any("holds code" in line and "“Highlighted x = len(words) code" in line for line in l227), result.err
    # The paragraphs with the formula, the superscript, the subscript and the struck words, with
    # inline code, with a line break are planned (no L227) and broken as planned (no L221: their
    # lines are the plan's).
    for opening in ("Newton found", "Some code words", "A line with a hard"):
        assert not any(opening in line for line in result.err.splitlines() if " L227 " in line or " L221 " in line)
    assert len(l227) == 1


def _paragraph(inner: str):
    root = lxml.html.fromstring(f"<html><body><p>{inner}</p></body></html>")
    return root.find(".//p")


def _formula(em: float) -> str:
    return (f'<span class="math inline"><img class="math" src="data:," alt="x" '
            f'style="width: {em}em; height: 0.8em; vertical-align: -0.01em"></span>')


def _plan(inner: str, measure: float = 200.0) -> int | None:
    hyphenator = linebreak._hyphenator("en")
    return linebreak.plan_paragraph(_paragraph(inner), 11.0, measure, 0.0, hyphenator, False,
                                    frozenset(), linebreak.HOUSE_FACES)


def test_a_formula_counts_its_width_and_a_superscript_its_size():
    words = "words of running text that go on " * 4
    narrow = _plan(f"Here {_formula(1)} stands among {words}")
    wide = _plan(f"Here {_formula(15)} stands among {words}")
    assert narrow is not None and wide is not None
    assert wide > narrow                          # 15 em of formula (165 pt of 200) take a line of their own
    # A superscript is measured at three quarters of the size: a paragraph of superscript
    # words takes fewer lines than the same words at full size.
    assert _plan(f"<sup>{words * 2}</sup>") < _plan(words * 2)


def test_a_cross_reference_is_never_broken_inside():
    par = _paragraph("see " + "many words here " * 6 + '<a class="crossref" href="#f">Figure 12</a> ' +
                     "and more words to follow " * 6)
    assert linebreak.plan_paragraph(par, 11.0, 120.0, 0.0, linebreak._hyphenator("en"), False, frozenset(),
                                    linebreak.HOUSE_FACES)
    link = par.find(".//a")
    assert link.text == "Figure 12"               # its space stays a space, never a planned break
    # The words around it were planned: their unchosen spaces are no-break spaces now.
    assert linebreak.NBSP in (par.text or "")


def test_highlighted_code_is_named_when_planning_plain_code_and_a_line_break_planned():
    unplanned: list = []
    html = ('<html lang="en" data-line-breaking="total-fit" data-hyphenate-capitalized="false"><head>'
            '</head><body><main><p>Some <code>code</code> here and there.</p><p>A line<br>broken.</p>'
            '<p>Some <code class="sourceCode python"><span class="op">len</span></code> here.</p>'
            '</main></body></html>')
    css = "@page { size: 432pt 648pt; } @page :right { margin: 54pt 54pt 54pt 54pt; }"
    _, planned = linebreak.plan(html, css, unplanned=unplanned)
    assert [what for what, _ in unplanned] == ["code"]
    assert sorted(words for _, words in planned.values()) == ["A linebroken.", "Some code here and there."]


def test_a_line_break_is_a_forced_break_and_code_is_measured_in_its_face():
    words = "words of running text that go on " * 3
    # a break ends its line: each run of lines broken on its own (3 + 3 lines, not 5 together)
    assert _plan(words) == 3 and _plan(f"{words} {words}") == 5
    assert _plan(f"{words}<br>{words}") == 6
    assert _plan("Short<br>lines<br>three") == 3
    # code is set in the monospace face at 9 pt: wider than the book's face for the same letters
    mono = linebreak.width("mmmmiiii", linebreak.CODE_SIZE, faces=linebreak._mono_faces())
    assert mono > linebreak.width("mmmmiiii", 9.0)
    assert _plan(f"<code>{'iiiiii ' * 30}</code>") > _plan("iiiiii " * 30)


BREAKS = """\
# One

The first paragraph of the chapter goes on for long enough to wrap onto a second and a third line of the page at this size and measure.

An indented paragraph follows it and goes on for long enough to wrap onto a second and a third line of the page at this size.

* * *

After the scene break the text resumes and goes on for long enough to wrap onto a second and a third line of the page at this size and measure.

###### A sixth-level heading

Under the sixth-level heading, the text is long enough to wrap onto a second line on a six by nine page at eleven points and more words.
"""


def test_no_paragraph_after_a_heading_or_scene_break_is_indented_and_each_is_planned(tmp_path):
    import pdfplumber

    book = write_book(tmp_path / "book", BREAKS, METADATA)
    out = tmp_path / "out"
    result = run_cli("--book", book, "--out", out, "--edition", "pdf", "-v")
    assert result.code == 0, result.err
    assert not [line for line in result.err.splitlines() if " L221 " in line or " L227 " in line], result.err
    with pdfplumber.open(out / "inline-things.pdf") as pdf:
        words = [w for page in pdf.pages for w in page.extract_words()]
    first = {w["text"]: w["x0"] for w in words if w["text"] in ("The", "An", "After", "Under")}
    assert first["After"] == pytest.approx(first["The"], abs=0.5)       # after the scene break: flush
    assert first["Under"] == pytest.approx(first["The"], abs=0.5)       # after an h6 too, as after an h1
    assert first["An"] > first["The"] + 5                                # an ordinary paragraph is indented


def test_a_lower_case_cross_reference_gets_no_planned_hyphen():
    # "section 12" mid-sentence has hyphenation points ("sec-tion"): none may be planned inside
    # the link, which is never broken (white-space: nowrap). Over many measures, one would fall there.
    for tenths in range(1500, 3200, 7):
        par = _paragraph("see " + '<a class="crossref" href="#s">section 12</a> and the words around it go on ' * 6)
        linebreak.plan_paragraph(par, 11.0, tenths / 10, 0.0, linebreak._hyphenator("en"), False, frozenset(),
                                 linebreak.HOUSE_FACES)
        assert all(a.text_content() == "section 12" for a in par.iter("a")), tenths / 10


def test_a_display_formula_is_not_planned_as_an_inline_one():
    display = ('<span class="math display"><img class="math" src="data:," alt="x" '
               'style="width: 6em; height: 2em"></span>')
    unplanned: list = []
    html = ('<html lang="en" data-line-breaking="total-fit" data-hyphenate-capitalized="false"><head></head>'
            f'<body><main><p>Text before it {display} and text after it.</p></main></body></html>')
    css = "@page { size: 432pt 648pt; } @page :right { margin: 54pt 54pt 54pt 54pt; }"
    linebreak.plan(html, css, unplanned=unplanned)
    assert [what for what, _ in unplanned] == ["a display formula"]


def test_a_formula_touching_letters_keeps_them():
    # WeasyPrint may break on either side of an image: "$n$th" and "$x$—" are held by word joiners.
    par = _paragraph("the " + _formula(1) + "th term and " + _formula(1) + "\u2014 a dash, " + "and more words " * 8)
    assert linebreak.plan_paragraph(par, 11.0, 200.0, 0.0, linebreak._hyphenator("en"), False, frozenset(),
                                    linebreak.HOUSE_FACES)
    spans = par.findall(".//span")
    assert (spans[0].tail or "").startswith(linebreak.WJ + "th")
    assert (spans[1].tail or "").startswith(linebreak.WJ + "\u2014")
    assert not (par.text or "").endswith(linebreak.WJ)        # after a space: nothing to hold
