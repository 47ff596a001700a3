"""Page references and the index (imprint/manuscript/index.py, imprint/html/index.py,
imprint/jobs/pagerefs.py): a book of four chapters built for real, its PDF read back with
pdfplumber — every number the index and the page references print is the folio of the page
where the marked words (or the target) stand — and its EPUB's index links checked against
the marks and the EPUB's own page-break markers."""

from __future__ import annotations

import json
import os
import re
import zipfile

import pdfplumber
import pytest
from lxml import etree

from conftest import ROOT, run_cli, write_book

META = """\
title: Indexed Book
author: A. Writer
lang: {lang}
identifier: urn:uuid:00000000-0000-4000-8000-0000000001d7
date: 2020-01-01
"""
FILLER = ("The council met in the long hall and argued about the roads, the weather and the price "
          "of bread, as it had done every autumn since anyone could remember, and nobody minded. ")
# Invented words, so each stands in the text only where it is marked.
ONE_PAGE_TWICE = "Vellumark"
CONSECUTIVE = "Quillonbe"
RANGE = "Thornwick"


def manuscript() -> str:
    chapters = []
    for c in range(1, 5):
        paragraphs = [f"# Chapter {c} {{#chapter-{c}}}\n"]
        for p in range(14):
            text = FILLER * 3
            if c == 1 and p == 0:
                text = (f"The [{ONE_PAGE_TWICE}]{{.index}} stood by the river, and the [{ONE_PAGE_TWICE}]{{.index}} "
                        "was old. The far place is described on page [](#far-place){.page}, forward. " + text)
            if c == 1 and p == 12:
                text = "The [Harvestine]{.index} began late that year. " + text
            if c == 2:       # one mark in every paragraph: pages in a row, printed as a range
                text = f"Again [{CONSECUTIVE}]{{.index}} was spoken of. " + text
            if c == 2 and p == 3:
                text = ("Grain came in.[^grain] [Whetrix]{.index entry=\"Granary!whetrix\"} and "
                        "[Ryemond]{.index entry=\"Granary!ryemond\"} were stored, and "
                        "[Corvale]{.index entry=\"Corvale|see Granary\"} too. " + text)
            if c == 3 and p == 6:
                text = ("[The far place]{#far-place} lay beyond the hills; the [Élanor]{.index} of it was "
                        "told on page [](#chapter-1){.page}, backward. " + text)
            if c == 3 and p == 1:        # a page range, opened here and closed ten paragraphs on
                text = f"The [{RANGE}]{{.index entry=\"{RANGE}|(\"}} drought began. " + text
            if c == 3 and p == 11:
                text = f"The [{RANGE}]{{.index entry=\"{RANGE}|)\"}} drought ended. " + text
            if c == 4 and p == 2:
                text = "The [appleton]{.index} and [Zebulor]{.index} and [ábacore]{.index} were named. " + text
            if c == 4 and p == 4:        # sorted under G, printed with its article
                text = "[The Gralloch]{.index entry=\"Gralloch@The Gralloch\"} was a pass. " + text
            paragraphs.append(text + "\n")
        chapters.append("\n".join(paragraphs))
    return "\n".join(chapters) + "\n[^grain]: A note about [Saltrine]{.index} and its price.\n"


_TEXTS: dict[tuple, list[str]] = {}


def pages_text(pdf_path) -> list[str]:
    """Each page's text; a file read before and unchanged since (the module's book, read by three
    tests) is not read again."""
    st = os.stat(pdf_path)
    key = (str(pdf_path), st.st_ino, st.st_size, st.st_mtime_ns)
    if key not in _TEXTS:
        with pdfplumber.open(pdf_path) as pdf:
            _TEXTS[key] = [(page.extract_text() or "") for page in pdf.pages]
    return list(_TEXTS[key])


def joined(text: str) -> str:
    """Page text with hyphenated line ends joined and lines run together."""
    return re.sub(r"-\n", "", text).replace("\n", " ")


def printed(pages: list[int]) -> str:
    """The numbers an index prints for marks on these pages (ranges for consecutive ones)."""
    out, run = [], []
    for page in sorted(set(pages)):
        if run and page == run[-1] + 1:
            run.append(page)
            continue
        if run:
            out.append(run)
        run = [page]
    out.append(run)
    return ", ".join(f"{r[0]}–{r[-1]}" if len(r) > 1 else str(r[0]) for r in out)


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    folder = write_book(tmp_path_factory.mktemp("indexed") / "book", manuscript(), META.format(lang="en"))
    out = folder.parent / "out"
    result = run_cli("build", "--book", folder, "--out", out, "--no-cache", "--validate")
    assert result.code == 0, result.err + result.out
    return out


def test_the_book_is_long_enough_and_every_printed_folio_is_its_page_number(book):
    with pdfplumber.open(book / "indexed-book.pdf") as pdf:
        assert len(pdf.pages) >= 15
        folios = 0
        for number, page in enumerate(pdf.pages, start=1):
            # The running head line: the folio at its outer end (verso left, recto right).
            head = [w["text"] for w in page.extract_words() if w["top"] < 45]
            digits = [w for w in head[:1] + head[-1:] if w.isdigit()]
            if digits:
                assert digits == [str(number)], (number, head)
                folios += 1
    assert folios >= 10


def index_lines(pages: list[str]) -> tuple[int, dict[str, str]]:
    """The index page (0-based) and each entry's line -> what follows the term."""
    at = max(i for i, p in enumerate(pages) if p.strip().startswith("Index"))
    lines = [l.strip() for p in pages[at:] for l in p.splitlines()[1:]]
    entries = {}
    for line in lines:
        term, _, rest = line.partition(",")
        entries[term.strip()] = rest.strip()
    return at, entries


def test_every_index_number_is_the_folio_of_the_page_its_marked_words_stand_on(book):
    pages = pages_text(book / "indexed-book.pdf")
    at, entries = index_lines(pages)
    text_pages = [joined(p) for p in pages[:at]]

    def where(word):
        return [n for n, p in enumerate(text_pages, start=1) if word in p]

    for term in (ONE_PAGE_TWICE, CONSECUTIVE, "Harvestine", "Élanor", "appleton", "Zebulor", "ábacore",
                 "Saltrine"):
        found = where(term)
        assert found, term
        assert entries[term] == printed(found), (term, entries[term], found)
    # The repeated mark on one page: one number. The marks on consecutive pages: a range.
    assert len(where(ONE_PAGE_TWICE)) == 1 and "," not in entries[ONE_PAGE_TWICE]
    assert len(where(CONSECUTIVE)) >= 3 and "–" in entries[CONSECUTIVE]
    # Sub-entries under their main entry (which prints no page of its own), and a see-reference.
    assert entries["Granary"] == ""
    assert entries["whetrix"] == printed(where("Whetrix")) and entries["ryemond"] == printed(where("Ryemond"))
    assert entries["Corvale"] == "see Granary"
    # A |( … |) range: from the page of its opening mark to the page of its closing one.
    opened, closed = where(f"The {RANGE} drought began"), where(f"The {RANGE} drought ended")
    assert len(opened) == len(closed) == 1 and closed[0] > opened[0] + 1, (opened, closed)
    assert entries[RANGE] == f"{opened[0]}–{closed[0]}"
    # sort@shown: printed as shown, filed by the sort key (under G, before Granary).
    assert entries["The Gralloch"] == printed(where("The Gralloch was a pass"))
    # Sorted without regard to accents or case: ábacore, appleton, Corvale, Élanor, Granary, ...
    order = [t for t in entries if t]
    assert order.index("ábacore") < order.index("appleton") < order.index("Corvale") < order.index("Élanor") \
        < order.index("The Gralloch") < order.index("Granary") < order.index("Harvestine") \
        < order.index("Thornwick") < order.index("Zebulor")
    # Letter groups: each main entry stands under the heading of its first letter (accents stripped).
    letters = [t for t in order if len(t) == 1 and t.isupper()]
    assert letters == ["A", "C", "E", "G", "H", "Q", "S", "T", "V", "Z"], letters
    for term in ("ábacore", "Élanor", "The Gralloch", "Zebulor"):
        group = [t for t in order[:order.index(term)] if t in letters][-1]
        assert group == {"á": "A", "É": "E", "T": "G", "Z": "Z"}[term[0]], (term, group)
    assert order.index("ryemond") < order.index("whetrix")
    # The index is in the contents, with its page.
    contents = next(p for p in pages if p.strip().startswith("Contents"))
    assert re.search(rf"(?m)^Index {at + 1}$", contents), contents


def test_page_references_print_the_folio_of_their_targets_forward_and_backward(book):
    pages = pages_text(book / "indexed-book.pdf")
    text = [joined(p) for p in pages]
    forward = re.search(r"described on page (\d+), forward", " ".join(text))
    backward = re.search(r"told on page (\d+), backward", " ".join(text))
    far = next(n for n, p in enumerate(text, start=1) if "The far place lay beyond" in p)
    chapter_1 = next(n for n, p in enumerate(text, start=1) if re.match(r"\s*Chapter 1\b", p) and n > 3)
    assert int(forward.group(1)) == far
    assert int(backward.group(1)) == chapter_1
    ref_page = next(n for n, p in enumerate(text, start=1) if "forward" in p)
    assert far > ref_page            # forward indeed
    # Nothing printed raw or empty.
    assert "{.page}" not in " ".join(text) and "{.index" not in " ".join(text)


def test_the_epub_links_each_number_to_its_mark_with_the_print_page_number_and_passes_epubcheck(book):
    report = json.loads((book / "indexed-book.report.json").read_text())
    assert [f for f in report["findings"] if f["code"] in ("E203", "E204", "E205") or f["code"].startswith("X")] == []
    pdf_pages = pages_text(book / "indexed-book.pdf")
    _, pdf_entries = index_lines(pdf_pages)
    with zipfile.ZipFile(book / "indexed-book.epub") as z:
        opf = z.read("EPUB/content.opf")
        spine = [m for m in re.findall(rb'<itemref idref="([^"]+)"', opf)]
        items = dict(re.findall(rb'<item[^>]*?href="([^"]+)"[^>]*?id="([^"]+)"', opf)) 
        by_id = {v: k for k, v in items.items()}
        docs = {by_id[i].decode(): etree.fromstring(z.read("EPUB/" + by_id[i].decode())) for i in spine if i in by_id}
    ns = {"x": "http://www.w3.org/1999/xhtml"}
    # The print page each id stands on in the EPUB: the last page-break marker before it, in reading order.
    page_of, current = {}, None
    for name, doc in docs.items():
        for el in doc.iter():
            if not isinstance(el.tag, str):
                continue
            if el.get("role") == "doc-pagebreak":
                current = el.get("aria-label")
            elif el.get("id"):
                file = name.rsplit("/", 1)[-1]
                # A note stands at its chapter's end in the EPUB, on its call's page in print.
                note = next((a.get("id") for a in el.iterancestors() if a.get("role") == "doc-footnote"), None)
                page_of[(file, el.get("id"))] = page_of[(file, "fnref" + note[2:])] if note else current
    index_doc = next((n, d) for n, d in docs.items() if d.xpath("//x:section[@id='index']", namespaces=ns))
    with zipfile.ZipFile(book / "indexed-book.epub") as z:
        nav = z.read("EPUB/nav.xhtml").decode()
    assert f'href="{index_doc[0].rsplit("/", 1)[-1]}#index"' in nav.replace("text/", "")
    locators = index_doc[1].xpath("//x:a[contains(@class,'index-locator')]", namespaces=ns)
    assert len(locators) >= 9
    for a in locators:
        file, _, ident = a.get("href").partition("#")
        assert ident.startswith("idx-")
        assert (file, ident) in page_of, a.get("href")          # the link lands on the mark
        assert a.text == page_of[(file, ident)], (a.get("href"), a.text, page_of[(file, ident)])
    epub_entries = {}
    for li in index_doc[1].xpath("//x:li", namespaces=ns):
        own = "".join(li.xpath("./text()|./*[not(self::x:ul)]//text()", namespaces=ns))
        term, _, rest = own.partition(",")
        epub_entries[term.strip()] = " ".join(rest.split())
    epub_letters = [p.text for p in index_doc[1].xpath("//x:p[@class='index-letter']", namespaces=ns)]
    assert len(epub_letters) >= 5
    for term, numbers in pdf_entries.items():
        if term in epub_letters:
            assert numbers == ""
        elif term:
            assert epub_entries[term] == numbers, term
    assert [t for t in pdf_entries if t in epub_letters] == epub_letters     # the same groups, in order
    # The page references in the EPUB link to their targets and show the PDF's numbers.
    refs = [a for d in docs.values() for a in d.xpath("//x:a[contains(@class,'page-ref')]", namespaces=ns)]
    assert len(refs) == 2 and all(a.text and a.text.isdigit() and a.get("href") for a in refs)
    pdf_text = " ".join(joined(p) for p in pdf_pages)
    assert re.search(rf"described on page {refs[0].text}, forward", pdf_text)


def test_the_index_is_laid_out_until_its_numbers_hold_and_says_so(book):
    report = json.loads((book / "indexed-book.report.json").read_text())
    assert not [f for f in report["findings"] if f["severity"] == "error"]


@pytest.mark.parametrize("lang,heading", [("de", "Register"), ("es", "Índice alfabético"), ("xx", "Index")])
def test_the_index_heading_is_in_the_books_language(tmp_path, lang, heading):
    from imprint.html.render import body_html
    from imprint.manuscript.load import load
    folder = write_book(tmp_path / "book", "# One\n\nA [term]{.index} here.\n", META.format(lang=lang))
    body = body_html(load(folder))
    section = body.root.xpath(".//section[@id='index']")
    assert section and section[0][0].text == heading


def test_a_page_reference_to_a_missing_id_fails_the_build_at_its_place(tmp_path):
    folder = write_book(tmp_path / "book", "# One\n\nText.\n\nSee page [](#nowhere){.page} for more.\n",
                        META.format(lang="en"))
    out = tmp_path / "out"
    result = run_cli("build", "--book", folder, "--out", out, "--no-cache")
    assert result.code != 0
    assert re.search(r"text\.md:5:10: error: X201 page reference to '#nowhere'", result.out + result.err), \
        result.out + result.err
    assert not out.exists() or not list(out.glob("*.pdf"))


def test_the_example_shows_an_index_and_a_page_reference(tmp_path):
    out = tmp_path / "out"
    result = run_cli("build", "--book", ROOT / "examples" / "scholarly", "--out", out, "--no-cache",
                     "--edition", "pdf")
    assert result.code == 0, result.err + result.out
    pages = pages_text(next(out.glob("*.pdf")))
    at, entries = index_lines(pages)
    assert at == len(pages) - 1 or pages[at].startswith("Index")
    assert len([t for t in entries if t]) >= 3
    assert any("Bibliography" in p for p in pages[:at])          # the index comes after the bibliography


def test_numbers_that_do_not_hold_fail_the_build_and_are_caught_on_the_pages(tmp_path, monkeypatch):
    """With one layout allowed, the placeholders of the first layout are what the pages show:
    the build must say the numbers did not settle (X205) and that the drawn numbers are not
    their targets' pages (X204, read off the laid-out boxes), and write nothing."""
    from imprint.jobs import pagerefs
    monkeypatch.setattr(pagerefs, "ROUNDS", 1)
    text = ("# One\n\nThe [alpha]{.index} place; see page [](#two){.page}.\n\n"
            "# Two {#two}\n\nThe [beta]{.index} place.\n")
    folder = write_book(tmp_path / "book", text, META.format(lang="en"))
    out = tmp_path / "out"
    result = run_cli("build", "--book", folder, "--out", out, "--no-cache", "--edition", "pdf")
    said = result.out + result.err
    assert result.code != 0
    assert "X205 the page numbers did not settle after 1 layouts" in said, said
    assert re.search(r"X204 page \d+ prints '00' for '#two', which stands on page \d+", said), said
    assert not out.exists() or not list(out.glob("*.pdf"))


def test_symbols_come_first_whatever_their_code_point(tmp_path):
    # "“", "¿" and "«" come after "z" by code point: such entries printed under the last letter's
    # heading (here Z), not in the symbols' group first, without a heading
    text = ("# One\n\nThe [Zander]{.index} and [apple]{.index} and [“Quoted” thing]{.index} and "
            "[¿Qué?]{.index} and [«Mot»]{.index} and [(paren)]{.index} and [1984]{.index}.\n")
    out = tmp_path / "out"
    result = run_cli("build", "--book", write_book(tmp_path / "book", text, META.format(lang="en")),
                     "--out", out, "--edition", "pdf", "--no-cache")
    assert result.code == 0, result.err
    pages = pages_text(next(out.glob("*.pdf")))
    lines = [l.strip() for l in pages[[n for n, p in enumerate(pages) if "Zander, " in p][-1]].splitlines()]
    at = {l.split(",")[0]: n for n, l in enumerate(lines) if ", " in l}
    assert max(at[t] for t in ("“Quoted” thing", "¿Qué?", "«Mot»", "(paren)", "1984")) < lines.index("A") \
        < at["apple"] < lines.index("Z") < at["Zander"], lines


def test_main_bang_sub_in_the_marked_words_files_a_sub_entry_and_says_the_words_print(tmp_path):
    """`[main!sub]{.index}` (makeindex's `!` in the words, not in `entry`): filed as main › sub,
    never as an entry "main!sub"; the words print in the text as written, so X203 says so at
    the mark's place. "Yahoo!" is a word: filed as written, no finding."""
    from imprint.html import index as index_markup
    from imprint.html.render import body_html
    from imprint.manuscript import index
    from imprint.manuscript.load import load
    text = "# One\n\nThe [Granary!ryemond]{.index} was full, and [Yahoo!]{.index} said so.\n"
    book = load(write_book(tmp_path / "book", text, META.format(lang="en")))
    filed = index_markup.entries(body_html(book).marks, {}, "en")
    assert [(e["term"], [c["term"] for c in e["children"]]) for e in filed] == [("Granary", ["ryemond"]),
                                                                               ("Yahoo!", [])], filed
    found = index.check(book)
    assert [(f.code, f.where.line, f.where.column) for f in found] == [("X203", 3, 5)], found
    assert '[ryemond]{.index entry="Granary!ryemond"}' in found[0].hint
