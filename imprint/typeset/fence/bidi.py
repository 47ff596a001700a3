"""A right-to-left paragraph's indent at its start, the right.

WeasyPrint 70 lays every line out from the left and mirrors a right-to-left line into place
(weasyprint/layout/inline.py get_next_linebox): the first line's `text-indent` is added on
the left and stays there, so a Hebrew or Arabic paragraph's first line ends short of the left
margin and starts flush right, its indent on the wrong side. `install()` wraps the
`iter_line_boxes` that block layout calls: the first line of a block whose containing block
runs right to left is moved left by its indent, which puts the indent at its start. Nothing
else changes: left-to-right lines, and lines after the first, are WeasyPrint's.
"""

from __future__ import annotations

from weasyprint.layout import block


def _indent_at_start(original):
    def iter_line_boxes(context, box, position_y, bottom_space, skip_stack, containing_block, *args, **kwargs):
        first = skip_stack is None
        for line, resume_at in original(context, box, position_y, bottom_space, skip_stack, containing_block,
                                        *args, **kwargs):
            if first and containing_block.style["direction"] == "rtl":
                indent = getattr(box, "text_indent", 0) or 0
                if indent:
                    line.translate(-indent, 0)
            first = False
            yield line, resume_at

    iter_line_boxes.imprint = True
    return iter_line_boxes


def install() -> None:
    if not getattr(block.iter_line_boxes, "imprint", False):
        block.iter_line_boxes = _indent_at_start(block.iter_line_boxes)


install()
