"""Notes kept on their calls' page while WeasyPrint makes room for a paragraph's orphans
(a `required` patch: imprint/typeset/longnotes.py relies on it for the notes' layout)."""

from __future__ import annotations

import contextlib

from imprint.typeset import fence


@contextlib.contextmanager
def notes_stay_with_calls():
    """While laying out, never send notes away from their calls' page to keep a paragraph's
    orphans.

    In WeasyPrint 70, `layout.block._linebox_layout` makes room for a paragraph's second
    line at a page's foot by reporting the page's notes to the next page, and only when
    `context.in_column` is false. So each main-text call of it runs with `in_column` set,
    and the footnote area (the only other reader of the flag on that path) is measured with
    it unset, as usual. Multi-column layout, which sets the flag itself, is left alone.
    The patch is undone on leaving; tests/test_note_outputs.py checks that WeasyPrint still
    has the branch it neutralises."""
    fence.ready()
    from weasyprint.layout import LayoutContext, block

    line_layout, update_area = block._linebox_layout, LayoutContext._update_footnote_area

    def linebox_layout(context, *args, **kwargs):
        if context.in_column:                 # real columns, or our own nested call
            return line_layout(context, *args, **kwargs)
        # Lines inside the footnote area, laid out from update_footnote_area, come here too.
        outer = getattr(context, "imprint_lines", False)
        context.in_column = context.imprint_lines = True
        try:
            return line_layout(context, *args, **kwargs)
        finally:
            context.in_column, context.imprint_lines = False, outer

    def update_footnote_area(self):
        if not getattr(self, "imprint_lines", False):
            return update_area(self)
        self.in_column = False
        try:
            return update_area(self)
        finally:
            self.in_column = True

    block._linebox_layout, LayoutContext._update_footnote_area = linebox_layout, update_footnote_area
    try:
        yield
    finally:
        block._linebox_layout, LayoutContext._update_footnote_area = line_layout, update_area
