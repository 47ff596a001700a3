"""Total-fit line breaking (imprint/typeset/linebreak.py): the Knuth–Plass core on synthetic
paragraphs, and a real book set with it on and off, measured on the written PDFs with
scripts/typeset_compare.py's measuring."""

from __future__ import annotations

import itertools
import json
import random
import re
import sys
import unicodedata

import pdfplumber
import pytest

from conftest import METADATA, ROOT, run_cli, write_book
from imprint.typeset import linebreak as lb
from imprint.typeset.linebreak import Box, Glue, Penalty

sys.path.insert(0, str(ROOT / "scripts"))
import typeset_compare  # noqa: E402

ESSAY = (ROOT / "book" / "essay.md").read_text(encoding="utf-8")


# --- the core ------------------------------------------------------------------------------

def paragraph(words, space=1.0, stretch=0.5):
    items = []
    for w in words:
        if items:
            items.append(Glue(space, stretch))
        items.append(Box(w))
    return items + [Glue(0.0, 1e6), Penalty(0.0, -10_000)]


def demerits(items, breaks, measure):
    """The same demerits as knuth_plass (no penalties, no hyphens), for any list of breaks; None if
    infeasible. A line over ratio 1 is charged as lb.charged says (Typst's slower growth), and
    LOOSE_STEP more."""
    total, prev = 0.0, -1
    for n, b in enumerate(breaks):
        s = prev + 1
        while not isinstance(items[s], Box) and s != len(items) - 1:
            s += 1
        natural = sum(it.width for it in items[s:b] if not isinstance(it, Penalty))
        stretch = sum(it.stretch for it in items[s:b] if isinstance(it, Glue))
        last = b == len(items) - 1
        if natural > measure:
            return None
        ratio = 0.0 if last else (measure - natural) / stretch if stretch else (0.0 if natural == measure else 1e9)
        if ratio > lb.TOLERANCE:
            return None
        total += (lb.LINE_PENALTY + 100 * lb.charged(ratio) ** 3 + (lb.LOOSE_STEP if ratio > 1 else 0)) ** 2
        if last and n > 0 and natural < measure / 6:
            total += lb.SHORT_LAST
        prev = b
    return total


def all_breakings(items):
    legal = [i for i, it in enumerate(items) if isinstance(it, Glue) and 0 < i < len(items) - 2]
    for k in range(len(legal) + 1):
        for chosen in itertools.combinations(legal, k):
            yield list(chosen) + [len(items) - 1]


def test_knuth_plass_finds_the_known_optimum_of_a_small_paragraph():
    # measure 10: "aaa bb cc" fits on one line exactly... greedy fills line 1 to the brim
    # and leaves line 2 loose; total fit evens them out.
    words = [3, 3, 3, 2, 3, 3, 3, 2]
    items = paragraph(words)
    plan = lb.knuth_plass(items, lambda line: 12.0)
    assert plan is not None
    best = min((d, b) for b in all_breakings(items) if (d := demerits(items, b, 12.0)) is not None)
    assert plan.breaks == best[1]
    assert demerits(items, plan.breaks, 12.0) == pytest.approx(best[0])


def test_total_fit_is_optimal_and_greedy_is_worse_where_first_fit_leaves_a_loose_line():
    rng = random.Random(19)
    checked = strictly_better = 0
    for _ in range(60):
        short = paragraph([rng.choice([2, 3, 4, 5, 6, 7]) for _ in range(rng.randint(8, 12))], stretch=1.0)
        plan = lb.knuth_plass(short, lambda line: 20.0)
        if plan is not None:        # optimal among every breaking (brute force)
            optimum = min(d for b in all_breakings(short) if (d := demerits(short, b, 20.0)) is not None)
            assert demerits(short, plan.breaks, 20.0) == pytest.approx(optimum)
            checked += 1
        long = paragraph([rng.choice([2, 3, 4, 5, 6, 7]) for _ in range(rng.randint(30, 40))], stretch=1.0)
        plan = lb.knuth_plass(long, lambda line: 30.0)
        if plan is None:
            continue
        ours = demerits(long, plan.breaks, 30.0)
        first_fit = demerits(long, lb.greedy(long, lambda line: 30.0), 30.0)
        assert first_fit is None or ours <= first_fit + 1e-6
        strictly_better += first_fit is None or first_fit > ours + 1e-6
    assert checked >= 30 and strictly_better >= 10, (checked, strictly_better)


def test_a_loose_line_costs_less_beyond_ratio_one_and_a_hyphen_near_a_words_edge_more():
    # Typst's model: once a line's spaces are 1.5x, a little looser costs little more...
    assert lb.charged(0.5) == 0.5 and lb.charged(1.0) == 1.0
    assert 1.0 < lb.charged(1.8) < 1.8 and lb.charged(1.8) - 1 == pytest.approx(0.8 * lb.LOOSE_SLOPE)
    # (knuth_plass charges so: the brute-force optimum above is reckoned with lb.charged)
    # a hyphen costs more the nearer it stands to the word's edge; five letters or more either side cost the base
    assert lb.hyphen_penalty(5, 7) == lb.HYPHEN_PENALTY
    assert lb.hyphen_penalty(3, 7) > lb.hyphen_penalty(4, 7) > lb.hyphen_penalty(5, 7)
    assert lb.hyphen_penalty(3, 3) == pytest.approx(lb.HYPHEN_PENALTY * (1 + 4 * lb.EDGE_COST))
    # and it is charged inside the square: dearer on a loose line than on a good one
    assert lb.line_demerits(400, 125) - lb.line_demerits(400, 0) > lb.line_demerits(10, 125) - lb.line_demerits(10, 0)


VOCABULARY = ("nevertheless notwithstanding consideration understanding organisation particularly independence "
              "distribution manufacturing international agricultural administration overwhelming unquestionably "
              "government society village between together mutual labour animals history struggle species common "
              "property peasants customs institutions protection communities development ancient hundred several "
              "whole people which their would could these those other great after first never under while where "
              "and of the its in a to was for by is it as at on or we all not but had this from with they").split()


def planned(text: str, measure: float) -> tuple[int, int, int]:
    """Lines over 1.5x (ratio 1), over 2x, and hyphens of the paragraphs of `text` (blank-line
    separated) as plan_paragraph breaks them: the house face at 11 pt, American hyphenation."""
    import lxml.html
    plans, real = [], lb.knuth_plass

    def kept(items, *args, **kwargs):
        plan = real(items, *args, **kwargs)
        if plan is not None:
            plans[-1] = (items, plan)
        return plan
    hyphenator = lb._hyphenator("en")
    lb.knuth_plass = kept
    try:
        for par_text in text.split("\n\n"):
            plans.append(None)
            assert lb.plan_paragraph(lxml.html.fragment_fromstring(f"<p>{par_text}</p>"), 11.0, measure, 13.2,
                                     hyphenator, False)
    finally:
        lb.knuth_plass = real
    ratios = [r for _, plan in plans for r in plan.ratios[:-1]]
    hyphens = sum(isinstance(items[b], Penalty) and items[b].width > 0 for items, plan in plans for b in plan.breaks[:-1])
    return sum(r > 1 for r in ratios), sum(r > 2 for r in ratios), hyphens


def test_a_line_past_one_and_a_half_spaces_costs_a_step_so_fewer_lines_are_loose(monkeypatch):
    """Issue 19 (no more lines over 1.5x than Typst, no more hyphens than Typst's share + 1): a
    line whose spaces pass 1.5x costs LOOSE_STEP more, and a hyphen HYPHEN_PENALTY, both inside
    the square, at 150 and 260 (session 14; the rules for two hyphens in a row, a hyphen on the
    last full line and a stub last line scaled with them). On generated paragraphs (words drawn
    from a vocabulary) at the book's measure: fewer loose lines than the costs before (session
    13's step 30 and hyphen 150, and no step at 125), none more over 2x, and about as many hyphens."""
    rng = random.Random(5)
    text = "\n\n".join(" ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(50, 90))) for _ in range(100))
    now = planned(text, 329.0)
    for name, value in (("LOOSE_STEP", 30), ("HYPHEN_PENALTY", 150), ("DOUBLE_HYPHEN", 10_000),
                        ("FINAL_HYPHEN", 5000), ("SHORT_LAST", 2000)):
        monkeypatch.setattr(lb, name, value)
    before = planned(text, 329.0)
    monkeypatch.setattr(lb, "LOOSE_STEP", 0)
    monkeypatch.setattr(lb, "HYPHEN_PENALTY", 125)
    earlier = planned(text, 329.0)
    assert now[0] < before[0] < earlier[0] and now[1] <= before[1] <= earlier[1], (now, before, earlier)
    assert now[2] <= before[2] * 1.03, (now, before)     # 167 against 165 on this vocabulary


def test_a_line_is_judged_as_it_is_set_with_the_room_kept_free():
    """A plan keeps `slack` free at each line's end (linebreak.SAFETY), but WeasyPrint justifies
    the line to the whole measure: the ratio it is judged by (the loose step at 1.5x) is the one
    it is set at. Mutual Aid had 18 lines planned at 0.99-1.0 that came out at 1.500-1.504x."""
    items = paragraph([10.0, 10.0, 10.0, 10.0])
    tight = lb.knuth_plass(items, lambda line: 21.4)
    kept_free = lb.knuth_plass(items, lambda line: 21.4, slack=0.2)
    assert tight.breaks[0] == kept_free.breaks[0] == 3       # "10 10" on each line
    assert tight.ratios[0] == pytest.approx(0.8)            # (21.4 - 21) / 0.5
    assert kept_free.ratios[0] == pytest.approx(1.2)        # set at 21.6: past 1.5x, charged the step
    assert kept_free.demerits > tight.demerits + 2 * lb.LOOSE_STEP * 100


def test_never_three_hyphenated_lines_in_a_row():
    # Long breakable words: hyphenating every line would fit best, but a third in a row is not allowed.
    rng = random.Random(3)
    pairs = 0
    for _ in range(30):
        items = []
        for n in range(rng.randint(20, 30)):
            if items:
                items.append(Glue(1.0, 0.5, 1 / 3))
            if rng.random() < 0.7:
                items += [Box(rng.choice([3.0, 4.0, 5.0])), Penalty(0.5, lb.HYPHEN_PENALTY, True),
                          Box(rng.choice([3.0, 4.0, 5.0]))]
            else:
                items.append(Box(rng.choice([2.0, 3.0])))
        items += [Glue(0.0, 1e6), Penalty(0.0, -10_000)]
        plan = lb.knuth_plass(items, lambda line: 16.0) or lb.knuth_plass(items, lambda line: 16.0, lb.EMERGENCY)
        assert plan is not None
        flagged = [isinstance(items[b], Penalty) and items[b].flagged for b in plan.breaks[:-1]]
        assert not any(all(flagged[i:i + 3]) for i in range(len(flagged) - 2)), flagged
        pairs += any(all(flagged[i:i + 2]) for i in range(len(flagged) - 1))
    assert pairs > 0        # the rule was put to the test: two in a row happen, three never


def test_capitalised_words_get_no_hyphenation_points_unless_asked():
    hy = lb._hyphenator("en")
    assert lb._points("Constantinople", hy, capitalized=False) == []
    assert lb._points("Constantinople", hy, capitalized=True)
    # a capitalised word the manuscript also has in small letters is not a name
    common = frozenset({"Nevertheless"})
    assert lb._points("Nevertheless,", hy, False, common) == lb._points("nevertheless,", hy, False)
    assert lb._points("Constantinople", hy, False, common) == []
    assert lb._points("NEVERTHELESS", hy, False, frozenset({"NEVERTHELESS"})) == []


def test_three_letters_at_least_stand_either_side_of_a_hyphen_and_the_line_by_line_setting_is_as_stated():
    """Issue 19: at least three letters before and after the break (a copy editor's rule; TeX's
    English default lets two stand before it: "de-creasingly" is not made here)."""
    hy = lb._hyphenator("en")
    assert 2 not in lb._points("decreasingly", hy, False)      # no "de-creasingly"
    assert lb._points("decreasingly", hy, False)                # but the word is still hyphenated
    assert all(p >= 3 for p in lb._points("abandonment", hy, False))
    assert all(p <= len("revolutionary") - 3 for p in lb._points("revolutionary", hy, False))
    css = (ROOT / "styles" / "book.css").read_text(encoding="utf-8")
    limits = re.search(r"hyphenate-limit-chars:\s*(\d+)\s+(\d+)\s+(\d+)", css).groups()
    assert tuple(map(int, limits)) == (lb.WORD_MIN, lb.LEFT_MIN, lb.RIGHT_MIN)


def test_only_capitalised_words_the_manuscript_also_has_in_small_letters_are_marked_hyphenable():
    from lxml import html as lhtml
    from imprint.html import render
    root = lhtml.fragment_fromstring(
        "<div><p>Nevertheless the Proletariat of Constantinople rose. KRONSTADT fell.</p>"
        "<p>It rose nevertheless.<span class='footnote'><span class='fn-p'>Proletariat, "
        "Constantinople: the proletariat.</span></span></p><p>Nothing here.</p></div>")
    render.common_capitals(root)
    first, second, third = root.findall("p")
    assert first.get(render.COMMON_CAPITALS).split() == ["Nevertheless", "Proletariat"]
    assert second.find(".//span[@class='fn-p']").get(render.COMMON_CAPITALS) == "Proletariat"
    assert third.get(render.COMMON_CAPITALS) is None
    note = second.find(".//span[@class='fn-p']")
    assert lb.common_capitals(note) == {"Proletariat"}
    assert lb.common_capitals(first) == {"Nevertheless", "Proletariat"}


def test_the_setting_changes_the_breaks():
    css = "@page { size: 432pt 648pt; }\n@page :right { margin: 54pt 45pt 64.8pt 57.6pt; }"
    text = " ".join(ESSAY.split("\n\n")[2:4])
    html = ('<!DOCTYPE html><html data-line-breaking="{}" data-hyphenate-capitalized="false" lang="en">'
            '<body><main><p>{}</p><p>{}</p></main></body></html>')
    on, planned = lb.plan(html.format("total-fit", text, text), css)
    off, none = lb.plan(html.format("greedy", text, text), css)
    assert planned and not none
    assert "\u00a0" in on and "\u00a0" not in off


# --- a real book ---------------------------------------------------------------------------

def tiny_text() -> str:
    paragraphs = [p for p in ESSAY.split("\n\n") if p.strip() and not p.startswith(("#", "[^"))][:16]
    paragraphs[3] += "[^a]"
    paragraphs[9] += "[^b]"
    paragraphs += capitals_text()
    notes = ("[^a]: A note long enough to be set as a justified paragraph of its own: Trotsky’s theory held that "
             "Russian capitalism was so backward that its capitalist class was incapable of introducing "
             "bourgeois democratic reforms; that job would fall to the working class in power.\n\n"
             "[^b]: A second note, *in part in italics*, with a name or two: Constantinople, Petrograd.")
    return "# A Chapter\n\n" + "\n\n".join(paragraphs) + "\n\n" + notes + "\n"


COMMON = ["nevertheless", "notwithstanding", "consideration", "understanding", "organisation",
          "particularly", "independence", "distribution", "manufacturing", "international",
          "agricultural", "administration", "overwhelming", "unquestionably"]
NAMES = ["Vladivostokovsky", "Petropavlovskaya", "Shcherbatovsky"]


def capitals_text() -> list[str]:
    """Paragraphs of short sentences, each opening with a long common word capitalised (the
    same words occur in small letters) and full of names no sentence has in small letters."""
    rng = random.Random(19)
    paragraphs = []
    for _ in range(5):
        sentences = []
        for _ in range(14):
            words = [rng.choice(COMMON).capitalize()] + [rng.choice(COMMON + NAMES + ["and", "of", "the", "its"])
                                                         for _ in range(rng.randint(3, 6))]
            sentences.append(" ".join(words) + ".")
        paragraphs.append(" ".join(sentences))
    return paragraphs


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = {}
    for mode in ("total-fit", "greedy"):
        root = tmp_path_factory.mktemp(mode)
        book = write_book(root / "book", tiny_text(), METADATA + f"line-breaking: {mode}\n")
        result = run_cli("--book", book, "--out", root / "out", "--no-cache", "--edition", "pdf")
        assert result.code == 0, result.err
        report = json.loads(next((root / "out").glob("*.report.json")).read_text())
        out[mode] = (next((root / "out").glob("*.pdf")), report)
    return out


def _text(pdf, kind):
    lines = [ch for n, k, ch, y in typeset_compare._lines(pdf) if k == kind]
    text = "".join(c["text"] for ch in lines for c in ch)
    return re.sub(r"[\s\u00ad\u2010\u2060-]", "", unicodedata.normalize("NFC", text))


def test_total_fit_sets_fewer_loose_lines_and_no_hyphen_ladders(built):
    on = typeset_compare.measure(built["total-fit"][0], tiny_text())
    off = typeset_compare.measure(built["greedy"][0], tiny_text())
    assert on["body"]["justified"] > 60
    assert on["body"]["over 1.5x"] < off["body"]["over 1.5x"], (on, off)
    assert on["body"]["median"] < off["body"]["median"]
    assert on["body"]["runs of 3"] == 0 and on["note"]["runs of 3"] == 0


def _words(chars) -> str:
    """A line's text with its spaces (a gap wider than a point between two characters)."""
    out, prev = "", None
    for c in chars:
        if prev is not None and c["x0"] - prev["x1"] > 1.0:
            out += " "
        out, prev = out + c["text"], c
    return out


def test_no_name_is_hyphenated_either_way_and_a_capitalised_common_word_may_be(built):
    text = tiny_text()
    lower = {w for w in re.findall(r"[^\W\d_]+", text) if w.islower()}
    for mode, (pdf, _) in built.items():
        hyphenated, capitalised = 0, []
        for kind in ("body", "note"):
            lines = [_words(ch) for n, k, ch, y in typeset_compare._lines(pdf) if k == kind]
            for line, after in zip(lines, lines[1:]):
                if line[-1:] in "\u2010-\u00ad" and line[-2:-1].isalpha():
                    word = re.findall(r"[^\W\d_]+$", line[:-1])[0] + re.findall(r"^[^\W\d_]*", after)[0]
                    if word[0].isupper():
                        assert word.lower() in lower and not word.isupper(), (mode, line, after)   # never a name
                        capitalised.append(word)
                    hyphenated += 1
        assert hyphenated > 3       # the test saw hyphenation at work
        assert capitalised, mode    # ... and a sentence's capitalised first word broken like any word


def test_the_text_and_the_notes_are_unchanged_and_notes_stay_with_their_calls(built):
    (on_pdf, on_report), (off_pdf, off_report) = built["total-fit"], built["greedy"]
    assert _text(on_pdf, "body") == _text(off_pdf, "body")
    assert _text(on_pdf, "note") == _text(off_pdf, "note")
    for report in (on_report, off_report):
        codes = {f["code"] for f in report["findings"]}
        assert "L102" not in codes and "L201" not in codes and "L221" not in codes, codes


def test_the_comparison_script_sets_the_book_with_typst_and_measures_both(built, tmp_path, capsys):
    manuscript = tmp_path / "text.md"
    manuscript.write_text(tiny_text(), encoding="utf-8")
    typst_pdf = tmp_path / "typst.pdf"
    assert typeset_compare.main([str(manuscript), "--ours", str(built["total-fit"][0]),
                                 "--typst-pdf", str(typst_pdf)]) == 0
    table = capsys.readouterr().out
    assert "ours" in table and "Typst" in table and "over 1.5x" in table and "hyphen at recto foot" in table
    theirs = typeset_compare.measure(typst_pdf, tiny_text())
    assert theirs["body"]["justified"] > 60 and theirs["note"]["lines"] >= 3
    with pdfplumber.open(str(typst_pdf)) as pdf:
        fonts = {c["fontname"].split("+")[-1] for page in pdf.pages for c in page.chars}
        assert any("Libertine" in f for f in fonts), fonts
        assert (pdf.pages[0].width, pdf.pages[0].height) == (432, 648)


def test_a_paragraph_that_sets_without_hyphens_within_the_first_pass_gets_none(monkeypatch):
    """TeX's first pass (\\pretolerance): where a paragraph sets with no word hyphenated and no
    line's spaces over 1.475x, no hyphen is made; on the essay's paragraphs that spares hyphens
    the one-pass breaking makes (they spared a line nothing a reader would see). Measured with
    a hyphen as cheap as session 13's (150, the loose step 30): with today's (260, 150) the
    second pass alone makes no hyphen there either, and the first pass is what it is in TeX,
    the quicker way to the same breaks."""
    for name, value in (("LOOSE_STEP", 30), ("HYPHEN_PENALTY", 150), ("DOUBLE_HYPHEN", 10_000),
                        ("FINAL_HYPHEN", 5000), ("SHORT_LAST", 2000)):
        monkeypatch.setattr(lb, name, value)
    css = "@page { size: 432pt 648pt; }\n@page :right { margin: 54pt 45pt 64.8pt 57.6pt; }"
    html = ('<!DOCTYPE html><html data-line-breaking="total-fit" data-hyphenate-capitalized="false" lang="en">'
            '<body><main>' + "".join(f"<p>{p}</p>" for p in ESSAY.split("\n\n")) + '</main></body></html>')
    counts = {}
    for first_pass in (0, lb.PRETOLERANCE):
        monkeypatch.setattr(lb, "PRETOLERANCE", first_pass)
        out, planned = lb.plan(html, css)
        counts[first_pass] = out.count("\u00ad")
    assert 0 < counts[lb.PRETOLERANCE] < counts[0], counts


# --- a dash's break --------------------------------------------

PLACES = ["Transbaikalia", "Vladivostokovsky", "Petropavlovskaya", "Shcherbatovsky", "Novonikolayevsk"]


def loose_text() -> str:
    """Paragraphs a measure cannot always fill: long names (never hyphenated) and long words,
    and em dashes closed up between words (a line may break after one, Pango also before)."""
    rng = random.Random(11)
    short = ["and", "of", "the", "its", "in", "a", "to", "was", "for", "by"]
    paragraphs = []
    for _ in range(16):
        words = []
        for _ in range(rng.randint(60, 90)):
            word = rng.choice(COMMON + PLACES + short + short)
            if words and rng.random() < 0.3:
                words[-1] += "\u2014" + word        # "study—that"
            else:
                words.append(word)
        text = " ".join(words)
        paragraphs.append(text[0].upper() + text[1:] + ".")
    return "# Loose Lines\n\n" + "\n\n".join(paragraphs) + "\n"


@pytest.fixture(scope="module")
def loose(tmp_path_factory):
    root = tmp_path_factory.mktemp("loose")
    book = write_book(root / "book", loose_text(), METADATA)
    result = run_cli("--book", book, "--out", root / "out", "--no-cache", "--edition", "pdf")
    assert result.code == 0, result.err
    report = json.loads(next((root / "out").glob("*.report.json")).read_text())
    assert "L221" not in {f["code"] for f in report["findings"]}     # every paragraph broke as planned
    return next((root / "out").glob("*.pdf"))


def test_no_line_begins_with_a_dash_closed_up_between_words(loose):
    """The plan breaks after an em dash, never before: a line WeasyPrint filled up to the
    break before one (Pango's, UAX #14 B2) set the rest of its paragraph off the plan."""
    lines = ["".join(c["text"] for c in ch) for n, k, ch, y in typeset_compare._lines(loose) if k == "body"]
    assert sum(line.count("\u2014") for line in lines) > 40
    assert sum(line.endswith("\u2014") for line in lines) >= 1       # a break after one was taken
    assert not [line for line in lines if line.startswith("\u2014")]
