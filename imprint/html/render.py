"""Book + Edition -> HTML (paged editions) or XHTML documents (EPUB), through Jinja templates.

Pandoc turns the AST into one HTML body per book (`body_html`); each edition then places
the notes its own way: inline `float: footnote` spans for paged editions, noterefs and
`aside` footnotes for the EPUB.
"""

from __future__ import annotations

import copy
import html as htmllib
import json
import re
from dataclasses import dataclass, field
from urllib.parse import quote

from lxml import etree, html as lhtml
from markupsafe import Markup

from imprint.manuscript import crossrefs, math
from imprint.manuscript.crossrefs import PART_LEAD_CHARS, PART_MIN_CHARS
from imprint.html import display
from imprint.html import index as index_markup
from imprint.manuscript import pandoc
from imprint.manuscript import sanitize
from imprint.manuscript import look as looks
from imprint.specs.editions import Edition, Margins, Trim
from imprint.errors import Location, ManuscriptError
from imprint.manuscript.load import Book, listed
from imprint.manuscript import languages
from imprint.specs.labels import join_names, labels

from imprint.house import STYLES
from imprint.html.templates import BLOCK_KEY, environment, render_template, running_head  # noqa: F401 (their home)  # noqa: F401  (ROOT: for the templates' users)

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
    plates: bool = False   # art that reaches the page edge (images with class `bleed`): print needs bleed
    figures: tuple = ()    # (id, caption) of each captioned figure, for `lof: true`
    tables: tuple = ()     # (id, caption) of each captioned table, for `lot: true`
    marks: tuple = ()      # index marks (imprint/html/index.py), in the order of the text
    refs: tuple = ()       # ids whose page a page reference prints
    # id -> the print page it stands on, written in after layout (imprint/jobs/pagerefs.py);
    # shared by every copy of the Body, so each edition prints the same numbers
    numbers: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class TocEntry:
    level: int
    id: str
    label: str
    number: str = ""       # "2.1" with `number-sections: true`


def body_html(book: Book, *, allow_remote_images: bool = False) -> Body:
    """Run pandoc once for the book, sanitize the result, and lift the notes out of its end-of-document list."""
    shift = 1 if book.metadata.form == "essay" else 0
    text = None
    future = book.html_future
    if future is not None and getattr(future, "made_of", None) == (hash(book.markdown), shift):
        try:
            text = future.result()
        except Exception:           # pandoc read the same text into the AST: make the HTML from that
            text = None
        if future.pool is not None:
            future.pool.shutdown(wait=True)
    if text is None:
        text = pandoc.ast_to_html(book.ast, Location(book.sources[0].path), shift_headings=shift)
    if future is not None and future.keep is not None:
        future.keep(text)           # the book's pieces kept for the next build (imprint/manuscript/sections.py)
    where = Location(book.sources[0].path)
    root = sanitize.parse(sanitize.clean_html(text, where), where)
    if not allow_remote_images:
        sanitize.drop_remote_images(root)
    long_dashes(root)
    ordered_lists(root)
    display.spaced_dashes(root)         # no line starts with a spaced dash
    display.image_paragraphs(root)      # a picture alone in its paragraph: centred, not indented
    display.attributions(root)          # a quotation's "— Author" line: flush right, kept with it
    # Before the notes are lifted out: a mark or page reference in a note is found too.
    marks, refs = index_markup.prepare(root, book.metadata.lang, level=1 + shift)
    notes = {}
    # pandoc writes its note list last; raw HTML cannot imitate it (S104), and is not trusted to.
    sections = root.xpath("./section[@id='footnotes'][contains(@class,'footnotes-end-of-document')]")
    if sections:
        section = sections[-1]
        for li in section.xpath("./ol/li"):
            ident = li.get("id", "")
            if not re.fullmatch(r"fn\d+", ident):
                continue
            number = int(ident[2:])
            for back in li.xpath(".//a[contains(@class,'footnote-back')]"):
                sanitize.drop(back)
            notes[number] = Note(number, tuple(li))
        section.getparent().remove(section)
    for ref in root.xpath(".//a[contains(@class,'footnote-ref')]"):
        m = re.fullmatch(r"#fn(\d+)", ref.get("href", ""))
        if m and int(m.group(1)) in notes and "footnote-ref" in ref.get("class", "").split():
            ref.set("data-note", m.group(1))
        else:                   # not a call pandoc made: an ordinary link
            ref.set("class", " ".join(c for c in ref.get("class", "").split() if "footnote-ref" not in c))
    numbers = section_numbers(book)
    for h in root.xpath(".//h1|.//h2|.//h3|.//h4|.//h5|.//h6"):
        number = numbers.get(h.get("id") or (h.getparent().get("id") if h.getparent() is not None else None))
        if number:          # `number-sections: true`: the number before the heading's text
            mark = etree.Element("span", {"class": "header-section-number"})
            mark.text, mark.tail, h.text = number, " " + (h.text or ""), None
            h.insert(0, mark)
        h.set("data-label", _label(h))
        h.set("data-head", running_head(h.get("data-running-head") or h.get("data-label")))
    if book.metadata.form == "book":
        mark_parts(root)
        display.balance_headings(root, title_face(book), "./section[contains(concat(' ', @class, ' '), ' level1 ')]"
                                 "[not(contains(concat(' ', @class, ' '), ' part '))]/h1"
                                 " | .//section[contains(concat(' ', @class, ' '), ' chapter ')]/h2")
    display.lead_ins(root, book.metadata.form,   # a chapter opening in capitals: small capitals
                     str(looks.nearest(book.look.main, False, False).path))
    # Every block of the text gets a stable index, the same in every edition's copy: the
    # print page map (imprint/typeset/pagemap.py) names where a page starts by it, the EPUB finds it.
    task_lists(root)
    decorative(root)
    figures, tables = captioned(root)
    for index, el in enumerate(e for e in root.iterdescendants() if isinstance(e.tag, str) and e.tag in BLOCK_TAGS):
        el.set(BLOCK_KEY, str(index))
    return Body(root, notes, mark_plates(root), figures, tables, marks, refs)


TASK = re.compile(r"\[([ xX])\]\s")


def task_lists(root) -> None:
    """Pandoc's task list items (`- [ ] to do`, `- [x] done`) with a ballot box, empty or checked:
    pandoc's own form controls are what the sanitizer drops, so the reader is off and the
    text keeps its brackets; they become ☐ / ☑ characters (DejaVu Sans has them) in a span."""
    for li in root.xpath(".//li"):
        holder = li[0] if len(li) and li[0].tag == "p" and not (li.text or "").strip() else li
        m = TASK.match(holder.text or "")
        if not m:
            continue
        done = m.group(1) != " "
        box = etree.Element("span", {"class": "task-box" + (" task-done" if done else ""), "role": "img",
                                     "aria-label": "done" if done else "not done"})
        box.text = "☑" if done else "☐"
        box.tail = " " + holder.text[m.end():]
        holder.text = None
        holder.insert(0, box)
        li.set("class", (li.get("class", "") + " task").strip())
        if li.getparent() is not None:
            li.getparent().set("class", (li.getparent().get("class", "") + " task-list").strip())


WJ = "\u2060"          # word joiner: no line break here, nothing printed

LIST_TYPES = {"1": "decimal", "a": "lower-alpha", "A": "upper-alpha", "i": "lower-roman", "I": "upper-roman"}
DELIMITERS = ("oneparen", "twoparens")     # 1)  (1)   (styles/filters/list-delimiters.lua)


def ordered_lists(root) -> None:
    """An ordered list numbered as the author wrote it: WeasyPrint 70 ignores `start` and
    `type`, so each list gets its style as a class (`list-lower-alpha`, ...) and its first
    number as `counter-reset: list-item N-1`; a list whose delimiter is a parenthesis (pandoc
    keeps it in a div the Lua filter adds) gets `list-delim list-oneparen|list-twoparens`,
    its numbers drawn by styles/book.css. The EPUB keeps `start` and `type` for the reading
    system, which numbers such lists itself (with a full stop)."""
    for div in list(root.iter("div")):
        cls = div.get("class", "")
        if cls.startswith("imprint-list-") and cls[13:] in DELIMITERS and len(div) == 1 and div[0].tag == "ol" \
                and not (div.text or "").strip():
            ol = div[0]
            if div.get("id") and not ol.get("id"):     # an author's own such div: its id is a link's target
                ol.set("id", div.get("id"))
            ol.set("class", (ol.get("class", "") + f" list-delim list-{cls[13:]}").strip())
            ol.tail = div.tail
            div.getparent().replace(div, ol)
    for ol in root.iter("ol"):
        kind = LIST_TYPES.get(ol.get("type", "1"), "decimal")
        ol.set("class", (ol.get("class", "") + f" list-{kind}").strip())
        items = [li for li in ol if li.tag == "li"]
        # raw HTML: <ol reversed> counts down (from the number of items), <li value="7"> sets an item's
        # number; WeasyPrint 70 reads neither, so both become counters too (a browser reads them the same)
        step = -1 if ol.get("reversed") is not None else 1
        start = ol.get("start", "")
        first = int(start) if re.fullmatch(r"-?\d{1,9}", start) else (len(items) if step < 0 else 1)
        if first != 1 or step < 0:
            _add_style(ol, f"counter-reset: list-item {first - step}")
        numbers, n = [], first - step
        for li in items:
            value = li.get("value", "")
            if re.fullmatch(r"-?\d{1,9}", value):
                n = int(value) - step
                _add_style(li, f"counter-reset: list-item {n}")
            if step < 0:
                _add_style(li, "counter-increment: list-item -1")
            n += step
            numbers.append(n)
        # The widest number, so that it hangs inside the text area (L205 otherwise).
        width = max((len(_marker(n, kind)) for n in numbers), default=1)
        width += 2 if "list-twoparens" in ol.get("class", "") else 1
        if width >= 6:      # "(xxxviii)", "XXVIII.": wider than list-wider's 2.8em (L205), hung by its own measure
            hang = max(_em(_marker(n, kind)) for n in numbers) + (0.66 if "list-twoparens" in ol.get("class", "") else 0.33)
            ol.set("class", ol.get("class") + " list-wider list-hung")
            _add_style(ol, f"padding-left: {max(2.8, hang + 0.7):.2f}em")
        elif width >= 5:
            ol.set("class", ol.get("class") + " list-wider")
        elif width >= 3:
            ol.set("class", ol.get("class") + " list-wide")


def _em(text: str) -> float:
    """About how wide a list number is set, in em (a book face's figures and roman letters, on
    the wide side): the hanging indent of a list whose numbers are long."""
    return sum(0.3 if c in "il" else 0.85 if c in "mwMW" else 0.72 if c.isupper() else 0.52 for c in text)


def _add_style(el, declaration: str) -> None:
    """A declaration added to an element's style attribute (the author's own kept)."""
    style = (el.get("style") or "").strip().rstrip(";")
    el.set("style", f"{style}; {declaration}" if style else declaration)


def _marker(n: int, kind: str) -> str:
    """The number n as a list of this kind prints it (without its delimiter)."""
    if kind in ("lower-roman", "upper-roman") and 0 < n < 4000:
        out = ""
        for value, letters in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
                               (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
            while n >= value:
                out, n = out + letters, n - value
        return out.upper() if kind == "upper-roman" else out
    if kind in ("lower-alpha", "upper-alpha") and n > 0:
        out = ""
        while n > 0:
            n, r = divmod(n - 1, 26)
            out = chr(97 + r) + out
        return out.upper() if kind == "upper-alpha" else out
    return str(n)


def captioned(root) -> tuple[tuple, tuple]:
    """(id, caption) of every captioned figure and table, each given an id when it has none
    (the lists of figures and tables link to them); a caption's note calls are left out (a
    list of tables printed "Table 1: Manuscripts32")."""
    found = ([], [])
    for kind, path, caption in ((0, ".//figure", "figcaption"), (1, ".//table", "caption")):
        for n, el in enumerate(root.xpath(path), 1):
            cap = el.find(caption)
            if cap is None or not " ".join(cap.text_content().split()):
                continue
            if not el.get("id"):
                el.set("id", f"{'figure' if kind == 0 else 'table'}-{n}")
            found[kind].append((el.get("id"), _label(cap)))     # without its note calls, as the contents
    return tuple(found[0]), tuple(found[1])


def section_numbers(book: Book) -> dict[str, str]:
    """{heading id: its number} for `number-sections: true` (crossrefs.heading_numbers, which
    the cross-references print too; a part prints none: its title says it), {} otherwise."""
    if not book.metadata.number_sections:
        return {}
    numbered = crossrefs.heading_numbers(book.ast, book.metadata.form != "book")
    return {ident: number for ident, (kind, number) in numbered.items() if kind != "part"}


# Two- and three-em dashes (U+2E3A, U+2E3B: a name left out, a line omitted in verse) are in
# no bundled face and few reading systems' fonts: they are set as em dashes run solid, which
# is what they are.
LONG_DASHES = {"\u2e3a": 2, "\u2e3b": 3}
_LONG_DASH = re.compile("[\u2e3a\u2e3b]")


def long_dashes(root) -> None:
    """Every two- and three-em dash in the text -> a span of em dashes set solid (class long-dash)."""
    def split(text: str):
        out, at = [], 0
        for m in _LONG_DASH.finditer(text):
            out.append((text[at:m.start()], "\u2014" * LONG_DASHES[m.group(0)]))
            at = m.end()
        return out, text[at:]

    for el in list(root.iter()):
        if not isinstance(el.tag, str):
            continue
        for attr in ("text", "tail"):
            value = getattr(el, attr)
            if not value or not _LONG_DASH.search(value):
                continue
            pieces, rest = split(value)
            setattr(el, attr, pieces[0][0])
            spans = []
            for i, (_, dashes) in enumerate(pieces):
                span = etree.Element("span", {"class": "long-dash"})
                span.text = dashes
                span.tail = pieces[i + 1][0] if i + 1 < len(pieces) else rest
                spans.append(span)
            if attr == "text":
                for i, span in enumerate(spans):
                    el.insert(i, span)
            else:
                parent, index = el.getparent(), el.getparent().index(el)
                for i, span in enumerate(spans):
                    parent.insert(index + 1 + i, span)




def mark_parts(root) -> list:
    """Level-1 sections that are parts of the book (Book I, Part One...): classes `part` on
    them and `chapter` on their level-2 sections, which then open on a recto of their own.

    A level-1 section is a part when its heading is followed by level-2 sections (nothing
    but them, after at most a few lines for the part's title page), at least two, and they
    are chapter-long (the median at least
    PART_MIN_CHARS characters of text), or when its heading says so with `{.part}` (and never
    with `{.chapter}`); short
    subsections (an appendix's notes, a chapter's divisions) run on as before."""
    parts = []
    for section in root.xpath("./section[contains(concat(' ', @class, ' '), ' level1 ')]"):
        classes = section.get("class", "").split()
        children = [el for el in section if isinstance(el.tag, str)]
        if not children or children[0].tag != "h1":
            continue
        is_sub = lambda el: el.tag == "section" and "level2" in el.get("class", "").split()
        first = next((i for i, el in enumerate(children) if is_sub(el)), len(children))
        lead, subs = children[1:first], children[first:]
        if "chapter" in classes:    # `# Title {.chapter}`: a chapter whatever follows
            continue
        if "part" not in classes:
            if len(subs) < 2 or not all(is_sub(el) for el in subs):
                continue
            if sum(len(el.text_content()) for el in lead) > PART_LEAD_CHARS or any(el.tag == "section" for el in lead):
                continue
            if any((el.tail or "").strip() for el in children):
                continue
            lengths = sorted(len(el.text_content()) for el in subs)
            if lengths[len(lengths) // 2] < PART_MIN_CHARS:
                continue
            section.set("class", " ".join(classes + ["part"]))
        for el in subs:
            if is_sub(el):
                el.set("class", " ".join(el.get("class", "").split() + ["chapter"]))
                title = el.find("h2")
                if title is not None:
                    title.set("class", " ".join(title.get("class", "").split() + ["chapter-title"]))
        parts.append(section)
    return parts


def split_part(section) -> list:
    """A level-1 section as the pieces a reader opens on a new page: itself, or for a part of
    the book (mark_parts) a copy holding its title (and what stands under it), then each of
    its chapters inside a copy of the part's section without its id, so the rules for the
    part's sections apply to it as in one piece. What follows a chapter stays with it."""
    chapters = [el for el in section if isinstance(el.tag, str) and el.tag == "section"
                and "chapter" in el.get("class", "").split()]
    if "part" not in section.get("class", "").split() or not chapters:
        return [section]
    opener = etree.Element(section.tag, dict(section.attrib))
    opener.text = section.text
    pieces = [opener]
    for el in section:
        if el in chapters:
            shell = etree.Element(section.tag, {k: v for k, v in section.attrib.items() if k != "id"})
            shell.text = "\n"
            pieces.append(shell)
        pieces[-1].append(copy.deepcopy(el))
    return pieces


def _label(heading) -> str:
    clone = copy.deepcopy(heading)
    for ref in clone.xpath(".//a[contains(@class,'footnote-ref')]"):
        sanitize.drop(ref)
    math.label_text(clone)
    return " ".join(clone.text_content().split())


def contents(book: Book) -> list[TocEntry]:
    """Headings that go in the contents: chapters and their sections (book), sections (essay);
    `toc-depth:` sets the deepest level listed (as pandoc counts it, the essay's title being level 1)."""
    shift = 1 if book.metadata.form == "essay" else 0
    deepest = (book.metadata.toc_depth - shift) if book.metadata.toc_depth else (1 if shift else 2)
    numbers = section_numbers(book)
    return [TocEntry(h.level + shift, h.id, h.label, numbers.get(h.id, ""))
            for h in listed(book.headings) if h.level <= deepest and h.id]


def index_entry(book: Book, body: Body) -> list[TocEntry]:
    """The index in the contents, at the level of the book's chapters (imprint/html/index.py)."""
    ident = index_markup.section_id(body) if body.marks else None
    level = 2 if book.metadata.form == "essay" else 1
    return [TocEntry(level, ident, index_markup.rules.heading(book.metadata.lang))] if ident else []


ISBN_LABELS = {"print": "paperback", "pdf": "PDF", "epub": "EPUB"}


def title_face(book: Book) -> str | None:
    """The file the titles are set in (the heading face's regular), to balance their lines by."""
    face = book.look.sans or book.look.main
    try:
        return str(looks.nearest(face, False, False).path)
    except (ValueError, AttributeError):
        return None


def book_context(book: Book, edition: Edition) -> dict:
    """Plain data for the templates: every value already formatted."""
    m = book.metadata
    isbn = getattr(m.isbn, edition.isbn_key)
    words = labels(m.lang)
    isbn_labels = {key: words["paperback"] if key == "print" else name for key, name in ISBN_LABELS.items()}
    notes_len = sum(len(n) for n in m.editorial_notes)
    return {
        "title": m.title, "subtitle": m.subtitle,
        # the title in balanced lines, broken by sense (imprint/html/display.py), for the display pages
        "title_html": Markup(display.balanced_markup(m.title, title_face(book))), "author_line": m.author_line,
        "author_html": Markup(display.names_markup(m.author_line, title_face(book))),
        "title_em": display.title_widths(m.title, title_face(book)),
        "translators": m.translators, "translator_line": join_names(m.translators, m.lang),
        "lang": m.lang, "form": m.form, "publisher": m.publisher, "rights": m.rights,
        "date": m.date.isoformat() if m.date else None, "year": m.date.year if m.date else None,
        "description": m.description, "subjects": list(m.subjects),
        "original_publication": m.original_publication, "edition": m.edition,
        "isbn": isbn, "isbn_label": isbn_labels[edition.isbn_key] if isbn else None,
        # Every edition's ISBN, so the PDF and the print interior can share one copyright page.
        "isbns": [{"label": label, "isbn": getattr(m.isbn, key)} for key, label in isbn_labels.items()
                  if getattr(m.isbn, key)],
        "editorial_notes": list(m.editorial_notes), "back_notes": notes_len > 900,
        "identifier": m.identifier,
        # The words the book prints in its language (imprint/specs/labels.py), its writing direction.
        "labels": words, "dir": languages.direction(m.lang), "rtl_css": rtl_css(m.lang, m.author_line),
        "toc_title": m.toc_title or words["contents"], "lof": m.lof, "lot": m.lot,
        # The face the text is set in, as the colophon names it, and its licence (bundled faces).
        "typeface": book.look.main.name, "typeface_licence": book.look.main.licence,
        # The EPUB's stylesheets under css/, in order: the faces, the house's, the book's own.
        "epub_stylesheets": ["fonts.css", "epub.css"] + [f"book-{i}.css" for i in range(1, len(book.look.epub_css) + 1)],
    }


def rtl_css(lang: str, author_line: str = "") -> str:
    """The page rules of a right-to-left book (templates/book.html.j2, after styles/book.css; the
    edition's page CSS is a user sheet and would lose to it): the footnote rule starts where the
    lines do, at the right; the running heads are in the face of the text (book.css :lang rules),
    not spaced out (an Arabic word's letters join). The book opens from the right, so its rectos
    are the left-hand pages: they carry the section's title, the right-hand versos the author's
    name (a left-to-right book's the other way round: book.css, page_css)."""
    if languages.direction(lang) != "rtl":
        return ""
    css = "@page { @footnote { border-image: linear-gradient(to right, transparent 70%, black 70%) 1 0 0 0; } }\n"
    css += (f"@page :left {{ @top-center {{ content: string(section, first); }} }}\n"
            f"@page :right {{ @top-center {{ content: {css_string(author_line)}; }} }}\n")
    family = looks.script_family(lang)
    if family:
        heads = " ".join(f'@{box} {{ font-family: "{family}", var(--main-font); letter-spacing: 0; }}'
                         for box in ("top-left", "top-center", "top-right"))
        css += f"@page :left {{ {heads} }}\n@page :right {{ {heads} }}\n"
    return css


def css_string(text: str) -> str:
    """A CSS string literal; `<` escaped so the text cannot close the <style> element."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3C ")
    return '"' + " ".join(escaped.split()) + '"'


def page_css(book: Book, trim: Trim, margins: Margins, mirrored: bool, bleed=None) -> str:
    """The edition's page geometry as CSS; the design itself is in styles/.

    `bleed` (a profiles.Bleed, for books with art that reaches the edge) adds the printer's
    bleed per side, the binding edge being left on rectos and right on versos, and sizes the
    full-page plates (images with class `bleed`) to cover the page and its bleed.
    """
    pt = lambda v: f"{v:.3f}pt"
    verso = css_string(book.metadata.author_line)
    if mirrored:
        left = f"margin: {pt(margins.top)} {pt(margins.inside)} {pt(margins.bottom)} {pt(margins.outside)};"
        right = f"margin: {pt(margins.top)} {pt(margins.outside)} {pt(margins.bottom)} {pt(margins.inside)};"
    else:
        side = (margins.inside + margins.outside) / 2
        left = right = f"margin: {pt(margins.top)} {pt(side)} {pt(margins.bottom)} {pt(side)};"
    bleed_left = bleed_right = plates = ""
    if bleed:
        sides = lambda recto: " ".join(f"bleed-{k}: {pt(v)};" for k, v in bleed.sides(recto).items())
        bleed_left, bleed_right = sides(False), sides(True)
        # A plate covers the trim and the widest bleed on both sides; what falls past a
        # binding edge without bleed is cut off by the page box.
        across = max(bleed.outside, bleed.inside)
        plates = (f"@page plate {{ margin: 0; }}\n"
                  f"img.bleed {{ width: {pt(trim.width + 2 * across)}; height: {pt(trim.height + bleed.top + bleed.bottom)}; "
                  f"margin: {pt(-bleed.top)} 0 0 {pt(-across)}; }}\n")
    continued = css_string(labels(book.metadata.lang)["note-continued"])
    # An image in a note is one block the long-note cutter cannot cut: no taller than half
    # the text block, so it always fits the footnote area (at most 65% of it) with a line.
    # The limit is only given here, as a variable: book.css's `.footnote img` rule uses it.
    # This CSS is a user stylesheet to WeasyPrint: a rule of its own would lose to book.css's
    # `img { max-height: 80vh }` (the author's) whatever its specificity (an image in a note
    # came out 80% of the page tall, its piece drawn over the text: N206, L202, L203), and
    # with `!important` it would beat the book's own stylesheet's limit, even an !important one.
    text_block = trim.height - margins.top - margins.bottom
    notes = f":root {{ --note-image-height: {pt(text_block * 0.5)}; }}\n"
    return (f"@page {{ size: {pt(trim.width)} {pt(trim.height)}; }}\n" + notes +
            f".footnote[data-piece]::after {{ content: {continued}; }}\n"
            f"@page :left {{ {left} {bleed_left} @top-center {{ content: {verso}; }} }}\n"
            f"@page :right {{ {right} {bleed_right} }}\n" + plates)


def decorative(root) -> None:
    """An image marked {.decorative} is ornament: an empty alt and role="presentation", so a
    screen reader passes over it (an image with no description and no such mark: R006)."""
    for img in root.xpath(".//img[contains(concat(' ', normalize-space(@class), ' '), ' decorative ')]"):
        img.set("alt", "")
        img.set("role", "presentation")


def mark_plates(root) -> bool:
    """Give the block holding each full-bleed image (class `bleed`) the class `plate`; True if any."""
    found = False
    for img in root.xpath(".//img[contains(concat(' ', normalize-space(@class), ' '), ' bleed ')]"):
        holder = img.getparent()
        if holder is not None and holder.tag in ("figure", "p", "div"):
            holder.set("class", (holder.get("class", "") + " plate").strip())
        found = True
    return found


def css_uri(text: str) -> str:
    """A stylesheet made here, as a data: URL a <link> can name."""
    return "data:text/css;charset=utf-8," + quote(text)


def paged_stylesheets(look: looks.Look, house: tuple[str, ...]) -> list[str]:
    """The look's faces, the house's stylesheets under styles/, the look's size and leading,
    then the book's own stylesheets (`css:`), which have the last word."""
    sized = looks.size_css(look) + looks.note_foot_css(look)
    return ([css_uri(looks.font_css(look))] + [(STYLES / name).as_uri() for name in house]
            + ([css_uri(sized)] if sized else []) + [path.as_uri() for path in look.css])


def paged_html(book: Book, body: Body, edition: Edition) -> str:
    """The complete HTML document WeasyPrint sets for a paged edition (geometry comes from page_css)."""
    body = index_markup.numbered(body, lang=book.metadata.lang)
    root = copy.deepcopy(body.root)
    for ref in root.xpath(".//a[contains(@class,'footnote-ref')]"):
        number = int(ref.get("data-note"))
        call = etree.Element("a", {"class": "noteref", "href": f"#fn{number}", "id": f"fnref{number}"})
        # A word joiner first: no line may begin with a call. Pango may break between a full
        # stop or a comma and the digits after it (UAX #14: IS ÷ NU), and a line filled to
        # "word." (or overfull with a word too long for it) left the call to open the next line.
        call.text = WJ + str(number)
        span = etree.Element("span", {"class": "footnote", "id": f"fn{number}"})
        _inline_note(span, body.notes[number], number)
        call.tail = None
        span.tail = ref.tail
        parent = ref.getparent()
        index = parent.index(ref)
        parent.remove(ref)
        parent.insert(index, call)
        parent.insert(index + 1, span)
    display.verse_lines(root)       # a poem's lines, each turning over with a hanging indent (notes too)
    set_formulas(root, math.to_images, book)
    script_struts(root, book.metadata.lang)
    if not book.metadata.hyphenate_capitalized:
        common_capitals(root)
    text = "".join(lhtml.tostring(child, encoding="unicode") for child in root)
    if root.text:
        text = root.text + text
    env = environment(book.root)
    styles = paged_stylesheets(book.look, ("book.css", "highlight.css", edition.stylesheet))
    html = render_template(
        env, "book.html.j2",
        book=book_context(book, edition), body=text, contents=contents(book) + index_entry(book, body),
        figures=body.figures, tables=body.tables, stylesheets=styles,
    )
    # The line-breaking settings travel with the document to the typesetter (imprint/typeset/linebreak.py).
    m = book.metadata
    # Words are measured in the book's own face files at its size (the Look).
    breaking = "greedy" if looks.total_fit_obstacle(book.look) else m.line_breaking    # L223 says why
    faces = htmllib.escape(json.dumps(looks.measured_files(book.look)), quote=True)
    # inline code: the book's monospace face's files (none: imprint's default, found by linebreak)
    mono = looks.measured_files(book.look, book.look.mono) if book.look.mono and book.look.mono.files else None
    mono = f'data-measure-mono="{htmllib.escape(json.dumps(mono), quote=True)}" ' if mono else ""
    return html.replace("<html ", f'<html data-line-breaking="{breaking}" '
                        f'data-hyphenate-capitalized="{"true" if m.hyphenate_capitalized else "false"}" '
                        f'data-measure-size="{book.look.fontsize or looks.HOUSE_SIZE:g}" '
                        f'data-measure-faces="{faces}" ' + mono, 1)


LINE_BLOCKS = {"p", "li", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "figcaption", "caption", "td", "th"}
INNER_BLOCKS = {"p", "div", "ul", "ol", "dl", "blockquote", "table", "figure", "pre", "section", "hr", "img"}
SCRIPT_STRUT = "script-strut"       # styles/book.css: the block keeps the book's face for its lines' strut


def script_struts(root, book_lang: str) -> None:
    """A block of text in a language set in another script's face (`::: {lang=ar}` in an
    English book) would take that face's ascent and descent for its lines' strut, and put
    each baseline off the book's grid (Noto Naskh Arabic's by 1.2 pt, Noto Serif Hebrew's by
    0.2 pt at 11 pt). The block keeps the book's face (SCRIPT_STRUT) and its text goes in a
    span of its language, set in the script's face with no leading of its own (book.css
    span[lang]), as a span of it in running text is."""
    own = languages.script_face(book_lang)
    for el in root.iter(*LINE_BLOCKS):
        lang = next((a.get("lang") for a in el.iterancestors() if a.get("lang")), None) if not el.get("lang") \
            else el.get("lang")
        face = languages.script_face(lang) if lang else None
        if face is None or face == own or lang is None:
            continue
        inner = [c for c in el.iterdescendants() if isinstance(c.tag, str)]
        if any(c.tag in INNER_BLOCKS or "display" in (c.get("class") or "").split() for c in inner):
            continue                # its lines are its blocks' (a list item's paragraphs), or a display formula's
        if not (el.text or "").strip() and not len(el):
            continue
        span = etree.Element("span", {"lang": lang})
        span.text, el.text = el.text, None
        for child in list(el):
            span.append(child)
        el.append(span)
        el.set("class", ((el.get("class") or "") + " " + SCRIPT_STRUT).strip())


LETTERS = re.compile(r"[^\W\d_]+")
COMMON_CAPITALS = "data-hyphenate-capitals"     # read by imprint/typeset/linebreak.py


def common_capitals(root) -> None:
    """The copy-editor's rule is "never hyphenate a name": a capitalised word whose small-letter
    form the manuscript also has (a common word opening a sentence, "Proletariat" where
    "proletariat" occurs) is not a name, and may be hyphenated like any word. Every paragraph,
    list item and note paragraph holding such words gets them listed (data-hyphenate-capitals,
    space-separated, as written): the typesetter (imprint/typeset/linebreak.py) hyphenates
    those and keeps every other capitalised word (a name: only ever capitalised) and every word
    in capitals whole. The decision is the whole book's (body and notes), the mark the
    paragraph's own, so a paragraph's markup changes only when a word of its own changes side."""
    lower = {w for w in LETTERS.findall(root.text_content()) if w.islower()}
    for el in root.iter("p", "li", "span"):
        if el.tag == "span" and "fn-p" not in (el.get("class") or "").split():
            continue
        words = sorted({w for w in LETTERS.findall(el.text_content())
                        if len(w) >= 6 and w[0].isupper() and not w.isupper() and w.lower() in lower})
        if words:
            el.set(COMMON_CAPITALS, " ".join(words))


def set_formulas(root, how, book: Book):
    """The formulas of a tree set by `how` (math.to_images, math.to_mathml); a formula the checks
    did not see (never so far: they read the same text) stops the build at the manuscript."""
    try:
        return how(root)
    except math.MathProblem as err:
        raise ManuscriptError(f"a formula cannot be set: {err.message}", where=Location(book.sources[0].path),
                              hint=err.hint) from None


def _inline_note(span, note: Note, number: int):
    """Note content as inline markup: HTML parsers close <p> at any block, so blocks become spans."""
    marker = etree.Element("a", {"class": "note-number", "href": f"#fnref{number}"})
    marker.text = str(number)
    blocks = [copy.deepcopy(b) for b in note.blocks]
    for block in blocks:
        # A forced break's newline (pandoc writes `<br />` and a newline, in a line block or after a
        # hard break) is one more empty line inside a note's span in WeasyPrint, not a collapsed space.
        for br in block.iter("br"):
            if br.tail:
                br.tail = br.tail.lstrip(" \t\r\n") or None
        for el in block.iter():
            if isinstance(el.tag, str) and el.tag in BLOCK_TAGS:
                if el.tag in ("ol", "ul") and "counter-reset" not in (el.get("style") or ""):
                    # as an ol or ul does: a note's list counts from 1, not on from a list before
                    # its call (in its style, not the stylesheet's: jobs/chapters.py sets a book with
                    # counter rules in one piece)
                    _add_style(el, "counter-reset: list-item 0")
                el.set("class", (f"fn-{el.tag} " + el.get("class", "")).strip())
                el.tag = "span"
                # Pandoc's newlines between blocks would become empty lines inside a span.
                if len(el) and el[0].tag in BLOCK_TAGS and not (el.text or "").strip():
                    el.text = None
                for child in el:
                    if isinstance(child.tag, str) and child.tag in BLOCK_TAGS and not (child.tail or "").strip():
                        child.tail = None
                # a block's own newlines at its start and end (pandoc's `<dd>\ntext\n</dd>`) are
                # empty lines too inside a note's span: a definition stood a blank line below its term
                if el.text and "\n" in el.text[:len(el.text) - len(el.text.lstrip())]:
                    el.text = el.text.lstrip(" \t\r\n") or None
                last = el[-1] if len(el) else None
                end = last.tail if last is not None else el.text
                if end and "\n" in end[len(end.rstrip()):]:
                    end = end.rstrip(" \t\r\n") or None
                    if last is not None:
                        last.tail = end
                    else:
                        el.text = end
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
