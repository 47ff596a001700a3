"""The EPUB for every reader, proven on the real checkers: EPUBCheck (0 errors, 0 warnings) and
DAISY Ace (0 violations) on the essay and on a tiny multi-chapter book, and the markup that
Apple Books, Kobo and Kindle read (popup notes, language, navigation, embedded typeface)."""

from __future__ import annotations

import io
import json
import re

import pytest
from fontTools.ttLib import TTFont

from conftest import BOOK, run_cli
from epub_books import EPUB_TYPE, NS, ace, chapters_build, epub_files, epubcheck, xml
from imprint.manuscript.load import load
from imprint.editions.validate import ace_unavailable_reason, epubcheck_unavailable_reason

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@pytest.fixture(scope="module", params=["essay", "chapters", "parts"])
def built(request, essay_build, essay_slug, tmp_path_factory):
    """(metadata, EPUB path, report) of the essay, of the tiny multi-chapter book and of a
    book in parts (Book One, Book Two) whose chapters are level-2 sections."""
    if request.param == "essay":
        out, slug, meta = essay_build, essay_slug, load(BOOK).metadata
    elif request.param == "parts":
        out = parts_build(tmp_path_factory.getbasetemp())
        slug, meta = "a-book-in-parts", load(out.parent / "book").metadata
    else:
        out = chapters_build(tmp_path_factory.getbasetemp())
        slug, meta = "councils-and-committees", load(out.parent / "book").metadata
    report = json.loads((out / f"{slug}.report.json").read_text(encoding="utf-8"))
    return meta, out / f"{slug}.epub", report


@pytest.fixture(scope="module")
def chapters(tmp_path_factory):
    out = chapters_build(tmp_path_factory.getbasetemp())
    return load(out.parent / "book").metadata, epub_files(out / "councils-and-committees.epub")


def parts_build(base):
    from conftest import write_book
    from test_parts import BOOK_METADATA, chapters_manuscript
    root = base / "epub-parts"
    if not (root / "out").is_dir():
        book = write_book(root / "book", chapters_manuscript(in_parts=True), BOOK_METADATA)
        result = run_cli("--book", book, "--out", root / "out", "--edition", "pdf", "--edition", "epub")
        assert result.code == 0, result.err
    return root / "out"


def test_a_part_and_each_of_its_chapters_are_files_of_their_own(tmp_path_factory):
    files = epub_files(parts_build(tmp_path_factory.getbasetemp()) / "a-book-in-parts.epub")
    texts = sorted(n for n in files if n.startswith("EPUB/text/chapter-"))
    headings = [[(h.tag.split("}")[1], h.text) for h in xml(files, n).iter("{*}h1", "{*}h2")] for n in texts]
    assert headings == [[("h1", "Book One")], [("h2", "Chapter 1")], [("h2", "Chapter 2")],
                        [("h1", "Book Two")], [("h2", "Chapter 3")], [("h2", "Chapter 4")]]
    nav = files["EPUB/nav.xhtml"].decode()
    assert 'href="text/chapter-005.xhtml#ch3"' in nav and 'href="text/chapter-004.xhtml#book3"' in nav


def opf_meta(files) -> dict[str, list[str]]:
    opf = xml(files, "EPUB/content.opf")
    meta: dict[str, list[str]] = {}
    for m in opf.xpath("//opf:meta[@property]", namespaces=NS):
        meta.setdefault(m.get("property"), []).append(m.text)
    return meta


def content_docs(files):
    return {n: xml(files, n) for n in files if n.endswith(".xhtml")}


# -- the checkers ------------------------------------------------------------------------------

def test_epubcheck_reports_no_errors_and_no_warnings(built, request):
    if reason := epubcheck_unavailable_reason():
        pytest.skip(reason)
    # The essay's EPUB is checked once per session, by conftest's fixture.
    messages = request.getfixturevalue("essay_epubcheck") if built[0].form == "essay" else epubcheck(built[1])
    assert [str(m) for m in messages if m.severity in ("error", "warning")] == []


def test_ace_reports_no_violations(built):
    if reason := ace_unavailable_reason():
        pytest.skip(reason)
    assert [str(m) for m in ace(built[1])] == []


# -- print page numbers in the package ---------------------------------------------------------

def test_page_list_source_and_features_are_declared(built):
    meta, path, report = built
    files = epub_files(path)
    opf = xml(files, "EPUB/content.opf")
    props = opf_meta(files)
    assert opf.get(XML_LANG) == meta.lang
    assert {"pageBreakMarkers", "pageNavigation"} <= set(props["schema:accessibilityFeature"])
    assert props["dcterms:conformsTo"] == ["EPUB Accessibility 1.1 - WCAG 2.2 Level AA"]
    sources = opf.xpath("//dc:source/text()", namespaces=NS)
    if meta.isbn.print:
        isbn = "urn:isbn:" + meta.isbn.print.replace("-", "")
        assert sources == [isbn] and props["pageBreakSource"] == [isbn]
        assert not report["editions"]["epub"]["findings"]
    else:
        # No print ISBN: the print edition is named by title, and the build says so (info only).
        assert sources == []
        assert props["pageBreakSource"][0].startswith(meta.title) and "print" in props["pageBreakSource"][0]
        assert [f["code"] for f in report["editions"]["epub"]["findings"]] == ["E202"]
        assert report["editions"]["epub"]["findings"][0]["severity"] == "info"
    assert "page" in props["schema:accessibilitySummary"][0]


def test_epub_only_build_lays_out_the_pages_for_the_same_page_list(essay_build, essay_slug, tmp_path):
    result = run_cli("--book", BOOK, "--out", tmp_path, "--edition", "epub")
    assert result.code == 0, result.err
    assert not (tmp_path / f"{essay_slug}.pdf").exists()
    # Builds are reproducible, so the EPUB is the same bytes as the one built with the PDF.
    assert (tmp_path / f"{essay_slug}.epub").read_bytes() == (essay_build / f"{essay_slug}.epub").read_bytes()


# -- what reading systems need -----------------------------------------------------------------

def test_popup_notes_for_apple_kobo_and_kindle(chapters):
    _, files = chapters
    calls = 0
    for name, doc in content_docs(files).items():
        for ref in doc.xpath("//x:a[@epub:type='noteref']", namespaces=NS):
            calls += 1
            assert ref.get("role") == "doc-noteref" and len(ref) == 0           # no <sup> in the link
            assert not ref.xpath("ancestor::x:sup|ancestor::x:h1|ancestor::x:h2|ancestor::x:h3", namespaces=NS)
            target = ref.get("href")
            assert target.startswith("#"), "the note lives in the same file as its call"
            aside = doc.xpath(f"//*[@id='{target[1:]}']")[0]
            assert aside.tag == f"{{{NS['x']}}}aside"
            assert aside.get(EPUB_TYPE) == "footnote" and aside.get("role") == "doc-footnote"
            back = aside.xpath(".//x:a", namespaces=NS)[0]                   # the backlink comes first
            assert back.get("href") == f"#{ref.get('id')}" and back.get("role") == "doc-backlink"
            assert not (back.getparent().text or "").strip()
            assert not aside.xpath("ancestor::x:p", namespaces=NS)
    assert calls == 6


def test_every_document_and_the_package_declare_the_language(chapters):
    meta, files = chapters
    assert meta.lang == "en-GB"
    for name, doc in content_docs(files).items():
        assert doc.get("lang") == meta.lang and doc.get(XML_LANG) == meta.lang, name
    assert xml(files, "EPUB/content.opf").get(XML_LANG) == meta.lang


def test_front_matter_reads_in_book_order_and_navigation_resolves(chapters):
    meta, files = chapters
    opf = xml(files, "EPUB/content.opf")
    hrefs = {i.get("id"): i.get("href") for i in opf.xpath("//opf:item", namespaces=NS)}
    spine = [hrefs[r.get("idref")] for r in opf.xpath("//opf:itemref", namespaces=NS)]
    assert spine[:3] == ["text/titlepage.xhtml", "text/copyright.xhtml", "nav.xhtml"]
    assert spine[3:] == [f"text/chapter-{n:03d}.xhtml" for n in (1, 2, 3)]
    title = " ".join("".join(xml(files, "EPUB/text/titlepage.xhtml").itertext()).split())
    assert meta.title in title and meta.subtitle in title and "Test Author" in title
    rights = " ".join("".join(xml(files, "EPUB/text/copyright.xhtml").itertext()).split())
    assert meta.rights in rights and meta.isbn.print in rights
    nav = xml(files, "EPUB/nav.xhtml")
    toc = [(a.text, a.get("href")) for a in nav.xpath("//x:nav[@epub:type='toc']//x:a", namespaces=NS)]
    assert [t for t, _ in toc] == ["Origins", "Section 1.1", "Power", "Section 2.1", "Aftermath", "Section 3.1"]
    for _, href in toc + [(None, a.get("href")) for a in nav.xpath("//x:nav[@epub:type='page-list']//x:a",
                                                                  namespaces=NS)]:
        name, _, ident = href.partition("#")
        doc = xml(files, "EPUB/" + name)
        assert not ident or doc.xpath(f"//*[@id='{ident}']"), href


def test_build_bookkeeping_does_not_reach_the_reader(chapters):
    _, files = chapters
    for name, data in files.items():
        if name.endswith(".xhtml"):
            assert b"data-b=" not in data, name


def test_typeface_is_embedded_with_its_licence(chapters):
    _, files = chapters
    opf = xml(files, "EPUB/content.opf")
    fonts = {i.get("href") for i in opf.xpath("//opf:item[@media-type='font/otf']", namespaces=NS)}
    # only the styles the text uses are embedded (this book sets roman and italic, no bold),
    # each named by css/fonts.css and each cut down to the characters the book sets
    css = files["EPUB/css/fonts.css"].decode()
    used = {m.removeprefix("../") for m in re.findall(r'url\("([^"]+)"\)', css)}
    assert used == fonts and {f.rsplit("/", 1)[-1] for f in fonts} == {"libertine-400.otf", "libertine-400-italic.otf"}
    for href in fonts:
        names = TTFont(io.BytesIO(files["EPUB/" + href]))["name"]
        licence = " ".join(str(r) for r in names.names if r.nameID in (13, 14))
        assert "Open Font License" in licence or "OFL" in licence, href


# -- the Kobo edition --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def kepub(tmp_path_factory):
    out = chapters_build(tmp_path_factory.getbasetemp())
    return out / "councils-and-committees.kepub.epub", epub_files(out / "councils-and-committees.epub")


def test_kepub_passes_epubcheck(kepub):
    if reason := epubcheck_unavailable_reason():
        pytest.skip(reason)
    assert [str(m) for m in epubcheck(kepub[0]) if m.severity in ("error", "warning")] == []


def test_kepub_wraps_every_sentence_and_keeps_text_notes_and_pages(kepub):
    path, plain = kepub
    files = epub_files(path)
    span = "{%s}span" % NS["x"]
    for name in (n for n in files if n.startswith("EPUB/text/")):
        doc, original = xml(files, name), xml(plain, name)
        body = doc.find(f"{{{NS['x']}}}body")
        assert [d.get("id") for d in body.iter(f"{{{NS['x']}}}div")][:2] == ["book-columns", "book-inner"]
        ids = [s.get("id") for s in body.iter(span) if s.get("class") == "koboSpan"]
        assert ids and len(ids) == len(set(ids)) and all(re.fullmatch(r"kobo\.\d+\.\d+", i) for i in ids)
        for el in body.iter():
            for text, holder in ((el.text, el), (el.tail, el.getparent())):
                if text and text.strip() and holder is not None:
                    assert holder.tag == span and holder.get("class") == "koboSpan", (name, text)
        # Same words, same notes, same page breaks as the EPUB.
        assert "".join(body.itertext()) == "".join(original.find(f"{{{NS['x']}}}body").itertext())
        for kind in ("noteref", "footnote", "pagebreak"):
            query = f"//*[@epub:type='{kind}']/@id"
            assert doc.xpath(query, namespaces=NS) == original.xpath(query, namespaces=NS)
    assert xml(files, "EPUB/nav.xhtml").xpath("//x:nav[@epub:type='page-list']//x:a/@href", namespaces=NS) == \
        xml(plain, "EPUB/nav.xhtml").xpath("//x:nav[@epub:type='page-list']//x:a/@href", namespaces=NS)
