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
        if "::marker" in (getattr(box, "element_tag", None) or ""):
            return          # a list item's marker is laid out as a line of its own: not one of the text's
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


HYPHENS = ("-", "\u2010", "\u00ad")


def hyphenated_recto_feet(document, attribute: str) -> dict[str, set[int]]:
    """Value of `attribute` -> line numbers (0-based, counted across pages) of the block carrying
    it that are the last line of a recto's main text and end in a hyphen (hyphenated or a hard hyphen)."""
    boxes = fence.boxes()
    counts: dict[str, int] = {}
    out: dict[str, set[int]] = {}

    def walk(box, key, found):
        element = getattr(box, "element", None)
        if "::marker" in (getattr(box, "element_tag", None) or ""):
            return          # a list item's marker: a line of its own, not one of the text's
        if isinstance(box, boxes.BlockContainerBox) and element is not None and element.get(attribute) \
                and "::" not in (box.element_tag or ""):
            key = element.get(attribute)
        if isinstance(box, boxes.LineBox):
            line = None
            if key is not None:
                line = counts.get(key, 0)
                counts[key] = line + 1
            found.append((key, line, box))
            return
        for child in getattr(box, "children", ()):
            walk(child, key, found)

    def text_of(box):
        if isinstance(box, boxes.TextBox):
            return box.text
        return "".join(text_of(c) for c in getattr(box, "children", ()))

    for page in document.pages:
        root = fence.page_box(page)
        main, notes = [], []
        for child in root.children:
            if isinstance(child, boxes.MarginBox):
                continue
            walk(child, None, notes if isinstance(child, boxes.FootnoteAreaBox) else main)
        if not main or getattr(getattr(root, "page_type", None), "side", None) != "right":
            continue
        key, line, box = main[-1]
        if key is not None and text_of(box).rstrip().endswith(HYPHENS):
            out.setdefault(key, set()).add(line)
    return out
