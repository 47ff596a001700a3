"""The essay's EPUB, unzipped and read back: popup-ready notes, navigation, metadata."""

import zipfile

import pytest
from lxml import etree

from conftest import BOOK
from imprint.manuscript.load import load

NS = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops",
      "opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/"}
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"


@pytest.fixture(scope="module")
def epub(essay_build, essay_slug):
    with zipfile.ZipFile(essay_build / f"{essay_slug}.epub") as z:
        yield {name: z.read(name) for name in z.namelist()}, z.infolist()


def xml(epub, name):
    return etree.fromstring(epub[0][name])


def text_docs(epub):
    return {n: xml(epub, n) for n in epub[0] if n.startswith("EPUB/text/") and n.endswith(".xhtml")}


def test_container_starts_with_stored_mimetype(epub):
    first = epub[1][0]
    assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
    assert epub[0]["mimetype"] == b"application/epub+zip"


def test_noterefs_and_footnote_asides_are_popup_ready(epub):
    docs = text_docs(epub)
    refs = [a for d in docs.values() for a in d.iter(f"{{{NS['x']}}}a") if a.get(EPUB_TYPE) == "noteref"]
    asides = [a for d in docs.values() for a in d.iter(f"{{{NS['x']}}}aside")]
    assert [r.text for r in refs] == ["1", "2", "3"]
    assert len(asides) == 3
    for n, (ref, aside) in enumerate(zip(refs, asides), start=1):
        assert ref.get("role") == "doc-noteref" and ref.get("href") == f"#fn{n}" and ref.get("id") == f"fnref{n}"
        assert len(ref) == 0                                  # no <sup> inside the link
        assert ref.getparent().tag != f"{{{NS['x']}}}sup"
        assert aside.get(EPUB_TYPE) == "footnote" and aside.get("role") == "doc-footnote"
        assert aside.get("id") == f"fn{n}"
        first_link = next(aside.iter(f"{{{NS['x']}}}a"))
        assert first_link.get("role") == "doc-backlink" and first_link.get("href") == f"#fnref{n}"
        assert first_link.text.rstrip(".") == str(n)
        # the backlink is the first thing in the note
        assert (first_link.getparent().text or "").strip() == ""
    for d in docs.values():
        for h in d.iter(*(f"{{{NS['x']}}}h{i}" for i in range(1, 7))):
            assert not h.xpath(".//x:a[@epub:type='noteref']", namespaces=NS)


def test_note_texts_match_the_manuscript(epub):
    book = load(BOOK)
    docs = text_docs(epub)
    asides = [a for d in docs.values() for a in d.iter(f"{{{NS['x']}}}aside")]
    for aside, definition in zip(asides, book.notes.definitions):
        text = " ".join("".join(aside.itertext()).split())
        expected = " ".join(definition.text.replace("*", "").split())
        assert text.endswith(expected[-40:]) and expected[:40] in text


def test_nav_lists_the_sections_and_landmarks(epub):
    book = load(BOOK)
    nav = xml(epub, "EPUB/nav.xhtml")
    toc = nav.xpath("//x:nav[@epub:type='toc']", namespaces=NS)[0]
    labels = [a.text for a in toc.iter(f"{{{NS['x']}}}a")]
    assert labels == [book.metadata.title] + [h.label for h in book.headings]
    marks = {a.get(EPUB_TYPE) for a in nav.xpath("//x:nav[@epub:type='landmarks']//x:a", namespaces=NS)}
    assert {"toc", "bodymatter", "titlepage", "copyright-page"} <= marks


def test_every_document_declares_its_language(epub):
    for name, data in epub[0].items():
        if name.endswith(".xhtml"):
            root = etree.fromstring(data)
            assert root.get("lang") == "en" and root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en", name


def test_package_metadata_and_accessibility(epub):
    opf = xml(epub, "EPUB/content.opf")
    meta = {}
    for m in opf.xpath("//opf:meta[@property]", namespaces=NS):
        meta.setdefault(m.get("property"), []).append(m.text)
    assert opf.xpath("string(//dc:title)", namespaces=NS) == "The Russian Revolution and Workers Democracy"
    assert opf.xpath("string(//dc:creator)", namespaces=NS) == "Suzi Weissman"
    assert opf.xpath("string(//dc:language)", namespaces=NS) == "en"
    assert opf.xpath("string(//dc:identifier)", namespaces=NS).startswith("urn:uuid:")
    for prop in ("schema:accessMode", "schema:accessModeSufficient", "schema:accessibilityFeature",
                 "schema:accessibilityHazard", "schema:accessibilitySummary", "dcterms:conformsTo"):
        assert meta.get(prop), prop
    assert meta["dcterms:modified"] == ["2017-05-01T00:00:00Z"]


def test_title_and_copyright_pages_carry_the_editorial_notes(epub):
    book = load(BOOK)
    copyright_text = " ".join("".join(xml(epub, "EPUB/text/copyright.xhtml").itertext()).split())
    for note in book.metadata.editorial_notes:
        assert " ".join(note.split()) in copyright_text
    assert "Against the Current no. 188" in copyright_text
    title_text = "".join(xml(epub, "EPUB/text/titlepage.xhtml").itertext())
    assert "Suzi Weissman" in title_text


def test_cover_image_is_generated(epub):
    opf = xml(epub, "EPUB/content.opf")
    item = opf.xpath("//opf:item[contains(@properties,'cover-image')]", namespaces=NS)[0]
    data = epub[0]["EPUB/" + item.get("href")]
    assert data[:3] == b"\xff\xd8\xff"                                  # a JPEG
    from PIL import Image
    import io
    assert Image.open(io.BytesIO(data)).size == (1600, 2560)


def test_vendored_font_is_embedded(epub):
    # Only the styles the essay uses (no bold), each cut down to its characters (imprint/manuscript/look.py).
    fonts = sorted(n for n in epub[0] if n.startswith("EPUB/fonts/"))
    assert fonts == ["EPUB/fonts/libertine-400-italic.otf", "EPUB/fonts/libertine-400.otf"]
    assert all(len(epub[0][n]) < 200_000 for n in fonts)          # the whole faces are 420-505 KB
    assert b'font-family: "Libertine"' in epub[0]["EPUB/css/fonts.css"]


def test_several_authors_and_a_translator_get_their_own_ids(tiny_book, tmp_path):
    from conftest import run_cli
    book = tiny_book("# One\n\nText.\n", metadata="title: T\nauthor: [Karl Marx, Friedrich Engels]\n"
                     "translator: Samuel Moore\nlang: en\nidentifier: urn:uuid:3\n")
    assert run_cli("--book", book, "--out", tmp_path / "o", "--edition", "epub", "-q").code == 0
    with zipfile.ZipFile(tmp_path / "o" / "t.epub") as z:
        opf = etree.fromstring(z.read("EPUB/content.opf"))
    creators = opf.xpath("//dc:creator", namespaces=NS)
    assert [c.text for c in creators] == ["Karl Marx", "Friedrich Engels"]
    assert len({c.get("id") for c in creators}) == 2
    assert opf.xpath("string(//dc:contributor)", namespaces=NS) == "Samuel Moore"
    assert opf.xpath("string(//opf:meta[@property='role'][@refines='#contributor1'])", namespaces=NS) == "trl"


def test_epubcheck_reports_nothing(essay_epubcheck):
    assert [f"{m.severity} {m.code} {m.file}:{m.line} {m.message}" for m in essay_epubcheck] == []
