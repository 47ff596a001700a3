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
