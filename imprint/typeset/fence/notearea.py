"""The footnote area measured without laying its notes out again and again.

WeasyPrint (70) keeps a page's footnote area up to date as notes arrive: every time a note
is added, taken back or carried to the next page (`LayoutContext._update_footnote_area`),
it copies the whole area and lays out every note in it afresh, only to read the area's
height. A page with eight notes lays out its first note eight times, and measuring is
about a sixth of a note-heavy chapter's layout (measured on *The Wealth of Nations*).

A note's own layout does not change while the page's area fills: it depends on the note,
the area's width, the margins that collapse into its top, and a few page-wide flags, never
on the notes before it except through those margins. So `measured_once()` keeps, while it
is on, each note's laid-out box by exactly those inputs and, when the area is laid out
again (to be measured, or at last to be drawn), hands back a copy moved to where the note
now starts instead of laying it out again. Nothing is kept when something could make a
note's layout depend on its place: floats in the page's formatting context, a note broken
across (a resume point), a bottom limit, or boxes positioned absolutely inside it.
tests/test_notearea.py writes books with and without it and checks the PDFs are
byte-identical.
"""

from __future__ import annotations

import contextlib
import math

from imprint.typeset import fence

COUNTS = {"laid out": 0, "reused": 0}       # notes laid out in a footnote area, and copies handed back


@contextlib.contextmanager
def measured_once():
    if not fence.on("notearea"):
        yield
        return
    from weasyprint.formatting_structure import boxes
    from weasyprint.layout import block

    original_layout = block.block_level_layout

    def block_level_layout(context, box, bottom_space, skip_stack, containing_block, page_is_empty=True,
                           absolute_boxes=None, fixed_boxes=None, adjoining_margins=None, first_letter_style=None,
                           first_line_style=None, discard=False, max_lines=None):
        args = (context, box, bottom_space, skip_stack, containing_block, page_is_empty, absolute_boxes,
                fixed_boxes, adjoining_margins, first_letter_style, first_line_style, discard, max_lines)
        if not (isinstance(containing_block, boxes.FootnoteAreaBox)
                and skip_stack is None and bottom_space == -math.inf and not context.excluded_shapes
                and box.element is not None):
            return original_layout(*args)
        key = (id(box.element), box.element_tag, type(box), id(box.style), containing_block.width,
               containing_block.style['direction'], tuple(adjoining_margins or ()), bool(page_is_empty),
               context.current_page > 1, bool(context.forced_break), bool(context.in_column), discard, max_lines,
               id(first_letter_style), id(first_line_style))
        memo = context.__dict__.setdefault("imprint_note_layouts", {})
        at = (box.position_x, box.position_y)
        kept = memo.get(key)
        if kept is None:
            placed = len(absolute_boxes or ()), len(fixed_boxes or ())
            result = original_layout(*args)
            COUNTS["laid out"] += 1
            new_box, resume_at, next_page, margins, collapsing_through, lines = result
            if (new_box is not None and resume_at is None
                    and placed == (len(absolute_boxes or ()), len(fixed_boxes or ()))):
                # the element and style are kept with it, so their ids are not reused
                memo[key] = ((box.element, box.style), at, new_box.deepcopy(),
                             (next_page, list(margins), collapsing_through, lines))
            return result
        _, (x, y), laid_out, (next_page, margins, collapsing_through, lines) = kept
        COUNTS["reused"] += 1
        new_box = laid_out.deepcopy()
        new_box.translate(at[0] - x, at[1] - y)
        return new_box, None, next_page, list(margins), collapsing_through, lines

    block.block_level_layout = block_level_layout
    try:
        yield
    finally:
        block.block_level_layout = original_layout
