"""Book + Edition -> HTML (paged editions) or XHTML documents (EPUB), through Jinja templates.

Pandoc turns the AST into one HTML body per book (`body_html`); each edition then places
the notes its own way: inline `float: footnote` spans for paged editions, noterefs and
`aside` footnotes for the EPUB.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from lxml import etree, html as lhtml

from . import pandoc
from .editions import Edition, Margins, Trim
from .errors import Location, TemplateError
from .load import Book
from .metadata import join_names

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "templates"
STYLES = ROOT / "styles"

BLOCK_TAGS = {"p", "div", "blockquote", "ul", "ol", "li", "table", "thead", "tbody", "tfoot", "tr",
              "td", "th", "figure", "figcaption", "pre", "dl", "dt", "dd", "section", "h1", "h2",
              "h3", "h4", "h5", "h6", "hr", "caption", "colgroup", "col", "aside", "header", "footer",
              "address", "details", "summary", "nav", "main", "article"}


@dataclass(frozen=True)
class Note:
    number: int            # in order of first call, as every edition prints it
    blocks: tuple          # lxml elements of the note's content, backlink removed


@dataclass(frozen=True)
class Body:
    """The book's text as pandoc rendered it, notes lifted out, shared by every edition."""

    root: etree._Element   # <div> holding the text's sections; note calls are <a class="footnote-ref">
    notes: dict = field(default_factory=dict)     # number -> Note


@dataclass(frozen=True)
class TocEntry:
    level: int
    id: str
    label: str


def body_html(book: Book) -> Body:
    """Run pandoc once for the book and lift the notes out of its end-of-document list."""
    shift = 1 if book.metadata.form == "essay" else 0
    text = pandoc.ast_to_html(book.ast, Location(book.sources[0].path), shift_headings=shift)
    root = lhtml.fragment_fromstring(text, create_parent="div")
    notes = {}
    section = root.find(".//section[@id='footnotes']")
    if section is not None:
        for li in section.iter("li"):
            ident = li.get("id", "")
            if not ident.startswith("fn"):
                continue
            number = int(ident[2:])
            for back in li.xpath(".//a[contains(@class,'footnote-back')]"):
                _drop(back)
            notes[number] = Note(number, tuple(li))
        section.getparent().remove(section)
    for ref in root.xpath(".//a[contains(@class,'footnote-ref')]"):
        ref.set("data-note", ref.get("href", "#fn0")[3:])
    for h in root.xpath(".//h1|.//h2|.//h3|.//h4|.//h5|.//h6"):
        h.set("data-label", _label(h))
    return Body(root, notes)


def _label(heading) -> str:
    clone = copy.deepcopy(heading)
    for ref in clone.xpath(".//a[contains(@class,'footnote-ref')]"):
        _drop(ref)
    return " ".join(clone.text_content().split())


def _drop(el):
    """Remove an element but keep its tail text."""
    parent = el.getparent()
    if el.tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def contents(book: Book) -> list[TocEntry]:
    """Headings that go in the contents: chapters and their sections (book), sections (essay)."""
    deepest = 1 if book.metadata.form == "essay" else 2
    shift = 1 if book.metadata.form == "essay" else 0
    return [TocEntry(h.level + shift, h.id, h.label) for h in book.headings if h.level <= deepest and h.id]


def book_context(book: Book, edition: Edition) -> dict:
    """Plain data for the templates: every value already formatted."""
    m = book.metadata
    isbn = getattr(m.isbn, edition.isbn_key)
    notes_len = sum(len(n) for n in m.editorial_notes)
    return {
        "title": m.title, "subtitle": m.subtitle, "author_line": m.author_line,
        "translators": m.translators, "translator_line": join_names(m.translators),
        "lang": m.lang, "form": m.form, "publisher": m.publisher, "rights": m.rights,
        "date": m.date.isoformat() if m.date else None, "year": m.date.year if m.date else None,
        "description": m.description, "subjects": list(m.subjects),
        "original_publication": m.original_publication, "edition": m.edition,
        "isbn": isbn, "isbn_label": {"pdf": "PDF", "print": "paperback", "epub": "EPUB"}[edition.isbn_key] if isbn else None,
        "editorial_notes": list(m.editorial_notes), "back_notes": notes_len > 900,
        "identifier": m.identifier,
    }


def environment(templates: Path = TEMPLATES) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def render_template(env: jinja2.Environment, name: str, **context) -> str:
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateSyntaxError as err:
        raise TemplateError(f"template error: {err.message}", where=Location(err.filename or name, err.lineno),
                            hint="fix the Jinja syntax") from None
    except jinja2.UndefinedError as err:
        raise TemplateError(f"template uses an undefined value: {err.message}", where=Location(TEMPLATES / name),
                            hint="templates may only use the values listed in the README") from None
    except jinja2.TemplateNotFound as err:
        raise TemplateError(f"template not found: {err.name}", where=Location(TEMPLATES / name)) from None


def css_string(text: str) -> str:
    """A CSS string literal; `<` escaped so the text cannot close the <style> element."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3C ")
    return '"' + " ".join(escaped.split()) + '"'


def page_css(book: Book, trim: Trim, margins: Margins, mirrored: bool, bleed: float = 0.0) -> str:
    """The edition's page geometry as CSS; the design itself is in styles/."""
    pt = lambda v: f"{v:.3f}pt"
    verso = css_string(book.metadata.author_line)
    if mirrored:
        left = f"margin: {pt(margins.top)} {pt(margins.inside)} {pt(margins.bottom)} {pt(margins.outside)};"
        right = f"margin: {pt(margins.top)} {pt(margins.outside)} {pt(margins.bottom)} {pt(margins.inside)};"
    else:
        side = (margins.inside + margins.outside) / 2
        left = right = f"margin: {pt(margins.top)} {pt(side)} {pt(margins.bottom)} {pt(side)};"
    bleed_css = f"bleed: {pt(bleed)};" if bleed else ""
    return (f"@page {{ size: {pt(trim.width)} {pt(trim.height)}; {bleed_css} }}\n"
            f"@page :left {{ {left} @top-center {{ content: {verso}; }} }}\n"
            f"@page :right {{ {right} }}\n")


def paged_html(book: Book, body: Body, edition: Edition) -> str:
    """The complete HTML document WeasyPrint sets for a paged edition (geometry comes from page_css)."""
    root = copy.deepcopy(body.root)
    for ref in root.xpath(".//a[contains(@class,'footnote-ref')]"):
        number = int(ref.get("data-note"))
        call = etree.Element("a", {"class": "noteref", "href": f"#fn{number}", "id": f"fnref{number}"})
        call.text = str(number)
        span = etree.Element("span", {"class": "footnote", "id": f"fn{number}"})
        _inline_note(span, body.notes[number], number)
        call.tail = None
        span.tail = ref.tail
        parent = ref.getparent()
        index = parent.index(ref)
        parent.remove(ref)
        parent.insert(index, call)
        parent.insert(index + 1, span)
    text = "".join(lhtml.tostring(child, encoding="unicode") for child in root)
    if root.text:
        text = root.text + text
    env = environment()
    styles = [f"{(STYLES / name).as_uri()}" for name in ("fonts.css", "book.css", edition.stylesheet)]
    return render_template(
        env, "book.html.j2",
        book=book_context(book, edition), body=text, contents=contents(book),
        stylesheets=styles,
    )


def _inline_note(span, note: Note, number: int):
    """Note content as inline markup: HTML parsers close <p> at any block, so blocks become spans."""
    marker = etree.Element("a", {"class": "note-number", "href": f"#fnref{number}"})
    marker.text = str(number)
    blocks = [copy.deepcopy(b) for b in note.blocks]
    for block in blocks:
        for el in block.iter():
            if isinstance(el.tag, str) and el.tag in BLOCK_TAGS:
                el.set("class", (f"fn-{el.tag} " + el.get("class", "")).strip())
                el.tag = "span"
                # Pandoc's newlines between blocks would become empty lines inside a span.
                if len(el) and el[0].tag in BLOCK_TAGS and not (el.text or "").strip():
                    el.text = None
                for child in el:
                    if isinstance(child.tag, str) and child.tag in BLOCK_TAGS and not (child.tail or "").strip():
                        child.tail = None
    if blocks and blocks[0].get("class", "").startswith("fn-p"):
        first = blocks[0]
        marker.tail = first.text
        first.text = None
        first.insert(0, marker)
    else:
        span.append(marker)
    for b in blocks:
        b.tail = None
        span.append(b)
