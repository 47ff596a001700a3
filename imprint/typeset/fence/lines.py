"""Reading laid-out lines per planned paragraph (imprint/typeset/linebreak.py verifies its breaks)."""

from __future__ import annotations

from imprint.typeset import fence


def lines_by_attribute(document, attribute: str) -> dict[str, int]:
    """Value of `attribute` -> how many lines the block carrying it was laid out in (across pages).

    A line wider than its block (an overfull line: the planned break came too late) counts
    twice, so that paragraph reads as not broken as planned."""
    boxes = fence.boxes()
    counts: dict[str, int] = {}

    def walk(box, key):
        element = getattr(box, "element", None)
        if isinstance(box, boxes.BlockContainerBox) and element is not None and element.get(attribute) \
                and "::" not in (box.element_tag or ""):
            key = (element.get(attribute), box)
        if isinstance(box, boxes.LineBox):
            if key is not None:
                block = key[1]
                right = max((child.position_x + child.margin_width() for child in box.children), default=0.0)
                over = right > block.content_box_x() + block.width + 1.0
                counts[key[0]] = counts.get(key[0], 0) + (10_000 if over else 1)
            return
        for child in getattr(box, "children", ()):
            walk(child, key)

    for page in document.pages:
        walk(fence.page_box(page), None)
    return counts
