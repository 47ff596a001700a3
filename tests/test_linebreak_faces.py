"""Total-fit line breaking in the book's own face and size (issue 19.1): a book in another
bundled face at another size is broken whole, measured with that face's files, and its PDF
shows it (far fewer loose lines than the same book set line by line, no L223, no L221); only
a book stylesheet that sets what the planner does not measure on running text falls back,
and says which rule (L223). Also the planner's own model of WeasyPrint's last line."""

from __future__ import annotations

import json
import sys
import statistics
from collections import Counter, defaultdict
from pathlib import Path

import pdfplumber
import pytest
from fontTools.ttLib import TTFont

from conftest import METADATA, ROOT, run_cli, write_book
from imprint.manuscript import look as looks
from imprint.typeset import linebreak as lb
from imprint.typeset.linebreak import Box, Glue, Penalty

ESSAY = (ROOT / "book" / "essay.md").read_text(encoding="utf-8")
FACE, SIZE = "ebgaramond", 12.5        # not the house's Libertine at 11 pt


def text() -> str:
    paragraphs = [p for p in ESSAY.split("\n\n") if p.strip() and not p.startswith(("#", "[^", "-", ">"))][:18]
    paragraphs[2] = "Some **bold words**, *italic words* and [small capitals]{.smallcaps} in one place. " + paragraphs[2]
    paragraphs[5] += "[^a]"
    note = ("[^a]: A note long enough to be set as a justified paragraph of its own, in the note size "
            "whatever the text size: the planner measures it in the same face, *in italics here*, and "
            "at nine points as the house styles set notes.")
    return "# A Chapter\n\n" + "\n\n".join(paragraphs) + "\n\n" + note + "\n"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = {}
    face = looks.bundled()[FACE]
    for mode in ("total-fit", "greedy"):
        root = tmp_path_factory.mktemp(mode)
        book = write_book(root / "book", text(),
                          METADATA + f"mainfont: {face.name}\nfontsize: {SIZE}pt\nline-breaking: {mode}\n")
        result = run_cli("--book", book, "--out", root / "out", "--no-cache", "--edition", "pdf")
        assert result.code == 0, result.err
        report = json.loads(next((root / "out").glob("*.report.json")).read_text())
        out[mode] = (next((root / "out").glob("*.pdf")), report)
    return out


def natural_space(size: float) -> float:
    font = TTFont(str(looks.nearest(looks.bundled()[FACE], False, False).path))
    return font["hmtx"][font.getBestCmap()[32]][0] * size / font["head"].unitsPerEm


def space_ratios(pdf: Path, size: float = SIZE) -> tuple[list[float], set[str]]:
    """Mean word space / the face's natural space for every justified body line; the fonts seen."""
    natural = natural_space(size)
    pages, fonts = defaultdict(list), set()
    with pdfplumber.open(str(pdf)) as doc:
        for number, page in enumerate(doc.pages):
            rows = defaultdict(list)
            for c in page.chars:
                if abs(c["size"] - size) < 0.2 and not c["text"].isspace():
                    rows[round(c["bottom"])].append(c)
                    fonts.add(c["fontname"].split("+")[-1])
            pages[number % 2] += [sorted(r, key=lambda c: c["x0"]) for r in rows.values()]
    ratios = []
    for lines in pages.values():        # versos and rectos: each their own right edge
        right = Counter(round(ln[-1]["x1"]) for ln in lines).most_common(1)[0][0]
        for ln in lines:
            if ln[-1]["x1"] < right - 0.8:
                continue                # a last line, a heading: not justified
            gaps = [b["x0"] - a["x1"] for a, b in zip(ln, ln[1:])]
            spaces = [g for g in gaps if g > 0.5 * natural]
            if spaces and max(spaces) < 6 * natural:
                ratios.append(statistics.mean(spaces) / natural)
    return ratios, fonts


def test_another_face_and_size_are_set_whole_without_falling_back(built):
    for mode, (_, report) in built.items():
        codes = [f["code"] for f in report["findings"]]
        assert "L223" not in codes, report["findings"]
        assert "L221" not in codes or mode == "greedy", [f for f in report["findings"] if f["code"] == "L221"]
    on, fonts = space_ratios(built["total-fit"][0])
    off, _ = space_ratios(built["greedy"][0])
    assert fonts and all("Garamond" in f for f in fonts), fonts
    assert len(on) > 80 and len(off) > 80
    over_on, over_off = sum(r > 2 for r in on), sum(r > 2 for r in off)
    assert over_off >= 4 and over_on * 3 <= over_off, (over_on, over_off)
    assert sum(r > 1.5 for r in on) < sum(r > 1.5 for r in off) / 1.5
    assert statistics.median(on) < statistics.median(off)


def test_the_planner_measures_with_the_books_files_at_its_size():
    face = looks.bundled()[FACE]
    files = looks.measured_files(looks.Look(face, fontsize=SIZE))
    assert files[0] == str(looks.nearest(face, False, False).path) and "Italic" in files[1]
    assert files[2] == files[0]         # no bold file: emboldened from the regular one, its advances
    word = "Hyphenation"
    assert lb.width(word, SIZE, faces=files) != pytest.approx(lb.width(word, SIZE))
    assert lb.width(word, SIZE, True, faces=files) != pytest.approx(lb.width(word, SIZE, faces=files))


def test_a_stylesheet_that_changes_running_text_is_named(tmp_path):
    css = tmp_path / "mine.css"
    face = looks.bundled()[FACE]
    css.write_text("h1 { letter-spacing: 0.1em; }\np { margin: 1em 0; }\nmain p:first-child { color: red; }\n"
                   "li::marker { font-size: 8pt; }\n", encoding="utf-8")
    assert looks.total_fit_obstacle(looks.Look(face, css=(css,), fontsize=SIZE)) is None
    css.write_text("h1 { color: red; }\n\nsection > p + p,\nblockquote { letter-spacing: 0.02em; }\n", encoding="utf-8")
    why, where = looks.total_fit_obstacle(looks.Look(face, css=(css,)))
    assert "mine.css" in why and "letter-spacing" in why and "section > p + p" in why
    assert (where.line, where.column) == (4, 14)
    css.write_text("p { margin: 0 2em; }\n", encoding="utf-8")
    assert "margin" in looks.total_fit_obstacle(looks.Look(face, css=(css,)))[0]


def test_the_build_says_why_it_sets_line_by_line(tmp_path):
    book = write_book(tmp_path / "book", "# One\n\nA paragraph of text.\n", METADATA + "css: mine.css\n")
    (book / "mine.css").write_text("body { word-spacing: 0.1em; }\n", encoding="utf-8")
    from imprint.manuscript.load import load
    findings = [f for f in load(book).load_findings if f.code == "L223"]
    assert len(findings) == 1 and "word-spacing" in findings[0].message and "mine.css" in findings[0].message
    assert Path(findings[0].where.file).name == "mine.css" and findings[0].where.line == 1


def test_a_bare_en_is_hyphenated_as_american_english():
    us, gb = lb._hyphenator("en"), lb._hyphenator("en-GB")
    assert us.inserted("democracy") == "democ-racy" and gb.inserted("democracy") != "democ-racy"
    assert lb._hyphenator("xx") is None             # no dictionary: no hyphenation points


def test_a_last_line_weasyprint_would_take_up_is_not_planned_apart():
    """A last word that fits on the line before it with that line's spaces narrowed is set there
    (WeasyPrint fills a line up to its last opportunity that fits); never hyphenated off as a stub."""
    space, stretch, shrink = 3.0, 1.5, 1.0
    items = []
    for w in [30.0] * 9:
        if items:
            items.append(Glue(space, stretch, shrink))
        items.append(Box(w))
    items.append(Glue(space, stretch, shrink))
    items += [Box(18.0), Penalty(4.0, lb.HYPHEN_PENALTY, True), Box(14.0)]     # "adversar-ies?"
    items += [Glue(0.0, 1e6), Penalty(0.0, -10_000)]
    natural = 9 * 30 + 9 * space + 32          # 329: wider than the measure, fits with its spaces narrowed
    measure = natural - 6.0
    plan = lb.knuth_plass(items, lambda n: measure, lb.TOLERANCE, slack=0.1)
    assert plan is not None and plan.breaks == [len(items) - 1]
    assert -1 < plan.ratios[-1] < 0          # one line, its spaces narrowed (6 of 9 points of shrink)
    # A short last word after a line a little loose: on a line of its own it costs less (2606
    # demerits) than the line taking it with its spaces narrowed (3249), but WeasyPrint, finding
    # it fits there, would set it there: the planner must not plan it apart.
    items = []
    for w in [30.0] * 9:
        if items:
            items.append(Glue(space, stretch, shrink))
        items.append(Box(w))
    items += [Glue(space, stretch, shrink), Box(10.0), Glue(0.0, 1e6), Penalty(0.0, -10_000)]
    plan = lb.knuth_plass(items, lambda n: 300.0, lb.TOLERANCE, slack=0.1)
    assert plan is not None and plan.breaks == [len(items) - 1], plan
    assert plan.ratios[-1] == pytest.approx(-7 / 9)


def test_a_notes_number_and_its_space_shorten_the_notes_first_line_and_notes_indent_one_em(monkeypatch):
    css = "@page { size: 432pt 648pt; }\n@page :right { margin: 54pt 45pt 64.8pt 57.6pt; }"
    words = " ".join(ESSAY.split("\n\n")[2].split()[:60])
    html = ('<!DOCTYPE html><html data-line-breaking="total-fit" data-hyphenate-capitalized="false" lang="en">'
            '<body><main><p>{w}<a class="noteref" href="#fn1">1</a><span class="footnote" id="fn1">'
            '<span class="fn-p"><a class="note-number" href="#fnref1">1</a>{w}</span>'
            '<span class="fn-p">{w}</span></span></p></main></body></html>').format(w=words)
    seen = []
    real = lb.plan_paragraph
    monkeypatch.setattr(lb, "plan_paragraph",
                        lambda par, size, measure, indent, *rest: seen.append((size, indent)) or real(par, size, measure, indent, *rest))
    _, planned = lb.plan(html, css)
    assert len(planned) == 3
    assert seen == [(lb.BODY_SIZE, 0.0), (lb.NOTE_SIZE, pytest.approx(lb.NUMBER_PAD * lb.NOTE_SIZE)),
                    (lb.NOTE_SIZE, pytest.approx(lb.NOTE_SIZE))]     # 1 em (book.css)


def test_a_list_items_marker_is_not_counted_as_one_of_its_lines():
    """WeasyPrint lays out a list item's marker as a line box of its own: verify() must not
    count it (the item would read as not broken as planned and be set line by line, L221)."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from imprint.typeset import fence
    fence.ready()
    css = "@page { size: 432pt 648pt; margin: 54pt 45pt 64.8pt 57.6pt; }\n@page :right { margin: 54pt 45pt 64.8pt 57.6pt; }"
    words = " ".join(ESSAY.split("\n\n")[3].split()[:70])
    style = (looks.font_css(looks.default(), scripts=False) +
             "html { font-family: var(--main-font); font-size: 11pt; line-height: 14.4pt; hyphens: auto; }"
             "ul { padding-left: 1.5em; margin: 0; } li { text-align: justify; }")
    html = ('<!DOCTYPE html><html data-line-breaking="total-fit" data-hyphenate-capitalized="false" lang="en">'
            f'<head><style>{style}</style></head><body><main><ul><li>{words}</li><li>{words}</li></ul></main></body></html>')
    planned_html, planned = lb.plan(html, css)
    assert len(planned) == 2 and all(n > 3 for n, _ in planned.values())
    fonts = FontConfiguration()
    document = HTML(string=planned_html).render(stylesheets=[CSS(string=css, font_config=fonts)], font_config=fonts)
    assert lb.verify(document, planned) == []


def test_the_baseline_grid_follows_the_books_leading(tmp_path):
    """At another size the grid is the book's own leading: headings, block quotes, lists and
    section breaks take whole lines of it, so every body line stands on it (look.grid_css)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from test_spreads import manuscript
    leading = round(looks.HOUSE_LEADING * SIZE / looks.HOUSE_SIZE, 2)
    book = write_book(tmp_path / "book", manuscript(7, True), METADATA + f"fontsize: {SIZE}pt\n")
    result = run_cli("--book", book, "--out", tmp_path / "out", "--no-cache", "--edition", "pdf")
    assert result.code == 0, result.err
    pages = defaultdict(dict)
    with pdfplumber.open(str(next((tmp_path / "out").glob("*.pdf")))) as doc:
        for number, page in enumerate(doc.pages):
            for c in page.chars:
                if abs(c["size"] - SIZE) < 0.2:
                    pages[number].setdefault(round(c["bottom"], 1), []).append(c["text"])
    full = {n: sorted(lines) for n, lines in pages.items() if len(lines) > 15}
    top = Counter(lines[0] for lines in full.values()).most_common(1)[0][0]
    checked = 0
    for n, baselines in full.items():
        for baseline in baselines:
            off = (baseline - top) % leading
            assert min(off, leading - off) < 0.6, (n, baseline, "".join(pages[n][baseline])[:40])
            checked += 1
    assert checked > 100 and len(full) >= 4
