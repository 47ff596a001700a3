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


def page_plan(document) -> list[dict]:
    """For every page, what its margins are made from and where its bookmarks point: the page's
    name, side and blankness, the strings it sets (`string-set`, in order) and its bookmarks
    (level, label, x, y, state). Enough to set the running heads and folios, and to rebuild
    the outline, of a book joined from parts (imprint/parts.py)."""
    plan = []
    for page in document.pages:
        box = page._page_box
        strings = []
        for child in box.descendants():
            string_set = getattr(child, "string_set", None)
            if string_set and string_set != "none":
                strings += [(name, text) for name, text in string_set]
        plan.append({
            "name": box.page_type.name, "side": box.page_type.side, "blank": bool(box.page_type.blank),
            "drawn": not is_blank(page), "strings": strings, "height": page.height,
            "bookmarks": [(level, label, x, y, state) for level, label, (x, y), state in page.bookmarks],
        })
    return plan
