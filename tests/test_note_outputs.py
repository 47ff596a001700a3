"""Notes in the built editions: a long note runs on from its call's page over the next
pages (checked on the written PDF with pdfplumber), the EPUB's noterefs and footnotes link
both ways, both editions carry the same notes under the same numbers, and the output
checks (N2xx) catch what they are for."""

from __future__ import annotations

import json
import random
import re
import zipfile
from io import BytesIO

import pdfplumber
import pikepdf
import pytest
from hypothesis import given, settings, strategies as st
from lxml import etree, html as lhtml

from conftest import run_cli, write_book

from imprint.typeset import longnotes
from imprint.checks.note_outputs import _spine, check_epub_notes, letters, note_texts, pdf_note_findings
from imprint.manuscript.load import load
from imprint.typeset.positions import NoteOnPage, PageNotes
from imprint.html.render import body_html

WORDS = ("the council of workers met in the great hall of the factory and argued through the night about "
         "bread land peace elections delegates recall committees soviets districts textile railway printers "
         "metal unions assembly resolution majority minority insurrection government provisional democracy "
         "historians archive memoir correspondence newspaper pamphlet congress delegation").split()


def _sentence(r, n):
    words = [r.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def _paragraph(r, sentences):
    return " ".join(_sentence(r, r.randint(8, 16)) for _ in range(sentences))


def long_note_manuscript() -> str:
    """Prose, a note of over 1,000 words (paragraphs, a block quotation, a list) called in the
    middle of a page, a short note called on a page the long note runs on to, and a note
    called twice, and a heading with a note. Labels are not in call order: the numbers must
    follow the calls."""
    r = random.Random(3)
    blocks = [_paragraph(r, 9), _paragraph(r, 9), _paragraph(r, 9), "> " + _paragraph(r, 6), _paragraph(r, 8),
              "- " + _sentence(r, 14) + "\n- " + _sentence(r, 18) + "\n- " + _sentence(r, 12),
              _paragraph(r, 9), _paragraph(r, 9), _paragraph(r, 9), _paragraph(r, 9), _paragraph(r, 8)]
    note = "\n".join("    " + line if line else "" for line in "\n\n".join(blocks).split("\n")).lstrip()
    text = [_paragraph(r, 7) for _ in range(4)]
    text.append(_paragraph(r, 4) + " The long note is called here.[^zlong] " + _paragraph(r, 3))
    text += [_paragraph(r, 7) for _ in range(3)]
    text.append(_paragraph(r, 3) + " A short note where the long one runs on.[^amid] " + _paragraph(r, 3))
    text += [_paragraph(r, 7) for _ in range(5)]
    text.append("The first short note is called again.[^amid] A last note.[^last]")
    text.append("# Afterword[^head]\n\nThe closing paragraph of the book.")
    return ("\n\n".join(text) + "\n\n[^zlong]: " + note +
            "\n\n[^amid]: A short note, called where the long note runs on.\n\n[^last]: The last note.\n"
            "\n[^head]: A note called from a heading.\n")


@pytest.fixture(scope="module")
def long_book(tmp_path_factory):
    folder = write_book(tmp_path_factory.mktemp("longnote") / "book", long_note_manuscript())
    out = folder.parent / "out"
    result = run_cli("--book", folder, "--out", out)
    assert result.code == 0, result.err
    book = load(folder)
    body = body_html(book)
    pdf = (out / f"{book.slug}.pdf").read_bytes()
    return {"folder": folder, "out": out, "book": book, "body": body, "err": result.err,
            "pdf": pdf, "pages": _pages(pdf), "epub": (out / f"{book.slug}.epub").read_bytes()}


def note_text(body, n) -> str:
    return "".join("".join(b.itertext()) for b in body.notes[n].blocks)


def test_the_long_note_is_long_enough(long_book):
    words = note_text(long_book["body"], 1).split()
    assert len(words) > 1000
    kinds = {b.tag for b in long_book["body"].notes[1].blocks}
    assert {"p", "blockquote", "ul"} <= kinds


def _pages(pdf_bytes):
    """Per page of the text (from the first note call on): the body's words (11 pt), the
    calls (7.5 pt) and the notes' words (9 pt), running heads and folios (in the top margin)
    left out; the front matter's pages are empty."""
    pages = []
    with pdfplumber.open(BytesIO(pdf_bytes)) as pdf:
        for page in pdf.pages:
            words = [w for w in page.extract_words(extra_attrs=["size"]) if w["top"] > 60]
            pages.append({
                "height": page.height,
                "body": [w for w in words if abs(w["size"] - 11) < 0.3],
                "calls": [w for w in words if abs(w["size"] - 7.5) < 0.3],
                "notes": [w for w in words if abs(w["size"] - 9) < 0.3],
            })
    first = next(i for i, p in enumerate(pages) if p["calls"])
    for p in pages[:first]:
        p["body"], p["notes"] = [], []
    return pages


def test_long_note_starts_on_its_call_page_and_runs_on(long_book):
    pages = long_book["pages"]
    call_page = next(i for i, p in enumerate(pages)
                     if any(w["text"].startswith("here.") for w in p["body"]) and
                     any(w["text"] == "1" for w in p["calls"]))
    note_pages = [i for i, p in enumerate(pages) if p["notes"]]
    first_note_page = next(i for i, p in enumerate(pages) if p["notes"] and p["notes"][0]["text"] == "1")
    assert first_note_page == call_page
    # It runs on over consecutive pages: at least two more, with no page between left out.
    run = [i for i in note_pages if i >= call_page]
    assert run[:3] == [call_page, call_page + 1, call_page + 2]


def test_every_note_once_complete_in_order_and_on_the_page(long_book):
    pages = long_book["pages"]
    body = long_book["body"]
    drawn = "".join(w["text"] for p in pages for w in p["notes"])
    expected = "".join(str(n) + note_text(body, n) for n in sorted(body.notes))
    assert letters(drawn) == letters(expected)
    for p in pages:
        if not p["notes"]:
            continue
        # Not off the page: above the bottom margin (0.9 in). Not over the text: below it.
        assert max(w["bottom"] for w in p["notes"]) <= p["height"] - 0.9 * 72 + 1
        if p["body"]:
            assert min(w["top"] for w in p["notes"]) > max(w["bottom"] for w in p["body"])


def test_numbers_follow_the_calls_in_every_edition(long_book):
    pages = long_book["pages"]
    calls = [int(w["text"]) for p in pages for w in p["calls"] if w["text"].isdigit()]
    assert calls == [1, 2, 3, 4, 5]
    with zipfile.ZipFile(BytesIO(long_book["epub"])) as z:
        text = "".join(z.read(name).decode() for name in _spine(z))
    assert re.findall(r'epub:type="noteref"[^>]*>(\d+)<', text) == ["1", "2", "3", "4", "5"]


def test_a_note_called_twice_is_printed_twice_and_warned(long_book):
    body = long_book["body"]
    assert note_text(body, 2) == note_text(body, 3)
    assert "N104" in long_book["err"] or "N104" in json.dumps(
        json.loads((long_book["out"] / f"{long_book['book'].slug}.report.json").read_text())["findings"])


def test_a_heading_keeps_its_call_out_of_contents_and_navigation(long_book):
    with pikepdf.open(BytesIO(long_book["pdf"])) as pdf:
        with pdf.open_outline() as outline:
            titles = [item.title for item in outline.root]
    assert "Afterword" in titles
    with zipfile.ZipFile(BytesIO(long_book["epub"])) as z:
        nav = z.read(next(n for n in z.namelist() if n.endswith("nav.xhtml"))).decode()
        chapter = "".join(z.read(name).decode() for name in _spine(z) if "Afterword" in z.read(name).decode()
                          and "nav" not in name)
    assert ">Afterword<" in nav and "Afterword5" not in nav
    assert re.search(r"<h1[^>]*>Afterword<a [^>]*noteref[^>]*>5</a></h1>", chapter)
    assert "N111" in long_book["err"]


def test_editions_carry_the_same_notes(long_book):
    assert check_epub_notes(long_book["epub"], long_book["body"].notes) == []


# --- the EPUB checks catch what they are for ---------------------------------------------

def _tamper(epub: bytes, change) -> bytes:
    src = zipfile.ZipFile(BytesIO(epub))
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name.endswith(".xhtml") and "noteref" in data.decode():
                data = change(data.decode()).encode()
            dst.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize("code, change", [
    ("N211", lambda t: t.replace('href="#fn2"', 'href="#nowhere"', 1)),
    ("N212", lambda t: t.replace('href="#fnref3"', 'href="#fnref1"', 1)),
    ("N213", lambda t: re.sub(r'(epub:type="noteref"[^>]*>)4<', r"\g<1>7<", t, 1)),
    ("N214", lambda t: re.sub(r'<aside[^>]*id="fn4".*?</aside>', "", t, 1, flags=re.S)),
    ("N215", lambda t: t.replace("The last note.", "The lost note.", 1)),
])
def test_epub_check(long_book, code, change):
    tampered = _tamper(long_book["epub"], change)
    assert tampered != long_book["epub"]
    assert code in {f.code for f in check_epub_notes(tampered, long_book["body"].notes)}


# --- the PDF inspection catches what it is for -------------------------------------------

def _page(number, calls=(), notes=(), area=400.0, text=380.0, bottom=583.0):
    notes = tuple(NoteOnPage(n, piece, area + 10, area + 30, text_) for n, piece, text_ in notes)
    return PageNotes(number, tuple(calls), notes, 54.0, 583.0, area if notes else None,
                     bottom if notes else None, text)


EXPECTED = {1: "1 The first note.", 2: "2 The second note, which is long."}


def test_inspection_passes_good_pages():
    pages = [_page(1, [1, 2], [(1, 0, "1 The first note."), (2, 0, "2 The second note,")]),
             _page(2, [], [(2, 1, "which is long.")])]
    assert pdf_note_findings(pages, EXPECTED) == []


@pytest.mark.parametrize("code, pages", [
    ("N201", [_page(1, [1, 2], [(1, 0, "1 The first note."), (2, 0, "2 The second note, which is long.")]),
              _page(2, [], [(1, 0, "1 The first note.")])]),
    ("N202", [_page(1, [1, 2], [(1, 0, "1 The first note."), (2, 0, "2 The second note,")])]),
    ("N203", [_page(1, [1, 2], [(1, 0, "The first note."), (2, 0, "2 The second note, which is long.")])]),
    ("N204", [_page(1, [1, 2], [(1, 0, "1 The first note."), (2, 0, "2 The second note,")]), _page(2),
              _page(3, [], [(2, 1, "which is long.")])]),
    ("N205", [_page(1, [1, 2], [(1, 0, "1 The first note."), (2, 0, "2 The second note, which is long.")],
                    bottom=600.0)]),
    ("N206", [_page(1, [1, 2], [(1, 0, "1 The first note."), (2, 0, "2 The second note, which is long.")],
                    text=420.0)]),
    ("N207", [_page(1, [2, 1], [(1, 0, "1 The first note."), (2, 0, "2 The second note, which is long.")])]),
])
def test_inspection_catches(code, pages):
    assert code in {f.code for f in pdf_note_findings(pages, EXPECTED)}


def _pointed(same_page: bool):
    pointer = NoteOnPage(2, 0, 410.0, 420.0, "2 See note 2 on the next page.", pointer=True)
    moved = NoteOnPage(2, 1, 430.0, 450.0, "2 The second note, which is long.")
    first = PageNotes(1, (1, 2), (NoteOnPage(1, 0, 390.0, 400.0, "1 The first note."), pointer)
                      + ((moved,) if same_page else ()), 54.0, 583.0, 380.0, 450.0, 370.0)
    return [first] + ([] if same_page else [PageNotes(2, (), (moved,), 54.0, 583.0, 420.0, 450.0, 400.0)])


def test_a_pointer_to_a_note_on_its_own_page_is_named():
    """N208 for a note moved on with a pointer; N209 when the note ended up on the pointer's own
    page after all (the pointer's "on the next page" would send the reader overleaf)."""
    moved_on = {f.code: f for f in pdf_note_findings(_pointed(False), EXPECTED)}
    assert "N208" in moved_on and "N209" not in moved_on and "page 2" in moved_on["N208"].message
    same = {f.code: f for f in pdf_note_findings(_pointed(True), EXPECTED)}
    assert "N209" in same and "N208" not in same and "page 1 itself" in same["N209"].message


def test_note_texts_joins_the_pieces_of_a_cut_note():
    html = ('<p>x<span class="footnote" id="fn1" data-note="1">1 Part one</span>'
            '<span class="footnote fn-piece" data-note="1" data-piece="1"> and two.</span></p>')
    assert note_texts(html) == {1: "1 Part one and two."}


# --- cutting a note keeps every character, once, in order --------------------------------

NOTE = ('<span class="footnote" id="fn1"><a class="note-number" href="#fnref1">1</a>'
        '<span class="fn-p">First <em>para graph</em> of the note, with words.</span>'
        '<span class="fn-blockquote"><span class="fn-p">A quoted line and more.</span></span>'
        '<span class="fn-ul"><span class="fn-li">one item</span><span class="fn-li">two items here</span></span>'
        '<span class="fn-p">Last para.</span></span>')


@settings(max_examples=60, deadline=None)
@given(st.sets(st.integers(min_value=1, max_value=70), max_size=6))
def test_pieces_hold_the_note(cuts):
    note = lhtml.fragment_fromstring(NOTE)
    total = len(longnotes._chars(note))
    bounds = [0] + sorted(c for c in cuts if c < total) + [total]
    pieces = [longnotes._slice(note, lo, hi if hi < total else float("inf"), "", False)
              for lo, hi in zip(bounds, bounds[1:])]
    assert "".join("".join(p.itertext()) for p in pieces).split() == "".join(note.itertext()).split() or \
        letters("".join("".join(p.itertext()) for p in pieces)) == letters("".join(note.itertext()))
    for piece in pieces[1:]:
        ghost_free = [el for el in piece.iter() if "fn-ghost" not in (el.get("class") or "")]
        assert all(el.get("id") != "fn1" for el in ghost_free)
    assert sum(1 for p in pieces for el in p.iter() if el.get("class") == "note-number") == 1


def test_a_cut_paragraph_is_marked_on_both_sides():
    note = lhtml.fragment_fromstring(NOTE)
    first = longnotes._slice(note, 0, 8, "", True)        # "1Firstpa" | "ragraph..."
    second = longnotes._slice(note, 8, float("inf"), "", False)
    cut = [el.get("class") for el in first.iter() if "fn-cut" in (el.get("class") or "")]
    assert any("fn-p" in c and "fn-cut-line" in c for c in cut)
    assert any("fn-cont" in (el.get("class") or "") and "fn-p" in el.get("class") for el in second.iter())
    # A piece that starts with the block quotation keeps a hidden copy of the paragraph before
    # it, so `.fn-p + .fn-blockquote`-style rules still apply.
    start = len(longnotes._chars(lhtml.fragment_fromstring(NOTE)[1])) + 1     # the number, paragraph 1
    third = longnotes._slice(note, start, float("inf"), "", False)
    quote = next(el for el in third.iter() if "fn-blockquote" in (el.get("class") or ""))
    assert "fn-cont" not in quote.get("class")
    assert "fn-ghost" in (quote.getprevious().get("class") or "")
    assert not "".join(quote.getprevious().itertext())
    assert etree.tostring(first, encoding="unicode").count("fn-piece") == 0


TABLE_NOTE = ('<span class="footnote" id="fn2"><a class="note-number" href="#fnref2">2</a>'
              '<span class="fn-p">Grain.</span><span class="fn-table"><span class="fn-colgroup">'
              '<span class="fn-col" style="width: 40%"></span><span class="fn-col"></span></span>'
              '<span class="fn-thead"><span class="fn-tr"><span class="fn-th">Year</span><span class="fn-th">Wheat</span></span></span>'
              '<span class="fn-tbody">' + "".join(f'<span class="fn-tr"><span class="fn-td">17{k}</span><span class="fn-td">w{k}</span></span>'
                                                 for k in range(4)) + '</span>'
              '<span class="fn-tfoot"><span class="fn-tr"><span class="fn-td">Total</span><span class="fn-td">Sum</span></span></span>'
              '</span></span>')


def test_a_table_cut_between_rows_repeats_its_header_and_columns_and_keeps_its_footer_last():
    note = lhtml.fragment_fromstring(TABLE_NOTE)
    chars = "".join(longnotes._chars(note))
    cut = chars.index("172")                        # between the second and third body rows
    first = longnotes._slice(note, 0, cut, "", False)
    second = longnotes._slice(note, cut, float("inf"), "", False)
    classes = lambda piece, name: [el for el in piece.iter() if name in (el.get("class") or "").split()]
    assert len(classes(first, "fn-thead")) == 1 and not classes(first, "fn-repeat")
    assert not classes(first, "fn-tfoot") and len(classes(second, "fn-tfoot")) == 1
    head = classes(second, "fn-thead")
    assert len(head) == 1 and "".join(head[0].itertext()) == "YearWheat"
    # the repeated rows and columns are marked in every element, so they are not the note's text
    repeated = [el for el in second.iter() if "fn-repeat" in (el.get("class") or "").split()]
    assert {e.get("class").split()[0] for e in repeated} >= {"fn-thead", "fn-tr", "fn-th", "fn-colgroup", "fn-col"}
    assert classes(second, "fn-col")[0].get("style") == "width: 40%"
    own = "".join(t for el in second.iter() if "fn-repeat" not in (el.get("class") or "")
                  for t in [el.text or ""])
    assert letters(own) == letters(chars[cut:])
    assert letters("".join(first.itertext())) + letters(own) == letters("".join(note.itertext()))


def test_the_weasyprint_branch_we_switch_off_is_still_there():
    """longnotes.notes_stay_with_calls() relies on WeasyPrint reporting notes for a
    paragraph's orphans only outside columns; if that changes, this test says so."""
    import inspect
    from weasyprint.layout import LayoutContext, block
    assert "report = not context.in_column and" in inspect.getsource(block._linebox_layout)
    line_layout, update = block._linebox_layout, LayoutContext._update_footnote_area
    with longnotes.notes_stay_with_calls():
        assert block._linebox_layout is not line_layout
    assert (block._linebox_layout, LayoutContext._update_footnote_area) == (line_layout, update)


def test_a_long_note_is_cut_before_the_first_layout_as_after_it(long_book, monkeypatch):
    """precut measures the long note on a page of its own and cuts it where a first layout of
    the book would have: the book is laid out once, and its pages are those of the two-layout way."""
    import pypdfium2
    from test_parts import paged_job
    from imprint.jobs.job import run_job
    from imprint.typeset import engine

    job = paged_job(long_book["folder"])
    once = run_job(job)
    settled = once.extracts["notes_settled"]
    assert settled["layouts"] <= 2 and settled["split"].get(1, 0) >= 2
    monkeypatch.setattr(longnotes, "precut", lambda html, lay_out: (html, {}))
    twice = run_job(job)
    assert twice.extracts["notes_settled"]["layouts"] > settled["layouts"]
    assert twice.extracts["notes_settled"]["split"] == settled["split"]
    texts = lambda data: [page.get_textpage().get_text_range() for page in pypdfium2.PdfDocument(data)]
    assert texts(once.pdfs["pdf"]) == texts(twice.pdfs["pdf"])
