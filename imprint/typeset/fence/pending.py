"""Notes still pending at a document's end kept when WeasyPrint lays its pages out again
(a `required` patch while longnotes.settle lays out: imprint/typeset/longnotes.py).

WeasyPrint (70) makes pages past a document's last page of text for the notes (or pieces of a
long note) still pending there, in `layout.page.make_all_pages`. But a document whose pages
are laid out again (repagination: a `target-counter`, `counter(pages)`, a running head) keeps
only the pages it remakes: for a page found up to date it forgets the notes the page left
pending, stops at the last page of text and throws the notes' pages away; and a page it does
remake starts with whatever notes the previous page laid out last left pending, not those of
the page before it. So a long note called near a document's end lost its tail (in a book set
chapter by chapter, every chapter is a document: N202).

`pending_notes_kept()` remembers, page by page, the notes each page leaves pending, hands a
remade page those of the page before it, and goes on making pages while an up-to-date page
left some. The patch is undone on leaving; tests/test_note_fallback.py builds the case.
"""

from __future__ import annotations

import contextlib

from imprint.typeset import fence


@contextlib.contextmanager
def pending_notes_kept():
    fence.ready()
    from weasyprint.layout import page as pages_module

    original_remake = pages_module.remake_page
    import weasyprint.layout as layout_package

    def remake_page(index, context, root_box, html):
        pending = context.__dict__.setdefault("imprint_pending", {})
        if index in pending:
            context.reported_footnotes = list(pending[index])
        result = original_remake(index, context, root_box, html)
        pending[index + 1] = list(context.reported_footnotes)
        return result

    def make_all_pages(context, root_box, html, pages):
        """WeasyPrint 70's make_all_pages, going on past an up-to-date page that left notes pending."""
        i = 0
        context.rendered_notes = []
        pending = context.__dict__.setdefault("imprint_pending", {})
        while True:
            remake_state = context.page_maker[i][-1]
            if (len(pages) == 0 or remake_state['content_changed'] or remake_state['pages_wanted']
                    or i >= len(pages)):
                remake_state['content_changed'] = False
                remake_state['pages_wanted'] = False
                remake_state['anchors'] = []
                remake_state['content_lookups'] = []
                page, resume_at = pages_module.remake_page(i, context, root_box, html)
                reported_footnotes = context.reported_footnotes
                yield page
            else:
                resume_at = context.page_maker[i + 1][0]
                reported_footnotes = pending.get(i + 1)
                if reported_footnotes:
                    context.reported_footnotes = list(reported_footnotes)
                yield pages[i]
            i += 1
            if resume_at is None and not reported_footnotes:
                context.page_maker = context.page_maker[:i + 1]
                context.broken_out_of_flow.clear()
                context.reported_footnotes.clear()
                for k in [k for k in pending if k > i]:
                    del pending[k]
                return

    with fence.swapped((pages_module, "remake_page", remake_page), (pages_module, "make_all_pages", make_all_pages),
                       (layout_package, "make_all_pages", make_all_pages)):
        yield
