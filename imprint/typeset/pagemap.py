"""Laid-out WeasyPrint Document -> the print page map: for every page that carries text of the
main flow, the block it begins in and how far into that block's text it begins.

The EPUB (imprint/editions/epub.py) places its page-break markers from this map, so both sides
count the same way, with the functions here:

- an *anchor* is an element with a `data-b` block index (render.BLOCK_KEY, given to every
  block of the shared Body, so the paged and EPUB copies carry the same values) or an `id`;
- an anchor *owns* the text inside it except the text of anchors nested in it (a note call
  `<a id="fnref3">` owns its "3"; a list item does not own the text of its paragraphs);
- an *offset* counts the significant characters (not white space, not soft hyphens) of the
  owned text before the page begins. White space is left out because layout collapses and
  drops it; hyphens that hyphenation adds at line ends are recognised and skipped.

The main flow is what lies inside `<main>` (the text; front matter and back matter are
outside it). Pages are labelled with their printed folio: the page number, counted from 1.
"""

from __future__ import annotations

from dataclasses import dataclass

from imprint.html.render import BLOCK_KEY
from imprint.typeset import fence

KEYS = (BLOCK_KEY, "id")       # in order of preference
SKIPPED = {"\xad", "\u200b"}   # soft hyphen, zero-width space: never drawn as such


@dataclass(frozen=True)
class PageStart:
    """Where one print page begins in the text."""

    label: str            # the printed folio ("7")
    key: tuple            # (attribute, value) naming the anchor: ("data-b", "12") or ("id", "text-start")
    offset: int           # significant characters of the anchor's own text before the page begins
    opening: str          # the page's first words, as laid out (for messages and tests)


def significant(text: str) -> str:
    """The characters that count for offsets: no white space, no soft hyphens."""
    return "".join(c for c in text if not c.isspace() and c not in SKIPPED)


def anchor_key(element) -> tuple | None:
    """(attribute, value) if the element is an anchor, else None. Works on lxml and ElementTree."""
    for name in KEYS:
        value = element.get(name)
        if value:
            return (name, value)
    return None


def owned_text(element, skip=lambda el: False) -> str:
    """The anchor's own text in document order: nested anchors (and `skip`ped elements) left out."""
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str) and anchor_key(child) is None and not skip(child):
            parts.append(owned_text(child, skip))
        parts.append(child.tail or "")
    return "".join(parts)


def page_map(document, job=None) -> tuple[PageStart, ...]:
    """Every page carrying text of the main flow -> where it begins (an EXTRACT: see inspections.py)."""
    boxes = fence.boxes()

    # Notes float out of the flow into the footnote area; their text is not the page's text.
    out_of_flow = set()
    for page in document.pages:
        for area in fence.page_box(page).children:
            if isinstance(area, boxes.FootnoteAreaBox):
                out_of_flow.update(id(b.element) for b in area.children if b.element is not None)

    def skip(el):
        return id(el) in out_of_flow

    own: dict[int, str] = {}          # id(anchor element) -> its significant own text
    cursor: dict[int, int] = {}       # id(anchor element) -> characters of it laid out so far
    starts: list[PageStart] = []
    for number, page in enumerate(document.pages, start=1):
        start = None
        for box, anchor in _main_flow_text(fence.page_box(page), boxes):
            chars = significant(box.text)
            if not chars:
                continue
            key = id(anchor)
            if key not in own:
                own[key] = significant(owned_text(anchor, skip))
            text, at = own[key], cursor.get(key, 0)
            if at >= len(text):
                continue             # text set again (a table header repeated on a new page)
            if start is None:
                start = PageStart(str(number), anchor_key(anchor), at, " ".join(box.text.split()[:6]))
            for c in chars:
                # A character that is not the next one of the source is one layout added
                # (the hyphen at the end of a hyphenated line): it does not move the cursor.
                if at < len(text) and (text[at] == c or text[at].casefold() == c.casefold()):
                    at += 1
            cursor[key] = at
        if start is not None:
            starts.append(start)
    return tuple(starts)


def _main_flow_text(page_box, boxes):
    """(text box, its innermost anchor element) for the main-flow text on one page, in order."""
    def walk(box, anchor, in_main):
        element = box.element
        if element is not None and "::" not in (box.element_tag or ""):
            if element.tag == "main":
                in_main, anchor = True, None
            if anchor_key(element) is not None:
                anchor = element
        elif "::" in (box.element_tag or ""):
            return                   # generated content (markers, ::before/::after) is not the text
        if isinstance(box, boxes.TextBox):
            if in_main and anchor is not None:
                yield box, anchor
            return
        for child in getattr(box, "children", ()):
            yield from walk(child, anchor, in_main)

    for child in page_box.children:
        if isinstance(child, (boxes.MarginBox, boxes.FootnoteAreaBox)):
            continue
        yield from walk(child, None, False)
