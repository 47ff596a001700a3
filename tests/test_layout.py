"""The layout checks (imprint/checks/pages.py): for each check a tiny book, or a stylesheet laid over
one, that breaks it on purpose and the exact finding it must give; the essay's pages are clean
of layout errors; the opt-in corpus run reports the counts per check.

Tiny books are laid out through the real typesetting job (run_job) on 5 x 8 in pages;
the extra CSS is added to the job's page stylesheet (user origin, hence `!important` where it
must beat styles/book.css)."""

from __future__ import annotations

import io
import json
import os
from collections import Counter

import pikepdf
import pytest

from conftest import CORPUS, METADATA, write_book
from imprint.checks import pages as page_checks
from imprint.html import render
from imprint.jobs.job import Job, Layout, run_job
from imprint.typeset import engine
from imprint.codes import all_codes
from imprint.specs.editions import DESIGN_MARGINS, EDITIONS, trim as trim_for
from imprint.errors import Finding
from imprint.manuscript.load import load

# The spacers below are measured for lines broken one at a time (LOREM in five lines): these
# tests are about the page checks, not line breaking (tests/test_linebreak.py).
SMALL = METADATA + "trim: 5x8\nline-breaking: greedy\n"
LOREM = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut "
         "labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco "
         "laboris nisi ut aliquip ex ea commodo consequat.")      # five lines on the 5 x 8 in measure


def job_for(folder, css: str = "") -> Job:
    """The typesetting job the pipeline would run for the book, with `css` laid over it."""
    book = load(folder)
    body = render.body_html(book)
    trim = trim_for(book.metadata.trim)
    return Job(
        html=render.paged_html(book, body, EDITIONS["pdf"]),
        page_css=render.page_css(book, trim, DESIGN_MARGINS[trim.name], mirrored=True) + css,
        base=book.root, book_root=book.root, book_file=book.metadata.source, editions=(EDITIONS["pdf"],),
        identifier=book.metadata.identifier, note_numbers=tuple(sorted(body.notes)))


def lay_out(tmp_path, manuscript: str, css: str = "") -> Layout:
    return run_job(job_for(write_book(tmp_path / "book", manuscript, SMALL), css))


def found(result, *codes) -> list[Finding]:
    return [f for f in result.findings if f.code in codes]


def same(actual: Finding, code: str, severity: str, page: int, message: str):
    assert (actual.code, actual.severity, actual.page, actual.message) == (code, severity, page, message)


def div(name: str, text: str = "x") -> str:
    return f"::: {{.{name}}}\n{text}\n:::\n\n"


# --- Errors -------------------------------------------------------------------------------

def test_text_pushed_off_the_page_is_an_error(tmp_path):
    result = lay_out(tmp_path, "# One\n\n" + LOREM + "\n\n" + div("shift", LOREM),
                     ".shift { position: relative; left: 300pt }")
    off = found(result, "L201")
    assert [f.page for f in off] == [7, 7, 7, 7, 7]     # every line of the shifted paragraph
    same(off[0], "L201", "error", 7, "line 6: “Lorem ipsum dolor sit amet, consectetur…” runs off the page")
    assert not found(result, "L205", "L206")            # reported once, as the worst it is


def test_text_over_text_is_an_error(tmp_path):
    result = lay_out(tmp_path, "# One\n\n" + LOREM + "\n\n" + div("lift", LOREM),
                     ".lift { margin-top: -40pt !important }")
    over = found(result, "L202")
    assert len(over) == 3
    same(over[0], "L202", "error", 7,
         "“do eiusmod tempor incididunt …” is drawn over “Lorem ipsum dolor sit amet, c…”")


def test_footnote_area_over_the_text_is_an_error(tmp_path):
    result = lay_out(tmp_path, "# One\n\n" + LOREM + "[^1]\n\n" + div("sink", LOREM) + "[^1]: A note of a few words.\n",
                     ".sink { position: relative; top: 250pt }")
    [clash] = found(result, "L203")
    same(clash, "L203", "error", 7, "the footnote area overlaps the text by 63.3 pt")   # text block of whole lines


def test_wrong_contents_page_number_is_an_error(tmp_path):
    result = lay_out(tmp_path, "# One\n\n" + LOREM + "\n\n# Two\n\n" + LOREM + "\n",
                     '.contents a::after { content: leader(" ") "99" !important }')
    wrong = found(result, "L204")
    same(wrong[0], "L204", "error", 5, "contents entry “One 99” says page 99, but the heading is on page 7")
    same(wrong[1], "L204", "error", 5, "contents entry “Two 99” says page 99, but the heading is on page 9")


def test_true_contents_numbers_pass(tmp_path):
    result = lay_out(tmp_path, "# One\n\n" + LOREM + "\n\n# Two\n\n" + LOREM + "\n")
    assert not [f for f in result.findings if f.severity == "error"]
    assert result.extracts["anchors"]["contents"] == 5


# --- Warnings -----------------------------------------------------------------------------

def test_text_outside_the_text_area(tmp_path):
    result = lay_out(tmp_path, "# One\n\n" + LOREM + "\n\n" + div("hang", LOREM), ".hang { margin-left: -40pt !important }")
    out = found(result, "L205")
    assert len(out) == 4                                # the wider paragraph sets in four lines
    same(out[0], "L205", "warning", 7, "line 6: “Lorem ipsum dolor sit amet, consectetur…” lies outside the text area")


def test_overfull_line(tmp_path):
    result = lay_out(tmp_path, "# One\n\n" + LOREM + "\n\n" + "1234567890" * 5 + "12345\n")
    [over] = found(result, "L206")
    same(over, "L206", "warning", 7, "line 6: overfull by 24.5 pt, “…78901234567890123456789012345”")


def test_widow_orphan_and_heading_at_the_foot(tmp_path):
    # Spacers of measured height (in the text block cut to whole lines, fence/spreads.py) leave
    # room for exactly one line (orphan), four lines of a
    # five-line paragraph (widow) and a heading without its text; the stylesheet's own
    # widows/orphans/break-after rules are switched off so the breaks happen.
    manuscript = ("# One\n\n" + LOREM + "\n\n" + div("s1") + LOREM + " " + LOREM + "\n\n"
                  + div("s2") + LOREM + "\n\n" + div("s3") + "## Heading\n\n" + LOREM + "\n")
    css = ("p { orphans: 1 !important; widows: 1 !important } h2 { break-after: auto !important } "
           ".s1, .s2, .s3 { break-before: page } .s1 { height: 441.6pt } .s2 { height: 399.4pt } .s3 { height: 405pt }")
    result = lay_out(tmp_path, manuscript, css)
    [orphan], [widow], [heading] = found(result, "L208"), found(result, "L207"), found(result, "L209")
    same(orphan, "L208", "warning", 8,
         "orphan: “Lorem ipsum dolor sit amet, consectetur…” is the only line of its paragraph at the foot of the page")
    same(widow, "L207", "warning", 11,
         "widow: “consequat.” ends a paragraph alone at the top of the page")     # en: the American dictionary, which does not break it
    same(heading, "L209", "warning", 12, "heading “Heading” is the last thing on its page")


def test_the_stylesheet_keeps_widows_orphans_and_headings(tmp_path):
    """The same pages without the overrides: book.css's own rules prevent all three."""
    manuscript = ("# One\n\n" + LOREM + "\n\n" + div("s1") + LOREM + " " + LOREM + "\n\n"
                  + div("s2") + LOREM + "\n\n" + div("s3") + "## Heading\n\n" + LOREM + "\n")
    css = ".s1, .s2, .s3 { break-before: page } .s1 { height: 441.6pt } .s2 { height: 399.4pt } .s3 { height: 405pt }"
    result = lay_out(tmp_path, manuscript, css)
    assert not found(result, "L207", "L208", "L209")


def test_blank_pages(tmp_path):
    blank = div("blank", "\\ ")
    result = lay_out(tmp_path, "# One\n\n" + LOREM + "\n\n" + blank * 3 + LOREM + "\n",
                     ".blank { break-before: page !important; break-after: page !important }")
    assert [(f.code, f.page) for f in found(result, "L210", "L211")] == [
        ("L210", 8), ("L210", 9), ("L210", 10), ("L211", 8)]
    same(found(result, "L210")[0], "L210", "warning", 8, "blank page in the middle of the text")
    same(found(result, "L211")[0], "L211", "warning", 8, "3 blank pages in a row (pages 8–10)")
    # ... and the running heads the stylesheet still put on them
    assert ("L217", 8, "folio “8” on a blank page") in [(f.code, f.page, f.message) for f in result.findings]


def test_intended_blank_pages_pass(tmp_path):
    """The versos WeasyPrint leaves blank so that the title page, contents and text start on a recto."""
    result = lay_out(tmp_path, "# One\n\n" + LOREM + "\n")
    assert not found(result, "L210", "L211", "L217")


def test_hyphenation_ladders_short_fragments_and_share(tmp_path):
    words = " ".join(["x\u00adxxxxxxxxx"] * 30)        # a soft hyphen after the first letter
    result = lay_out(tmp_path, "# One\n\n" + div("narrow", words), ".narrow { width: 100pt }")
    [ladder] = found(result, "L212")
    same(ladder, "L212", "warning", 7, "3 hyphenated line ends in a row, down to “xxxxxxxxx x‐”")
    short = found(result, "L213")
    assert len(short) == 29
    same(short[0], "L213", "warning", 7, "hyphenation “x-xxxxxxxxx” leaves 1 letter(s) before the break and 9 after")
    [share] = found(result, "L214")
    assert (share.severity, share.page) == ("info", None)
    assert share.message == "29 of 30 lines (96.7 %) end in a hyphen, 29 of them by hyphenation"


def test_loose_lines(tmp_path):
    words = " ".join(["a", "bbbbbbbbbbbbbbbbbb", "c", "dddddddddddddddddd"] * 6)
    result = lay_out(tmp_path, "# One\n\n" + div("loose", words), ".loose p { width: 150pt; hyphens: manual !important }")
    loose = found(result, "L215")
    assert len(loose) == 11
    same(loose[0], "L215", "warning", 7, "line 2: word spaces stretched to 5.4× their width in “a bbbbbbbbbbbbbbbbbb c”")
    # the hint gives the author a break point, not a sentence to rewrite (issue 19)
    assert "soft hyphen (&shy;)" in loose[0].hint and "reword" not in loose[0].hint, loose[0].hint


def test_running_heads_and_folios(tmp_path):
    css = ('@page :right { @top-right { content: none !important } } '
           '@page :left { @top-left { content: "99" !important } } '
           '@page front { @top-center { content: "Head" !important } }')
    result = lay_out(tmp_path, "# One\n\n" + (LOREM + "\n\n") * 20, css)
    got = [(f.code, f.page, f.message) for f in found(result, "L216", "L217", "L218")]
    assert got == [
        ("L217", 1, "running head “Head” on a front-matter page"),
        ("L217", 2, "folio “99” on a blank page"),
        ("L217", 3, "running head “Head” on a front-matter page"),
        ("L217", 4, "folio “99” on a front-matter page"),
        ("L217", 4, "running head “Head” on a front-matter page"),
        ("L217", 5, "running head “Head” on a front-matter page"),
        ("L217", 6, "folio “99” on a blank page"),
        ("L218", 8, "folio 99 on page 8"),
        ("L216", 9, "text page without a folio"),
        ("L218", 10, "folio 99 on page 10"),
    ]
    assert all(f.severity == "warning" for f in found(result, "L216", "L217", "L218"))


def test_running_heads_as_designed_pass(tmp_path):
    result = lay_out(tmp_path, "# One\n\n" + (LOREM + "\n\n") * 20 + "# Two\n\n" + LOREM + "\n")
    assert not found(result, "L216", "L217", "L218")


def test_page_of_another_size(tmp_path):
    result = lay_out(tmp_path, "# One\n\n" + LOREM + "\n", "@page :first { size: 5in 7in }")
    [odd] = found(result, "L219")
    same(odd, "L219", "warning", 1, "1 page(s) differ from the book's 360 × 576 pt page, first page 1")
    assert odd.edition == "pdf"


def test_geometry_is_read_from_the_written_pdf(tmp_path):
    """A PDF whose page lost its TrimBox is caught: the boxes are read back with pikepdf."""
    job = job_for(write_book(tmp_path / "book", "# One\n\n" + LOREM + "\n", SMALL))
    document, _, _ = engine.render(job.html, job.base, book_root=job.book_root, page_css=job.page_css)
    pdf = engine.write(document, variant=None, full_fonts=False, identifier="x")
    assert [f.code for f in page_checks.geometry(document, job, EDITIONS["pdf"], pdf)] == ["L220"]
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        del doc.pages[2].obj["/TrimBox"]
        out = io.BytesIO()
        doc.save(out)
    [bad] = [f for f in page_checks.geometry(document, job, EDITIONS["pdf"], out.getvalue()) if f.code == "L219"]
    assert (bad.severity, bad.page, bad.message, bad.edition) == ("warning", 3, "no TrimBox", "pdf")


def test_a_plate_is_art_meant_to_bleed_not_a_fault(tmp_path):
    """A full-page image marked `.bleed` runs past the trim on purpose and carries no running
    head; the print edition keeps the bleed in its BleedBox, the PDF cuts it off."""
    from PIL import Image

    from conftest import run_cli

    book = write_book(tmp_path / "book", "# One\n\n" + LOREM + "\n\n![A plate](plate.png){.bleed}\n\n" + LOREM + "\n",
                      SMALL)
    Image.new("L", (300, 450), 90).save(book / "plate.png")
    result = run_cli("--book", book, "--out", tmp_path / "out", "--edition", "pdf", "--edition", "print")
    assert result.code == 0, result.err
    report = json.loads((tmp_path / "out" / "a-tiny-book.report.json").read_text())
    for edition in ("pdf", "print"):
        codes = [f["code"] for f in report["editions"][edition]["findings"]]
        assert not {"L201", "L205", "L216", "L217", "L219"} & set(codes), edition
    geometry = {e: [f["message"] for f in report["editions"][e]["findings"] if f["code"] == "L220"][0]
                for e in ("pdf", "print")}
    assert geometry["pdf"].endswith("trim 5 × 8 in (360 × 576 pt), bleed 0 in")
    assert geometry["print"].endswith("trim 5 × 8 in (360 × 576 pt), bleed 0.125 in")


# --- The essay ----------------------------------------------------------------------------

def test_essay_has_no_layout_errors(essay_build, essay_slug):
    report = json.loads((essay_build / f"{essay_slug}.report.json").read_text())
    layout_findings = [f for f in report["editions"]["pdf"]["findings"] if f["code"].startswith("L")]
    assert not [f for f in layout_findings if f["severity"] == "error"]
    assert all(f["edition"] == "pdf" and (f["page"] or f["severity"] == "info") for f in layout_findings)
    [geometry] = [f for f in layout_findings if f["code"] == "L220"]
    pages = report["editions"]["pdf"]["pages"]
    assert geometry["message"] == f"{pages} pages, trim 6 × 9 in (432 × 648 pt), bleed 0 in"
    with pikepdf.open(essay_build / f"{essay_slug}.pdf") as pdf:       # what the check says, in the file
        assert len(pdf.pages) == pages
        assert {tuple(float(v) for v in p.obj["/TrimBox"]) for p in pdf.pages} == {(0, 0, 432, 648)}


def test_every_layout_code_is_registered():
    codes = all_codes()
    assert set(page_checks.CODES) <= set(codes)
    assert set(page_checks.SEVERITIES) == set(page_checks.CODES) | {"L101", "L102"}


# --- The corpus (opt-in: pytest -m corpus, or IMPRINT_CORPUS=1) ----------------------------

CORPUS_BOOKS = sorted(p.parent for p in CORPUS.glob("*/book.md")) if CORPUS.is_dir() else []


def opted_in(config) -> bool:
    return "corpus" in (config.getoption("-m") or "") or os.environ.get("IMPRINT_CORPUS") == "1"


@pytest.mark.corpus
@pytest.mark.parametrize("folder", CORPUS_BOOKS, ids=[p.name for p in CORPUS_BOOKS])
def test_corpus_layout(folder, request, capsys):
    if not opted_in(request.config):
        pytest.skip("corpus run is opt-in: pytest -m corpus")
    from imprint import pipeline

    book, _ = pipeline.run_checks(folder / "book.md")
    [result], _ = pipeline.typeset_paged(book, render.body_html(book), [EDITIONS["pdf"]], lambda message: None)
    counts = Counter(f.code for f in result.findings if f.code.startswith("L"))
    with capsys.disabled():
        print(f"\n{folder.name}: {result.pages} pages, " + json.dumps(dict(sorted(counts.items()))))
        for f in found(result, "L214"):
            print(f"  {f.message}")
    # Text off the page or over text, the footnote area over the text, a wrong contents number:
    # none in these carefully made books. (Notes away from their call, L102, are the note checks'.)
    assert not [f for f in result.findings if f.code in page_checks.ERRORS]

