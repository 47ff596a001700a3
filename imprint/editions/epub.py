"""Book + Body (+ the print page map) -> EPUB 3 bytes, packaged with ebooklib: XHTML documents
from Jinja templates, popup-ready footnotes, the print edition's page breaks, our own navigation
document (toc, landmarks, page-list) and EPUB Accessibility 1.1 metadata.
Byte-reproducible: fixed dates and zip timestamps."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import hashlib
import io
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from ebooklib import epub
from lxml import etree

from imprint.codes import meanings
from imprint.specs.editions import EPUB
from imprint.errors import Finding, Location, ManuscriptError
from imprint.editions.kobo import kepub_document as kobo_markup
from imprint.manuscript import images as images_policy
from imprint.manuscript import languages
from imprint.manuscript import look as looks
from imprint.manuscript.load import Book, listed
from imprint.specs import labels as labels_table
from imprint.typeset.pagemap import anchor_key, significant
from imprint.html import index as index_markup
from imprint.html.render import (BLOCK_KEY, DELIMITERS, STYLES, Body, book_context, environment, render_template, section_numbers,
                                 set_formulas,
                                 split_part)
from imprint.manuscript import math

CODES = meanings("E2")        # severities and meanings: imprint/codes.py

XHTML = "http://www.w3.org/1999/xhtml"
OPS = "http://www.idpf.org/2007/ops"
# What text a reader sets bold, italic or monospaced before any stylesheet (the UA's defaults).
ITALIC_TAGS = {"em", "i", "cite", "var", "dfn", "address"}
BOLD_TAGS = {"strong", "b", "th", "h1", "h2", "h3", "h4", "h5", "h6"}
MONO_TAGS = {"code", "pre", "kbd", "samp", "tt"}
HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


@dataclass(frozen=True)
class Document:
    """One XHTML file of the EPUB."""

    file_name: str            # relative to the package folder, e.g. text/chapter-001.xhtml
    title: str
    content: bytes
    epub_type: str


@dataclass(frozen=True)
class Packaged:
    """The EPUB's bytes and what packaging found."""

    data: bytes
    findings: tuple[Finding, ...] = ()
    pages: int = 0              # entries in the page-list


@dataclass
class _Chapter:
    file_name: str
    title: str
    elements: list = field(default_factory=list)
    ids: set = field(default_factory=set)


class RawHtml(epub.EpubHtml):
    """An XHTML document whose bytes we made ourselves; ebooklib only packages it."""

    def __init__(self, raw: bytes, **kwargs):
        super().__init__(**kwargs)
        self._raw = raw

    def get_content(self, default=None):
        return self._raw


def build_date(book: Book) -> dt.datetime:
    """The one date a build stamps: SOURCE_DATE_EPOCH, else the metadata, else a fixed epoch."""
    if os.environ.get("SOURCE_DATE_EPOCH", "").isdigit():
        return dt.datetime.fromtimestamp(int(os.environ["SOURCE_DATE_EPOCH"]), dt.timezone.utc).replace(tzinfo=None)
    m = book.metadata
    if m.modified:
        return m.modified.replace(tzinfo=None)
    if m.date:
        return dt.datetime(m.date.year, m.date.month, m.date.day)
    return dt.datetime(2000, 1, 1)


def split_chapters(book: Book, body: Body) -> list[_Chapter]:
    """One XHTML file per chapter (level-1 section) in a book; the whole text in one for an essay."""
    root = body.root
    if book.metadata.form == "essay":
        return [_Chapter("text/text.xhtml", book.metadata.title, list(root))]
    chapters: list[_Chapter] = []
    lead: list = []
    for el in root:
        if el.tag == "section" and "level1" in el.get("class", ""):
            h = el.find("h1")
            title = h.get("data-label") if h is not None else f"{labels_table.label(book.metadata.lang, 'chapter')} {len(chapters) + 1}"
            for piece in split_part(el):        # a part of the book: its title, then each chapter
                heading = piece.find("h1") if piece.find("h1") is not None else piece.find("section/h2")
                label = heading.get("data-label") if heading is not None else title
                chapters.append(_Chapter(f"text/chapter-{len(chapters) + 1:03d}.xhtml", label, [piece]))
        elif chapters:
            chapters[-1].elements.append(el)
        else:
            lead.append(el)
    if lead and any((e.text_content() or "").strip() for e in lead):
        chapters.insert(0, _Chapter("text/opening.xhtml", book.metadata.title, lead))
    return chapters


def _to_xhtml(el):
    """Copy an lxml.html element into the XHTML namespace (so it serialises as XML)."""
    new = copy.deepcopy(el)
    for node in new.iter():
        if isinstance(node.tag, str) and not node.tag.startswith("{"):
            node.tag = f"{{{XHTML}}}{node.tag}"
    return new


def _note_markup(chapter: _Chapter, body: Body, lang: str = "en") -> list:
    """Replace note calls with noterefs; return the footnote asides for the end of the file."""
    asides = []
    for el in chapter.elements:
        for ref in el.xpath(".//a[contains(@class,'footnote-ref')]"):
            n = int(ref.get("data-note"))
            call = etree.Element("a", {"id": f"fnref{n}", "href": f"#fn{n}", "class": "noteref",
                                       "role": "doc-noteref", f"{{{OPS}}}type": "noteref"})
            call.text = str(n)
            call.tail = ref.tail
            ref.getparent().replace(ref, call)
            aside = etree.Element("aside", {"id": f"fn{n}", "class": "footnote", "role": "doc-footnote",
                                            f"{{{OPS}}}type": "footnote"})
            back = etree.Element("a", {"href": f"#fnref{n}", "class": "backlink", "role": "doc-backlink",
                                       "title": labels_table.label(lang, "back-to-note").format(n=n)})
            back.text = f"{n}."
            blocks = [copy.deepcopy(b) for b in body.notes[n].blocks]
            if blocks and blocks[0].tag == "p":
                back.tail = " " + (blocks[0].text or "")
                blocks[0].text = None
                blocks[0].insert(0, back)
            else:
                label = etree.Element("p")
                label.append(back)
                blocks.insert(0, label)
            for b in blocks:
                aside.append(b)
            asides.append(aside)
    return asides


def _fill(skeleton: str, elements) -> bytes:
    doc = etree.fromstring(skeleton.encode("utf-8"))
    marker = doc.find(f".//{{{XHTML}}}imprint-content")
    parent = marker.getparent()
    index = parent.index(marker)
    parent.remove(marker)
    for i, el in enumerate(elements):
        parent.insert(index + i, _to_xhtml(el) if not str(el.tag).startswith("{") else el)
    if not parent.text:
        parent.text = "\n"
    return etree.tostring(doc, xml_declaration=True, encoding="utf-8", doctype="<!DOCTYPE html>")


def _rewrite_links(docs: list[_Chapter], asides: list[list] | None = None):
    """Internal links point at the file that now holds their target: links in the text, its
    captions and tables, and in the notes (each chapter's asides, set at its end)."""
    asides = asides or [[] for _ in docs]
    where = {i: c.file_name for c in docs for i in c.ids}
    for c, notes in zip(docs, asides):
        for aside in notes:
            for n in aside.iter():
                if isinstance(n.tag, str) and n.get("id"):
                    where.setdefault(n.get("id"), c.file_name)
    for c, notes in zip(docs, asides):
        for el in [*c.elements, *notes]:
            for a in el.iter("a", f"{{{XHTML}}}a"):
                href = a.get("href", "")
                if href.startswith("#") and href[1:] in where and where[href[1:]] != c.file_name:
                    a.set("href", os.path.basename(where[href[1:]]) + href)


def documents(book: Book, body: Body, page_starts=()):
    """The XHTML files of the EPUB in reading order, the toc tree, the page list and the images."""
    env = environment(book.root)
    ctx = book_context(book, EPUB)
    body = index_markup.numbered(body, lang=book.metadata.lang)     # the print pages, written in
    chapters = split_chapters(book, copy.deepcopy(body))
    for c in chapters:
        c.elements = [copy.deepcopy(e) for e in c.elements]
        c.ids = {n.get("id") for e in c.elements for n in e.iter() if isinstance(n.tag, str) and n.get("id")}
        # ids inside the chapter's notes (an index mark in a note) end up in its file too
        c.ids |= {n.get("id") for e in c.elements for ref in e.xpath(".//a[@data-note]")
                  for b in body.notes[int(ref.get("data-note"))].blocks for n in b.iter()
                  if isinstance(n.tag, str) and n.get("id")}
    if book.metadata.form == "essay":
        opening = etree.fromstring(render_template(env, "epub/opening.xhtml.j2", book=ctx))
        chapters[0].elements[0:0] = list(opening)
    asides = [_note_markup(c, body, book.metadata.lang) for c in chapters]
    images = collect_images(book, chapters, [aside for notes in asides for aside in notes])   # a note's pictures too
    _rewrite_links(chapters, asides)
    pages = place_page_breaks(chapters, page_starts)
    for c in chapters:
        for e in c.elements:
            for n in e.iter():
                if isinstance(n.tag, str):
                    for name in (BLOCK_KEY, "data-label", "data-head", "data-running-head", index_markup.REF,
                                 index_markup.SECTION):      # a build's bookkeeping, not the reader's
                        n.attrib.pop(name, None)

    def page(name, title, epub_type, role, css_class, section_id, elements):
        for element in elements:        # formulas -> MathML (with their TeX as alttext)
            set_formulas(element, math.to_mathml, book)
        skeleton = render_template(env, "epub/page.xhtml.j2", book=ctx, title=title, epub_type=epub_type,
                                   role=role, css_class=css_class, section_id=section_id)
        return Document(name, title, _fill(skeleton, elements), epub_type)

    # The copyright page says which print edition the page numbers come from.
    print_edition = {"pages": bool(pages), "isbn": book.metadata.isbn.print}

    def fragment(name):
        text = render_template(env, name, book=ctx, print_edition=print_edition)
        return list(etree.fromstring("<div>" + text + "</div>"))

    docs = [
        page("text/titlepage.xhtml", ctx["labels"]["title-page"], "frontmatter", "region", "titlepage-section", "titlepage",
             fragment("epub/titlepage.xhtml.j2")),
        page("text/copyright.xhtml", ctx["labels"]["copyright"], "frontmatter", "region", "copyright-section", "copyright-page",
             fragment("epub/copyright.xhtml.j2")),
    ]
    for i, (c, notes_here) in enumerate(zip(chapters, asides)):
        elements = list(c.elements)
        if notes_here:
            notes = etree.Element("section", {"class": "footnotes", "role": "doc-endnotes",
                                              "aria-label": ctx["labels"]["notes"], f"{{{OPS}}}type": "footnotes"})
            notes.extend(notes_here)
            elements.append(notes)
        docs.append(page(c.file_name, c.title, "bodymatter", "region", "chapter", f"part-{i + 1}", elements))

    toc = _toc(book, chapters)
    where = {i: c.file_name for c in chapters for i in c.ids}
    # `lof: true` / `lot: true`: lists of the captioned figures and tables in the navigation
    listed = [{"type": kind, "label": label, "items": [{"href": f"{where[i]}#{i}", "label": caption}
                                                       for i, caption in found if i in where]}
              for kind, label, wanted, found in (("lof", ctx["labels"]["list-of-figures"], book.metadata.lof, body.figures),
                                                 ("lot", ctx["labels"]["list-of-tables"], book.metadata.lot, body.tables)) if wanted]
    ident = index_markup.section_id(body) if body.marks else None
    holder = next((c for c in chapters if ident in c.ids), None)
    if holder is not None:         # the index in the navigation, after the text (an essay's: inside it)
        entry = {"label": index_markup.rules.heading(book.metadata.lang), "href": f"{holder.file_name}#{ident}", "number": "",
                 "children": []}
        (toc[0]["children"] if book.metadata.form == "essay" and toc else toc).append(entry)
    return docs, toc, pages, images, [entry for entry in listed if entry["items"]]


IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
               ".webp": "image/webp", ".svg": "image/svg+xml"}


@dataclass(frozen=True)
class Image:
    file_name: str          # inside the package, e.g. images/figure-1a2b3c4d.png
    media_type: str
    data: bytes


def collect_images(book: Book, chapters, notes=()) -> list[Image]:
    """Copy the book's own images into the package and point every <img> at its copy, in the
    chapters' text and in `notes` (their asides).

    The checks have already refused images outside the book folder; what is not a local
    file of a known type here (a remote URL, say) is left out of the EPUB, alt text kept."""
    images: dict[Path, Image] = {}
    root = book.root.resolve()
    for e in [*(e for c in chapters for e in c.elements), *notes]:
        for img in list(e.iter("img")):
            src = img.get("src", "")
            path = (root / unquote(src)).resolve() if "://" not in src and not src.startswith("data:") else None
            kind = IMAGE_TYPES.get(path.suffix.lower()) if path else None
            if path is None or kind is None or not path.is_relative_to(root) or not path.is_file():
                alt = etree.Element("span", {"class": "image-left-out"})
                alt.text, alt.tail = img.get("alt", ""), img.tail
                img.getparent().replace(img, alt)
                continue
            if path not in images:
                data = path.read_bytes()
                problem = images_policy.svg_problem(data) if kind == "image/svg+xml" else None
                if problem:         # the checks refuse it first; this is the last guard
                    raise ManuscriptError(f"SVG image '{src}' {problem}", where=Location(path),
                                          hint="export the image again as plain SVG (no script, links or "
                                               "entities), or as PNG")
                digest = hashlib.sha256(data).hexdigest()[:8]
                images[path] = Image(f"images/{path.stem}-{digest}{path.suffix.lower()}", kind, data)
            img.set("src", "../" + images[path].file_name)
    return list(images.values())


# Parents in which a <span> may not stand between the children: the marker goes inside.
NO_PHRASING = {"ul", "ol", "dl", "table", "thead", "tbody", "tfoot", "tr", "colgroup", "hgroup", "menu",
               "select", "optgroup", "datalist", "html", "head"}


def place_page_breaks(chapters: list[_Chapter], page_starts) -> list[dict]:
    """Put a page-break marker where each print page begins; return the page list (label, href).

    A page that begins in text the EPUB does not have gets no marker (and no page-list
    entry); `package_edition` reports it.
    """
    where = {}
    for c in chapters:
        for e in c.elements:
            for n in e.iter():
                if isinstance(n.tag, str):
                    key = anchor_key(n)
                    if key is not None:
                        where.setdefault(key, (c, n))
    pages = []
    for start in page_starts:
        found = where.get(tuple(start.key))
        if found is None:
            continue
        chapter, anchor = found
        ident = f"page-{start.label}"
        marker = etree.Element("span", {f"{{{OPS}}}type": "pagebreak", "role": "doc-pagebreak",
                                        "id": ident, "aria-label": start.label})
        if start.offset == 0 and any(anchor is e for e in chapter.elements):
            # A top-level element of the file: its old parent is not part of the document.
            chapter.elements.insert(next(i for i, e in enumerate(chapter.elements) if e is anchor), marker)
            pages.append({"label": start.label, "href": f"{chapter.file_name}#{ident}"})
        elif _insert_marker(anchor, start.offset, marker):
            pages.append({"label": start.label, "href": f"{chapter.file_name}#{ident}"})
    return pages


def _local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _text_slots(el):
    """(node, "text" | "tail") for every piece of text the anchor owns, in document order."""
    yield el, "text"
    for child in el:
        if isinstance(child.tag, str) and anchor_key(child) is None:
            yield from _text_slots(child)
        yield child, "tail"


def _insert_marker(anchor, offset: int, marker) -> bool:
    """Insert `marker` before the word holding the anchor's significant character number `offset` (from 0)."""
    parent = anchor.getparent()
    if offset == 0 and parent is not None and _local(parent) not in NO_PHRASING:
        marker.tail = None
        parent.insert(parent.index(anchor), marker)     # before the block: its heading or paragraph stays whole
        return True
    seen = 0
    for node, slot in _text_slots(anchor):
        text = (node.text if slot == "text" else node.tail) or ""
        count = len(significant(text))
        if seen + count <= offset:
            seen += count
            continue
        index = _index_of(text, offset - seen)
        # A page that begins inside a hyphenated word gets its marker before the whole word:
        # a screen reader then says the word once, not in two halves around "page 8".
        while index > 0 and not text[index - 1].isspace():
            index -= 1
        marker.tail = text[index:]
        if slot == "text":
            node.text = text[:index]
            node.insert(0, marker)
        else:
            node.tail = text[:index]
            node.getparent().insert(node.getparent().index(node) + 1, marker)
        return True
    return False


def _index_of(text: str, n: int) -> int:
    """Index in `text` of its significant character number n (from 0)."""
    for i, c in enumerate(text):
        if significant(c):
            if n == 0:
                return i
            n -= 1
    return len(text)


def _toc(book: Book, chapters) -> list[dict]:
    where = {i: c.file_name for c in chapters for i in c.ids}
    shift = 1 if book.metadata.form == "essay" else 0
    tree: list[dict] = []
    stack: list[tuple[int, list]] = [(0, tree)]
    numbers = section_numbers(book)
    deepest = (book.metadata.toc_depth - shift) if book.metadata.toc_depth else 2
    for h in listed(book.headings):
        if h.level > deepest or h.id not in where:
            continue
        entry = {"label": h.label, "href": f"{where[h.id]}#{h.id}", "number": numbers.get(h.id, ""),
                 "children": []}
        level = h.level + shift
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack[-1][1].append(entry)
        stack.append((level, entry["children"]))
    if book.metadata.form == "essay":
        return [{"label": book.metadata.title, "href": "text/text.xhtml", "number": "", "children": tree}]
    return tree


def _ncx_toc(entries, counter=None):
    counter = counter if counter is not None else [0]
    out = []
    for e in entries:
        counter[0] += 1
        link = epub.Link(e["href"], e["label"], f"navpoint-{counter[0]}")
        out.append((epub.Section(e["label"], e["href"]), _ncx_toc(e["children"], counter)) if e["children"] else link)
    return out


ACCESSIBILITY = (
    ("schema:accessMode", "textual"),
    ("schema:accessModeSufficient", "textual"),
    ("schema:accessibilityFeature", "structuralNavigation"),
    ("schema:accessibilityFeature", "tableOfContents"),
    ("schema:accessibilityFeature", "readingOrder"),
    ("schema:accessibilityFeature", "displayTransformability"),
    ("schema:accessibilityHazard", "none"),
)
MATH_FEATURES = (("schema:accessibilityFeature", "MathML"),)     # formulas as MathML, TeX as alttext
PAGE_FEATURES = (
    ("schema:accessibilityFeature", "pageBreakMarkers"),
    ("schema:accessibilityFeature", "pageNavigation"),
)
# a picture that carries meaning: seen (visual), and described in words (alternativeText)
PICTURE_FEATURES = (("schema:accessMode", "visual"), ("schema:accessibilityFeature", "alternativeText"))
CONFORMANCE = "EPUB Accessibility 1.1 - WCAG 2.2 Level AA"


def package(book: Book, body: Body, cover_jpeg: bytes | None = None, page_starts=()) -> bytes:
    """The EPUB file's bytes."""
    return package_edition(book, body, cover_jpeg, page_starts).data


def package_edition(book: Book, body: Body, cover_jpeg: bytes | None = None, page_starts=(), *,
                    kobo: bool = False) -> Packaged:
    """The EPUB, with a page-break marker and page-list entry for every print page in `page_starts`
    (imprint/typeset/pagemap.py), and the findings of packaging it. `kobo`: with Kobo's kepub markup."""
    m = book.metadata
    when = build_date(book)
    eb = epub.EpubBook()
    eb.set_identifier(m.identifier)
    eb.set_title(m.title)
    eb.set_language(m.lang)
    if languages.direction(m.lang) == "rtl":     # a right-to-left book's pages turn the other way
        eb.set_direction("rtl")                  # (the spine's page-progression-direction)
    for i, author in enumerate(m.authors, start=1):
        eb.add_author(author, role="aut", uid=f"creator{i}")
    for i, (name, role) in enumerate([(t, "trl") for t in m.translators] + [(e, "edt") for e in m.editors], 1):
        eb.add_metadata("DC", "contributor", name, {"id": f"contributor{i}"})
        eb.add_metadata(None, "meta", role, {"refines": f"#contributor{i}", "property": "role", "scheme": "marc:relators"})
    for name, value in (("publisher", m.publisher), ("rights", m.rights), ("description", m.description),
                        ("date", m.date.isoformat() if m.date else None)):
        if value:
            eb.add_metadata("DC", name, value)
    for s in m.subjects:
        eb.add_metadata("DC", "subject", s)
    if m.subtitle:
        eb.add_metadata("DC", "title", m.subtitle, {"id": "subtitle"})
        eb.add_metadata(None, "meta", "subtitle", {"refines": "#subtitle", "property": "title-type"})

    house_css = (STYLES / "epub.css").read_bytes() + b"\n" + (STYLES / "highlight.css").read_bytes()
    eb.add_item(epub.EpubItem(uid="css", file_name="css/epub.css", media_type="text/css", content=house_css))
    book_css = [path.read_bytes() for path in book.look.epub_css]
    for i, content in enumerate(book_css, start=1):
        eb.add_item(epub.EpubItem(uid=f"css-book-{i}", file_name=f"css/book-{i}.css", media_type="text/css",
                                  content=content))
    if cover_jpeg:          # a JPEG, or the book's own PNG (`cover-image:`)
        png = cover_jpeg.startswith(b"\x89PNG")
        eb.set_cover("images/cover.png" if png else "images/cover.jpg", cover_jpeg, create_page=False)

    docs, toc, pages, images, lists = documents(book, body, page_starts)
    for i, image in enumerate(images):
        eb.add_item(epub.EpubItem(uid=f"image-{i}", file_name=image.file_name, media_type=image.media_type,
                                  content=image.data))
    placed = {p["label"] for p in pages}
    findings = [Finding("E201", "warning",
                        f"print page {s.label} begins in text the EPUB does not have (\"{s.opening}\"); "
                        "it has no page-break marker", Location(m.source),
                        page=int(s.label) if s.label.isdigit() else None,
                        edition="epub", hint="please report this: every page of the text should be placed")
                for s in page_starts if s.label not in placed]

    # "1)" and "(1)" are drawn by the print stylesheet (render.ordered_lists); a reading system
    # numbers the list itself, with a full stop.
    delimited = {f"list-{d}" for d in DELIMITERS}
    trees = [body.root] + [block for note in body.notes.values() for block in note.blocks]
    parenthesised = sum(1 for tree in trees for el in tree.iter("ol")
                        if delimited & set((el.get("class") or "").split()))
    if parenthesised:
        findings.append(Finding("E207", "info", f"{parenthesised} numbered list(s) written with '1)' or '(1)': the "
                                "EPUB's reading systems number them with a full stop ('1.'), the PDF and print "
                                "edition as written", Location(m.source), edition="epub",
                                hint="write '1.' if the parenthesis does not matter, or keep it for print"))

    has_math = any(math.MATHML.encode("ascii") in d.content for d in docs)
    pictures = informative_images(docs)
    for prop, value in ACCESSIBILITY + (PAGE_FEATURES if pages else ()) + (MATH_FEATURES if has_math else ()) \
            + (PICTURE_FEATURES if pictures else ()):
        eb.add_metadata(None, "meta", value, {"property": prop})
    if pages:
        source = print_source(book)
        if m.isbn.print:
            eb.add_metadata("DC", "source", source)
        else:
            findings.append(Finding("E202", "info", "the page list names the print edition by title: "
                                    "there is no print ISBN", where=Location(m.source), edition="epub",
                                    hint="add `isbn: print: 978-...` so readers can match the print edition"))
        eb.add_metadata(None, "meta", source, {"property": "pageBreakSource"})
    eb.add_metadata(None, "meta", CONFORMANCE, {"property": "dcterms:conformsTo"})
    summary = {"property": "schema:accessibilitySummary"}
    if not m.lang.lower().startswith("en"):     # the summary is in English, whatever the book's language
        summary["{http://www.w3.org/XML/1998/namespace}lang"] = "en"
    eb.add_metadata(None, "meta", accessibility_summary(book, bool(pages), pictures), summary)

    items = []
    for i, d in enumerate(docs):
        content = kobo_markup(d.content) if kobo else d.content
        item = RawHtml(content, uid=f"doc-{i}", file_name=d.file_name, title=d.title, lang=m.lang)
        if math.MATHML.encode("ascii") in content:
            item.properties.append("mathml")        # EPUB 3: a document holding MathML says so
        eb.add_item(item)
        items.append(item)
    env = environment(book.root)
    ctx = book_context(book, EPUB)
    text_start = next(d.file_name for d in docs if d.epub_type == "bodymatter")
    landmarks = [{"type": "toc", "href": "nav.xhtml#toc", "label": ctx["labels"]["contents"]},
                 {"type": "titlepage", "href": "text/titlepage.xhtml", "label": ctx["labels"]["title-page"]},
                 {"type": "copyright-page", "href": "text/copyright.xhtml", "label": ctx["labels"]["copyright"]},
                 {"type": "bodymatter", "href": text_start, "label": ctx["labels"]["start-of-text"]}]
    nav_bytes = render_template(env, "epub/nav.xhtml.j2", book=ctx, toc=toc, landmarks=landmarks,
                                pages=pages, lists=lists).encode("utf-8")
    nav = RawHtml(nav_bytes, uid="nav", file_name="nav.xhtml", title=ctx["labels"]["contents"], lang=m.lang)
    nav.properties.append("nav")
    eb.add_item(nav)
    # The faces, cut down to the characters and styles the book uses (imprint/manuscript/look.py).
    fonts_css, fonts = embedded_fonts(book.look, [d.content for d in docs] + [nav_bytes],
                                      [house_css] + book_css)
    eb.add_item(epub.EpubItem(uid="css-fonts", file_name="css/fonts.css", media_type="text/css",
                              content=fonts_css.encode("utf-8")))
    for i, (name, data) in enumerate(fonts):
        eb.add_item(epub.EpubItem(uid=f"font-{i}", file_name=f"fonts/{name}",
                                  media_type="font/otf" if name.endswith(".otf") else "font/ttf", content=data))
    # The order of a printed book: title page, copyright page, contents, then the text.
    front = [i for i, d in zip(items, docs) if d.epub_type == "frontmatter"]
    eb.spine = front + [nav] + [i for i in items if i not in front]
    # ebooklib always names an NCX in the spine; it also serves EPUB 2 reading systems.
    eb.toc = _ncx_toc(toc)
    eb.add_item(epub.EpubNcx())

    raw = io.BytesIO()
    writer = _Writer(raw, eb, {"epub3_pages": False, "epub3_landmark": False, "epub2_guide": False,
                               "mtime": when, "raise_exceptions": True})
    writer.process()
    writer.write()
    data = normalise_zip(raw.getvalue(), when)
    findings += link_findings(book, data)
    return Packaged(data, tuple(findings), len(pages))


def link_findings(book: Book, data: bytes) -> list[Finding]:
    """E206 for each internal link of the EPUB that does not resolve: at the manuscript line
    that writes it when the target is an id no element of the book has (the author's to fix),
    else a link the packaging failed to point at its file (ours)."""
    found = []
    for doc, problem, fragment, anywhere in broken_links(data, detail=True):
        where, hint = Location(book.metadata.source), "please report this: the EPUB's internal links should all point at their files"
        if fragment and not anywhere:
            hint = f"no heading or element of the book has the id '{fragment}': correct the link or give its target {{#{fragment}}}"
            for src in book.sources:
                at = src.text.find(f"(#{fragment}")
                if at >= 0:
                    line = src.text.count("\n", 0, at)
                    col = at - (src.text.rfind("\n", 0, at) + 1) + 1
                    where = Location(src.path, src.first_line + line, col)
                    break
        found.append(Finding("E206", "error", f"EPUB link does not resolve: {doc}: {problem}", where,
                             edition="epub", hint=hint))
    return found


_OPF = "{http://www.idpf.org/2007/opf}"
_NCX = "{http://www.daisy.org/z3986/2005/ncx/}"
_LINK_ATTRS = ("href", "src", "{http://www.w3.org/1999/xlink}href", "poster", "data")


def broken_links(data: bytes, detail: bool = False) -> list[tuple]:
    """Every internal link of an EPUB that does not resolve, as (document, what is wrong): each
    href/src in each XHTML document, the navigation document and the NCX must name a file in the
    package and, with a #fragment, an element with that id there. In-process, no JVM.
    `detail`: also the fragment and whether any document of the package has that id."""
    from posixpath import dirname, join, normpath
    from urllib.parse import urlsplit

    z = zipfile.ZipFile(io.BytesIO(data))
    names = set(z.namelist())
    container = etree.fromstring(z.read("META-INF/container.xml"))
    opf_name = container.find(".//{urn:oasis:names:tc:opendocument:xmlns:container}rootfile").get("full-path")
    opf = etree.fromstring(z.read(opf_name))
    base = dirname(opf_name)
    manifest = {normpath(join(base, unquote(i.get("href")))): i.get("media-type")
                for i in opf.iter(f"{_OPF}item")}
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    trees, ids = {}, {}
    for name, kind in manifest.items():
        if kind in ("application/xhtml+xml", "application/x-dtbncx+xml") and name in names:
            trees[name] = etree.fromstring(z.read(name), parser)
            ids[name] = {v for el in trees[name].iter() if isinstance(el.tag, str)
                         for v in (el.get("id"), el.get("{http://www.w3.org/XML/1998/namespace}id")) if v}
    broken = []
    for name, tree in trees.items():
        for el in tree.iter():
            if not isinstance(el.tag, str):
                continue
            for attr in _LINK_ATTRS:
                value = el.get(attr)
                if value is None or attr == "data" and not el.tag.endswith("object"):
                    continue
                url = urlsplit(value.strip())
                if url.scheme or url.netloc:
                    continue            # an external link: not the package's to resolve
                target = normpath(join(dirname(name), unquote(url.path))) if url.path else name
                what = f"<{etree.QName(el).localname} {etree.QName(attr).localname}=\"{value}\">"
                fragment = unquote(url.fragment)
                if target not in manifest or target not in names:
                    broken.append((name, f"{what} names {target}, which is not in the package", fragment))
                elif fragment and fragment not in ids.get(target, ()):
                    broken.append((name, f"{what}: {target} has no element with id '{fragment}'", fragment))
    if not detail:
        return [b[:2] for b in broken]
    every = set().union(*ids.values())
    return [(*b, b[2] in every) for b in broken]


def _style_rules(css_texts):
    """(selectors, italic or None, bold or None) of every rule that sets a font's style or weight, in order."""
    import cssselect2
    import tinycss2

    rules = []
    for text in css_texts:
        for rule in tinycss2.parse_stylesheet(text.decode("utf-8", "replace"), skip_comments=True,
                                              skip_whitespace=True):
            if rule.type != "qualified-rule":
                continue
            italic = bold = None
            for decl in tinycss2.parse_declaration_list(rule.content, skip_comments=True, skip_whitespace=True):
                if decl.type != "declaration":
                    continue
                value = tinycss2.serialize(decl.value).strip().lower()
                if decl.lower_name == "font-style":
                    italic = value.startswith(("italic", "oblique"))
                elif decl.lower_name == "font-weight":
                    bold = value in ("bold", "bolder") or (value[:3].isdigit() and int(value[:3]) >= 600)
            if italic is None and bold is None:
                continue
            try:
                selectors = cssselect2.compile_selector_list(rule.prelude)
            except cssselect2.SelectorError:
                continue
            rules.append((selectors, italic, bold))
    return rules


def embedded_fonts(look, contents, css_texts) -> tuple[str, list[tuple[str, bytes]]]:
    """The EPUB's css/fonts.css and its font files: of each face, only the files the text's
    styles call for (the UA's defaults and the stylesheets' rules, applied in order), each cut
    down to the characters set in that face."""
    import cssselect2

    rules = _style_rules(css_texts)
    features = looks.css_features(css_texts)     # only the OpenType features the stylesheets can use
    used: dict[str, set] = {"main": set(), "heading": set(), "mono": set()}
    chars: dict[str, set] = {"main": set(), "heading": set(), "mono": set()}

    def walk(wrapper, role, bold, italic):
        el = wrapper.etree_element
        tag = etree.QName(el).localname if isinstance(el.tag, str) else ""
        italic = italic or tag in ITALIC_TAGS
        bold = bold or tag in BOLD_TAGS
        for selectors, set_italic, set_bold in rules:
            if any(sel.test(wrapper) for sel in selectors):
                italic = italic if set_italic is None else set_italic
                bold = bold if set_bold is None else set_bold
        role = "mono" if tag in MONO_TAGS else "heading" if tag in HEADING_TAGS and role == "main" else role
        texts = [el.text or ""] + [child.tail or "" for child in el]
        if tag not in ("head", "title", "style") and "".join(texts).strip():
            used[role].add((bold, italic))
            chars[role].update("".join(texts))
        for child in wrapper.iter_children():
            walk(child, role, bold, italic)

    for content in contents:
        root = etree.fromstring(content)
        walk(cssselect2.ElementWrapper.from_xml_root(root), "main", False, False)
    faces = {"main": look.main, "heading": look.sans or look.main, "mono": look.mono}
    wanted: dict = {}                # FontFile -> (face, characters)
    for role, face in faces.items():
        if face is None:
            continue
        combos = used[role] | ({(False, False)} if role == "main" else set())
        for bold, italic in combos:
            file = looks.nearest(face, bold, italic)
            entry = wanted.setdefault(file, (face, set()))
            entry[1].update(chars[role] | (chars["heading"] if face is look.main else set()))
    files, names = [], {}
    for file, (face, text) in sorted(wanted.items(), key=lambda item: (item[1][0].family, item[0].italic,
                                                                       item[0].weight)):
        data, suffix = looks.subset(file, "".join(text), features)
        name = f"{looks._key(face.family)}-{file.weight}{'-italic' if file.italic else ''}{suffix}"
        files.append((name, data))
        names[file] = name
    scripts, script_rules = _script_faces(faces, used, chars, features, files)
    css = looks.font_css(dataclasses.replace(look, main=_only(look.main, names), sans=_only(look.sans, names),
                                             mono=_only(look.mono, names)),
                         url=lambda path: "../fonts/" + next(n for f, n in names.items() if f.path == path),
                         scripts=scripts)
    css = script_rules + css
    css += 'body { font-family: var(--main-font); }\n'
    css += "h1, h2, h3, h4, h5, h6 { font-family: var(--heading-font); }\n" if look.sans else ""
    css += "code, pre, kbd, samp { font-family: var(--mono-font); }\n" if look.mono else ""
    # Reading systems without custom properties still get the faces.
    fallback = "".join(f'"{family}", ' for family in scripts)
    css = css.replace("var(--main-font)", looks._family(look.main, fallback + "serif"))
    if look.sans:
        css = css.replace("var(--heading-font)", looks._family(look.sans, "sans-serif"))
    if look.mono:
        css = css.replace("var(--mono-font)", looks._family(look.mono, "monospace"))
    return css, files


def _script_faces(faces, used, chars, features, files) -> tuple[tuple[str, ...], str]:
    """The bundled faces of other scripts (Noto Serif Hebrew, Noto Naskh Arabic) the text needs,
    as the paged editions have them: for the characters of their script the book's own faces
    lack, each cut down to those, its bold only when the text sets bold. Adds their files to
    `files`; returns their families (the fallbacks after the book's face) and @font-face rules."""
    own = set()
    for face in faces.values():
        if face is not None:
            for file in face.files:
                own |= looks.characters(file.path)
    import unicodedata

    text = {c for role in chars.values() for c in role if ord(c) > 0x7F}
    bold = any(b for role in used.values() for b, _ in role)
    families, rules = [], []
    for family, _, langs in languages.SCRIPTS:
        regular, heavy = looks.script_files(family)
        script = family.split()[-1].upper()          # HEBREW, ARABIC: the Unicode script
        has = looks.characters(regular.path)
        needed = "".join(sorted(c for c in text if ord(c) in has and (
            unicodedata.name(c, "").startswith(script) or ord(c) not in own)))
        if not needed:
            continue
        families.append(family)
        # text in the script's languages is set in its face, as styles/book.css does in print
        rules.append(", ".join(f":lang({code})" for code in langs)
                     + f' {{ font-family: "{family}", var(--main-font); }}\n')
        for file in (regular, heavy) if bold else (regular,):
            data, suffix = looks.subset(file, needed, features)
            name = f"{looks._key(family)}-{file.weight}{suffix}"
            files.append((name, data))
            rules.insert(0, f'@font-face {{ font-family: "{family}"; src: url("../fonts/{name}"); '
                            f'font-weight: {file.weight}; font-style: normal; }}\n')
    return tuple(families), "".join(rules)


def _only(face, names):
    """The face with only the files embedded (None stays None)."""
    if face is None:
        return None
    return dataclasses.replace(face, files=tuple(f for f in face.files if f in names))


class _Writer(epub.EpubWriter):
    """ebooklib's writer, with the package's language declared (Ace requires `xml:lang` on it)."""

    def _write_opf_file(self, root):
        root.set("{http://www.w3.org/XML/1998/namespace}lang", self.book.language)
        super()._write_opf_file(root)


def print_source(book: Book) -> str:
    """The print edition the page breaks come from: its ISBN as a URN, else its title and publisher."""
    m = book.metadata
    if m.isbn.print:
        return "urn:isbn:" + m.isbn.print.replace("-", "")
    parts = [m.title, m.author_line, m.publisher, str(m.date.year) if m.date else None, "print edition"]
    return ", ".join(p for p in parts if p)


def accessibility_summary(book: Book, page_list: bool = False, pictures: bool = False) -> str:
    pages = (" Page-break markers and a page list give the page numbers of the print edition"
             f" ({print_source(book)})." if page_list else "")
    images = (" Its pictures carry text descriptions (alt text); it contains no sound, no video and no flashing "
              "content." if pictures else
              " It contains no images that carry meaning, no sound, no video and no flashing content.")
    return ("This publication meets EPUB Accessibility 1.1 and WCAG 2.2 Level AA as far as automated "
            "checking goes. It has a table of contents, structured headings and a logical reading order; "
            "footnotes are linked both ways to their references; the text can be restyled by the reader."
            + pages + images)


def informative_images(docs) -> bool:
    """Whether the text shows a picture that carries meaning: an <img> with a description (not the
    ornaments marked decorative, alt="" or role="presentation")."""
    for d in docs:
        for m in re.finditer(rb"<img\b[^>]*>", d.content):
            tag = m.group(0)
            alt = re.search(rb'\balt="([^"]*)"', tag)
            if alt and alt.group(1).strip() and b'role="presentation"' not in tag:
                return True
    return False


def normalise_zip(data: bytes, when: dt.datetime) -> bytes:
    """Rewrite the container with a stored `mimetype` first and fixed timestamps (reproducible)."""
    stamp = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        names = ["mimetype"] + sorted(n for n in src.namelist() if n != "mimetype")
        for name in names:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, src.read(name), compresslevel=9 if name != "mimetype" else None)
    return out.getvalue()
