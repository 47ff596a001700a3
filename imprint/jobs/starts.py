"""Where each laid-out page begins in the flow of the text, and in what state: enough to tell that
a page set again after an edit begins exactly where and as the old page did, so that the old
pages from there on are those the new layout would make (imprint/jobs/resetting.py).

A page's start is (block, offset): the block (`data-imprint-block`) of the page's first text
in the flow, and how many characters of that block's text the layout drew on the pages before.
Its state: its side and name, the notes called on a page before it that are still to come
(waiting or carried), and a digest of everything it draws (each line's text and baseline, body
and notes), so a page that begins alike but is laid out otherwise (a paragraph broken again for
the page before it) never counts as the same.
"""

from __future__ import annotations

import hashlib

from imprint.typeset import fence
from imprint.typeset.positions import BLOCK


def page_starts(document) -> list:
    """For every page: (side, name, block, offset, pending notes, digest), or None where the page
    has no text of a block in its flow (blank, notes only, front matter)."""
    boxes = fence.boxes()
    drawn: dict[int, int] = {}          # block -> characters drawn so far
    calls, bodies = {}, {}              # note number -> first page of its call / of its body
    for index, page in enumerate(document.pages):
        for name in page.anchors:
            if name.startswith("fnref") and name[5:].isdigit():
                calls.setdefault(int(name[5:]), index)
            elif name.startswith("fn") and name[2:].isdigit():
                bodies[int(name[2:])] = index          # the last page a note's anchor is on
    out = []
    for index, page in enumerate(document.pages):
        box = fence.page_box(page)
        first = None
        lines = []
        stack = [(child, None, isinstance(child, boxes.FootnoteAreaBox)) for child in reversed(box.children)
                 if not isinstance(child, boxes.MarginBox)]
        while stack:
            current, block, note = stack.pop()
            element = current.element
            if element is not None and element.get(BLOCK) is not None and isinstance(current, boxes.BlockBox):
                block = int(element.get(BLOCK))
            if isinstance(current, boxes.LineBox):
                lines.append((round(current.position_y, 3), round(current.position_x, 3),
                              "".join(b.text for b in current.descendants() if isinstance(b, boxes.TextBox))))
            if isinstance(current, boxes.TextBox) and block is not None:
                if first is None and not note:
                    first = (block, drawn.get(block, 0))
                drawn[block] = drawn.get(block, 0) + len(current.text)
            children = getattr(current, "children", None) or ()
            stack.extend((child, block, note) for child in reversed(children))
        if first is None or box.page_type.blank:
            out.append(None)
            continue
        pending = tuple(sorted(n for n, at in calls.items() if at < index <= bodies.get(n, -1)))
        digest = hashlib.sha256(repr(lines).encode()).hexdigest()[:20]
        out.append((box.page_type.side, box.page_type.name, first[0], first[1], pending, digest))
    return out

