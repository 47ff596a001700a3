"""WeasyPrint Document -> where things fell: the page of every anchor (element id)."""

from __future__ import annotations


def anchor_pages(document) -> dict[str, int]:
    """Element id -> 1-based page number, for every element with an id on a laid-out page."""
    where: dict[str, int] = {}
    for number, page in enumerate(document.pages, start=1):
        for name in page.anchors:
            where.setdefault(name, number)
    return where


def is_blank(page) -> bool:
    """True when nothing is drawn on the page: no text, no image, no running head or folio."""
    from weasyprint.formatting_structure import boxes

    def walk(box):
        if isinstance(box, (boxes.TextBox, boxes.ReplacedBox)):
            return True
        return any(walk(child) for child in getattr(box, "children", ()))

    return not walk(page._page_box)


# --- Notes on the laid-out pages -------------------------------------------------------
# Read off WeasyPrint's box tree (Document.pages[i]._page_box): the footnote area of each
# page, the note boxes in it and the main-flow lines above it. Lengths are in points from
# the top of the page. A note may be set in several pieces (see imprint/longnotes.py); each
# piece carries data-note (the note's number) and data-piece (0 for the note's start).

from dataclasses import dataclass

PX = 0.75          # WeasyPrint lays out in CSS px; 1 px = 0.75 pt


@dataclass(frozen=True)
class NoteOnPage:
    number: int
    piece: int         # 0: the start of the note (with its number); 1, 2...: continuations
    top: float
    bottom: float
    text: str          # the text drawn, generated markers left out


@dataclass(frozen=True)
class PageNotes:
    page: int                              # 1-based
    calls: tuple[int, ...]                 # numbers of the notes called on this page, in order
    notes: tuple[NoteOnPage, ...]          # the note boxes in this page's footnote area, in order
    content_top: float
    content_bottom: float
    area_top: float | None                 # the footnote area (rule included), when there is one
    notes_bottom: float | None             # the lowest line drawn in the footnote area
    text_bottom: float | None              # the lowest line of the main text


def note_number(element) -> int | None:
    """The note a footnote box belongs to, from its data-note or its id (fnN)."""
    if element is None:
        return None
    value = element.get("data-note")
    if value is None:
        ident = element.get("id") or ""
        value = ident[2:] if ident.startswith("fn") and ident[2:].isdigit() else None
    return int(value) if value is not None and str(value).isdigit() else None


def box_text(box) -> str:
    from weasyprint.formatting_structure import boxes
    return "".join(b.text for b in box.descendants()
                   if isinstance(b, boxes.TextBox) and "::" not in (b.element_tag or ""))


def _bottom(box) -> float:
    return box.position_y + box.margin_height()


def _walk(box, repeated=False):
    """Every box under `box`, in order, each with whether it lies in a table's header or
    footer rows, which WeasyPrint repeats on every page of the table (calls in them are
    counted where the rows stand in the text)."""
    from weasyprint.formatting_structure import boxes
    stack = [(box, repeated)]
    while stack:
        current, inside = stack.pop()
        if not isinstance(current, boxes.Box):
            continue
        inside = inside or bool(getattr(current, "is_header", False) or getattr(current, "is_footer", False))
        yield current, inside
        stack.extend((child, inside) for child in reversed(getattr(current, "children", ())))


def note_pages(document) -> list[PageNotes]:
    """Where every note call and every note (or piece of one) fell, page by page."""
    from weasyprint.formatting_structure import boxes

    out = []
    for number, page in enumerate(document.pages, start=1):
        page_box = page._page_box
        top = page_box.content_box_y()
        bottom = top + page_box.height
        root = page_box.children[0]
        area = next((c for c in page_box.children if isinstance(c, boxes.FootnoteAreaBox)), None)
        calls, text_bottom = [], None
        for box, repeated in _walk(root):
            element = box.element
            if (not repeated and element is not None and "::" not in (box.element_tag or "")
                    and element.get("id", "").startswith("fnref") and "noteref" in (element.get("class") or "").split()):
                n = element.get("id")[5:]
                if n.isdigit() and int(n) not in calls:
                    calls.append(int(n))
            if isinstance(box, (boxes.LineBox, boxes.ReplacedBox)):
                text_bottom = max(text_bottom or 0.0, _bottom(box))
        notes, area_top, notes_bottom = [], None, None
        if area is not None and area.children:
            area_top = area.position_y
            for child in area.children:
                if not isinstance(child, boxes.Box):
                    continue
                n = note_number(child.element)
                if n is not None:
                    piece = int(child.element.get("data-piece") or 0)
                    notes.append(NoteOnPage(n, piece, child.position_y * PX, _bottom(child) * PX, box_text(child)))
            lines = [_bottom(b) for b in area.descendants()
                     if isinstance(b, (boxes.LineBox, boxes.ReplacedBox))]
            notes_bottom = max(lines, default=area.position_y) * PX
            area_top *= PX
        out.append(PageNotes(number, tuple(calls), tuple(notes), top * PX, bottom * PX, area_top, notes_bottom,
                             text_bottom * PX if text_bottom is not None else None))
    return out
