"""A book typeset in parts (chapters in parallel processes, then joined) has the pages of one
unsplit layout: the same text, running heads and folios on every page, notes on their call's
page, contents page numbers where the chapters start, and the same links, outline and tags."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import random

import pdfplumber
import pikepdf
import pypdfium2
import pytest
from PIL import ImageChops

from conftest import write_book
from imprint.jobs import chapters
from imprint import pipeline
from imprint.jobs.job import Job, run_job
from imprint.typeset import engine

WORDS = ("the of and to in a is that for it as was with be by on not this are or from at which but have an they "
         "were there would their been has when who will more no if out so what up its about into than them can "
         "only other new some could time these two may then first any now such like over even most made after "
         "also many before must through back years where much way well down should because each just those people "
         "how too little state good very make world still own see men work long get here between both life being "
         "under never day same another know while last might great old year off come since against go came right").split()

BOOK_METADATA = """\
title: A Book in Parts
author: Test Author
lang: en
identifier: urn:uuid:00000000-0000-4000-8000-000000000008
date: 2020-01-01
"""


def chapters_manuscript(seed: int = 4, in_parts: bool = False) -> str:
    """Four chapters of 3 to 5 pages (so some end on a right-hand page and need a blank verso),
    each with sections, notes, and one link across chapters; `in_parts`: the chapters are the
    level-2 sections of two parts of the book (`{.part}` headings)."""
    rng = random.Random(seed)
    para = lambda n: " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."
    out, note = [], 1
    head = "##" if in_parts else "#"
    for ch in range(1, 5):
        if in_parts and ch in (1, 3):
            out.append(f"# Book {'One' if ch == 1 else 'Two'} {{#book{ch} .part}}\n")
        out.append(f"{head} Chapter {ch} {{#ch{ch}}}\n")
        for sec in range(1, 3):
            out.append(f"{head}# Section {ch}.{sec}\n")
            for p in range(4 + ch):
                text = para(60 + 10 * p)
                if p % 3 == 0:
                    out.append(text + f"[^n{note}]\n")
                    out.append(f"[^n{note}]: {para(6 + (note % 3) * 3)}\n")
                    note += 1
                else:
                    out.append(text + (" See [the first chapter](#ch1)." if ch == 3 and p == 1 else "") + "\n")
    return "\n".join(out)


class _Captured(Exception):
    pass


def paged_job(book_path) -> Job:
    """The job the pipeline makes for the paged editions (caught on its way to chapters.run)."""
    caught = {}

    def catch(job, say=None, limits=None, placed=None):
        caught["job"] = job
        raise _Captured

    mp = pytest.MonkeyPatch()
    mp.setattr(chapters, "run", catch)
    try:
        pipeline.build(book_path, book_path.parent / "never-written", cache=False)
    except _Captured:
        pass
    finally:
        mp.undo()
    return caught["job"]


@pytest.fixture(scope="module", params=["chapters", "parts of the book", "running heads set in two halves"])
def both(tmp_path_factory, request):
    """The same book laid out whole and in parts: chapters as level-1 sections, or as the
    level-2 sections of parts (Book One, Book Two), each chapter then a part of its own; or
    with its running heads and folios set in two documents side by side, as a long book's are."""
    in_parts = request.param == "parts of the book"
    book = write_book(tmp_path_factory.mktemp("parts") / "book", chapters_manuscript(in_parts=in_parts),
                      BOOK_METADATA)
    job = paged_job(book)
    whole = run_job(job)
    mp = pytest.MonkeyPatch()
    mp.setenv("IMPRINT_PARTS", "always")
    if request.param == "running heads set in two halves":
        mp.setattr(chapters, "OVERLAY_SPLIT_PAGES", 1)
        halves = chapters._overlay_jobs
        mp.setattr(chapters, "_overlay_jobs", lambda *a: _checked(halves(*a)))
    try:
        pieces = chapters.split(job)
        assert pieces is not None and len(pieces.texts) == (6 if in_parts else 4)
        said: list[str] = []
        split = chapters.run(job, said.append)
        assert not any("one piece" in line for line in said), said      # joined, not set again whole
    finally:
        mp.undo()
    return job, whole, split


def _checked(jobs):
    assert len(jobs) == 2 and jobs[1][1] > 0       # the overlay really is set in two pieces
    return jobs


def book_findings(layout) -> list:
    """Every finding, sorted: a book set in parts judges the whole book's (the contents' numbers,
    blank pages, running heads and folios, the share of hyphens, the page geometry) on its joined
    pages (imprint/jobs/chapters.py _book_findings), as a book set whole does on its own."""
    return sorted((f.code, f.page or 0, f.edition or "", f.message) for f in layout.findings)


def assert_pages_look_alike(one: bytes, other: bytes, skip=frozenset()) -> None:
    """The two PDFs' pages drawn alike, pixel for pixel at 54 dpi (pages in `skip` left out)."""
    a, b = pypdfium2.PdfDocument(one), pypdfium2.PdfDocument(other)
    for i in range(len(a)):
        if i in skip:
            continue
        left = a[i].render(scale=0.75).to_pil().convert("L")
        right = b[i].render(scale=0.75).to_pil().convert("L")
        assert ImageChops.difference(left, right).getbbox() is None, f"page {i + 1} differs"


def assert_same_as_cold(again, job) -> None:
    """`again` (a Layout built from a cache after an edit) is the layout of `job` set cold, in one
    piece: the same pages, text, pixels, anchors and findings."""
    from imprint.jobs.job import run_job
    fresh = run_job(job)
    assert again.pages == fresh.pages
    for edition in fresh.pdfs:
        assert page_texts(again.pdfs[edition]) == page_texts(fresh.pdfs[edition])
    assert_pages_look_alike(fresh.pdfs["pdf"], again.pdfs["pdf"])
    assert again.extracts["anchors"] == fresh.extracts["anchors"]
    assert book_findings(again) == book_findings(fresh)


_TEXTS: dict[str, list[str]] = {}


def page_texts(data: bytes) -> list[str]:
    """Each page's text (pdfplumber); the same PDF bytes, asked again, are not read again."""
    key = hashlib.sha256(data).hexdigest()
    if key not in _TEXTS:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            _TEXTS[key] = [page.extract_text() or "" for page in pdf.pages]
    return list(_TEXTS[key])


def test_every_page_shows_the_same_text_heads_and_folios(both):
    _, whole, split = both
    assert split.pages == whole.pages
    for edition in whole.pdfs:
        assert page_texts(split.pdfs[edition]) == page_texts(whole.pdfs[edition])


def test_every_page_looks_the_same(both):
    _, whole, split = both
    assert_pages_look_alike(whole.pdfs["pdf"], split.pdfs["pdf"])


def test_blank_versos_keep_chapters_on_rectos(both):
    _, whole, split = both
    plan = split.extracts["page_plan"]
    starts = [split.extracts["anchors"][f"ch{k}"] for k in range(1, 5)]
    assert all(page % 2 == 1 for page in starts)
    assert any(plan[page - 2]["blank"] for page in starts[1:]), "the test book should need a blank verso"


def test_notes_anchors_and_the_page_map_fall_on_the_same_pages(both):
    _, whole, split = both
    assert split.extracts["anchors"] == whole.extracts["anchors"]
    assert split.extracts["pagemap"] == whole.extracts["pagemap"]      # the EPUB's page list
    assert book_findings(split) == book_findings(whole)


def test_contents_page_numbers_are_where_the_chapters_start(both):
    _, _, split = both
    texts = page_texts(split.pdfs["pdf"])
    contents = next(t for t in texts if t.lstrip().lower().startswith("contents"))
    for k in range(1, 5):
        page = split.extracts["anchors"][f"ch{k}"]
        assert f"Chapter {k} {page}" in contents.replace("\n", " ")
        assert f"Chapter {k}" in texts[page - 1]


def structure(data: bytes):
    pdf = pikepdf.open(io.BytesIO(data))
    number = {p.objgen: i for i, p in enumerate(pdf.pages)}
    outline = []
    with pdf.open_outline() as tree:
        def walk(items, depth):
            for item in items:
                outline.append((depth, item.title, number[item.destination[0].objgen]))
                walk(item.children, depth + 1)
        walk(tree.root, 0)
    flat = pdf.Root.Names.Dests.Names
    names = {str(flat[i]): number[flat[i + 1][0].objgen] for i in range(0, len(flat), 2)}
    links = [(i, str(a.Dest)) for i, p in enumerate(pdf.pages) for a in p.obj.get("/Annots", []) if "/Dest" in a]
    return outline, names, links, pdf


def content(page) -> bytes:
    streams = page.obj.Contents
    return b"\n".join(s.read_bytes() for s in (streams if isinstance(streams, pikepdf.Array) else [streams]))


def test_links_outline_and_tags_are_joined(both):
    _, whole, split = both
    w_outline, w_names, w_links, _ = structure(whole.pdfs["pdf"])
    s_outline, s_names, s_links, pdf = structure(split.pdfs["pdf"])
    assert s_outline == w_outline and ("Chapter 3" in [t for _, t, _ in s_outline])
    assert s_names == w_names
    assert s_links == w_links and any(dest == "ch1" for _, dest in s_links)
    # Every page with content is in the structure tree, and every key in it is unique.
    root = pdf.Root.StructTreeRoot
    keys = [int(k) for k in root.ParentTree.Nums[::2]]
    assert len(keys) == len(set(keys)) and int(root.ParentTreeNextKey) > max(keys)
    for page in pdf.pages:
        if content(page).strip():
            assert int(page.obj.StructParents) in keys
        for annot in page.obj.get("/Annots", []):
            assert int(annot.StructParent) in keys
    assert pdf.Root.MarkInfo.Marked and str(pdf.Root.Lang) == "en"


def font_programs(data: bytes) -> set:
    pdf = pikepdf.open(io.BytesIO(data))
    return {(str(obj.FontName).split("+")[-1], len(obj[key].read_bytes()))
            for obj in pdf.objects if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/FontDescriptor"
            for key in ("/FontFile", "/FontFile2", "/FontFile3") if key in obj}


def test_the_print_edition_embeds_the_same_whole_fonts_once(both):
    _, whole, split = both
    assert font_programs(split.pdfs["print"]) == font_programs(whole.pdfs["print"])
    pdf = pikepdf.open(io.BytesIO(split.pdfs["print"]))
    programs = [obj for obj in pdf.objects if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/OpenType"]
    assert len({p.objgen for p in programs}) == len(font_programs(whole.pdfs["print"]))


def test_running_heads_are_marked_as_pagination_artifacts(both):
    _, _, split = both
    pdf = pikepdf.open(io.BytesIO(split.pdfs["pdf"]))
    stamped = [i for i, page in enumerate(pdf.pages) if b"/Artifact <</Type /Pagination>> BDC" in content(page)]
    anchors = split.extracts["anchors"]
    first_text_page = anchors.get("book1", anchors["ch1"]) - 1
    plan = split.extracts["page_plan"]
    assert stamped == [i for i in range(first_text_page, len(plan)) if not plan[i]["blank"]]


def test_a_book_that_cannot_be_split_is_set_whole(tiny_book, monkeypatch):
    monkeypatch.setenv("IMPRINT_PARTS", "always")
    essay = tiny_book("# One\n\nText.\n\n# Two\n\nMore.\n", metadata=BOOK_METADATA + "form: essay\n")
    assert len(chapters.split(paged_job(essay)).texts) == 1      # its whole text one part (test_parts_essay.py)
    job = paged_job(essay)
    assert chapters.split(dataclasses.replace(job, html=job.html.replace('class="essay"', 'class="other"'))) is None
    book = tiny_book("# One\n\nText.\n\n# Two\n\nMore.\n", metadata=BOOK_METADATA)
    assert chapters.split(paged_job(book)) is not None
    monkeypatch.setenv("IMPRINT_PARTS", "never")
    assert chapters.split(paged_job(book)) is None


@pytest.mark.parametrize("css, splits", [
    (".x { color: red }", True),
    ("h1 { counter-increment: chapter }", False),
    ("@page { @top-center { content: element(head) } }", False),
    ("a::after { content: target-text(attr(href url)) }", False),
    (".contents a::after { content: leader('.') target-counter(attr(href url), page, lower-roman) }", False),
])
def test_stylesheets_a_part_cannot_honour_keep_the_book_whole(tiny_book, monkeypatch, css, splits):
    monkeypatch.setenv("IMPRINT_PARTS", "always")
    job = paged_job(tiny_book("# One\n\nText.\n\n# Two\n\nMore.\n", metadata=BOOK_METADATA))
    job = dataclasses.replace(job, page_css=job.page_css + css)
    assert (chapters.split(job) is not None) == splits


def test_page_numbers_in_findings_are_the_books():
    from imprint.errors import Finding
    moved = chapters._moved(Finding("L102", "error", "note 2 is called on page 3 but starts on page 4", page=3), 10)
    assert (moved.page, moved.message) == (13, "note 2 is called on page 13 but starts on page 14")


def test_a_part_opens_alone_on_a_recto_and_its_chapters_on_rectos(both):
    _, whole, split = both
    anchors = split.extracts["anchors"]
    if "book1" not in anchors:
        pytest.skip("this book has no parts")
    texts = page_texts(split.pdfs["pdf"])
    for part, name, first in (("book1", "Book One", "ch1"), ("book3", "Book Two", "ch3")):
        page = anchors[part]
        assert page % 2 == 1 and texts[page - 1].split() == name.split()     # no head, no folio
        assert anchors[first] == page + 2 and not texts[page].strip()          # a blank verso between
    assert anchors["ch2"] % 2 == 1 and anchors["ch4"] % 2 == 1
    assert split.extracts["page_plan"][anchors["ch2"] - 1]["name"] == "chapter"


@pytest.mark.parametrize("heading, sections, parted", [
    ("# Book One", 8200, True),                 # chapter-long level-2 sections: a part
    ("# Book One", 2000, False),                # short ones (an appendix's notes): run-on sections
    ("# Book One {.part}", 2000, True),         # said so
    ("# Book One {.chapter}", 8200, False),     # said otherwise
])
def test_which_level_1_sections_are_parts(tiny_book, heading, sections, parted):
    from imprint.manuscript.load import load
    from imprint.html.render import body_html

    rng = random.Random(1)
    text = lambda: " ".join(rng.choice(WORDS) for _ in range(sections // 5)).capitalize() + "."
    manuscript = (f"{heading}\n\n*What this book is about.*\n\n## First\n\n{text()}\n\n## Second\n\n{text()}\n\n"
                  f"# Afterword\n\n{text()}\n")
    root = body_html(load(tiny_book(manuscript, metadata=BOOK_METADATA))).root
    first, last = root.xpath("./section")
    assert ("part" in first.get("class").split()) == parted
    assert len(first.xpath("./section[contains(@class, 'chapter')]")) == (2 if parted else 0)
    assert "part" not in last.get("class").split()


def test_the_epub_and_cover_of_a_book_in_parts_are_made_while_it_is_joined(tmp_path, monkeypatch):
    """Started once the joined pages are known (chapters.run's `placed`), before the join, and the
    same files as made after it."""
    from imprint.jobs import join

    book = write_book(tmp_path / "book", chapters_manuscript(), BOOK_METADATA)
    monkeypatch.setenv("IMPRINT_PARTS", "always")
    events: list[str] = []
    for name in ("_start_epubs", "_start_cover"):
        started = getattr(pipeline, name)
        monkeypatch.setattr(pipeline, name, lambda *a, _f=started, _n=name, **k: events.append(_n) or _f(*a, **k))
    joining = join.join
    monkeypatch.setattr(join, "join", lambda plan: events.append("join") or joining(plan))
    early = pipeline.build(book, tmp_path / "early", cache=False)
    assert events == ["_start_epubs", "_start_cover", "join"], events       # in this process: the PDF's join

    run = chapters.run
    monkeypatch.setattr(chapters, "run", lambda job, say=None, limits=None, placed=None: run(job, say, limits))
    events.clear()
    late = pipeline.build(book, tmp_path / "late", cache=False)
    assert events == ["join", "_start_epubs", "_start_cover"], events
    assert {r.edition: r.data for r in early.editions} == {r.edition: r.data for r in late.editions}


def test_the_whole_books_checks_run_on_the_joined_pages(tmp_path, monkeypatch):
    """A stylesheet that leaves the folio off every verso: the book set in parts finds each such
    text page (L216), as the book set whole does, on the same pages, and says what the whole book
    is (L214, L220); before, a part left these to a layout it never made, and said nothing."""
    book = write_book(tmp_path / "book", chapters_manuscript(), BOOK_METADATA)
    job = paged_job(book)
    job = dataclasses.replace(job, page_css=job.page_css + "@page :left { @top-left { content: none !important } }\n",
                              editions=job.editions[:1], gutter=())
    whole = run_job(job)
    monkeypatch.setenv("IMPRINT_PARTS", "always")
    split = chapters.run(job)
    assert split.extracts["page_plan"] and len(chapters.split(job).texts) == 4
    found = book_findings(split)
    assert found == book_findings(whole)
    missing = [page for code, page, _, message in found if code == "L216" and "folio" in message]
    assert missing and all(page % 2 == 0 for page in missing)
    assert {"L214", "L220"} <= {code for code, *_ in found}
    assert any(m["code"] == "L216" for m in split.extracts["marks"])      # drawn on the proof
